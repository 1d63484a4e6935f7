package dispatch

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/longshore/longshore/internal/run"
)

// Observed says what became of a task observation.
type Observed struct {
	Run run.Run
	// Applied is false when the observation was dropped: stale, a
	// duplicate, for a finished run, or not for a run of ours.
	Applied bool
	// Ignored explains a dropped observation that belongs to no run.
	Ignored string
}

// Observe applies a task observation (an ECS Task State Change, a local
// process's exit) to its run. Observations may come late, twice or out of
// order: a stale one is dropped and a finished run never moves again. A run
// that has finished is settled: retried under its job's policy, or its
// outcome reported to its caller. Observing the same end twice reports it
// once; a report that failed is tried again.
func (s *Service) Observe(ctx context.Context, ts run.TaskState) (Observed, error) {
	if ts.RunID == "" {
		return Observed{Ignored: "task " + ts.TaskRef + " was not started by Longshore"}, nil
	}
	applied := false
	var ahead settled
	judged := false                // the task's end was judged in an earlier pass
	var judgedWith run.StopRequest // the stop request it was judged with
	r, err := s.mutate(ctx, ts.RunID, func(r *run.Run) (bool, error) {
		cur := *r
		if judged {
			// An earlier pass judged the end, and may have reported it, but
			// its write lost a race (a stop asked meanwhile): judge it as
			// then, so that what is stored is what was reported.
			cur.StopReq = judgedWith
		}
		next, ok := run.Apply(cur, ts, s.d.Now())
		next.StopReq = r.StopReq
		applied = ok
		switch {
		case !ok || !next.Status.Terminal():
		case ahead.reported:
			next.Notified = true
		case ahead.next != nil:
			next.NextRunID = ahead.next.ID
			if ahead.reason != "" {
				next.Reason = ahead.reason
			}
		default:
			judged, judgedWith = true, r.StopReq
			ahead = s.settleAhead(ctx, &next)
		}
		*r = next
		return ok, nil
	})
	if errors.Is(err, ErrNotFound) {
		return Observed{Ignored: "run " + ts.RunID + " is not known here"}, nil
	}
	if err != nil {
		return Observed{Run: r}, err
	}
	if !applied && r.Status.Terminal() && ts.Phase != run.PhaseStopped && ts.TaskRef != "" {
		// A task alive while its run is over (cancelled before the task
		// was known): stop it. Stopping a stopped task is harmless.
		if err := s.d.Runner.Stop(ctx, ts.TaskRef, "its run has ended: "+string(r.Status)); err != nil {
			return Observed{Run: r}, fmt.Errorf("stop task %s of ended run %s: %w", ts.TaskRef, r.ID, err)
		}
	}
	if applied {
		s.d.Log.Info("task observed", "run", r.ID, "job", r.Job, "phase", ts.Phase, "status", r.Status)
		if r.StopReq != run.StopNone && !r.Status.Terminal() && ts.TaskRef != "" {
			// A stop asked for before the task was known: the task is
			// known now.
			if err := s.d.Runner.Stop(ctx, ts.TaskRef, stopWords(r.StopReq)); err != nil {
				return Observed{Run: r, Applied: true}, fmt.Errorf("stop task %s of run %s: %w", ts.TaskRef, r.ID, err)
			}
		}
		// The run's slots are freed before its next attempt starts, which
		// may need one of them.
		freeErr := s.free(ctx, r)
		r, err = s.after(ctx, r, ahead)
		return Observed{Run: r, Applied: true}, errors.Join(freeErr, err)
	}
	freeErr := s.free(ctx, r)
	r, err = s.settle(ctx, r)
	return Observed{Run: r, Applied: applied}, errors.Join(freeErr, err)
}

// settled is what settleAhead did before a run's final write.
type settled struct {
	next     *run.Run  // the next attempt it created
	reason   string    // the run's reason now that it is retried, when it changes
	reported bool      // the outcome was reported
	chained  []created // the downstream runs stored, to start after the write
	err      error     // a report or an attempt that failed: settled again later
}

