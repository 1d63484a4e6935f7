// Package scheduler fires the schedule triggers of a job catalog on one
// machine: one loop over an injected clock, each schedule read in its own
// timezone, with a starting deadline after a restart so that runs missed
// while the engine was down are started once or recorded as missed, never
// fired as a burst.
package scheduler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"time"

	"github.com/longshore/longshore/internal/dispatch"
	"github.com/longshore/longshore/internal/job"
	"github.com/longshore/longshore/internal/run"
	"github.com/longshore/longshore/internal/schedule"
)

// Launcher starts and skips runs.
type Launcher interface {
	Launch(ctx context.Context, req dispatch.Request) (dispatch.Launched, error)
	Skip(ctx context.Context, req dispatch.Request, reason string) (run.Run, error)
}

// Marks keeps, per schedule, the time up to which it has been handled, so
// a restarted engine knows what it missed.
type Marks interface {
	Mark(ctx context.Context, name string) (time.Time, bool, error)
	SetMark(ctx context.Context, name string, t time.Time) error
}

// Clock is the time source; clockwork's clocks satisfy it.
type Clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

// DefaultStartingDeadline is how late a due run may still start.
const DefaultStartingDeadline = 5 * time.Minute

// maxWait bounds a sleep of the loop, so that a clock change on the host is
// noticed within a minute.
const maxWait = time.Minute

// Options configure a Scheduler.
type Options struct {
	Jobs   []*job.Spec
	Launch Launcher
	Marks  Marks
	Clock  Clock
	// StartingDeadline: a due time older than this when the engine gets to
	// it is recorded as missed instead of started. DefaultStartingDeadline when zero.
	StartingDeadline time.Duration
	Log              *slog.Logger
}

// Scheduler fires the schedule triggers of a catalog.
type Scheduler struct {
	o       Options
	entries []*entry
}

// entry is one schedule trigger of one job.
type entry struct {
	job   string
	expr  string
	sched *schedule.Schedule
	loc   *time.Location
	mark  string
}

// Fire is one upcoming fire time of a job's schedule.
type Fire struct {
	Job      string
	Schedule string
	Timezone string
	At       time.Time
}

// New reads the schedule triggers of every job.
func New(o Options) (*Scheduler, error) {
	if o.StartingDeadline <= 0 {
		o.StartingDeadline = DefaultStartingDeadline
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	s := &Scheduler{o: o}
	for _, spec := range o.Jobs {
		for _, t := range spec.Triggers {
			if t.Schedule == "" {
				continue
			}
			sched, err := schedule.Parse(t.Schedule)
			if err != nil {
				return nil, fmt.Errorf("job %s: schedule %q: %w", spec.Name, t.Schedule, err)
			}
			loc, err := schedule.LoadLocation(t.Timezone)
			if err != nil {
				return nil, fmt.Errorf("job %s: timezone %q: %w", spec.Name, t.Timezone, err)
			}
			s.entries = append(s.entries, &entry{
				job: spec.Name, expr: t.Schedule, sched: sched, loc: loc,
				mark: "schedule/" + spec.Name + "/" + t.Schedule + "@" + loc.String(),
			})
		}
	}
	return s, nil
}

// Upcoming lists the next fire time of every schedule after now, soonest first.
func (s *Scheduler) Upcoming(now time.Time) []Fire {
	var out []Fire
	for _, e := range s.entries {
		if at, ok := e.sched.Next(now, e.loc); ok {
			out = append(out, Fire{Job: e.job, Schedule: e.expr, Timezone: e.loc.String(), At: at.UTC()})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].At.Before(out[j].At) })
	return out
}

// Run fires schedules until ctx ends.
func (s *Scheduler) Run(ctx context.Context) error {
	for {
		next, err := s.Tick(ctx)
		if err != nil {
			s.o.Log.Error("schedule tick", "err", err)
		}
		wait := maxWait
		if !next.IsZero() {
			wait = min(max(next.Sub(s.o.Clock.Now()), 0), maxWait)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-s.o.Clock.After(wait):
		}
	}
}

