package handler_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/longshore/longshore/internal/api"
	"github.com/longshore/longshore/internal/aws/handler"
	"github.com/longshore/longshore/internal/dispatch"
	"github.com/longshore/longshore/internal/run"
)

// The task ids of the fixtures.
const (
	taskExit3   = "8c2b9a7d6e5f44332211ffeeddccbbaa"
	taskNoIP    = "9f8e7d6c5b4a49382716051423324150"
	taskOOM     = "7e6d5c4b3a2949586776859403122130"
	taskSecret  = "1e2d3c4b5a6948576879a0b1c2d3e4f5"
	taskSidecar = "5a6b7c8d9e0f41122334455667788990"
	taskSpot    = "0a9b8c7d6e5f40312233445566778899"
	taskUser    = "2b3c4d5e6f7a48596a7b8c9d0e1f2a3b"
)

func TestTheTrackerAppliesTaskEventsInAnyOrderOnce(t *testing.T) {
	tests := []struct {
		name    string
		task    string
		events  []string
		applied []bool
		status  run.Status
		cause   run.Cause
		exit    int // -1: none
		reason  string
		reports int
		retried bool
	}{
		{name: "a running event makes the run running", task: fixtureTaskID,
			events: []string{"ecs-task-running.json"}, applied: []bool{true}, status: run.StatusRunning, exit: -1},
		{name: "a stale running event after a newer one is dropped", task: fixtureTaskID,
			events: []string{"ecs-task-running.json", "ecs-task-running-stale.json"}, applied: []bool{true, false}, status: run.StatusRunning, exit: -1},
		{name: "a stop with exit 0 succeeds the run and reports it once", task: fixtureTaskID,
			events: []string{"ecs-task-running.json", "ecs-task-stopped-exit-0.json"}, applied: []bool{true, true},
			status: run.StatusSucceeded, exit: 0, reason: "exited with code 0", reports: 1},
		{name: "the stop delivered twice is applied and reported once", task: fixtureTaskID,
			events: []string{"ecs-task-stopped-exit-0.json", "ecs-task-stopped-exit-0.json"}, applied: []bool{true, false},
			status: run.StatusSucceeded, exit: 0, reports: 1},
		{name: "a stop that arrives before the running events finishes the run; they are dropped", task: fixtureTaskID,
			events: []string{"ecs-task-stopped-exit-0.json", "ecs-task-running.json", "ecs-task-running-stale.json"}, applied: []bool{true, false, false},
			status: run.StatusSucceeded, exit: 0, reports: 1},
		{name: "exit 3 fails the run with cause exit", task: taskExit3,
			events: []string{"ecs-task-stopped-exit-3.json"}, applied: []bool{true},
			status: run.StatusFailed, cause: run.CauseExit, exit: 3, reason: "exited with code 3", reports: 1},
		{name: "a sidecar's exit 0 does not hide the app's exit 1", task: taskSidecar,
			events: []string{"ecs-task-stopped-sidecar.json"}, applied: []bool{true},
			status: run.StatusFailed, cause: run.CauseExit, exit: 1, reports: 1},
		{name: "a container killed for memory says so", task: taskOOM,
			events: []string{"ecs-task-stopped-oom.json"}, applied: []bool{true},
			status: run.StatusFailed, cause: run.CauseExit, exit: 137, reason: "out of memory", reports: 1},
		{name: "a Spot interruption fails the run as interrupted and retries it", task: taskSpot,
			events: []string{"ecs-task-stopped-spot.json"}, applied: []bool{true},
			status: run.StatusFailed, cause: run.CauseInterrupted, exit: 143, reason: "Fargate Spot reclaimed", retried: true},
		{name: "a subnet out of addresses is a start failure worth a retry", task: taskNoIP,
			events: []string{"ecs-task-stopped-no-ip.json"}, applied: []bool{true},
			status: run.StatusFailed, cause: run.CauseStart, exit: -1, reason: "no free IP addresses in subnet subnet-0a1b2c3d4e5f60001", retried: true},
		{name: "a secret the execution role cannot read never starts and is not retried", task: taskSecret,
			events: []string{"ecs-task-stopped-secret-denied.json"}, applied: []bool{true},
			status: run.StatusFailed, cause: run.CauseStart, exit: -1, reason: "execution role cannot read secret", reports: 1},
		{name: "a task stopped outside Longshore is cancelled, quoting why", task: taskUser,
			events: []string{"ecs-task-stopped-user.json"}, applied: []bool{true},
			status: run.StatusCancelled, exit: 143, reason: "timeout after 3600s", reports: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			w.taskRun(tt.task)
			for i, name := range tt.events {
				res, err := w.tracker.Handle(ctx, fixture(t, name))
				if err != nil {
					t.Fatalf("event %d (%s): %v", i, name, err)
				}
				if res.Applied != tt.applied[i] || res.Run != fixtureRun {
					t.Errorf("event %d (%s): applied=%v run=%q, want applied=%v", i, name, res.Applied, res.Run, tt.applied[i])
				}
			}
			r := w.get(fixtureRun)
			if r.Status != tt.status || r.Cause != tt.cause || !strings.Contains(r.Reason, tt.reason) {
				t.Errorf("run %s cause %q reason %q; want %s %q containing %q", r.Status, r.Cause, r.Reason, tt.status, tt.cause, tt.reason)
			}
			switch {
			case tt.exit < 0 && r.ExitCode != nil:
				t.Errorf("exit code %d, want none", *r.ExitCode)
			case tt.exit >= 0 && r.Status.Terminal() && (r.ExitCode == nil || *r.ExitCode != tt.exit):
				t.Errorf("exit code %v, want %d", r.ExitCode, tt.exit)
			}
			if got := len(w.notes.Reports()); got != tt.reports {
				t.Errorf("%d reports, want %d", got, tt.reports)
			}
			if (r.NextRunID != "") != tt.retried {
				t.Errorf("next attempt %q, want retried=%v", r.NextRunID, tt.retried)
			}
		})
	}
}

