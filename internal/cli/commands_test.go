package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/longshore/longshore/internal/api"
	"github.com/longshore/longshore/internal/run"
)

func TestEveryCommandHasHelpWithExamples(t *testing.T) {
	app := &App{Stdout: &bytes.Buffer{}, Stderr: &bytes.Buffer{}, Now: time.Now, Getenv: func(string) string { return "" }}
	root := app.rootCommand()
	var walk func(c *cobra.Command)
	n := 0
	walk = func(c *cobra.Command) {
		if c.Hidden || c.Name() == "help" || strings.HasPrefix(c.Name(), "__") {
			return
		}
		n++
		if c.Short == "" || strings.TrimSpace(c.Example) == "" {
			t.Errorf("%q has no short help or no examples: give it both", c.CommandPath())
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	if n < 15 {
		t.Errorf("walked %d commands; the tree looks wrong", n)
	}
}

func TestJobsListsTriggersNextRunsInTheirZoneAndLastRuns(t *testing.T) {
	e := newEngine(t, false)
	e.finish(t, e.start(t, "hello"), 3)
	got := longshore(t, e.srv.URL, "jobs")
	want := []*regexp.Regexp{
		regexp.MustCompile(`^NAME\s+TRIGGERS\s+NEXT RUN\s+LAST RUN\s+COST 30D$`),
		regexp.MustCompile(`^hello\s+invoke\s+-\s+failed, exit 3, 1m ago\s+\$0\.0002$`),
		regexp.MustCompile(`^nightly-report\s+schedule cron\(0 3 \* \* \? \*\) Europe/Berlin\s+2026-11-24 03:00 CET \(in 7h00m\)\s+-\s+\$0$`),
	}
	ls := lines(got.stdout)
	if got.code != 0 || len(ls) != len(want) {
		t.Fatalf("jobs = %s", got)
	}
	for i, re := range want {
		if !re.MatchString(ls[i]) {
			t.Errorf("line %d = %q, want %s", i+1, ls[i], re)
		}
	}
}

func TestJobsOfOneJobShowsItInFull(t *testing.T) {
	e := newEngine(t, false)
	got := longshore(t, e.srv.URL, "jobs", "nightly-report")
	for _, want := range []string{"name:", "nightly-report", "next cron(0 3 * * ? *):", "2026-11-24 03:00 CET (in 7h00m)", "last run:", "never"} {
		if !strings.Contains(got.stdout, want) {
			t.Errorf("jobs nightly-report lacks %q:\n%s", want, got)
		}
	}
	missing := longshore(t, e.srv.URL, "jobs", "nope")
	if missing.code != 1 || !strings.Contains(missing.stderr, `the engine has no job "nope": its catalog has hello, nightly-report`) {
		t.Errorf("jobs nope = %s", missing)
	}
}

func TestEveryReadCommandPrintsJSON(t *testing.T) {
	e := newEngine(t, true)
	id := e.start(t, "hello")
	e.finish(t, id, 0)
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "ok"), 0o755)
	os.WriteFile(filepath.Join(dir, "ok", "job.yaml"), []byte("image: {uri: busybox}\n"), 0o644)
	tests := []struct {
		name  string
		args  []string
		check func(t *testing.T, raw json.RawMessage)
	}{
		{"jobs is an array of the engine's jobs", []string{"jobs", "--json"}, func(t *testing.T, raw json.RawMessage) {
			var jobs []api.Job
			if json.Unmarshal(raw, &jobs) != nil || len(jobs) != 2 || jobs[0].LastRun == nil || jobs[0].LastRun.ID != id || jobs[1].Schedules[0].Timezone != "Europe/Berlin" {
				t.Errorf("%s", raw)
			}
		}},
		{"one job is an object", []string{"jobs", "hello", "--json"}, func(t *testing.T, raw json.RawMessage) {
			var j api.Job
			if json.Unmarshal(raw, &j) != nil || j.Name != "hello" {
				t.Errorf("%s", raw)
			}
		}},
		{"runs is an array of runs", []string{"runs", "--json"}, func(t *testing.T, raw json.RawMessage) {
			var rs []api.Run
			if json.Unmarshal(raw, &rs) != nil || len(rs) != 1 || rs[0].ID != id {
				t.Errorf("%s", raw)
			}
		}},
		{"runs get is one run", []string{"runs", "get", id, "--json"}, func(t *testing.T, raw json.RawMessage) {
			var r api.Run
			if json.Unmarshal(raw, &r) != nil || r.Status != run.StatusSucceeded {
				t.Errorf("%s", raw)
			}
		}},
		{"dashboard is its address", []string{"dashboard", "--json"}, func(t *testing.T, raw json.RawMessage) {
			var d map[string]string
			if json.Unmarshal(raw, &d) != nil || d["url"] != e.srv.URL+"/" {
				t.Errorf("%s", raw)
			}
		}},
		{"schedule next is an array of times", []string{"schedule", "next", "rate(1 day)", "--from", "2026-11-23T10:00:00Z", "-n", "2", "--json"}, func(t *testing.T, raw json.RawMessage) {
			var ts []string
			if json.Unmarshal(raw, &ts) != nil || strings.Join(ts, " ") != "2026-11-24T00:00:00Z 2026-11-25T00:00:00Z" {
				t.Errorf("%s", raw)
			}
		}},
		{"validate names the jobs and the problems", []string{"validate", "--jobs", dir, "--json"}, func(t *testing.T, raw json.RawMessage) {
			var v validation
			if json.Unmarshal(raw, &v) != nil || strings.Join(v.Jobs, ",") != "ok" || v.Problems == nil || len(v.Problems) != 0 {
				t.Errorf("%s", raw)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := longshore(t, e.srv.URL, tt.args...)
			if got.code != 0 || !json.Valid([]byte(got.stdout)) {
				t.Fatalf("%v = %s", tt.args, got)
			}
			tt.check(t, json.RawMessage(got.stdout))
		})
	}
}

func TestValidateJSONListsProblemsAndExits1(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "bad"), 0o755)
	os.WriteFile(filepath.Join(dir, "bad", "job.yaml"), []byte("image: {uri: busybox}\ncomand: [x]\n"), 0o644)
	got := longshore(t, "", "validate", "--jobs", dir, "--json")
	var v validation
	if got.code != 1 || json.Unmarshal([]byte(got.stdout), &v) != nil || len(v.Problems) != 1 || v.Problems[0].Field != "comand" {
		t.Errorf("validate --json = %s", got)
	}
}

