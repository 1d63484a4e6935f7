package dispatch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/longshore/longshore/internal/cost"
	"github.com/longshore/longshore/internal/job"
	"github.com/longshore/longshore/internal/run"
)

// Deps are the ports and the clock both services use.
type Deps struct {
	Jobs     Catalog
	Store    RunStore
	Runner   TaskRunner
	Notifier Notifier
	Now      Clock
	// NewID returns a fresh run id (run.NewID over crypto/rand in production).
	NewID func() (string, error)
	// Log receives what the services did; slog.Default() when nil.
	Log *slog.Logger
	// Bodies keeps the trigger bodies larger than run.MaxInlineBody; without
	// it they stay in the run (a host whose runs and tasks take them whole).
	Bodies BodyStore
	// Prices price a run's task when the run finishes (package cost), with
	// CostBasis (cost.BasisFargate on AWS, cost.BasisEstimate on one
	// machine); runs get no cost when Prices has no Region.
	Prices    cost.Prices
	CostBasis string
	// Pauses keeps the jobs paused or resumed at runtime; without it only
	// the job files' `paused` counts.
	Pauses PauseStore
	// Slots count the active runs of jobs with a concurrency bound, and of
	// the deployment; in memory (MemorySlots) when nil, which suits a host
	// that is one process.
	Slots Slots
	// MaxRunning bounds the runs active at once in the deployment (0: no
	// bound): runs past it wait, queued, until one ends.
	MaxRunning int
}

// Service is the launch and track services over one set of ports.
type Service struct {
	d Deps
	// looked is when Reconcile last asked the runner about a run's task
	// and learnt nothing new, by run id: kept in memory, not written.
	mu     sync.Mutex
	looked map[string]time.Time
}

// New returns the services over d.
func New(d Deps) *Service {
	if d.Log == nil {
		d.Log = slog.Default()
	}
	if d.Slots == nil {
		d.Slots = &MemorySlots{}
	}
	return &Service{d: d}
}

// maxConflicts bounds how often an update is re-read and tried again when
// another writer changed the run meanwhile.
const maxConflicts = 8

// mutate reads run id, applies change and stores the result, re-reading
// and trying again when another writer changed the run meanwhile. change
// returns false when there is nothing to store. It returns the run as
// stored (or as read, when nothing changed).
func (s *Service) mutate(ctx context.Context, id string, change func(*run.Run) (bool, error)) (run.Run, error) {
	for range maxConflicts {
		r, err := s.d.Store.Get(ctx, id)
		if err != nil {
			return run.Run{}, err // the store names the run and the action
		}
		next := r
		ok, err := change(&next)
		if err != nil || !ok {
			return r, err
		}
		s.price(&next)
		next.UpdatedAt = s.d.Now()
		stored, err := s.d.Store.Update(ctx, next)
		if errors.Is(err, ErrConflict) {
			continue
		}
		if err != nil {
			return r, fmt.Errorf("update run %s: %w", id, err)
		}
		return stored, nil
	}
	return run.Run{}, fmt.Errorf("update run %s: %w %d times in a row", id, ErrConflict, maxConflicts)
}

// mutateFrom is mutate starting from r as last read: when nobody changed
// the run since, the read is spared; on a conflict it reads and tries again.
func (s *Service) mutateFrom(ctx context.Context, r run.Run, change func(*run.Run) (bool, error)) (run.Run, error) {
	next := r
	ok, err := change(&next)
	if err != nil || !ok {
		return r, err
	}
	s.price(&next)
	next.UpdatedAt = s.d.Now()
	stored, err := s.d.Store.Update(ctx, next)
	switch {
	case err == nil:
		return stored, nil
	case errors.Is(err, ErrConflict):
		return s.mutate(ctx, r.ID, change)
	}
	return r, fmt.Errorf("update run %s: %w", r.ID, err)
}

// price records the cost of a run that the coming write finishes: every
// change of a run is written by mutate or mutateFrom, so this is the one
// place a final outcome gets its cost (cost.Record: once, from the job's
// size and the task's start and stop).
func (s *Service) price(r *run.Run) {
	if !r.Status.Terminal() || r.CostUSD != nil || s.d.Prices.Region == "" {
		return
	}
	if spec, ok := s.d.Jobs.Get(r.Job); ok {
		cost.Record(r, spec, s.d.Prices, s.d.CostBasis)
	}
}

// active lists a job's runs that have not finished.
func (s *Service) active(ctx context.Context, jobName string) ([]run.Run, error) {
	var out []run.Run
	q := Query{Job: jobName, Status: []run.Status{run.StatusQueued, run.StatusStarting, run.StatusRunning}}
	for {
		page, next, err := s.d.Store.List(ctx, q)
		if err != nil {
			return nil, fmt.Errorf("list active runs of %s: %w", jobName, err)
		}
		out = append(out, page...)
		if next == "" {
			return out, nil
		}
		q.Cursor = next
	}
}

// spec returns the job of a run, or an error naming it.
func (s *Service) spec(name string) (*job.Spec, error) {
	spec, ok := s.d.Jobs.Get(name)
	if !ok {
		return nil, &RequestError{Msg: fmt.Sprintf("unknown job %q", name)}
	}
	return spec, nil
}

// RequestError is a request that can never succeed as it is (unknown job,
// bad override). Triggers must not retry it.
type RequestError struct {
	Msg string
}

func (e *RequestError) Error() string { return e.Msg }

func timePtr(t time.Time) *time.Time { return &t }
