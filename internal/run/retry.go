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
	// Why explains the decision in plain words, either way.
	Why string
}

// Retry decides whether run r, just finished, is retried under policy p.
//
// Only failed runs are retried: a run that never started is retried when
// its failure is transient, an interrupted one always, one whose application
// exited non-zero only when the code is listed in p.ExitCodes; a lost run
// never (nobody knows whether it ran). Timed-out and cancelled runs are
// never retried. Attempts counts every attempt, the first included (an
// attempt number below 1 counts as 1, and so does p.Attempts). The wait
// before attempt n is p.Backoff × 2^(n-2), capped at MaxBackoff: attempt 2
// waits Backoff, attempt 3 twice that, and so on.
func Retry(p job.Retries, r Run, now time.Time) RetryDecision {
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
	return RetryDecision{
		Retry:     true,
		Attempt:   next,
		NotBefore: now.Add(wait),
		Why:       fmt.Sprintf("%s: attempt %d of %d starts in %s", retryWhat(r), next, attempts, wait),
	}
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
