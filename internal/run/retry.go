package run

import (
	"fmt"
	"slices"
	"time"

	"github.com/longshore/longshore/internal/job"
)

// MaxBackoff caps the wait before a retry, however many attempts came before.
const MaxBackoff = time.Hour

// RetryDecision says whether a finished run is tried again.
type RetryDecision struct {
	Retry bool
	// Attempt is the number of the attempt to start (r.Attempt+1); zero when
	// there is no retry.
	Attempt int
	// NotBefore is the earliest time the retry may start; zero when there is
	// no retry.
	NotBefore time.Time
	// Capacity is the capacity the retry starts on instead of its job's
	// (Run.Capacity of the next attempt); empty for the job's own.
	Capacity job.Capacity
	// Reason, when set, is the finished run's reason now that it is
	// retried: it says where the retry runs (after a Spot interruption).
	Reason string
	// Why explains the decision in plain words, either way.
	Why string
}

// Retry decides whether run r, just finished, is retried under policy p,
// and on which capacity; capacity is its job's.
//
// Only failed runs are retried: a run that never started is retried when
// its failure is transient, an interrupted one always, one whose application
// exited non-zero only when the code is listed in p.ExitCodes; a lost run
// never (nobody knows whether it ran). Timed-out and cancelled runs are
// never retried. Attempts counts every attempt, the first included (an
// attempt number below 1 counts as 1, and so does p.Attempts). The wait
// before attempt n is p.Backoff × 2^(n-2), capped at MaxBackoff: attempt 2
// waits Backoff, attempt 3 twice that, and so on.
//
// A retry starts on the capacity its run started on (r.Capacity, or the
// job's), except after Fargate Spot reclaimed the task (stop code
// SpotInterruption): a spot-then-on-demand job is then retried on on-demand
// capacity, lest Spot take it again, and a spot job on Spot, as it asks;
// either way the finished run's Reason says so.
func Retry(p job.Retries, capacity job.Capacity, r Run, now time.Time) RetryDecision {
	if r.Status != StatusFailed {
		return RetryDecision{Why: fmt.Sprintf("the run %s: only failed runs are retried", statusWords(r.Status))}
	}
	switch r.Cause {
	case CauseStart:
		if !r.Transient {
			return RetryDecision{Why: "the task could not start for a reason a retry will not fix"}
		}
	case CauseInterrupted:
	case CauseExit:
		if r.ExitCode == nil {
			return RetryDecision{Why: "the application reported no exit code"}
		}
		if !slices.Contains(p.ExitCodes, *r.ExitCode) {
			return RetryDecision{Why: fmt.Sprintf("exit code %d is not listed in retries.exitCodes", *r.ExitCode)}
		}
	case CauseLost:
		return RetryDecision{Why: "tracking of the task was lost: it may have run, so it is not retried"}
	default:
		return RetryDecision{Why: fmt.Sprintf("failure cause %q is not retried", r.Cause)}
	}

	attempt, attempts := max(r.Attempt, 1), max(p.Attempts, 1)
	if attempt >= attempts {
		return RetryDecision{Why: fmt.Sprintf("attempt %d of %d: no attempts left", attempt, attempts)}
	}
	next := attempt + 1
	wait := Backoff(p.Backoff.D(), next)
	d := RetryDecision{
		Retry:     true,
		Attempt:   next,
		NotBefore: now.Add(wait),
		Capacity:  r.Capacity,
		Why:       fmt.Sprintf("%s: attempt %d of %d starts in %s", retryWhat(r), next, attempts, wait),
	}
	if spotInterrupted(r) {
		switch capacity {
		case job.CapacitySpotThenOnDemand:
			d.Capacity = job.CapacityOnDemand
			d.Reason = SpotInterrupted + ": retried on on-demand capacity"
			d.Why += " on on-demand capacity"
		case job.CapacitySpot:
			d.Reason = SpotInterrupted + ": retried on Fargate Spot, as the job's capacity spot asks"
			d.Why += " on Fargate Spot"
		}
	}
	return d
}

// SpotInterrupted starts the reason of a retried run that Fargate Spot
// interrupted.
const SpotInterrupted = "interrupted on Fargate Spot (" + StopCodeSpotInterruption + ")"

// spotInterrupted reports whether Fargate Spot reclaimed the run's task.
func spotInterrupted(r Run) bool {
	return r.Cause == CauseInterrupted && r.StopCode == StopCodeSpotInterruption
}

// Backoff is the wait before attempt number attempt: base before attempt 2,
// doubled for each later one, capped at MaxBackoff. Attempt 1 and a
// non-positive base wait nothing.
func Backoff(base time.Duration, attempt int) time.Duration {
	if base <= 0 || attempt < 2 {
		return 0
	}
	wait := min(base, MaxBackoff)
	for i := 2; i < attempt && wait < MaxBackoff; i++ {
		wait *= 2
	}
	return min(wait, MaxBackoff)
}

func retryWhat(r Run) string {
	switch r.Cause {
	case CauseStart:
		return "the task could not start for a reason that may clear"
	case CauseInterrupted:
		if spotInterrupted(r) {
			return "the task was interrupted on Fargate Spot"
		}
		return "the task was interrupted"
	default:
		return fmt.Sprintf("exit code %d is listed in retries.exitCodes", *r.ExitCode)
	}
}

func statusWords(s Status) string {
	switch s {
	case StatusSucceeded:
		return "succeeded"
	case StatusTimedOut:
		return "timed out"
	case StatusCancelled:
		return "was cancelled"
	case "":
		return "has no status"
	}
	return "is " + string(s)
}