func TestTheTrackerDropsWhatIsNotOurs(t *testing.T) {
	tests := []struct {
		name    string
		edit    func(d map[string]any)
		noRun   bool
		ignored string
	}{
		{"a task not started by Longshore", func(d map[string]any) { d["startedBy"] = "ecs-svc/1234567890" }, false, "not by Longshore"},
		{"a task of another cluster", func(d map[string]any) { d["clusterArn"] = "arn:aws:ecs:us-east-1:111122223333:cluster/other" }, false, "cluster"},
		{"a startedBy that is no run id", func(d map[string]any) { d["startedBy"] = "longshore:../../etc" }, false, "does not name a run id"},
		{"a run this deployment does not know", func(map[string]any) {}, true, "not known here"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			if !tt.noRun {
				w.taskRun(fixtureTaskID)
			}
			ev := edit(t, "ecs-task-stopped-exit-0.json", func(ev map[string]any) { tt.edit(ev["detail"].(map[string]any)) })
			res, err := w.tracker.Handle(ctx, ev)
			if err != nil {
				t.Fatal(err)
			}
			if res.Applied || !strings.Contains(res.Ignored, tt.ignored) {
				t.Errorf("result %+v, want ignored: %s", res, tt.ignored)
			}
			if !tt.noRun && w.get(fixtureRun).Status != run.StatusStarting {
				t.Errorf("the run moved to %s", w.get(fixtureRun).Status)
			}
		})
	}
}

func TestAMalformedTaskEventIsARequestError(t *testing.T) {
	w := newWorld(t)
	for _, payload := range []string{`{"source": "aws.ecs"}`, `[]`, `{"source": "aws.ecs", "detail-type": "ECS Task State Change", "detail": {"lastStatus": "STOPPED"}}`} {
		_, err := w.tracker.Handle(ctx, json.RawMessage(payload))
		if errorType(err) != handler.ErrorRequest {
			t.Errorf("%s: %v, want a request error", payload, err)
		}
	}
}

// sweepEvery is the reconciler's cadence in a deployment
// (construct.ReconcileEvery).
const sweepEvery = time.Minute

