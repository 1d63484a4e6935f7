package dispatch

import (
	"context"
	"errors"
	"fmt"

	"github.com/longshore/longshore/internal/run"
)

// Stop stops a run: a queued run is cancelled at once; a started one has its
// task stopped, and the stop is classified as why when the task's end is
// observed. Stopping a finished run changes nothing.
func (s *Service) Stop(ctx context.Context, id string, why run.StopRequest) (run.Run, error) {
	r, err := s.d.Store.Get(ctx, id)
	if err != nil {
		return r, err // the store names the run and the action
	}
	if r.Status.Terminal() {
		return r, nil
	}
	if r.Status == run.StatusQueued {
		r, err = s.finish(ctx, id, run.Outcome{Status: run.StatusCancelled, Reason: stopWords(why) + " before it started"})
		if err == nil {
			// A start that failed on its way (an answer lost) may have left
			// a task: stop it too.
			return r, s.stopFound(ctx, r, "its run was cancelled before it started")
		}
		if !isTransition(err) {
			return r, err
		}
		// It started meanwhile: stop its task below.
	}
	r, err = s.mutate(ctx, id, func(r *run.Run) (bool, error) {
		if r.Status.Terminal() || r.StopReq != run.StopNone {
			return false, nil
		}
		r.StopReq = why
		return true, nil
	})
	if err != nil || r.Status.Terminal() {
		return r, err
	}
	if r.TaskRef == "" {
		return s.stopUnrecorded(ctx, r)
	}
	if err := s.d.Runner.Stop(ctx, r.TaskRef, stopWords(r.StopReq)); err != nil {
		return r, fmt.Errorf("stop task %s of run %s: %w", r.TaskRef, id, err)
	}
	s.d.Log.Info("run stopping", "run", id, "job", r.Job, "why", r.StopReq)
	return r, nil
}

// stopUnrecorded stops the task of a run asked to stop before its task was
// recorded. A runner that can find a run's task (ECS) is asked for it: found,
// it is recorded and stopped; not found yet (its launch is still on its way),
// the stop stays asked for, and whoever records the task next stops it (its
// first observation, or the reconciler). Another runner is asked to start the
// run's task, which finds the one started (Start is idempotent per run), and
// start() stops it once recorded.
func (s *Service) stopUnrecorded(ctx context.Context, r run.Run) (run.Run, error) {
	finder, ok := s.d.Runner.(TaskFinder)
	if !ok {
		spec, err := s.spec(r.Job)
		if err != nil {
			return r, err
		}
		return s.start(ctx, spec, r, true)
	}
	ref, err := finder.Find(ctx, r.ID)
	if errors.Is(err, ErrTaskNotFound) {
		s.d.Log.Info("stop asked before the task is known", "run", r.ID, "job", r.Job, "why", r.StopReq)
		return r, nil
	}
	if err != nil {
		return r, fmt.Errorf("find the task of run %s: %w", r.ID, err)
	}
	r, err = s.mutateFrom(ctx, r, func(r *run.Run) (bool, error) {
		if r.TaskRef != "" || r.Status.Terminal() {
			return false, nil
		}
		r.TaskRef = ref
		return true, nil
	})
	if err != nil || r.Status.Terminal() {
		return r, err
	}
	if err := s.d.Runner.Stop(ctx, ref, stopWords(r.StopReq)); err != nil {
		return r, fmt.Errorf("stop task %s of run %s: %w", ref, r.ID, err)
	}
	s.d.Log.Info("run stopping", "run", r.ID, "job", r.Job, "why", r.StopReq)
	return r, nil
}

// stopFound stops the task a TaskFinder runner finds for a run, if any.
func (s *Service) stopFound(ctx context.Context, r run.Run, reason string) error {
	finder, ok := s.d.Runner.(TaskFinder)
	if !ok {
		return nil
	}
	ref, err := finder.Find(ctx, r.ID)
	if errors.Is(err, ErrTaskNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("find the task of run %s: %w", r.ID, err)
	}
	if err := s.d.Runner.Stop(ctx, ref, reason); err != nil {
		return fmt.Errorf("stop task %s of run %s: %w", ref, r.ID, err)
	}
	return nil
}

func isTransition(err error) bool {
	var te *run.TransitionError
	return errors.As(err, &te)
}

func stopWords(why run.StopRequest) string {
	switch why {
	case run.StopTimeout:
		return "stopped after the job's timeout"
	case run.StopReplace:
		return "replaced by a newer run"
	case run.StopShutdown:
		return "stopped because the engine was shut down"
	default:
		return "stopped on request"
	}
}
