package task

import (
	"context"
	"errors"
	"fmt"

	"github.com/longshore/longshore/internal/dispatch"
	"github.com/longshore/longshore/internal/run"
)

// recover finds a task the Supervisor does not follow, in its run's
// records and through the backend, and takes it over (see Describe).
func (s *Supervisor) recover(ctx context.Context, ref, runID string) (run.TaskState, error) {
	// Counted as a start: Shutdown waits for it, then stops what it took
	// over. Once Shutdown began, it takes nothing over.
	counted := s.enter()
	if counted {
		defer s.starting.Done()
	}
	defer s.runs.Lock(runID)()
	return s.recoverLocked(ctx, ref, runID, !counted)
}

// recoverLocked is recover with the run's lock held, counted in
// s.starting unless closed: then it takes nothing over.
func (s *Supervisor) recoverLocked(ctx context.Context, ref, runID string, closed bool) (run.TaskState, error) {
	s.mu.Lock()
	tk := s.tasks[runID]
	var current run.TaskState
	if tk != nil {
		current = tk.state.Clone()
	}
	s.mu.Unlock()
	if tk != nil {
		if tk.ref != ref {
			return run.TaskState{}, dispatch.ErrTaskNotFound
		}
		return current, nil
	}

	var e end
	switch err := s.rec.read(ctx, runID, ExitFile, &e); {
	case err == nil:
		if e.Ref != ref {
			return run.TaskState{}, dispatch.ErrTaskNotFound
		}
		return e.state(), nil
	case !isNotExist(err):
		return run.TaskState{}, fmt.Errorf("describe task %s: %w", ref, err)
	}
	var rec Started
	switch err := s.rec.read(ctx, runID, TaskFile, &rec); {
	case isNotExist(err):
		return run.TaskState{}, dispatch.ErrTaskNotFound
	case err != nil:
		return run.TaskState{}, fmt.Errorf("describe task %s: %w", ref, err)
	case rec.Ref != ref:
		return run.TaskState{}, dispatch.ErrTaskNotFound
	}

	found, err := s.b.Find(ctx, rec)
	if err != nil {
		return run.TaskState{}, fmt.Errorf("describe task %s: %w", ref, err)
	}
	started := rec.StartedAt
	current = run.TaskState{TaskRef: ref, RunID: runID, Version: VersionRunning, Phase: run.PhaseRunning,
		Essential: run.DefaultEssential, StartedAt: &started}
	switch found.State {
	case Lost:
		e = lost(found.Detail).end(ref, runID, started, s.c.Now())
		if err := s.rec.write(context.WithoutCancel(ctx), runID, ExitFile, e); err != nil {
			return run.TaskState{}, fmt.Errorf("describe task %s: %w", ref, err)
		}
		return e.state(), nil
	case Created:
		// The start that created it stopped before it started it.
		if closed {
			current.Phase = run.PhasePending
			return current, nil
		}
		if err := found.Handle.Start(ctx); err != nil {
			return run.TaskState{}, fmt.Errorf("describe task %s: %w", ref, err)
		}
	case Running:
		if closed {
			return current, nil
		}
	}

	// Take it over: resume its logs where the last engine stopped, and
	// follow it to its end.
	dir := s.RunDir(runID)
	stdout, err := resumeLog(dir, StdoutFile, s.c.MaxLogBytes)
	if err != nil {
		return run.TaskState{}, fmt.Errorf("describe task %s: %w", ref, err)
	}
	stderr, err := resumeLog(dir, StderrFile, s.c.MaxLogBytes)
	if err != nil {
		return run.TaskState{}, fmt.Errorf("describe task %s: %w", ref, err)
	}
	var stop stopRequest
	_ = s.rec.read(ctx, runID, StopFile, &stop)
	tk = &task{h: found.Handle, ref: ref, runID: runID, started: started, out: Output{Stdout: stdout, Stderr: stderr},
		reports: make(chan run.TaskState, 2), state: current}
	if found.State == Exited {
		// It ended while no engine watched: record its end now.
		tk.stop = stop
		e, err := s.finish(tk)
		if err != nil {
			return run.TaskState{}, fmt.Errorf("describe task %s: %w", ref, err)
		}
		return e.state(), nil
	}
	s.follow(tk, false)
	if stop.Code != "" {
		s.stopTracked(ref, runID, stop.Code, stop.Reason)
	}
	return current.Clone(), nil
}

// Recover takes over the tasks an earlier engine over the same data folder
// left that the backend can list (Backend.Leftovers): those of runs still
// active (active reports it) are followed to their end and reported
// through Observe; those of runs already finished are stopped; those whose
// end is recorded, or that no start recorded (it was interrupted before),
// are removed. The engine calls it once at start-up.
func (s *Supervisor) Recover(ctx context.Context, active func(runID string) bool) error {
	left, err := s.b.Leftovers(ctx)
	if err != nil {
		return fmt.Errorf("list the %ss of earlier runs: %w", s.b.Kind(), err)
	}
	var errs []error
	for _, h := range left {
		runID, ok := s.b.Parse(h.Ref())
		if !ok {
			continue
		}
		if err := s.adopt(ctx, h, runID, active); err != nil {
			errs = append(errs, fmt.Errorf("take over the %s of run %s: %w", s.b.Kind(), runID, err))
		}
	}
	return errors.Join(errs...)
}

// adopt takes over, stops or removes one task of Recover, holding its
// run's lock so that no Start of the run is under way.
func (s *Supervisor) adopt(ctx context.Context, h Handle, runID string, active func(runID string) bool) error {
	if !s.enter() {
		return nil
	}
	defer s.starting.Done()
	defer s.runs.Lock(runID)()

	ref := h.Ref()
	if tk := s.tracked(runID); tk != nil && tk.ref == ref {
		return nil // already followed
	}
	var e end
	var rec Started
	if s.rec.read(ctx, runID, ExitFile, &e) == nil || s.rec.read(ctx, runID, TaskFile, &rec) != nil || rec.Ref != ref {
		// Its end is recorded, or no start recorded it: nothing to follow.
		h.Remove()
		return nil
	}
	if _, err := s.recoverLocked(ctx, ref, runID, false); err != nil {
		return err
	}
	if !active(runID) {
		s.stopTracked(ref, runID, run.StopCodeUserInitiated, "its run had already ended when the engine started again")
	}
	return nil
}
