package run

import (
	"fmt"
	"slices"
	"strings"

	"github.com/longshore/longshore/internal/job"
)

// Replace says which runs to stop so that a new run of a job whose
// concurrency overflows by replacing may start: the oldest of its active
// runs (terminal runs in active are ignored), leaving Max-1 besides the new
// one. Runs that Longshore is already stopping (StopReq set) do not count
// and are not listed again, so their own stop reason (a cancel, a timeout)
// is kept. active is in any order; ties of creation are broken by id.
func Replace(p job.Concurrency, active []Run) []string {
	var live []Run
	for _, r := range active {
		if !r.Status.Terminal() && r.StopReq == StopNone {
			live = append(live, r)
		}
	}
	keep := max(p.Max-1, 0)
	if len(live) <= keep {
		return nil
	}
	slices.SortFunc(live, ArrivalOrder)
	ids := make([]string, 0, len(live)-keep)
	for _, r := range live[:len(live)-keep] {
		ids = append(ids, r.ID)
	}
	return ids
}

// ArrivalOrder orders runs as their triggers arrived: by creation, then id.
func ArrivalOrder(a, b Run) int {
	if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
		return c
	}
	return strings.Compare(a.ID, b.ID)
}

// Full says what becomes of a run of a job whose concurrency is full: the
// runs holding its slots are holders. Under overflow skip the run is
// skipped (cancelled with the reason); under queue it waits, queued, with
// the reason.
func Full(p job.Concurrency, holders []string) (skip bool, reason string) {
	held := describeHolders(holders)
	if p.Overflow == job.OverflowSkip {
		if p == job.ConcurrencyForbid {
			return true, fmt.Sprintf("skipped: %s still active and concurrency is forbid", held)
		}
		return true, fmt.Sprintf("skipped: %s still active and concurrency allows %d at once", held, p.Max)
	}
	return false, fmt.Sprintf("%s%s active and concurrency allows %d at once; starts when one ends", WaitingPrefix, held, p.Max)
}

// DeploymentFull is the reason of a run waiting because the deployment
// already runs its maximum of tasks.
func DeploymentFull(maxRunning int) string {
	active := fmt.Sprintf("%d runs are", maxRunning)
	if maxRunning == 1 {
		active = "1 run is"
	}
	return fmt.Sprintf("%s%s active in this deployment, its maxRunning; starts when one ends", WaitingPrefix, active)
}

// WaitingPrefix starts the reason of a queued run waiting for a slot; the
// reason is cleared when the run starts.
const WaitingPrefix = "waiting: "

// describeHolders names the runs holding slots, a few of them by id.
func describeHolders(ids []string) string {
	const named = 3
	ids = slices.Sorted(slices.Values(ids))
	switch {
	case len(ids) == 0:
		return "runs are"
	case len(ids) == 1:
		return "run " + ids[0] + " is"
	case len(ids) <= named:
		return "runs " + strings.Join(ids, ", ") + " are"
	}
	return fmt.Sprintf("runs %s and %d more are", strings.Join(ids[:named], ", "), len(ids)-named)
}
