package scheduler_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/longshore/longshore/internal/dispatch"
	"github.com/longshore/longshore/internal/job"
	"github.com/longshore/longshore/internal/local/scheduler"
	"github.com/longshore/longshore/internal/run"
)

// recorder is a Launcher that records what it is asked, and marks in memory.
type recorder struct {
	mu       sync.Mutex
	batches  []int // the size of each LaunchAll
	reads    int   // Mark calls
	launched []time.Time
	skipped  []string
	marks    map[string]time.Time
	fired    chan time.Time
}

func newRecorder() *recorder {
	return &recorder{marks: map[string]time.Time{}, fired: make(chan time.Time, 100)}
}

func (r *recorder) LaunchAll(_ context.Context, reqs []dispatch.Request, _ int) ([]dispatch.Launched, []error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.batches = append(r.batches, len(reqs))
	out := make([]dispatch.Launched, len(reqs))
	for i, req := range reqs {
		r.launched = append(r.launched, *req.Trigger.ScheduledTime)
		r.fired <- *req.Trigger.ScheduledTime
		out[i] = dispatch.Launched{Run: run.Run{ID: "r-1"}}
	}
	return out, make([]error, len(reqs))
}

func (r *recorder) Skip(_ context.Context, req dispatch.Request, reason string) (run.Run, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.skipped = append(r.skipped, req.Trigger.ScheduledTime.Format(time.RFC3339)+" "+reason)
	return run.Run{ID: "r-2"}, nil
}

func (r *recorder) Mark(_ context.Context, name string) (time.Time, bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reads++
	t, ok := r.marks[name]
	return t, ok, nil
}

func (r *recorder) SetMark(_ context.Context, name string, t time.Time) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.marks[name] = t
	return nil
}

func (r *recorder) times() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, t := range r.launched {
		out = append(out, t.UTC().Format(time.RFC3339))
	}
	return out
}

