package run

import (
	"fmt"
	"strings"

	"github.com/longshore/longshore/internal/job"
)

// Admission says what to do with a new run of a job given its active runs.
type Admission struct {
	// Start is true when the new run may start.
	Start bool
	// Stop lists the ids of the runs to stop first (concurrency replace).
	// The caller records StopReplace on each before stopping its task.
	Stop []string
	// Reason says why the new run is skipped when Start is false.
	Reason string
}

// Admit applies a job's concurrency policy to a new run, given the job's
// active runs (terminal runs in active are ignored). An empty policy means
// allow. Under replace, runs that Longshore is already stopping (StopReq
// set) are not listed again, so their own stop reason (a cancel, a timeout)
// is kept. An unknown policy starts nothing and says so.
func Admit(p job.Concurrency, active []Run) Admission {
	var live []Run
	for _, r := range active {
		if !r.Status.Terminal() {
			live = append(live, r)
		}
	}
	switch p {
	case "", job.ConcurrencyAllow:
		return Admission{Start: true}
	case job.ConcurrencyForbid:
		if len(live) == 0 {
			return Admission{Start: true}
		}
		ids := make([]string, len(live))
		for i, r := range live {
			ids[i] = r.ID
		}
		if len(ids) == 1 {
			return Admission{Reason: fmt.Sprintf("skipped: run %s is still active and concurrency is forbid", ids[0])}
		}
		return Admission{Reason: fmt.Sprintf("skipped: runs %s are still active and concurrency is forbid", strings.Join(ids, ", "))}
	case job.ConcurrencyReplace:
		a := Admission{Start: true}
		for _, r := range live {
			if r.StopReq == StopNone {
				a.Stop = append(a.Stop, r.ID)
			}
		}
		return a
	}
	return Admission{Reason: fmt.Sprintf("skipped: unknown concurrency policy %q", p)}
}
