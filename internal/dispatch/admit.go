package dispatch

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/longshore/longshore/internal/job"
	"github.com/longshore/longshore/internal/run"
)

// admission is what admit made of a queued run.
type admission int

const (
	// admitStart: the run holds its slots and may start.
	admitStart admission = iota
	// admitSkipped: the job was full and skips: the run is cancelled.
	admitSkipped
	// admitJobFull: the job was full and queues: the run waits, queued.
	admitJobFull
	// admitDeploymentFull: the deployment ran its maxRunning: the run waits.
	admitDeploymentFull
)

// counted reports whether a job's runs hold slots of the job: a bound that
// skips or queues. A job whose overflow replaces stops older runs instead,
// and one with no bound counts nothing.
func counted(spec *job.Spec) bool {
	return spec.Concurrency.Limited() && spec.Concurrency.Overflow != job.OverflowReplace
}

// admitted reports whether runs of the job are admitted before they start
// (and so are stored queued): the job has a concurrency policy, or the
// deployment a maxRunning.
func (s *Service) admitted(spec *job.Spec) bool {
	return spec.Concurrency.Limited() || s.d.MaxRunning > 0
}

// admit applies the job's concurrency policy and the deployment's
// maxRunning to a queued run. Under a bound that skips or queues, the run
// takes one of the job's slots; under replace, the oldest active runs
// beyond the bound are stopped; with a maxRunning, the run then takes one of
// the deployment's slots. A run that finds no slot is skipped (cancelled,
// saying why) or waits, queued, with the reason; it is started when a run
// holding a slot ends (free).
func (s *Service) admit(ctx context.Context, spec *job.Spec, r *run.Run) (admission, error) {
	c := spec.Concurrency
	switch {
	case c.Overflow == job.OverflowReplace:
		all, err := s.active(ctx, spec.Name)
		if err != nil {
			return 0, err
		}
		others := all[:0:0]
		for _, a := range all {
			if a.ID != r.ID {
				others = append(others, a)
			}
		}
		for _, id := range run.Replace(c, others) {
			if _, err := s.Stop(ctx, id, run.StopReplace); err != nil {
				return 0, fmt.Errorf("replace run %s: %w", id, err)
			}
		}
	case counted(spec):
		held, holders, err := s.d.Slots.TakeSlot(ctx, JobSlots(spec.Name), r.ID, c.Max)
		if err != nil {
			return 0, fmt.Errorf("take a slot of %s for run %s: %w", spec.Name, r.ID, err)
		}
		if !held {
			skip, reason := run.Full(c, holders)
			if !skip {
				return admitJobFull, s.wait(ctx, r, reason)
			}
			skipped, err := s.finish(ctx, r.ID, run.Outcome{Status: run.StatusCancelled, Reason: reason})
			if err != nil {
				return 0, err
			}
			*r = skipped
			return admitSkipped, nil
		}
	}
	if s.d.MaxRunning > 0 {
		held, _, err := s.d.Slots.TakeSlot(ctx, DeploymentSlots, r.ID, s.d.MaxRunning)
		if err != nil {
			return 0, fmt.Errorf("take a slot of the deployment for run %s: %w", r.ID, err)
		}
		if !held {
			return admitDeploymentFull, s.wait(ctx, r, run.DeploymentFull(s.d.MaxRunning))
		}
	}
	return admitStart, nil
}

// wait records why a queued run waits, once: waiting again for the same
// reason writes nothing.
func (s *Service) wait(ctx context.Context, r *run.Run, reason string) error {
	if r.Reason == reason {
		return nil
	}
	waiting, err := s.mutateFrom(ctx, *r, func(x *run.Run) (bool, error) {
		if x.Status != run.StatusQueued || x.Reason == reason {
			return false, nil
		}
		x.Reason = reason
		return true, nil
	})
	if err != nil {
		return err
	}
	*r = waiting
	s.d.Log.Info("run waiting", "run", r.ID, "job", r.Job, "reason", reason)
	return nil
}