// settleAhead settles a run that the coming write makes terminal, so that
// the same write records it: the next attempt is created and linked, or the
// outcome is reported and the run marked reported, its downstream runs
// (after triggers) stored first. A run is thus written
// once when it ends, not twice. The report goes out just before the write:
// should the write not happen, the event that ended the run comes again and
// the report is sent again, which callers accept (reports are at least once).
// A report that fails leaves the run unreported, to be settled again.
func (s *Service) settleAhead(ctx context.Context, r *run.Run) settled {
	if !r.Status.Terminal() || r.Notified || r.NextRunID != "" {
		return settled{}
	}
	// Priced now, not by the write, so that the result reported carries
	// the cost the write stores.
	s.price(r)
	if spec, err := s.spec(r.Job); err == nil {
		if d := run.Retry(spec.Retries, spec.Capacity, *r, s.d.Now()); d.Retry {
			next, err := s.createAttempt(ctx, *r, d)
			if err != nil {
				return settled{err: err}
			}
			r.NextRunID = next.ID
			if d.Reason != "" {
				r.Reason = d.Reason
			}
			return settled{next: &next, reason: d.Reason}
		} else if d.Why != "" {
			s.d.Log.Info("no retry", "run", r.ID, "job", r.Job, "why", d.Why)
		}
	}
	chained, err := s.chain(ctx, *r)
	if err != nil {
		return settled{chained: chained, err: err}
	}
	report := *r
	report.UpdatedAt = s.d.Now()
	if err := s.d.Notifier.Notify(ctx, report); err != nil {
		return settled{chained: chained, err: fmt.Errorf("notify the end of run %s: %w", r.ID, err)}
	}
	r.Notified = true
	return settled{reported: true, chained: chained}
}

// after finishes what settleAhead began once the write is done: the next
// attempt is started when due, the downstream runs stored are started.
func (s *Service) after(ctx context.Context, r run.Run, ahead settled) (run.Run, error) {
	if err := s.startChained(ctx, ahead.chained); err != nil || ahead.err != nil {
		return r, errors.Join(ahead.err, err)
	}
	if ahead.next == nil || r.NextRunID != ahead.next.ID {
		return r, nil
	}
	return r, s.startAttempt(ctx, *ahead.next)
}

// settle finishes the bookkeeping of a terminal run: a failure the job's
// retry policy covers becomes a new attempt (queued with its backoff and
// started when due); otherwise the downstream runs are stored and the
// caller is told the outcome, once; the run counts as reported (and is no
// longer settled again) only once both are done, and the downstream runs
// are then started. Every step is idempotent, so settling twice is harmless.
func (s *Service) settle(ctx context.Context, r run.Run) (run.Run, error) {
	if !r.Status.Terminal() || r.Notified {
		return r, nil
	}
	spec, err := s.spec(r.Job)
	if err == nil && r.NextRunID == "" {
		if d := run.Retry(spec.Retries, spec.Capacity, r, s.d.Now()); d.Retry {
			return s.retry(ctx, r, d)
		} else if d.Why != "" {
			s.d.Log.Info("no retry", "run", r.ID, "job", r.Job, "why", d.Why)
		}
	}
	if r.NextRunID != "" {
		return r, nil
	}
	chained, err := s.chain(ctx, r)
	if err != nil {
		return r, errors.Join(err, s.startChained(ctx, chained))
	}
	if err := s.d.Notifier.Notify(ctx, r); err != nil {
		return r, errors.Join(fmt.Errorf("notify the end of run %s: %w", r.ID, err), s.startChained(ctx, chained))
	}
	r, err = s.mutateFrom(ctx, r, func(r *run.Run) (bool, error) {
		if r.Notified {
			return false, nil
		}
		r.Notified = true
		return true, nil
	})
	return r, errors.Join(err, s.startChained(ctx, chained))
}

