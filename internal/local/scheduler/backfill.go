package scheduler

import (
	"context"
	"fmt"
	"time"

	"github.com/longshore/longshore/internal/dispatch"
	"github.com/longshore/longshore/internal/run"
)

// Backfilled is what a backfill found and did, time by time.
type Backfilled struct {
	// Times are the times the job's schedules fired in the window, oldest first.
	Times []run.Firing
	// Runs answer the times, in their order (none for a dry run); Errs
	// holds the error of each time whose run could not be stored.
	Runs []dispatch.Launched
	Errs []error
}

// Backfill creates a run for every time the schedules of the job fired in
// [from, to) (run.BackfillTimes, with the clock's now), each with the very
// request the scheduler sends when that time is due — so a time the
// scheduler fired, or a backfill made before, makes no second run. The runs
// are stored first and then started one by one, oldest first, by the
// launcher, which applies the job's concurrency to each as to any firing.
// A dry run only lists the times.
func (s *Scheduler) Backfill(ctx context.Context, jobName string, from, to time.Time, dryRun bool) (Backfilled, error) {
	times, err := run.BackfillTimes(s.o.Jobs, jobName, from, to, s.o.Clock.Now(), run.MaxBackfill)
	if err != nil {
		return Backfilled{}, err
	}
	out := Backfilled{Times: times}
	if dryRun || len(times) == 0 {
		return out, nil
	}
	reqs := make([]dispatch.Request, len(times))
	for i, f := range times {
		reqs[i] = request(&entry{job: jobName, expr: f.Schedule}, f.At)
	}
	launched, errs := s.o.Launch.LaunchAll(ctx, reqs, 1)
	out.Runs, out.Errs = launched, make([]error, len(times))
	for i := range times {
		if !dispatch.Stored(launched[i], errs[i]) {
			out.Errs[i] = fmt.Errorf("backfill %s at %s: %w", jobName, times[i].At.Format(time.RFC3339), errs[i])
			continue
		}
		if errs[i] != nil {
			s.o.Log.Warn("backfill: run stored, its task not started", "job", jobName, "at", times[i].At, "run", launched[i].Run.ID, "err", errs[i])
		}
	}
	s.o.Log.Info("backfill", "job", jobName, "from", from.UTC(), "to", to.UTC(), "times", len(times))
	return out, nil
}