// Tick fires every schedule that is due at the clock's time and returns the
// soonest time a schedule is due next (zero when none will fire again).
// A schedule seen for the first time starts from now: nothing before is
// fired. Of the due times since the last tick, the latest one within the
// starting deadline is started; any others are recorded as one missed run.
// Firing again after a crash is harmless: a scheduled minute makes one run.
func (s *Scheduler) Tick(ctx context.Context) (time.Time, error) {
	now := s.o.Clock.Now()
	var soonest time.Time
	var errs []error
	for _, e := range s.entries {
		if err := s.tickOne(ctx, e, now); err != nil {
			errs = append(errs, err)
		}
		if at, ok := e.sched.Next(now, e.loc); ok && (soonest.IsZero() || at.Before(soonest)) {
			soonest = at
		}
	}
	return soonest, errors.Join(errs...)
}

func (s *Scheduler) tickOne(ctx context.Context, e *entry, now time.Time) error {
	last, seen, err := s.o.Marks.Mark(ctx, e.mark)
	if err != nil {
		return fmt.Errorf("read schedule mark of %s: %w", e.job, err)
	}
	if !seen || last.After(now) {
		// First sight, or the clock went back: start from now.
		return s.setMark(ctx, e, now)
	}
	first, ok := e.sched.Next(last, e.loc)
	if !ok || first.After(now) {
		return nil
	}
	// The latest due time within the starting deadline, if any.
	window := now.Add(-s.o.StartingDeadline)
	from := last
	if window.After(from) {
		from = window.Add(-time.Nanosecond)
	}
	var latest time.Time
	for t, ok := e.sched.Next(from, e.loc); ok && !t.After(now); t, ok = e.sched.Next(t, e.loc) {
		latest = t
	}
	if first.Before(latest) || latest.IsZero() {
		end := now
		if !latest.IsZero() {
			end = latest
		}
		reason := fmt.Sprintf("missed: the engine was not running when %s was due at %s; due times from then until %s were not run (starting deadline %s)",
			e.expr, first.UTC().Format(time.RFC3339), end.UTC().Format(time.RFC3339), s.o.StartingDeadline)
		req := request(e, first)
		if _, err := s.o.Launch.Skip(ctx, req, reason); err != nil {
			return fmt.Errorf("record missed run of %s at %s: %w", e.job, first.UTC().Format(time.RFC3339), err)
		}
		s.o.Log.Warn("missed schedule", "job", e.job, "schedule", e.expr, "from", first.UTC(), "until", end.UTC())
	}
	if !latest.IsZero() {
		got, err := s.o.Launch.Launch(ctx, request(e, latest))
		var re *dispatch.RequestError
		if !dispatch.Stored(got, err) && !errors.As(err, &re) {
			// Nothing was stored: keep the mark so the next tick tries again.
			return fmt.Errorf("fire %s of %s at %s: %w", e.expr, e.job, latest.UTC().Format(time.RFC3339), err)
		}
		if err != nil {
			s.o.Log.Error("fire schedule", "job", e.job, "run", got.Run.ID, "err", err)
		} else {
			s.o.Log.Info("schedule fired", "job", e.job, "schedule", e.expr, "at", latest.UTC(), "run", got.Run.ID, "duplicate", got.Duplicate)
		}
	}
	return s.setMark(ctx, e, now)
}

func (s *Scheduler) setMark(ctx context.Context, e *entry, t time.Time) error {
	if err := s.o.Marks.SetMark(ctx, e.mark, t); err != nil {
		return fmt.Errorf("write schedule mark of %s: %w", e.job, err)
	}
	return nil
}

func request(e *entry, at time.Time) dispatch.Request {
	at = at.UTC()
	return dispatch.Request{Job: e.job, Trigger: run.Trigger{Kind: run.TriggerSchedule, Schedule: e.expr, ScheduledTime: &at}}
}