// retry creates the next attempt of a failed run and links the two, the
// failed run's reason saying where the retry runs when the decision says.
// The new run's key is derived from the failed run, so settling twice
// creates it once.
func (s *Service) retry(ctx context.Context, prev run.Run, d run.RetryDecision) (run.Run, error) {
	stored, err := s.createAttempt(ctx, prev, d)
	if err != nil {
		return prev, err
	}
	prev, err = s.mutateFrom(ctx, prev, func(r *run.Run) (bool, error) {
		if r.NextRunID != "" {
			return false, nil
		}
		r.NextRunID = stored.ID
		if d.Reason != "" {
			r.Reason = d.Reason
		}
		return true, nil
	})
	if err != nil {
		return prev, err
	}
	return prev, s.startAttempt(ctx, stored)
}

// createAttempt stores the next attempt of a failed run, queued until its
// backoff has passed, on the capacity the decision chose. Its key, and so
// its id, derive from the failed run: creating it twice stores it once.
func (s *Service) createAttempt(ctx context.Context, prev run.Run, d run.RetryDecision) (run.Run, error) {
	now := s.d.Now()
	key := "retry:" + prev.ID
	next := run.Run{
		ID: run.KeyID(key), Job: prev.Job, Trigger: prev.Trigger, Key: key, Attempt: d.Attempt,
		PreviousRunID: prev.ID, Status: run.StatusQueued, Env: prev.Env, Command: prev.Command,
		Callback: prev.Callback, CreatedAt: now, UpdatedAt: now, NotBefore: timePtr(d.NotBefore),
		Capacity: d.Capacity,
	}
	stored, _, err := s.d.Store.Create(ctx, next)
	if err != nil {
		return run.Run{}, fmt.Errorf("create attempt %d of run %s: %w", d.Attempt, prev.ID, err)
	}
	s.d.Log.Info("retrying", "run", prev.ID, "next", stored.ID, "attempt", d.Attempt, "at", d.NotBefore, "why", d.Why)
	return stored, nil
}

// startAttempt starts the next attempt of a failed run when it is due.
func (s *Service) startAttempt(ctx context.Context, next run.Run) error {
	spec, err := s.spec(next.Job)
	if err != nil || !resumable(next) {
		return nil
	}
	_, err = s.start(ctx, spec, next, true)
	return err
}

// ReconcileOptions tune Reconcile.
type ReconcileOptions struct {
	// Quiet is how long a started run may go without an observation before
	// the runner is asked about its task.
	Quiet time.Duration
}

// Reconciled counts what Reconcile did.
type Reconciled struct {
	Started, TimedOut, Repaired, Lost, Settled int
}

// Reconcile repairs what events alone cannot: it stops tasks past their
// job's timeout, asks the runner about runs that have gone quiet (a missed
// event) and applies the answer — a task the runner no longer knows makes
// the run lost — starts queued runs that are due, and settles finished runs
// whose report failed. It is what the reconciler function runs every few
// minutes and the local engine runs on its loop.
func (s *Service) Reconcile(ctx context.Context, opts ReconcileOptions) (Reconciled, error) {
	var out Reconciled
	var errs []error
	var quiet []run.Run // started runs to ask the runner about
	active := map[string]bool{}
	q := Query{Status: []run.Status{run.StatusStarting, run.StatusRunning}}
	for {
		page, cursor, err := s.d.Store.List(ctx, q)
		if err != nil {
			return out, fmt.Errorf("list started runs: %w", err)
		}
		for _, r := range page {
			active[r.ID] = true
			ask, err := s.reconcileOne(ctx, r, opts, &out)
			if err != nil {
				errs = append(errs, err)
			}
			if ask {
				quiet = append(quiet, r)
			}
		}
		if cursor == "" {
			break
		}
		q.Cursor = cursor
	}
	errs = append(errs, s.describeQuiet(ctx, quiet, &out))
	s.forgetLooks(active)
	errs = append(errs, s.freeLeaked(ctx))
	n, err := s.StartDue(ctx)
	out.Started = n
	errs = append(errs, err)
	n, err = s.settleUnreported(ctx)
	out.Settled = n
	errs = append(errs, err)
	return out, errors.Join(errs...)
}

