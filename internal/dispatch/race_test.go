package dispatch_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/longshore/longshore/internal/dispatch"
	"github.com/longshore/longshore/internal/dispatch/fake"
	"github.com/longshore/longshore/internal/run"
)

// racyStore changes a run while its next attempt is being created: what
// another writer does when it lands between Observe's read and its write.
type racyStore struct {
	*fake.Store
	change func(prev *run.Run)
}

func (s *racyStore) Create(ctx context.Context, r run.Run) (run.Run, bool, error) {
	if strings.HasPrefix(r.Key, "retry:") && s.change != nil {
		prev, _ := s.Store.Get(ctx, r.PreviousRunID)
		s.change(&prev)
		s.change = nil
		if _, err := s.Store.Update(ctx, prev); err != nil {
			panic(err)
		}
	}
	return s.Store.Create(ctx, r)
}

func TestAnEndWhoseWriteLosesARaceIsStoredAsItWasJudged(t *testing.T) {
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		name        string
		change      func(prev *run.Run)
		wantStatus  run.Status
		wantAttempt run.Status // the second attempt after its backoff
	}{
		{"a stop asked meanwhile does not change the judged end: the retry goes ahead",
			func(prev *run.Run) { prev.StopReq = run.StopCancel }, run.StatusFailed, run.StatusStarting},
		{"a run ended otherwise meanwhile keeps that end, and the attempt made for the lost end is dropped unreported",
			func(prev *run.Run) {
				ended, _ := run.Finish(*prev, run.Outcome{Status: run.StatusFailed, Cause: run.CauseLost, Reason: "lost"}, now)
				ended.Notified = true
				*prev = ended
			}, run.StatusFailed, run.StatusCancelled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t, map[string]string{"j": "image: {uri: busybox}\nretries: {attempts: 2}\n"})
			st := &racyStore{Store: w.store, change: tt.change}
			svc := dispatch.New(dispatch.Deps{Jobs: w.catalog, Store: st, Runner: w.runner, Notifier: w.notes,
				Now: w.clock.Now, NewID: w.newID, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
			l, err := svc.Launch(ctx, invoke("j", ""))
			if err != nil {
				t.Fatal(err)
			}
			ts := w.runner.SetState(l.Run.ID, run.TaskState{Phase: run.PhaseStopped, StopCode: run.StopCodeSpotInterruption,
				StoppedReason: "Your Spot Task was interrupted."})
			if _, err := svc.Observe(ctx, ts); err != nil {
				t.Fatal(err)
			}
			w.clock.Advance(2 * time.Hour) // past any backoff
			if _, err := svc.StartDue(ctx); err != nil {
				t.Fatal(err)
			}
			got := w.get(l.Run.ID)
			var attempt run.Run
			for _, r := range w.store.Runs() {
				if r.PreviousRunID == l.Run.ID {
					attempt = r
				}
			}
			if got.Status != tt.wantStatus || attempt.Status != tt.wantAttempt {
				t.Errorf("run %s/%s next %q, attempt %s; want %s, attempt %s", got.Status, got.Cause, got.NextRunID, attempt.Status, tt.wantStatus, tt.wantAttempt)
			}
			if tt.wantAttempt == run.StatusCancelled && (w.runner.Count() != 1 || len(w.notes.Reports()) != 0) {
				t.Errorf("%d tasks, %d reports; want the first task only and no report from the dropped attempt", w.runner.Count(), len(w.notes.Reports()))
			}
		})
	}
}

func TestAResumedStartThatFailsForNowLeavesTheRunWhereAStopFindsItsTask(t *testing.T) {
	w := newWorld(t, map[string]string{"j": "image: {uri: busybox}\n"})
	first := w.launch(invoke("j", "k1")) // allow: stored starting, task started, not recorded
	task, ok := w.runner.Task(first.ID)
	if !ok {
		t.Fatal("no task")
	}
	// The trigger comes again (SQS redelivery) and the resumed start fails
	// transiently (a throttled ListTasks / RunTask).
	w.runner.StartErr = &dispatch.StartError{Transient: true, Reason: "throttled"}
	if dup, err := w.svc.Launch(ctx, invoke("j", "k1")); dup.Run.Status != run.StatusStarting || err == nil {
		t.Errorf("repeated trigger whose resume failed: %s, %v; want the run still starting and the error", dup.Run.Status, err)
	}
	w.runner.StartErr = nil
	stopped, err := w.svc.Stop(ctx, first.ID, run.StopCancel)
	if err != nil || task.Stopped == "" || stopped.StopReq != run.StopCancel {
		t.Errorf("after the stop: %s asked %q, %v; task stopped %q; want its task stopped", stopped.Status, stopped.StopReq, err, task.Stopped)
	}
}
