package job_test

import (
	"testing"

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