func spec(t *testing.T, name, expr, tz string) *job.Spec {
	t.Helper()
	y := "local: {command: [true]}\ntriggers:\n  - schedule: " + expr + "\n"
	if tz != "" {
		y += "    timezone: " + tz + "\n"
	}
	s, err := job.Parse([]byte(y), name, name)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func newScheduler(t *testing.T, rec *recorder, clock scheduler.Clock, jobs ...*job.Spec) *scheduler.Scheduler {
	t.Helper()
	s, err := scheduler.New(scheduler.Options{Jobs: jobs, Launch: rec, Marks: rec, Clock: clock,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// tickEvery ticks s every step from the clock's time until end.
func tickEvery(t *testing.T, s *scheduler.Scheduler, clock *clockwork.FakeClock, step time.Duration, end time.Time) {
	t.Helper()
	for !clock.Now().After(end) {
		if _, err := s.Tick(context.Background()); err != nil {
			t.Fatal(err)
		}
		clock.Advance(step)
	}
}

func TestAScheduleFiresAtItsTimesInItsZone(t *testing.T) {
	tests := []struct {
		name      string
		expr, tz  string
		from, end time.Time
		want      []string
	}{
		{"a daily 9:00 in Berlin in winter is 8:00 UTC", "cron(0 9 * * ? *)", "Europe/Berlin",
			time.Date(2026, 11, 23, 7, 0, 0, 0, time.UTC), time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC),
			[]string{"2026-11-23T08:00:00Z", "2026-11-24T08:00:00Z"}},
		{"a rate of one minute fires every minute", "rate(1 minute)", "",
			time.Date(2026, 11, 23, 7, 0, 30, 0, time.UTC), time.Date(2026, 11, 23, 7, 3, 30, 0, time.UTC),
			[]string{"2026-11-23T07:01:00Z", "2026-11-23T07:02:00Z", "2026-11-23T07:03:00Z"}},
		{"a 2:30 in Berlin does not fire on the day clocks skip it", "cron(30 2 * * ? *)", "Europe/Berlin",
			time.Date(2026, 3, 27, 12, 0, 0, 0, time.UTC), time.Date(2026, 3, 30, 12, 0, 0, 0, time.UTC),
			[]string{"2026-03-28T01:30:00Z", "2026-03-30T00:30:00Z"}},
		{"nothing due before the schedule was first seen is fired", "cron(0 6 * * ? *)", "UTC",
			time.Date(2026, 11, 23, 6, 0, 30, 0, time.UTC), time.Date(2026, 11, 23, 23, 0, 0, 0, time.UTC),
			nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := clockwork.NewFakeClockAt(tt.from)
			rec := newRecorder()
			s := newScheduler(t, rec, clock, spec(t, "j", tt.expr, tt.tz))
			tickEvery(t, s, clock, 20*time.Second, tt.end)
			if got := rec.times(); fmtList(got) != fmtList(tt.want) {
				t.Errorf("fired %v, want %v", got, tt.want)
			}
			if len(rec.skipped) != 0 {
				t.Errorf("skipped %v while the engine was running", rec.skipped)
			}
		})
	}
}

func fmtList(l []string) string {
	out := ""
	for _, s := range l {
		out += s + ";"
	}
	return out
}

func TestAfterARestartMissedRunsAreStartedOnceOrRecordedNeverBurst(t *testing.T) {
	hourly := "cron(0 * * * ? *)"
	tests := []struct {
		name        string
		down        time.Duration // from 09:30
		wantFired   []string
		wantSkipped int
	}{
		{"down over one due time but back within the deadline: it starts late", 32 * time.Minute,
			[]string{"2026-11-23T10:00:00Z"}, 0},
		{"down for hours, back within the deadline of the latest: the latest starts, the rest is one missed record", 3*time.Hour + 33*time.Minute,
			[]string{"2026-11-23T13:00:00Z"}, 1},
		{"down for hours and back past every deadline: one missed record, nothing started", 3*time.Hour + 50*time.Minute,
			nil, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := newRecorder()
			clock := clockwork.NewFakeClockAt(time.Date(2026, 11, 23, 9, 30, 0, 0, time.UTC))
			before := newScheduler(t, rec, clock, spec(t, "j", hourly, "UTC"))
			before.Tick(context.Background())
			clock.Advance(tt.down)
			after := newScheduler(t, rec, clock, spec(t, "j", hourly, "UTC"))
			after.Tick(context.Background())
			after.Tick(context.Background())
			if fmtList(rec.times()) != fmtList(tt.wantFired) {
				t.Errorf("fired %v, want %v", rec.times(), tt.wantFired)
			}
			if len(rec.skipped) != tt.wantSkipped {
				t.Errorf("skipped %v, want %d record(s)", rec.skipped, tt.wantSkipped)
			}
		})
	}
}

func TestTheMissedRecordSaysWhatWasMissed(t *testing.T) {
	rec := newRecorder()
	clock := clockwork.NewFakeClockAt(time.Date(2026, 11, 23, 9, 30, 0, 0, time.UTC))
	newScheduler(t, rec, clock, spec(t, "j", "cron(0 * * * ? *)", "UTC")).Tick(context.Background())
	clock.Advance(3*time.Hour + 50*time.Minute)
	newScheduler(t, rec, clock, spec(t, "j", "cron(0 * * * ? *)", "UTC")).Tick(context.Background())
	want := "2026-11-23T10:00:00Z missed: the engine was not running when cron(0 * * * ? *) was due at 2026-11-23T10:00:00Z; due times from then until 2026-11-23T13:20:00Z were not run (starting deadline 5m0s)"
	if len(rec.skipped) != 1 || rec.skipped[0] != want {
		t.Errorf("skipped %q\nwant %q", rec.skipped, want)
	}
}

func TestTheLoopSleepsUntilTheNextFireOnTheInjectedClock(t *testing.T) {
	rec := newRecorder()
	clock := clockwork.NewFakeClockAt(time.Date(2026, 11, 23, 9, 59, 0, 0, time.UTC))
	s := newScheduler(t, rec, clock, spec(t, "j", "cron(0 10 * * ? *)", "UTC"))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- s.Run(ctx) }()
	clock.BlockUntilContext(ctx, 1)
	clock.Advance(time.Minute)
	if at := <-rec.fired; !at.Equal(time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)) {
		t.Errorf("fired for %s", at)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run = %v", err)
	}
}

func TestUpcomingListsTheNextFireOfEverySchedule(t *testing.T) {
	rec := newRecorder()
	clock := clockwork.NewFakeClockAt(time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC))
	s := newScheduler(t, rec, clock, spec(t, "a", "cron(0 12 * * ? *)", "UTC"), spec(t, "b", "rate(5 minutes)", ""))
	got := s.Upcoming(clock.Now())
	if len(got) != 2 || got[0].Job != "b" || !got[0].At.Equal(time.Date(2026, 11, 23, 9, 5, 0, 0, time.UTC)) || got[1].Job != "a" {
		t.Errorf("upcoming = %+v", got)
	}
}

func TestSchedulesDueTogetherAreLaunchedTogetherAndMarksReadOnce(t *testing.T) {
	rec := newRecorder()
	clock := clockwork.NewFakeClockAt(time.Date(2026, 11, 23, 7, 0, 30, 0, time.UTC))
	jobs := []*job.Spec{
		spec(t, "a", "rate(1 minute)", ""), spec(t, "b", "rate(1 minute)", ""), spec(t, "c", "cron(0/2 * * * ? *)", ""),
	}
	s := newScheduler(t, rec, clock, jobs...)
	tickEvery(t, s, clock, time.Minute, time.Date(2026, 11, 23, 7, 4, 30, 0, time.UTC))
	rec.mu.Lock()
	defer rec.mu.Unlock()
	// 7:01 a, b; 7:02 a, b, c; 7:03 a, b; 7:04 a, b, c.
	if fmt.Sprint(rec.batches) != "[2 3 2 3]" {
		t.Errorf("LaunchAll batches %v, want one a minute: [2 3 2 3]", rec.batches)
	}
	if rec.reads != len(jobs) {
		t.Errorf("%d mark reads over 5 ticks, want one a schedule (%d)", rec.reads, len(jobs))
	}
}