func TestErrorsSayWhatToDoNext(t *testing.T) {
	e := newEngine(t, false)
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"an unknown job points at the catalog", []string{"run", "nope"}, 2, "unknown job \"nope\": see the catalog with `longshore jobs`"},
		{"an unknown run points at the list", []string{"runs", "get", "r-00000000000000ff"}, 1, "run r-00000000000000ff not found: list runs with `longshore runs`"},
		{"stopping an unknown run too", []string{"stop", "r-00000000000000ff"}, 1, "run r-00000000000000ff not found: list runs with `longshore runs`"},
		{"its logs too", []string{"logs", "r-00000000000000ff"}, 1, "run r-00000000000000ff not found"},
		{"a malformed id says what ids look like", []string{"logs", "xyz"}, 2, "run ids look like r-0123456789abcdef"},
		{"an unknown progress mode lists the modes", []string{"run", "hello", "--wait", "--progress", "fancy"}, 2, "use auto, plain, live"},
		{"a limit out of range says the range", []string{"runs", "--limit", "0"}, 2, "use 1 to 1000"},
		{"a dashboard on AWS serves this machine only", []string{"dashboard", "--aws", "--addr", "0.0.0.0:8760"}, 2, "not a loopback address"},
		{"an engine without a dashboard says to restart it", []string{"dashboard"}, 1, "serves no dashboard"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := longshore(t, e.srv.URL, tt.args...)
			if got.code != tt.code || !strings.Contains(got.stderr, tt.want) || strings.Count(got.stderr, "\n") != 1 {
				t.Errorf("%v = %s\nwant exit %d and one line with %q", tt.args, got, tt.code, tt.want)
			}
		})
	}
	t.Run("no engine says how to start one", func(t *testing.T) {
		for _, args := range [][]string{{"jobs"}, {"dashboard"}, {"runs"}} {
			got := longshore(t, "", args...)
			if got.code != 1 || !strings.Contains(got.stderr, "start one with `longshore local`") {
				t.Errorf("%v = %s", args, got)
			}
		}
	})
}

func TestCompletionOffersJobNamesAndRunIDsFromTheEngine(t *testing.T) {
	e := newEngine(t, false)
	done := e.start(t, "hello")
	e.finish(t, done, 3)
	e.clock.Advance(time.Second)
	going := e.start(t, "hello")
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"a job to run", []string{"__complete", "run", "he"}, []string{"hello\tPrints its environment."}},
		{"nothing after the job", []string{"__complete", "run", "hello", ""}, nil},
		{"a job to filter runs by", []string{"__complete", "runs", "--job", "n"}, []string{"nightly-report"}},
		{"a job to show", []string{"__complete", "jobs", ""}, []string{"hello\tPrints its environment.", "nightly-report"}},
		{"a status, also after a comma", []string{"__complete", "runs", "--status", "failed,ti"}, []string{"failed,timed_out"}},
		{"every recent run to read", []string{"__complete", "logs", "r-"}, []string{going + "\thello starting", done + "\thello failed (exit 3)"}},
		{"only runs still going to stop", []string{"__complete", "stop", ""}, []string{going + "\thello starting"}},
		{"a run to show by its id's start", []string{"__complete", "runs", "get", done}, []string{done}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := longshore(t, e.srv.URL, tt.args...)
			var offered []string
			for _, l := range lines(got.stdout) {
				if !strings.HasPrefix(l, ":") && l != "" {
					offered = append(offered, l)
				}
			}
			if len(offered) != len(tt.want) {
				t.Fatalf("offered %q, want %q", offered, tt.want)
			}
			for i := range tt.want {
				if !strings.HasPrefix(offered[i], tt.want[i]) {
					t.Errorf("offer %d = %q, want it to start with %q", i, offered[i], tt.want[i])
				}
			}
		})
	}
	t.Run("without an engine nothing is offered and nothing fails", func(t *testing.T) {
		got := longshore(t, "", "__complete", "logs", "")
		if got.code != 0 || strings.TrimSpace(got.stdout) != ":4" {
			t.Errorf("= %s", got)
		}
	})
}

func TestTheCompletionCommandPrintsEachShellsScript(t *testing.T) {
	for _, sh := range []string{"bash", "zsh", "fish", "powershell"} {
		got := longshore(t, "", "completion", sh)
		if got.code != 0 || !strings.Contains(got.stdout, "longshore") || len(got.stdout) < 500 {
			t.Errorf("completion %s = exit %d, %d bytes", sh, got.code, len(got.stdout))
		}
	}
}

func TestDashboardPrintsTheAddressOfAnEngineThatServesIt(t *testing.T) {
	e := newEngine(t, true)
	got := longshore(t, e.srv.URL, "dashboard")
	if got.code != 0 || got.stdout != e.srv.URL+"/\n" || got.stderr != "" {
		t.Errorf("dashboard = %s", got)
	}
}