// reconcileOne stops a run past its timeout and finds the task of a quiet
// run that has none recorded; it returns true when the runner should be
// asked about the run's task.
func (s *Service) reconcileOne(ctx context.Context, r run.Run, opts ReconcileOptions, out *Reconciled) (bool, error) {
	now := s.d.Now()
	spec, err := s.spec(r.Job)
	if err == nil && r.StopReq == run.StopNone {
		since := r.CreatedAt
		if r.StartedAt != nil {
			since = *r.StartedAt
		}
		if now.Sub(since) > spec.Timeout.D() {
			out.TimedOut++
			_, err := s.Stop(ctx, r.ID, run.StopTimeout)
			return false, err
		}
	}
	waitingStop := r.StopReq != run.StopNone && r.TaskRef == ""
	if now.Sub(s.lastNews(r)) < opts.Quiet && !waitingStop {
		return false, nil
	}
	if r.TaskRef == "" {
		// No event has recorded the run's task (on AWS only its end is
		// delivered), or the launch stopped before starting it: the runner
		// finds the task, or starts it should there be none (Start is
		// idempotent per run), and the task is recorded, to be described
		// from now on.
		if err != nil {
			return false, err
		}
		_, err := s.start(ctx, spec, r, true)
		out.Repaired++
		return false, err
	}
	return true, nil
}

// describeQuiet asks the runner about the tasks of quiet runs — all in one
// go when it is a BatchDescriber — and applies what it says: a task it no
// longer knows makes its run lost. Asking writes nothing: when nothing is
// new, the look is remembered here, so that the run is asked about again
// only after another quiet period.
func (s *Service) describeQuiet(ctx context.Context, runs []run.Run, out *Reconciled) error {
	if len(runs) == 0 {
		return nil
	}
	var errs []error
	states := map[string]run.TaskState{}
	batch, isBatch := s.d.Runner.(BatchDescriber)
	if isBatch {
		refs := make([]string, len(runs))
		for i, r := range runs {
			refs[i] = r.TaskRef
		}
		var err error
		if states, err = batch.DescribeAll(ctx, refs); err != nil {
			return fmt.Errorf("describe the tasks of %d quiet runs: %w", len(runs), err)
		}
	}
	for _, r := range runs {
		ts, known := states[r.TaskRef]
		var err error
		if !isBatch {
			ts, err = s.d.Runner.Describe(ctx, r.TaskRef)
			known = err == nil
			if errors.Is(err, ErrTaskNotFound) {
				err = nil
			}
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("describe task %s of run %s: %w", r.TaskRef, r.ID, err))
			continue
		}
		if !known {
			out.Lost++
			_, err := s.finish(ctx, r.ID, run.Outcome{Status: run.StatusFailed, Cause: run.CauseLost,
				Reason: fmt.Sprintf("lost: the runner no longer knows task %s, so its outcome is unknown", r.TaskRef)})
			errs = append(errs, err)
			continue
		}
		if ts.RunID == "" {
			ts.RunID = r.ID
		}
		res, err := s.Observe(ctx, ts)
		if res.Applied {
			out.Repaired++
		} else if err == nil {
			s.noteLook(r.ID)
		}
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// lastNews is when a run last changed, or was last asked about with nothing
// new to learn.
func (s *Service) lastNews(r run.Run) time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t, ok := s.looked[r.ID]; ok && t.After(r.UpdatedAt) {
		return t
	}
	return r.UpdatedAt
}

func (s *Service) noteLook(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.looked == nil {
		s.looked = map[string]time.Time{}
	}
	s.looked[id] = s.d.Now()
}

// forgetLooks drops the looks at runs no longer active.
func (s *Service) forgetLooks(active map[string]bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id := range s.looked {
		if !active[id] {
			delete(s.looked, id)
		}
	}
}

// settleUnreported settles finished runs whose report has not gone out.
func (s *Service) settleUnreported(ctx context.Context) (int, error) {
	q := Query{Unreported: true}
	settled := 0
	var errs []error
	for {
		page, cursor, err := s.d.Store.List(ctx, q)
		if err != nil {
			return settled, fmt.Errorf("list finished runs: %w", err)
		}
		for _, r := range page {
			if _, err := s.settle(ctx, r); err != nil {
				errs = append(errs, err)
				continue
			}
			settled++
		}
		if cursor == "" {
			return settled, errors.Join(errs...)
		}
		q.Cursor = cursor
	}
}
