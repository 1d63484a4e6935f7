package job_test

import (
	"strings"
	"testing"

	"github.com/longshore/longshore/internal/job"
)

func TestEveryNotifyEntryIsCheckedWithOneProblemPerBadValue(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want []string
	}{
		{"an sns topic, an email and a signed webhook pass",
			"notify:\n  - sns: arn:aws:sns:us-east-1:123456789012:alerts\n  - {on: [succeeded], email: ops@example.com}\n" +
				"  - webhook: {url: https://hooks.example.com/x, secret: ssm:/hooks/secret}\n  - webhook: {url: http://localhost:9000/x}\n",
			nil},
		{"an unknown outcome names the ones allowed",
			"notify:\n  - {on: [failed, crashed], email: ops@example.com}\n",
			[]string{`jobs/a/job.yaml: notify[0].on[1]: "crashed" is not an outcome: write succeeded, failed, timed_out, cancelled or never_started`}},
		{"an outcome given twice is pointed out",
			"notify:\n  - {on: [failed, failed], email: ops@example.com}\n",
			[]string{`jobs/a/job.yaml: notify[0].on[1]: failed is given twice: keep one`}},
		{"an entry with two targets is refused",
			"notify:\n  - {sns: arn:aws:sns:us-east-1:123456789012:alerts, email: ops@example.com}\n",
			[]string{`jobs/a/job.yaml: notify[0]: give exactly one of sns (a topic ARN), email (an address) or webhook (a url), not 2`}},
		{"an entry with no target is refused",
			"notify:\n  - on: [failed]\n",
			[]string{`jobs/a/job.yaml: notify[0]: give exactly one of sns (a topic ARN), email (an address) or webhook (a url), not 0`}},
		{"a topic name is not an ARN",
			"notify:\n  - sns: alerts\n",
			[]string{`jobs/a/job.yaml: notify[0].sns: "alerts" is not an SNS topic ARN: write arn:aws:sns:REGION:ACCOUNT:NAME, such as arn:aws:sns:us-east-1:123456789012:alerts`}},
		{"an email with a display name is not an address",
			"notify:\n  - email: Ops <ops@example.com>\n",
			[]string{`jobs/a/job.yaml: notify[0].email: "Ops <ops@example.com>" is not an email address: write one address, such as ops@example.com`}},
		{"a plain http webhook elsewhere than localhost is refused",
			"notify:\n  - webhook: {url: http://hooks.example.com/x}\n",
			[]string{`jobs/a/job.yaml: notify[0].webhook.url: "http://hooks.example.com/x" is plain http: use https (http is allowed for localhost only)`}},
		{"a webhook with no url says what to write",
			"notify:\n  - webhook: {secret: ssm:/x}\n",
			[]string{`jobs/a/job.yaml: notify[0].webhook.url: missing: write the https URL to POST to`}},
		{"a webhook secret written in plain text is refused without showing it",
			"notify:\n  - webhook: {url: https://hooks.example.com/x, secret: hunter2}\n",
			[]string{`jobs/a/job.yaml: notify[0].webhook.secret: the value (not shown) is not a secret reference: write ssm:/param/name or secretsmanager:<secret ARN>[:json-key]; a value written here would be plain text`}},
		{"an unknown field of an entry is named",
			"notify:\n  - {slack: x}\n",
			[]string{
				`jobs/a/job.yaml: notify[0].slack: line 4: unknown field (allowed: on, sns, email, webhook)`,
				`jobs/a/job.yaml: notify[0]: give exactly one of sns (a topic ARN), email (an address) or webhook (a url), not 0`,
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, got := load(t, map[string]string{"a/job.yaml": minimal + tt.yaml})
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestANotificationMatchesItsOutcomesWithNeverStartedApart(t *testing.T) {
	tests := []struct {
		name          string
		on            []string
		status, cause string
		want          bool
	}{
		{"the default takes a failed exit", nil, "failed", "exit", true},
		{"the default takes a run that never started", nil, "failed", "start", true},
		{"the default takes a timeout", nil, "timed_out", "", true},
		{"the default leaves out a success", nil, "succeeded", "", false},
		{"the default leaves out a cancelled run", nil, "cancelled", "", false},
		{"failed alone leaves out a run that never started", []string{"failed"}, "failed", "start", false},
		{"never_started alone leaves out a failed exit", []string{"never_started"}, "failed", "exit", false},
		{"succeeded takes a success", []string{"succeeded"}, "succeeded", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := (job.Notify{On: tt.on, Email: "a@b.c"}).Matches(tt.status, tt.cause); got != tt.want {
				t.Errorf("Matches(%s, %s) = %v, want %v", tt.status, tt.cause, got, tt.want)
			}
		})
	}
}