// free gives back the slots a run that has ended held, and starts the runs
// waiting for them, oldest first: those of its job when the job queues,
// and any when the deployment has a maxRunning. Freeing twice frees once
// and starts nothing more. A free lost to a crash is made good by Reconcile
// (freeLeaked).
func (s *Service) free(ctx context.Context, r run.Run) error {
	if !r.Status.Terminal() {
		return nil
	}
	var errs []error
	var drain *Query
	if spec, ok := s.d.Jobs.Get(r.Job); ok && counted(spec) {
		freed, err := s.d.Slots.FreeSlot(ctx, JobSlots(r.Job), r.ID)
		if err != nil {
			errs = append(errs, fmt.Errorf("free the slot of run %s of %s: %w", r.ID, r.Job, err))
		}
		if freed && spec.Concurrency.Overflow == job.OverflowQueue {
			drain = &Query{Job: r.Job}
		}
	}
	if s.d.MaxRunning > 0 {
		freed, err := s.d.Slots.FreeSlot(ctx, DeploymentSlots, r.ID)
		if err != nil {
			errs = append(errs, fmt.Errorf("free the deployment's slot of run %s: %w", r.ID, err))
		}
		if freed {
			drain = &Query{}
		}
	}
	if drain != nil && ctx.Value(drainingKey{}) == nil {
		_, err := s.startQueued(ctx, *drain)
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// drainingKey marks a context in which startQueued is at work: a run ending
// inside it frees its slots, and the loop under way starts the next.
type drainingKey struct{}

// startQueued starts the queued runs q selects whose time has come, oldest
// first, through admission: once a job is full its later runs are not
// tried in this pass, and once the deployment is full none is. It stops at
// the first start the runner refuses as throttled: the rest wait for the
// next pass rather than each asking again. It returns how many it started.
func (s *Service) startQueued(ctx context.Context, q Query) (int, error) {
	ctx = context.WithValue(ctx, drainingKey{}, true)
	due, err := s.due(ctx, q)
	if err != nil {
		return 0, err
	}
	started := 0
	var errs []error
	full := map[string]bool{}
	for _, r := range due {
		if full[r.Job] {
			continue
		}
		spec, err := s.spec(r.Job)
		if err != nil {
			_, err = s.finish(ctx, r.ID, run.Outcome{Status: run.StatusFailed, Cause: run.CauseStart,
				Reason: fmt.Sprintf("never started: job %s is no longer in the catalog", r.Job)})
			errs = append(errs, err)
			continue
		}
		after, adm, err := s.startRun(ctx, spec, r, true)
		if after.Status != run.StatusQueued {
			started++
		}
		if adm == admitJobFull {
			full[r.Job] = true
		}
		if adm == admitDeploymentFull {
			break
		}
		if err != nil {
			errs = append(errs, err)
			var se *StartError
			if errors.As(err, &se) && se.Throttled {
				break
			}
		}
	}
	return started, errors.Join(errs...)
}

// freeLeaked frees the slots held by runs that have ended or are gone — a
// host that stopped between a run's end and its free — and so lets the
// runs waiting for them start. Reconcile calls it before starting the due
// runs.
func (s *Service) freeLeaked(ctx context.Context) error {
	var keys []string
	if lister, ok := s.d.Jobs.(JobLister); ok {
		for _, spec := range lister.Jobs() {
			if counted(spec) {
				keys = append(keys, JobSlots(spec.Name))
			}
		}
	}
	if s.d.MaxRunning > 0 {
		keys = append(keys, DeploymentSlots)
	}
	var errs []error
	for _, key := range keys {
		holders, err := s.d.Slots.SlotHolders(ctx, key)
		if err != nil {
			errs = append(errs, fmt.Errorf("list the holders of slots %s: %w", key, err))
			continue
		}
		for _, id := range holders {
			r, err := s.d.Store.Get(ctx, id)
			switch {
			case errors.Is(err, ErrNotFound):
			case err != nil:
				errs = append(errs, err)
				continue
			case !r.Status.Terminal():
				continue
			}
			if _, err := s.d.Slots.FreeSlot(ctx, key, id); err != nil {
				errs = append(errs, fmt.Errorf("free the slot of %s held by ended run %s: %w", strings.TrimPrefix(key, jobSlotPrefix), id, err))
				continue
			}
			s.d.Log.Info("slot freed of an ended run", "run", id, "slots", key)
		}
	}
	return errors.Join(errs...)
}
