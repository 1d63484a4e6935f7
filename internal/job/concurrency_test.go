package job_test

import (
	"testing"
	"time"

	"github.com/longshore/longshore/internal/job"
)

const minimalJob = "image:\n  uri: busybox:1.36\n"

func TestAConcurrencyPolicyIsReadFromAShorthandOrAMapping(t *testing.T) {
	tests := []struct {
		name    string
		written string
		want    job.Concurrency
		brief   string
	}{
		{"no policy sets no bound", "", job.Concurrency{}, "allow"},
		{"allow sets no bound", "concurrency: allow\n", job.Concurrency{}, "allow"},
		{"forbid is one run that skips the next", "concurrency: forbid\n", job.Concurrency{Max: 1, Overflow: job.OverflowSkip}, "forbid"},
		{"replace is one run replaced by the next", "concurrency: replace\n", job.Concurrency{Max: 1, Overflow: job.OverflowReplace}, "replace"},
		{"a bound alone queues the runs past it", "concurrency: {max: 3}\n", job.Concurrency{Max: 3, Overflow: job.OverflowQueue}, "max 3, overflow queue"},
		{"a bound with an overflow keeps it", "concurrency:\n  max: 2\n  overflow: skip\n", job.Concurrency{Max: 2, Overflow: job.OverflowSkip}, "max 2, overflow skip"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec, err := job.Parse([]byte(minimalJob+tt.written), "a", "jobs/a/job.yaml")
			if err != nil {
				t.Fatal(err)
			}
			if spec.Concurrency != tt.want {
				t.Errorf("concurrency %+v, want %+v", spec.Concurrency, tt.want)
			}
			if got := spec.Concurrency.String(); got != tt.brief {
				t.Errorf("written briefly %q, want %q", got, tt.brief)
			}
		})
	}
}

func TestAJobsHistoryIsKeptForDaysOrAnyDuration(t *testing.T) {
	tests := []struct {
		name    string
		written string
		want    time.Duration
		problem string
	}{
		{"no history keeps the deployment's default", "", 0, ""},
		{"days are written with d", "history: {keep: 30d}\n", 30 * 24 * time.Hour, ""},
		{"hours are written as Go writes them", "history: {keep: 36h}\n", 36 * time.Hour, ""},
		{"less than an hour is refused", "history: {keep: 10m}\n", 0,
			"jobs/a/job.yaml: history.keep: 10m0s is out of range: keep a job's runs from 1h to 3650d (leave it out for the deployment's default)"},
		{"more than ten years is refused", "history: {keep: 4000d}\n", 0,
			"jobs/a/job.yaml: history.keep: 4000d is out of range: keep a job's runs from 1h to 3650d (leave it out for the deployment's default)"},
		{"a word is not a duration", "history: {keep: forever}\n", 0,
			`jobs/a/job.yaml: history.keep: line 3: "forever" is not a duration: write it like 90s, 15m, 2h or 30d`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec, err := job.Parse([]byte(minimalJob+tt.written), "a", "jobs/a/job.yaml")
			if tt.problem != "" {
				if err == nil || err.Error() != tt.problem {
					t.Errorf("problem %v\nwant    %s", err, tt.problem)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := spec.History.Keep.D(); got != tt.want {
				t.Errorf("keep %v, want %v", got, tt.want)
			}
		})
	}
}
