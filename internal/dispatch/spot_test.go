package dispatch_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/longshore/longshore/internal/dispatch"
	"github.com/longshore/longshore/internal/dispatch/fake"
	"github.com/longshore/longshore/internal/job"
	"github.com/longshore/longshore/internal/run"
)

const render = "image: {uri: busybox}\ncapacity: spot-then-on-demand\nretries: {attempts: 3, backoff: 0s}\n"

func spotInterrupted() run.TaskState {
	code := 143
	return run.TaskState{Phase: run.PhaseStopped, StopCode: run.StopCodeSpotInterruption, StoppedReason: "Your Spot Task was interrupted.",
		Containers: []run.Container{{Name: "app", ExitCode: &code}}}
}

func hostRetired() run.TaskState {
	return run.TaskState{Phase: run.PhaseStopped, StopCode: run.StopCodeTerminationNotice, Containers: []run.Container{{Name: "app"}}}
}

// failingRetries is a store whose first create of a retry attempt fails.
type failingRetries struct {
	*fake.Store
	failed bool
}

func (s *failingRetries) Create(ctx context.Context, r run.Run) (run.Run, bool, error) {
	if strings.HasPrefix(r.Key, "retry:") && !s.failed {
		s.failed = true
		return run.Run{}, false, errors.New("throttled")
	}
	return s.Store.Create(ctx, r)
}

func TestASpotInterruptionOfASpotThenOnDemandJobIsRetriedOnOnDemandCapacity(t *testing.T) {
	const reason = "interrupted on Fargate Spot (SpotInterruption): retried on on-demand capacity"
	tests := []struct {
		name string
		// settleLater: the retry cannot be stored as the interruption is
		// recorded; the reconciler settles the run later.
		settleLater bool
	}{
		{"when the interruption is recorded", false},
		{"when the reconciler settles the run later", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t, map[string]string{"render": render})
			svc := w.svc
			if tt.settleLater {
				svc = dispatch.New(dispatch.Deps{Jobs: w.catalog, Store: &failingRetries{Store: w.store}, Runner: w.runner,
					Notifier: w.notes, Now: w.clock.Now, NewID: w.newID, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
			}
			first, err := svc.Launch(ctx, invoke("render", ""))
			if err != nil {
				t.Fatal(err)
			}
			_, err = svc.Observe(ctx, w.runner.SetState(first.Run.ID, spotInterrupted()))
			if tt.settleLater {
				if err == nil {
					t.Fatal("Observe stored the retry the store refused")
				}
				if _, err := svc.Reconcile(ctx, dispatch.ReconcileOptions{}); err != nil {
					t.Fatalf("Reconcile: %v", err)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			got := w.get(first.Run.ID)
			if got.Status != run.StatusFailed || got.Cause != run.CauseInterrupted || got.Reason != reason || got.StopCode != run.StopCodeSpotInterruption {
				t.Errorf("interrupted run %s/%s %q (stop code %q)\nwant failed/interrupted %q", got.Status, got.Cause, got.Reason, got.StopCode, reason)
			}
			next := w.get(got.NextRunID)
			if next.Attempt != 2 || next.Capacity != job.CapacityOnDemand {
				t.Errorf("next attempt %d on %q, want attempt 2 on on-demand", next.Attempt, next.Capacity)
			}
			started, ok := w.runner.Task(next.ID)
			if !ok || started.Task.Run.Capacity != job.CapacityOnDemand {
				t.Errorf("the next attempt's task was started: %v, marked %q; want started on on-demand", ok, started.Task.Run.Capacity)
			}
			if n := len(w.notes.Reports()); n != 0 {
				t.Errorf("%d reports of a retried run, want none", n)
			}
		})
	}
}

func TestAnAttemptMovedToOnDemandCapacityKeepsItForTheNext(t *testing.T) {
	w := newWorld(t, map[string]string{"render": render})
	first := w.launch(invoke("render", ""))
	second := w.get(w.observe(first.ID, spotInterrupted()).Run.NextRunID)
	w.observe(second.ID, running())
	after := w.observe(second.ID, hostRetired()).Run
	if after.Reason != "interrupted: the host running the task was retired" {
		t.Errorf("second attempt's reason %q: an interruption on on-demand capacity is not a Spot one", after.Reason)
	}
	third := w.get(after.NextRunID)
	if third.Attempt != 3 || third.Capacity != job.CapacityOnDemand {
		t.Errorf("third attempt %d on %q, want attempt 3 on on-demand", third.Attempt, third.Capacity)
	}
}
