package scheduler_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/longshore/longshore/internal/dispatch"
	"github.com/longshore/longshore/internal/dispatch/fake"
	"github.com/longshore/longshore/internal/job"
	"github.com/longshore/longshore/internal/local/scheduler"
)

type specs map[string]*job.Spec

func (c specs) Get(name string) (*job.Spec, bool) { s, ok := c[name]; return s, ok }

// realLaunch is a scheduler over the real dispatch service with a fake
// store and runner, on a fake clock.
func realLaunch(t *testing.T, start time.Time, jobs ...*job.Spec) (*scheduler.Scheduler, *fake.Store, *clockwork.FakeClock) {
	t.Helper()
	clock := clockwork.NewFakeClockAt(start)
	cat := specs{}
	for _, s := range jobs {
		cat[s.Name] = s
	}
	var mu sync.Mutex
	n := 0
	store := fake.NewStore()
	svc := dispatch.New(dispatch.Deps{Jobs: cat, Store: store, Runner: fake.NewRunner(), Notifier: &fake.Notifier{},
		Now: clock.Now, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		NewID: func() (string, error) { mu.Lock(); defer mu.Unlock(); n++; return fmt.Sprintf("r-%016x", n), nil }})
	rec := newRecorder() // marks only
	s, err := scheduler.New(scheduler.Options{Jobs: jobs, Launch: svc, Marks: rec, Clock: clock,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	return s, store, clock
}

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// counts says how many runs of a backfill were new and how many existed.
func counts(t *testing.T, b scheduler.Backfilled) (created, existing int) {
	t.Helper()
	for i, r := range b.Runs {
		if b.Errs[i] != nil {
			t.Fatalf("time %s: %v", b.Times[i].At, b.Errs[i])
		}
		if r.Duplicate {
			existing++
		} else {
			created++
		}
	}
	return created, existing
}

func TestABackfilledTimeAndTheSchedulersOwnFiringOfItMakeOneRun(t *testing.T) {
	ctx := context.Background()
	s, store, clock := realLaunch(t, at("2026-11-20T09:59:00Z"), spec(t, "hourly", "rate(1 hour)", ""))
	if _, err := s.Tick(ctx); err != nil { // first sight: marks 09:59
		t.Fatal(err)
	}
	clock.Advance(time.Minute) // 10:00, due

	// The backfill gets to 10:00 before the scheduler does.
	b, err := s.Backfill(ctx, "hourly", at("2026-11-20T08:00:00Z"), at("2026-11-20T10:00:01Z"), false)
	if err != nil {
		t.Fatal(err)
	}
	if c, e := counts(t, b); c != 3 || e != 0 {
		t.Fatalf("first backfill: %d created, %d already there; want 3, 0", c, e)
	}
	if _, err := s.Tick(ctx); err != nil { // the scheduler fires 10:00
		t.Fatal(err)
	}
	clock.Advance(time.Hour)
	if _, err := s.Tick(ctx); err != nil { // and 11:00, before any backfill of it
		t.Fatal(err)
	}
	if n := len(store.Runs()); n != 4 {
		t.Fatalf("after the scheduler fired 10:00 and 11:00: %d runs, want 4 (08:00, 09:00, 10:00, 11:00)", n)
	}

	b, err = s.Backfill(ctx, "hourly", at("2026-11-20T08:00:00Z"), at("2026-11-20T12:00:00Z"), false)
	if err != nil {
		t.Fatal(err)
	}
	if c, e := counts(t, b); c != 0 || e != 4 {
		t.Errorf("backfill again over times fired and backfilled: %d created, %d already there; want 0, 4", c, e)
	}
	if n := len(store.Runs()); n != 4 {
		t.Errorf("%d runs, want 4", n)
	}
	for _, r := range store.Runs() {
		if r.Trigger.Kind != "schedule" || r.Trigger.Schedule != "rate(1 hour)" || !strings.HasPrefix(r.Key, "hourly/schedule/2026-11-20T") {
			t.Errorf("run %s: trigger %+v key %s", r.ID, r.Trigger, r.Key)
		}
	}
}

func TestABackfillFollowsTheJobsConcurrency(t *testing.T) {
	ctx := context.Background()
	forbid, err := job.Parse([]byte("local: {command: [true]}\nconcurrency: forbid\ntriggers:\n  - schedule: rate(1 hour)\n"), "single", "single")
	if err != nil {
		t.Fatal(err)
	}
	s, store, _ := realLaunch(t, at("2026-11-20T12:00:00Z"), forbid)
	b, err := s.Backfill(ctx, "single", at("2026-11-20T09:00:00Z"), at("2026-11-20T12:00:00Z"), false)
	if err != nil {
		t.Fatal(err)
	}
	if c, _ := counts(t, b); c != 3 {
		t.Fatalf("%d created, want 3", c)
	}
	var statuses []string
	for _, r := range b.Runs {
		statuses = append(statuses, string(r.Run.Status))
	}
	if got := strings.Join(statuses, ","); got != "starting,cancelled,cancelled" {
		t.Errorf("statuses = %s: under forbid the oldest time runs and the others are skipped, as firings would be", got)
	}
	if n := len(store.Runs()); n != 3 {
		t.Errorf("%d runs stored, want 3", n)
	}
}

func TestADryRunListsTheTimesAndCreatesNothing(t *testing.T) {
	s, store, _ := realLaunch(t, at("2026-11-20T12:00:00Z"), spec(t, "nightly", "cron(30 2 * * ? *)", "Europe/Berlin"))
	b, err := s.Backfill(context.Background(), "nightly", at("2026-03-28T00:00:00Z"), at("2026-03-31T00:00:00Z"), true)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range b.Times {
		got = append(got, f.Local().Format(time.RFC3339))
	}
	if strings.Join(got, " ") != "2026-03-28T02:30:00+01:00 2026-03-30T02:30:00+02:00" || len(b.Runs) != 0 || len(store.Runs()) != 0 {
		t.Errorf("dry run: times %v, %d runs answered, %d stored", got, len(b.Runs), len(store.Runs()))
	}
}

func TestABackfillOfFiveHundredTimesOnABoundOfTwoQueuesTheRest(t *testing.T) {
	ctx := context.Background()
	bounded, err := job.Parse([]byte("local: {command: [true]}\nconcurrency: {max: 2}\ntriggers:\n  - schedule: rate(1 minute)\n"), "minutely", "minutely")
	if err != nil {
		t.Fatal(err)
	}
	s, _, _ := realLaunch(t, at("2026-11-20T12:00:00Z"), bounded)
	b, err := s.Backfill(ctx, "minutely", at("2026-11-20T03:40:00Z"), at("2026-11-20T12:00:00Z"), false)
	if err != nil {
		t.Fatal(err)
	}
	if c, _ := counts(t, b); c != 500 {
		t.Fatalf("%d created, want 500", c)
	}
	statuses := map[string]int{}
	for i, r := range b.Runs {
		statuses[string(r.Run.Status)]++
		if i < 2 && r.Run.Status != "starting" {
			t.Errorf("time %d is %s, want the two oldest started", i, r.Run.Status)
		}
	}
	if statuses["starting"] != 2 || statuses["queued"] != 498 {
		t.Errorf("statuses %v, want 2 starting and 498 queued", statuses)
	}
}
