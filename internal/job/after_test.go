package job_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/longshore/longshore/internal/job"
)

func TestAfterTriggersReadInTheirShortForm(t *testing.T) {
	cat, problems := load(t, map[string]string{
		"extract/job.yaml": minimal,
		"load/job.yaml":    minimal + "triggers:\n  - after: {job: extract}\n",
		"alert/job.yaml":   minimal + "triggers:\n  - after: {job: extract, status: [failed, timed_out]}\n",
	})
	if problems != nil {
		t.Fatalf("problems: %v", problems)
	}
	tests := []struct {
		job    string
		status []string
		words  string
	}{
		{"load", []string{"succeeded"}, "after extract (succeeded)"},
		{"alert", []string{"failed", "timed_out"}, "after extract (failed, timed_out)"},
	}
	for _, tt := range tests {
		s, _ := cat.Get(tt.job)
		a := s.Triggers[0].After
		if a == nil || a.Job != "extract" || !slices.Equal(a.Status, tt.status) {
			t.Errorf("%s: after = %+v, want extract %v", tt.job, a, tt.status)
		}
		if got := strings.Join(s.TriggerWords(func(q string) string { return q }), "; "); got != tt.words {
			t.Errorf("%s: TriggerWords = %q, want %q", tt.job, got, tt.words)
		}
	}
}

func TestAfterTriggerRulesNameTheFileAndTheField(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  []string
	}{
		{
			"an after naming an unknown job is refused, with the likely one",
			map[string]string{
				"extract/job.yaml": minimal,
				"load/job.yaml":    minimal + "triggers:\n  - after: {job: extrakt}\n",
			},
			[]string{`jobs/load/job.yaml: triggers[0].after.job: no job is named "extrakt"; did you mean "extract"?`},
		},
		{
			"a job after itself is refused",
			map[string]string{"a/job.yaml": minimal + "triggers:\n  - invoke\n  - after: {job: a}\n"},
			[]string{`jobs/a/job.yaml: triggers[1].after.job: job a runs after itself: a run would start the next for ever; remove this trigger`},
		},
		{
			"two jobs after each other are refused once, naming both files",
			map[string]string{
				"a/job.yaml": minimal + "triggers:\n  - after: {job: b}\n",
				"b/job.yaml": minimal + "triggers:\n  - after: {job: a, status: [failed]}\n",
			},
			[]string{`jobs/a/job.yaml: triggers[0].after.job: the jobs run after each other in a cycle, a after b after a: each run would start the next for ever; remove one of these after triggers (the others are in jobs/b/job.yaml)`},
		},
		{
			"a longer cycle is refused once",
			map[string]string{
				"a/job.yaml": minimal + "triggers:\n  - after: {job: c}\n",
				"b/job.yaml": minimal + "triggers:\n  - after: {job: a}\n",
				"c/job.yaml": minimal + "triggers:\n  - after: {job: b}\n",
				"d/job.yaml": minimal + "triggers:\n  - after: {job: c}\n",
			},
			[]string{`jobs/a/job.yaml: triggers[0].after.job: the jobs run after each other in a cycle, a after c after b after a: each run would start the next for ever; remove one of these after triggers (the others are in jobs/c/job.yaml, jobs/b/job.yaml)`},
		},
		{
			"an after naming a job whose own file is wrong says only what is wrong there",
			map[string]string{
				"extract/job.yaml": minimal + "cpu: 1\n",
				"load/job.yaml":    minimal + "triggers:\n  - after: {job: extract}\n",
			},
			[]string{`jobs/extract/job.yaml: cpu: 1 is not a Fargate CPU size: use one of 256, 512, 1024, 2048, 4096, 8192, 16384 (1024 = 1 vCPU)`},
		},
		{
			"an unknown status is refused, with the allowed ones",
			map[string]string{
				"extract/job.yaml": minimal,
				"load/job.yaml":    minimal + "triggers:\n  - after: {job: extract, status: [success]}\n",
			},
			[]string{`jobs/load/job.yaml: triggers[0].after.status[0]: "success" is not a final status: use succeeded, failed, timed_out, cancelled`},
		},
		{
			"a status listed twice is refused",
			map[string]string{
				"extract/job.yaml": minimal,
				"load/job.yaml":    minimal + "triggers:\n  - after: {job: extract, status: [failed, failed]}\n",
			},
			[]string{`jobs/load/job.yaml: triggers[0].after.status[1]: failed is listed twice`},
		},
		{
			"an empty status list is refused",
			map[string]string{
				"extract/job.yaml": minimal,
				"load/job.yaml":    minimal + "triggers:\n  - after: {job: extract, status: []}\n",
			},
			[]string{`jobs/load/job.yaml: triggers[0].after.status: lists no status: list some of succeeded, failed, timed_out, cancelled, or leave it out for [succeeded]`},
		},
		{
			"an after with no job is refused",
			map[string]string{"load/job.yaml": minimal + "triggers:\n  - after: {status: [failed]}\n"},
			[]string{`jobs/load/job.yaml: triggers[0].after.job: names no job: write the upstream job's name, as in after: {job: extract}`},
		},
		{
			"two afters of one job are refused",
			map[string]string{
				"extract/job.yaml": minimal,
				"load/job.yaml":    minimal + "triggers:\n  - after: {job: extract}\n  - after: {job: extract, status: [failed]}\n",
			},
			[]string{`jobs/load/job.yaml: triggers[1]: repeats triggers[0], after job extract: list every status in one trigger`},
		},
		{
			"an after with a field it does not know names the fields it has",
			map[string]string{
				"extract/job.yaml": minimal,
				"load/job.yaml":    minimal + "triggers:\n  - after: {job: extract, statuses: [failed]}\n",
			},
			[]string{`jobs/load/job.yaml: triggers[0].after.statuses: line 4: unknown field; did you mean "status"? (allowed: job, status)`},
		},
		{
			"an after written as a bare word is refused",
			map[string]string{"load/job.yaml": minimal + "triggers:\n  - after\n"},
			[]string{`jobs/load/job.yaml: triggers[0]: line 4: after needs the job it follows: write after: {job: NAME}`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, got := load(t, tt.files)
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestAJobAfterAnotherAloneIsCheckedOnlyForItsOwnFields(t *testing.T) {
	// One file alone cannot know the catalog: the upstream is checked when
	// the catalog is loaded.
	s, err := job.Parse([]byte(minimal+"triggers:\n  - after: {job: extract}\n"), "load", "jobs/load/job.yaml")
	if err != nil || s.Triggers[0].After.Job != "extract" {
		t.Fatalf("Parse = %+v, %v", s, err)
	}
}
