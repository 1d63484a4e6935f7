package dispatch

import (
	"context"
	"errors"
	"fmt"

	"github.com/longshore/longshore/internal/job"
	"github.com/longshore/longshore/internal/run"
)

// JobLister is a Catalog that also lists its jobs (job.Catalog does): the
// services chain runs (after triggers) only over a catalog that lists them.
type JobLister interface {
	Jobs() []*job.Spec
}

// Both hosts give the services a *job.Catalog.
var _ JobLister = (*job.Catalog)(nil)

// chain stores the runs that a run's final outcome starts (run.Downstream):
// it is part of settling the run, done before the run counts as reported,
// so that a host stopping between the upstream's end and its downstream
// runs settles the upstream again and stores them then (the reconciler
// settles unreported runs). A downstream run's key comes from the upstream
// run, so storing it twice stores it once. The runs are stored, not yet
// started: start them with startChained once the upstream's write is done
// (a stored run not started is started by the reconciler all the same).
func (s *Service) chain(ctx context.Context, r run.Run) ([]created, error) {
	lister, ok := s.d.Jobs.(JobLister)
	if !ok {
		return nil, nil
	}
	var out []created
	for _, c := range run.Downstream(lister.Jobs(), r) {
		made, err := s.create(ctx, Request{Job: c.Job, Trigger: c.Trigger})
		var re *RequestError
		if errors.As(err, &re) {
			// Can never succeed (the downstream job's catalog changed): not
			// a reason to keep the upstream unreported for ever.
			s.d.Log.Warn("downstream run refused", "run", r.ID, "job", r.Job, "downstream", c.Job, "err", err)
			continue
		}
		if err != nil {
			return out, fmt.Errorf("chain %s after run %s of %s: %w", c.Job, r.ID, r.Job, err)
		}
		s.d.Log.Info("downstream run", "run", r.ID, "job", r.Job, "status", r.Status, "downstream", made.run.ID, "downstreamJob", c.Job, "duplicate", made.duplicate)
		out = append(out, made)
	}
	return out, nil
}

// startChained starts the downstream runs chain stored, through the normal
// launch (the job's concurrency policy applies).
func (s *Service) startChained(ctx context.Context, runs []created) error {
	var errs []error
	for _, c := range runs {
		if _, err := s.launchCreated(ctx, c); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
