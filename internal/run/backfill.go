package run

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/longshore/longshore/internal/job"
	"github.com/longshore/longshore/internal/schedule"
)

// MaxBackfill bounds the times one backfill creates runs for.
const MaxBackfill = 1000

// Firing is one time a job's schedule fires.
type Firing struct {
	// At is the scheduled time, in UTC.
	At time.Time
	// Schedule is the expression and Timezone the IANA zone it is read in
	// ("UTC" when the trigger names none).
	Schedule string
	Timezone string
	// Trigger is the index of the schedule among the job's triggers (the
	// n of deploy.ScheduleName).
	Trigger int
}

// Local is the firing's time in its schedule's zone.
func (f Firing) Local() time.Time {
	loc, err := schedule.LoadLocation(f.Timezone)
	if err != nil {
		loc = time.UTC
	}
	return f.At.In(loc)
}

// BackfillError is a backfill that cannot be done as asked: an unknown job
// (UnknownJob), a job without a schedule, a window that is empty, reaches
// past now or holds too many times.
type BackfillError struct {
	Msg        string
	UnknownJob bool
}

func (e *BackfillError) Error() string { return e.Msg }

// BackfillTimes returns every time the schedule triggers of the job named
// name fire in [from, to), oldest first, each as its own firing would be
// recorded: two schedules of the job due in the same minute are one firing
// (its idempotency key is the job and the minute), of the first of them.
// It refuses (a *BackfillError) an unknown job (naming the closest name),
// a job without a schedule trigger, an empty window, a window holding a
// time after now (a backfill is for times that have passed), and more than
// limit times (saying how many).
func BackfillTimes(jobs []*job.Spec, name string, from, to, now time.Time, limit int) ([]Firing, error) {
	var spec *job.Spec
	names := make([]string, 0, len(jobs))
	for _, s := range jobs {
		names = append(names, s.Name)
		if s.Name == name {
			spec = s
		}
	}
	if spec == nil {
		msg := fmt.Sprintf("unknown job %q", name)
		if s := job.Closest(name, names); s != "" {
			msg += fmt.Sprintf("; did you mean %q?", s)
		} else if len(names) > 0 {
			sort.Strings(names)
			msg += ": the catalog has " + strings.Join(names, ", ")
		}
		return nil, &BackfillError{Msg: msg, UnknownJob: true}
	}
	if !from.Before(to) {
		return nil, &BackfillError{Msg: fmt.Sprintf("the window from %s to %s is empty: --from must be before --to",
			from.UTC().Format(time.RFC3339), to.UTC().Format(time.RFC3339))}
	}
	var out []Firing
	seen := map[time.Time]bool{}
	scheduled := false
	for i, t := range spec.Triggers {
		if t.Schedule == "" {
			continue
		}
		scheduled = true
		sched, err := schedule.Parse(t.Schedule)
		if err != nil {
			return nil, fmt.Errorf("job %s: schedule %q: %w", spec.Name, t.Schedule, err)
		}
		loc, err := schedule.LoadLocation(t.Timezone)
		if err != nil {
			return nil, fmt.Errorf("job %s: timezone %q: %w", spec.Name, t.Timezone, err)
		}
		times, err := sched.Between(from, to, loc, limit)
		var tm *schedule.TooManyError
		if errors.As(err, &tm) {
			return nil, tooMany(spec.Name, from, to, tm.Count, tm.More, limit)
		}
		if err != nil {
			return nil, err
		}
		for _, at := range times {
			minute := at.UTC().Truncate(time.Minute)
			if seen[minute] {
				continue
			}
			seen[minute] = true
			out = append(out, Firing{At: at.UTC(), Schedule: t.Schedule, Timezone: loc.String(), Trigger: i})
		}
	}
	if !scheduled {
		return nil, &BackfillError{Msg: fmt.Sprintf("job %s has no schedule trigger: backfill creates the runs its schedules would have started, so give it one (triggers: - schedule: ...)", spec.Name)}
	}
	if limit > 0 && len(out) > limit {
		return nil, tooMany(spec.Name, from, to, len(out), false, limit)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].At.Before(out[j].At) })
	if n := len(out); n > 0 && out[n-1].At.After(now) {
		var first Firing
		for _, f := range out {
			if f.At.After(now) {
				first = f
				break
			}
		}
		return nil, &BackfillError{Msg: fmt.Sprintf("the window reaches past now (%s): %s of job %s is due at %s; a backfill creates runs only for times that have passed, so end the window at --to %s or earlier",
			now.UTC().Format(time.RFC3339), first.Schedule, spec.Name, first.At.Format(time.RFC3339), now.UTC().Format(time.RFC3339))}
	}
	return out, nil
}

func tooMany(jobName string, from, to time.Time, n int, more bool, limit int) error {
	count := fmt.Sprint(n)
	if more {
		count = "more than " + count
	}
	return &BackfillError{Msg: fmt.Sprintf("the schedules of job %s fire %s times from %s to %s; one backfill creates at most %d: narrow the window (or backfill it in parts)",
		jobName, count, from.UTC().Format(time.RFC3339), to.UTC().Format(time.RFC3339), limit)}
}
