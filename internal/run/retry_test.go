package run

import (
	"testing"
	"time"

	"github.com/longshore/longshore/internal/job"
)

func failedRun(cause Cause, exit *int, attempt int, transient bool) Run {
	return Run{ID: "r-0123456789abcdef", Attempt: attempt, Status: StatusFailed, Cause: cause, ExitCode: exit, Transient: transient}
}

func TestRetry(t *testing.T) {
	now := time.Date(2026, 11, 22, 10, 5, 13, 0, time.UTC)
	policy := job.Retries{Attempts: 3, ExitCodes: []int{3, 75}, Backoff: job.Duration(30 * time.Second)}
	tests := []struct {
		name    string
		policy  job.Retries
		run     Run
		retry   bool
		attempt int
		wait    time.Duration
		why     string
	}{
		{"a listed exit code is retried after the backoff", policy, failedRun(CauseExit, code(3), 1, false),
			true, 2, 30 * time.Second, "exit code 3 is listed in retries.exitCodes: attempt 2 of 3 starts in 30s"},
		{"the third attempt waits twice the backoff", policy, failedRun(CauseExit, code(75), 2, false),
			true, 3, time.Minute, "exit code 75 is listed in retries.exitCodes: attempt 3 of 3 starts in 1m0s"},
		{"an exit code not listed is not retried", policy, failedRun(CauseExit, code(1), 1, false),
			false, 0, 0, "exit code 1 is not listed in retries.exitCodes"},
		{"the last attempt is not retried", policy, failedRun(CauseExit, code(3), 3, false),
			false, 0, 0, "attempt 3 of 3: no attempts left"},
		{"an exit without a code is not retried", policy, failedRun(CauseExit, nil, 1, false),
			false, 0, 0, "the application reported no exit code"},
		{"a transient start failure is retried", policy, failedRun(CauseStart, nil, 1, true),
			true, 2, 30 * time.Second, "the task could not start for a reason that may clear: attempt 2 of 3 starts in 30s"},
		{"a permanent start failure is not retried", policy, failedRun(CauseStart, nil, 1, false),
			false, 0, 0, "the task could not start for a reason a retry will not fix"},
		{"an interruption is retried even without listed exit codes", job.Retries{Attempts: 2}, failedRun(CauseInterrupted, code(143), 1, true),
			true, 2, 0, "the task was interrupted: attempt 2 of 2 starts in 0s"},
		{"a lost run is never retried", policy, failedRun(CauseLost, nil, 1, false),
			false, 0, 0, "tracking of the task was lost: it may have run, so it is not retried"},
		{"a timed-out run is never retried", policy, Run{Status: StatusTimedOut, Attempt: 1},
			false, 0, 0, "the run timed out: only failed runs are retried"},
		{"a cancelled run is never retried", policy, Run{Status: StatusCancelled, Attempt: 1},
			false, 0, 0, "the run was cancelled: only failed runs are retried"},
		{"a succeeded run is never retried", policy, Run{Status: StatusSucceeded, Attempt: 1},
			false, 0, 0, "the run succeeded: only failed runs are retried"},
		{"one attempt means no retry", job.Retries{Attempts: 1}, failedRun(CauseInterrupted, nil, 1, true),
			false, 0, 0, "attempt 1 of 1: no attempts left"},
		{"no policy means no retry", job.Retries{}, failedRun(CauseInterrupted, nil, 1, true),
			false, 0, 0, "attempt 1 of 1: no attempts left"},
		{"a long backoff is capped at an hour", job.Retries{Attempts: 20, Backoff: job.Duration(10 * time.Minute)}, failedRun(CauseInterrupted, nil, 9, true),
			true, 10, time.Hour, "the task was interrupted: attempt 10 of 20 starts in 1h0m0s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Retry(tt.policy, job.CapacityOnDemand, tt.run, now)
			if d.Retry != tt.retry || d.Attempt != tt.attempt {
				t.Errorf("retry, attempt = %v, %d; want %v, %d (%s)", d.Retry, d.Attempt, tt.retry, tt.attempt, d.Why)
			}
			if tt.retry && !d.NotBefore.Equal(now.Add(tt.wait)) {
				t.Errorf("not before = %v, want now + %s", d.NotBefore, tt.wait)
			}
			if !tt.retry && !d.NotBefore.IsZero() {
				t.Errorf("not before = %v for no retry, want zero", d.NotBefore)
			}
			if d.Why != tt.why {
				t.Errorf("why = %q\nwant %q", d.Why, tt.why)
			}
		})
	}
}

