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

// Launcher starts and skips runs. LaunchAll stores the runs of triggers due
// together before it starts their tasks, parallel at a time.
type Launcher interface {
	LaunchAll(ctx context.Context, reqs []dispatch.Request, parallel int) ([]dispatch.Launched, []error)
	Skip(ctx context.Context, req dispatch.Request, reason string) (run.Run, error)
}

// Parallel is how many tasks of the schedules due together start at once.
const Parallel = 16

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
	// marks are the marks as last read or written: the scheduler is their
	// only writer, so each is read from the store once.
	marks map[string]time.Time
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
	s := &Scheduler{o: o, marks: map[string]time.Time{}}
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
// The runs of every schedule due are stored first, then their tasks
// started, so that each schedule fires within moments of its time however
// many are due. Firing again after a crash is harmless: a scheduled minute
// makes one run.
func (s *Scheduler) Tick(ctx context.Context) (time.Time, error) {
	now := s.o.Clock.Now()
	var soonest time.Time
	var errs []error
	var due []*entry
	var reqs []dispatch.Request
	var marks []*entry
	for _, e := range s.entries {
		at, mark, err := s.plan(ctx, e, now)
		switch {
		case err != nil:
			errs = append(errs, err)
		case !at.IsZero():
			due = append(due, e)
			reqs = append(reqs, request(e, at))
		case mark:
			marks = append(marks, e)
		}
		if at, ok := e.sched.Next(now, e.loc); ok && (soonest.IsZero() || at.Before(soonest)) {
			soonest = at
		}
	}
	if len(reqs) > 0 {
		launched, lerrs := s.o.Launch.LaunchAll(ctx, reqs, Parallel)
		for i, e := range due {
			got, err := launched[i], lerrs[i]
			at := reqs[i].Trigger.ScheduledTime.UTC()
			var re *dispatch.RequestError
			if !dispatch.Stored(got, err) && !errors.As(err, &re) {
				// Nothing was stored: keep the mark so the next tick tries again.
				errs = append(errs, fmt.Errorf("fire %s of %s at %s: %w", e.expr, e.job, at.Format(time.RFC3339), err))
				continue
			}
			if err != nil {
				s.o.Log.Error("fire schedule", "job", e.job, "run", got.Run.ID, "err", err)
			} else {
				s.o.Log.Info("schedule fired", "job", e.job, "schedule", e.expr, "at", at, "run", got.Run.ID, "duplicate", got.Duplicate)
			}
			marks = append(marks, e)
		}
	}
	for _, e := range marks {
		if err := s.setMark(ctx, e, now); err != nil {
			errs = append(errs, err)
		}
	}
	return soonest, errors.Join(errs...)
}

// plan reads what a schedule owes at now: the due time to fire (zero when
// none) and whether its mark moves on. Due times missed beyond the starting
// deadline are recorded here as one skipped run.
func (s *Scheduler) plan(ctx context.Context, e *entry, now time.Time) (fire time.Time, mark bool, err error) {
	last, seen, err := s.mark(ctx, e)
	if err != nil {
		return time.Time{}, false, err
	}
	if !seen || last.After(now) {
		// First sight, or the clock went back: start from now.
		return time.Time{}, true, nil
	}
	first, ok := e.sched.Next(last, e.loc)
	if !ok || first.After(now) {
		return time.Time{}, false, nil
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
			return time.Time{}, false, fmt.Errorf("record missed run of %s at %s: %w", e.job, first.UTC().Format(time.RFC3339), err)
		}
		s.o.Log.Warn("missed schedule", "job", e.job, "schedule", e.expr, "from", first.UTC(), "until", end.UTC())
	}
	return latest, true, nil
}

// mark returns a schedule's mark, read from the store the first time.
func (s *Scheduler) mark(ctx context.Context, e *entry) (time.Time, bool, error) {
	if t, ok := s.marks[e.mark]; ok {
		return t, true, nil
	}
	t, seen, err := s.o.Marks.Mark(ctx, e.mark)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("read schedule mark of %s: %w", e.job, err)
	}
	if seen {
		s.marks[e.mark] = t
	}
	return t, seen, nil
}

func (s *Scheduler) setMark(ctx context.Context, e *entry, t time.Time) error {
	if err := s.o.Marks.SetMark(ctx, e.mark, t); err != nil {
		delete(s.marks, e.mark) // read it again next time
		return fmt.Errorf("write schedule mark of %s: %w", e.job, err)
	}
	s.marks[e.mark] = t
	return nil
}

func request(e *entry, at time.Time) dispatch.Request {
	at = at.UTC()
	return dispatch.Request{Job: e.job, Trigger: run.Trigger{Kind: run.TriggerSchedule, Schedule: e.expr, ScheduledTime: &at}}
}