func TestSweptEveryMinuteATimeoutIsActedOnWithinAMinuteOfItsDueTime(t *testing.T) {
	w := newWorld(t)
	r := w.launch(t, `{"job": "hello"}`)
	spec, _ := w.jobs.Get("hello")
	due := r.CreatedAt.Add(spec.Timeout.D())
	for i := 1; i <= 30; i++ {
		w.clock.Advance(sweepEvery)
		res, err := w.reconciler.Handle(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if res.TimedOut == 0 {
			continue
		}
		if late := w.clock.Now().Sub(due); late <= 0 || late > sweepEvery {
			t.Errorf("stopped %s after its due time, want within %s", late, sweepEvery)
		}
		return
	}
	t.Fatalf("the run was never stopped")
}

func TestTheReconcilerRepairsWhatEventsMissed(t *testing.T) {
	t.Run("a quiet run whose task ECS no longer knows becomes lost", func(t *testing.T) {
		w := newWorld(t)
		r := w.launch(t, `{"job": "nightly-report"}`)
		w.runner.Forget(r.ID)
		w.clock.Advance(handler.DefaultQuiet + time.Minute)
		res, err := w.reconciler.Handle(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		got := w.get(r.ID)
		if res.Lost != 1 || got.Status != run.StatusFailed || got.Cause != run.CauseLost || !strings.Contains(got.Reason, "no longer knows") {
			t.Errorf("result %+v, run %s %s %q", res, got.Status, got.Cause, got.Reason)
		}
	})
	t.Run("a task past its job's timeout is stopped and its end classified as a timeout", func(t *testing.T) {
		w := newWorld(t)
		r := w.launch(t, `{"job": "hello"}`)
		w.clock.Advance(6 * time.Minute)
		res, err := w.reconciler.Handle(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		task, _ := w.runner.Task(r.ID)
		if res.TimedOut != 1 || !strings.Contains(task.Stopped, "timeout") {
			t.Fatalf("result %+v, stop reason %q", res, task.Stopped)
		}
		ts := w.runner.SetState(r.ID, run.TaskState{Phase: run.PhaseStopped, StopCode: run.StopCodeUserInitiated, StoppedReason: task.Stopped})
		if _, err := w.svc.Observe(ctx, ts); err != nil {
			t.Fatal(err)
		}
		if got := w.get(r.ID); got.Status != run.StatusTimedOut {
			t.Errorf("run %s, want timed_out", got.Status)
		}
	})
	t.Run("a run left waiting for capacity is started by the next sweep", func(t *testing.T) {
		w := newWorld(t)
		w.runner.StartErr = &dispatch.StartError{Transient: true, Reason: "Capacity is unavailable at this time"}
		r := w.launch(t, `{"job": "nightly-report"}`)
		if r.Status != run.StatusQueued {
			t.Fatalf("run %s, want queued", r.Status)
		}
		w.runner.StartErr = nil
		res, err := w.reconciler.Handle(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if res.Started != 1 || w.get(r.ID).TaskRef == "" {
			t.Errorf("result %+v, run %+v", res, w.get(r.ID))
		}
	})
	t.Run("an outcome whose report failed is reported by the next sweep", func(t *testing.T) {
		w := newWorld(t)
		w.taskRun(taskExit3)
		w.notes.Err = fmt.Errorf("event bus unavailable")
		if _, err := w.tracker.Handle(ctx, fixture(t, "ecs-task-stopped-exit-3.json")); err == nil {
			t.Fatal("the tracker hid a failed report")
		}
		w.notes.Err = nil
		res, err := w.reconciler.Handle(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if res.Settled != 1 || len(w.notes.Reports()) != 1 || !w.get(fixtureRun).Notified {
			t.Errorf("result %+v, %d reports", res, len(w.notes.Reports()))
		}
	})
}

// launch starts a run with a direct invoke.
func (w *world) launch(t testing.TB, req string) run.Run {
	t.Helper()
	out, err := w.launcher.Handle(ctx, json.RawMessage(req))
	if err != nil {
		t.Fatalf("launch %s: %v", req, err)
	}
	return w.get(out.(api.RunResponse).ID)
}
