package run

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Apply applies one observation of a run's task to the run and returns the
// updated run and true, or the run unchanged and false when the observation
// must be dropped:
//   - the run is already terminal (a finished run never goes back);
//   - the observation is stale: both it and the run carry a task version and
//     ts.Version <= r.TaskVersion;
//   - it belongs to another run (ts.RunID set and different from r.ID) or
//     another task (both TaskRefs set and different);
//   - it would move the run backwards (pending after running);
//   - its phase is not one of the three phases, or the run has no valid status;
//   - it changes nothing.
//
// Otherwise: pending makes the run starting; running makes it running and
// sets StartedAt (from the task, else now); stopped finishes the run with
// the Classify outcome (using r.StopReq), StoppedAt (from the task, else
// now), ExitCode, Containers, Cause, Reason, Transient and StopCode.
// The task's capacity, when it says, is recorded as TaskCapacity. Events arrive
// unordered: a stopped observation finishes a run that never saw running,
// and a run still queued is taken through starting. TaskRef and TaskVersion
// are recorded and UpdatedAt is set to now.
func Apply(r Run, ts TaskState, now time.Time) (Run, bool) {
	if r.Status.Terminal() || !r.Status.Valid() || !ts.Phase.Valid() {
		return r, false
	}
	if ts.RunID != "" && r.ID != "" && ts.RunID != r.ID {
		return r, false
	}
	if ts.TaskRef != "" && r.TaskRef != "" && ts.TaskRef != r.TaskRef {
		return r, false
	}
	if ts.Version > 0 && r.TaskVersion > 0 && ts.Version <= r.TaskVersion {
		return r, false
	}

	next := r
	if ts.TaskRef != "" {
		next.TaskRef = ts.TaskRef
	}
	if ts.Version > 0 {
		next.TaskVersion = ts.Version
	}
	if ts.Capacity != "" {
		next.TaskCapacity = ts.Capacity
	}
	if len(ts.Containers) > 0 {
		next.Containers = slices.Clone(ts.Containers)
	}
	if next.StartedAt == nil && ts.StartedAt != nil {
		next.StartedAt = timePtr(*ts.StartedAt)
	}

	switch ts.Phase {
	case PhasePending:
		switch r.Status {
		case StatusRunning:
			return r, false
		case StatusQueued:
			next.Status = StatusStarting
		}
	case PhaseRunning:
		next.Status = StatusRunning
		if next.StartedAt == nil {
			next.StartedAt = timePtr(now)
		}
	case PhaseStopped:
		from := r.Status
		if from == StatusQueued {
			// A task exists, so the run was at least starting.
			from = StatusStarting
		}
		o := Classify(ts, r.StopReq)
		if !CanTransition(from, o.Status) {
			return r, false
		}
		next = finish(next, o)
		next.StopCode = ts.StopCode
		stopped := now
		if ts.StoppedAt != nil {
			stopped = *ts.StoppedAt
		}
		next.StoppedAt = timePtr(stopped)
	}
	if next.Status != StatusQueued && strings.HasPrefix(next.Reason, WaitingPrefix) {
		// It no longer waits for a slot: its task is there.
		next.Reason = ""
	}

	if !changed(r, next) {
		return r, false
	}
	next.UpdatedAt = now
	return next, true
}

// Finish ends a run with an outcome decided outside a task observation: a
// RunTask that failed (see ClassifyStartFailure), a run lost by tracking, a
// queued run cancelled before it started. StoppedAt and UpdatedAt are set to
// now. It returns a *TransitionError when the run may not move to the
// outcome's status (a terminal run, or queued to succeeded), and an error
// when the outcome is not terminal or has no reason.
func Finish(r Run, o Outcome, now time.Time) (Run, error) {
	if !o.Status.Terminal() {
		return r, fmt.Errorf("finish run %s: status %q is not terminal", r.ID, o.Status)
	}
	if o.Reason == "" {
		return r, fmt.Errorf("finish run %s: an outcome needs a reason", r.ID)
	}
	if !CanTransition(r.Status, o.Status) {
		return r, &TransitionError{RunID: r.ID, From: r.Status, To: o.Status}
	}
	next := finish(r, o)
	next.StoppedAt = timePtr(now)
	next.UpdatedAt = now
	return next, nil
}

// finish copies an outcome into a run.
func finish(r Run, o Outcome) Run {
	r.Status = o.Status
	r.Cause = CauseNone
	r.Transient = false
	if o.Status == StatusFailed {
		r.Cause = o.Cause
		r.Transient = o.Transient
	}
	r.Reason = o.Reason
	r.ExitCode = nil
	if o.ExitCode != nil {
		code := *o.ExitCode
		r.ExitCode = &code
	}
	return r
}

// changed reports whether Apply changed anything worth storing.
func changed(a, b Run) bool {
	return a.Status != b.Status || a.TaskRef != b.TaskRef || a.TaskVersion != b.TaskVersion || a.TaskCapacity != b.TaskCapacity ||
		!sameTime(a.StartedAt, b.StartedAt) || !sameTime(a.StoppedAt, b.StoppedAt) ||
		!slices.EqualFunc(a.Containers, b.Containers, sameContainer)
}

func sameTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(*b)
}

func sameContainer(a, b Container) bool {
	if a.Name != b.Name || a.Reason != b.Reason || (a.ExitCode == nil) != (b.ExitCode == nil) {
		return false
	}
	return a.ExitCode == nil || *a.ExitCode == *b.ExitCode
}

func timePtr(t time.Time) *time.Time { return &t }