func TestRetryChoosesTheCapacityOfTheNextAttempt(t *testing.T) {
	now := time.Date(2026, 11, 22, 10, 5, 13, 0, time.UTC)
	policy := job.Retries{Attempts: 3, ExitCodes: []int{3}, Backoff: job.Duration(30 * time.Second)}
	spot := func(r Run) Run { r.StopCode = StopCodeSpotInterruption; return r }
	onDemand := func(r Run) Run { r.Capacity = job.CapacityOnDemand; return r }
	retired := func(r Run) Run { r.StopCode = StopCodeTerminationNotice; return r }
	tests := []struct {
		name     string
		capacity job.Capacity // the job's
		run      Run
		retry    bool
		want     job.Capacity // the next attempt's
		reason   string       // the finished run's new reason; "" keeps it
		why      string
	}{
		{"a spot-then-on-demand job interrupted on Spot is retried on on-demand capacity, saying so",
			job.CapacitySpotThenOnDemand, spot(failedRun(CauseInterrupted, code(143), 1, true)), true, job.CapacityOnDemand,
			"interrupted on Fargate Spot (SpotInterruption): retried on on-demand capacity",
			"the task was interrupted on Fargate Spot: attempt 2 of 3 starts in 30s on on-demand capacity"},
		{"a spot job interrupted on Spot is retried on Spot, as it asks, saying it was a Spot interruption",
			job.CapacitySpot, spot(failedRun(CauseInterrupted, code(143), 1, true)), true, "",
			"interrupted on Fargate Spot (SpotInterruption): retried on Fargate Spot, as the job's capacity spot asks",
			"the task was interrupted on Fargate Spot: attempt 2 of 3 starts in 30s on Fargate Spot"},
		{"an on-demand job keeps its capacity and its reason", job.CapacityOnDemand,
			spot(failedRun(CauseInterrupted, code(143), 1, true)), true, "", "",
			"the task was interrupted on Fargate Spot: attempt 2 of 3 starts in 30s"},
		{"a spot-then-on-demand job interrupted otherwise stays on Spot", job.CapacitySpotThenOnDemand,
			retired(failedRun(CauseInterrupted, nil, 1, true)), true, "", "",
			"the task was interrupted: attempt 2 of 3 starts in 30s"},
		{"a spot-then-on-demand job failing with a listed exit code stays on Spot", job.CapacitySpotThenOnDemand,
			failedRun(CauseExit, code(3), 1, false), true, "", "",
			"exit code 3 is listed in retries.exitCodes: attempt 2 of 3 starts in 30s"},
		{"an attempt moved to on-demand capacity keeps it for the next one", job.CapacitySpotThenOnDemand,
			onDemand(failedRun(CauseExit, code(3), 2, false)), true, job.CapacityOnDemand, "",
			"exit code 3 is listed in retries.exitCodes: attempt 3 of 3 starts in 1m0s"},
		{"a Spot interruption of the last attempt is not retried and keeps its reason", job.CapacitySpotThenOnDemand,
			spot(failedRun(CauseInterrupted, code(143), 3, true)), false, "", "",
			"attempt 3 of 3: no attempts left"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Retry(policy, tt.capacity, tt.run, now)
			if d.Retry != tt.retry || d.Capacity != tt.want {
				t.Errorf("retry %v on %q, want %v on %q", d.Retry, d.Capacity, tt.retry, tt.want)
			}
			if d.Reason != tt.reason {
				t.Errorf("reason = %q\nwant %q", d.Reason, tt.reason)
			}
			if d.Why != tt.why {
				t.Errorf("why = %q\nwant %q", d.Why, tt.why)
			}
		})
	}
}

func TestBackoff(t *testing.T) {
	tests := []struct {
		name    string
		base    time.Duration
		attempt int
		want    time.Duration
	}{
		{"the first attempt does not wait", time.Minute, 1, 0},
		{"attempt 2 waits the backoff", time.Minute, 2, time.Minute},
		{"attempt 3 waits twice the backoff", time.Minute, 3, 2 * time.Minute},
		{"attempt 5 waits eight times the backoff", time.Minute, 5, 8 * time.Minute},
		{"the wait never exceeds an hour", time.Minute, 8, time.Hour},
		{"a huge attempt number does not overflow", time.Minute, 1000, time.Hour},
		{"a backoff above an hour is capped", 3 * time.Hour, 2, time.Hour},
		{"no backoff means no wait", 0, 4, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Backoff(tt.base, tt.attempt); got != tt.want {
				t.Errorf("Backoff(%s, %d) = %s, want %s", tt.base, tt.attempt, got, tt.want)
			}
		})
	}
}
