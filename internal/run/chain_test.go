package run_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/longshore/longshore/internal/job"
	"github.com/longshore/longshore/internal/run"
)

func after(name, upstream string, status ...string) *job.Spec {
	if len(status) == 0 {
		status = []string{job.DefaultAfterStatus}
	}
	return &job.Spec{Name: name, Triggers: []job.Trigger{{After: &job.AfterTrigger{Job: upstream, Status: status}}}}
}

func TestDownstreamStartsTheJobsAfterARunsFinalOutcome(t *testing.T) {
	jobs := []*job.Spec{
		{Name: "extract", Triggers: []job.Trigger{{Invoke: &job.InvokeTrigger{}}}},
		after("load", "extract"),
		after("alert", "extract", "failed", "timed_out"),
		after("audit", "extract", "succeeded", "failed", "timed_out", "cancelled"),
		after("report", "load"),
		// Two triggers of one job matching one run start it once.
		{Name: "twice", Triggers: []job.Trigger{
			{After: &job.AfterTrigger{Job: "extract", Status: []string{"succeeded"}}},
			{After: &job.AfterTrigger{Job: "extract", Status: []string{"succeeded", "failed"}}},
		}},
	}
	zero, three := 0, 3
	tests := []struct {
		name string
		run  run.Run
		want string // "job key" per line
	}{
		{"a success starts the jobs after success",
			run.Run{ID: "r-aaaaaaaa", Job: "extract", Status: run.StatusSucceeded, ExitCode: &zero},
			"load load/after/r-aaaaaaaa\naudit audit/after/r-aaaaaaaa\ntwice twice/after/r-aaaaaaaa"},
		{"a failure starts the jobs after failure",
			run.Run{ID: "r-bbbbbbbb", Job: "extract", Status: run.StatusFailed, Cause: run.CauseExit, ExitCode: &three},
			"alert alert/after/r-bbbbbbbb\naudit audit/after/r-bbbbbbbb\ntwice twice/after/r-bbbbbbbb"},
		{"a timeout starts the jobs after timed_out",
			run.Run{ID: "r-cccccccc", Job: "extract", Status: run.StatusTimedOut},
			"alert alert/after/r-cccccccc\naudit audit/after/r-cccccccc"},
		{"a cancelled run starts only the jobs after cancelled",
			run.Run{ID: "r-dddddddd", Job: "extract", Status: run.StatusCancelled},
			"audit audit/after/r-dddddddd"},
		{"a failed attempt that is retried starts nothing",
			run.Run{ID: "r-eeeeeeee", Job: "extract", Status: run.StatusFailed, ExitCode: &three, NextRunID: "r-ffffffff"},
			""},
		{"the last attempt of a retried run decides, by its own id",
			run.Run{ID: "r-ffffffff", Job: "extract", Status: run.StatusSucceeded, ExitCode: &zero, Attempt: 2, PreviousRunID: "r-eeeeeeee"},
			"load load/after/r-ffffffff\naudit audit/after/r-ffffffff\ntwice twice/after/r-ffffffff"},
		{"a run still going starts nothing",
			run.Run{ID: "r-gggggggg", Job: "extract", Status: run.StatusRunning},
			""},
		{"a job no one runs after starts nothing",
			run.Run{ID: "r-hhhhhhhh", Job: "report", Status: run.StatusSucceeded},
			""},
		{"a chain goes one step at a time",
			run.Run{ID: "r-iiiiiiii", Job: "load", Status: run.StatusSucceeded},
			"report report/after/r-iiiiiiii"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var lines []string
			for _, c := range run.Downstream(jobs, tt.run) {
				key, err := run.IdempotencyKey(c.Job, c.Trigger, "")
				if err != nil {
					t.Fatalf("key of %s: %v", c.Job, err)
				}
				lines = append(lines, c.Job+" "+key)
				tr := c.Trigger
				if tr.Kind != run.TriggerAfter || tr.UpstreamRunID != tt.run.ID || tr.UpstreamJob != tt.run.Job || tr.UpstreamStatus != tt.run.Status {
					t.Errorf("trigger of %s = %+v", c.Job, tr)
				}
				if fmt.Sprint(deref(tr.UpstreamExitCode)) != fmt.Sprint(deref(tt.run.ExitCode)) {
					t.Errorf("upstream exit code of %s = %v, want %v", c.Job, deref(tr.UpstreamExitCode), deref(tt.run.ExitCode))
				}
			}
			if got := strings.Join(lines, "\n"); got != tt.want {
				t.Errorf("Downstream =\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

func deref(p *int) any {
	if p == nil {
		return nil
	}
	return *p
}

func TestAnAfterKeyNeedsTheUpstreamRun(t *testing.T) {
	_, err := run.IdempotencyKey("load", run.Trigger{Kind: run.TriggerAfter}, "")
	if err == nil || err.Error() != "derive idempotency key for job load: after trigger has no upstream run id" {
		t.Errorf("error = %v", err)
	}
}
