package dispatch_test

import (
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/longshore/longshore/internal/dispatch"
	"github.com/longshore/longshore/internal/run"
)

// withMaxRunning rebuilds the world's services with a deployment-wide bound.
func (w *world) withMaxRunning(n int) *world {
	w.svc = dispatch.New(dispatch.Deps{
		Jobs: w.catalog, Store: w.store, Runner: w.runner, Notifier: w.notes, Now: w.clock.Now,
		NewID: w.newID, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), MaxRunning: n,
	})
	return w
}

// launchTogether launches n invokes of a job at once, each from its own
// goroutine, and returns the runs in the order they were created.
func (w *world) launchTogether(jobName string, n int) []run.Run {
	w.t.Helper()
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = w.svc.Launch(ctx, invoke(jobName, ""))
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			w.t.Fatalf("Launch: %v", err)
		}
	}
	return w.byArrival(jobName)
}

func (w *world) byArrival(jobName string) []run.Run {
	var out []run.Run
	for _, r := range w.store.Runs() {
		if r.Job == jobName {
			out = append(out, w.get(r.ID))
		}
	}
	slices.SortFunc(out, run.ArrivalOrder)
	return out
}

func statuses(rs []run.Run) map[run.Status]int {
	out := map[run.Status]int{}
	for _, r := range rs {
		out[r.Status]++
	}
	return out
}

func TestManySimultaneousTriggersOfABoundedJobStartExactlyTheBound(t *testing.T) {
	tests := []struct {
		name     string
		policy   string
		want     map[run.Status]int
		inReason string
	}{
		{"a bound that queues keeps the rest queued", "{max: 2, overflow: queue}",
			map[run.Status]int{run.StatusStarting: 2, run.StatusQueued: 48}, "waiting: runs "},
		{"a bound that skips cancels the rest", "{max: 2, overflow: skip}",
			map[run.Status]int{run.StatusStarting: 2, run.StatusCancelled: 48}, "skipped: runs "},
		{"forbid starts one", "forbid",
			map[run.Status]int{run.StatusStarting: 1, run.StatusCancelled: 49}, "concurrency is forbid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t, map[string]string{"j": "image: {uri: busybox}\nconcurrency: " + tt.policy + "\n"})
			runs := w.launchTogether("j", 50)
			if got := statuses(runs); len(got) != len(tt.want) || got[run.StatusStarting] != tt.want[run.StatusStarting] {
				t.Fatalf("statuses %v, want %v", got, tt.want)
			}
			if w.runner.Count() != tt.want[run.StatusStarting] {
				t.Errorf("%d tasks started, want %d", w.runner.Count(), tt.want[run.StatusStarting])
			}
			for _, r := range runs {
				if r.Status != run.StatusStarting && !strings.Contains(r.Reason, tt.inReason) {
					t.Errorf("run %s %s %q: want a reason with %q", r.ID, r.Status, r.Reason, tt.inReason)
				}
			}
		})
	}
}

func TestQueuedRunsStartInTheOrderTheirTriggersArrivedAsSlotsFree(t *testing.T) {
	w := newWorld(t, map[string]string{"j": "image: {uri: busybox}\nconcurrency: {max: 2}\n"})
	var ids []string
	for range 5 {
		ids = append(ids, w.launch(invoke("j", "")).ID)
		w.clock.Advance(time.Second)
	}
	wantStarted := func(n int) {
		t.Helper()
		for i, id := range ids {
			r := w.get(id)
			started := r.Status != run.StatusQueued
			if started != (i < n) {
				t.Errorf("after %d slots: run %d (%s) is %s %q", n, i, id, r.Status, r.Reason)
			}
			if started && strings.HasPrefix(r.Reason, run.WaitingPrefix) {
				t.Errorf("run %d started but still says %q", i, r.Reason)
			}
		}
	}
	wantStarted(2)
	w.observe(ids[1], exited(0)) // the second ends first: the third starts
	wantStarted(3)
	if r := w.get(ids[3]); !strings.Contains(r.Reason, ids[0]) || !strings.Contains(r.Reason, ids[2]) {
		t.Errorf("the fourth waits saying %q; want the runs holding the slots named", r.Reason)
	}
	if _, err := w.svc.Stop(ctx, ids[3], run.StopCancel); err != nil { // a queued run cancelled frees nothing
		t.Fatal(err)
	}
	w.observe(ids[0], exited(1))
	if r := w.get(ids[4]); r.Status != run.StatusStarting {
		t.Errorf("the fifth is %s after a slot freed, want starting", r.Status)
	}
	if w.runner.Count() != 4 {
		t.Errorf("%d tasks, want 4 (the cancelled run never started)", w.runner.Count())
	}
}

func TestARetryOfABoundedJobTakesTheSlotItsFailedAttemptFreed(t *testing.T) {
	w := newWorld(t, map[string]string{"j": "image: {uri: busybox}\nconcurrency: forbid\nretries: {attempts: 2, exitCodes: [3], backoff: 0s}\n"})
	first := w.launch(invoke("j", ""))
	got := w.observe(first.ID, exited(3)).Run
	next := w.get(got.NextRunID)
	if next.Status != run.StatusStarting {
		t.Errorf("the retry is %s %q, want starting in the slot the first attempt freed", next.Status, next.Reason)
	}
}

func TestTheDeploymentsMaxRunningMakesRunsWaitNeverFail(t *testing.T) {
	w := newWorld(t, map[string]string{"a": "image: {uri: busybox}\n", "b": "image: {uri: busybox}\nconcurrency: {max: 5}\n"}).withMaxRunning(3)
	var ids []string
	for _, j := range []string{"a", "b", "a", "b", "a"} {
		ids = append(ids, w.launch(invoke(j, "")).ID)
		w.clock.Advance(time.Second)
	}
	for i, id := range ids {
		r := w.get(id)
		if (i < 3) != (r.Status == run.StatusStarting) {
			t.Errorf("run %d is %s %q", i, r.Status, r.Reason)
		}
		if i >= 3 && r.Reason != "waiting: 3 runs are active in this deployment, its maxRunning; starts when one ends" {
			t.Errorf("run %d waits saying %q", i, r.Reason)
		}
	}
	w.observe(ids[1], exited(0))
	if r := w.get(ids[3]); r.Status != run.StatusStarting {
		t.Errorf("the oldest waiting run is %s once a run ended, want starting", r.Status)
	}
	if r := w.get(ids[4]); r.Status != run.StatusQueued {
		t.Errorf("the newest waiting run is %s, want still queued", r.Status)
	}
}

func TestReconcileFreesTheSlotOfARunThatEndedWithoutFreeingIt(t *testing.T) {
	w := newWorld(t, map[string]string{"j": "image: {uri: busybox}\nconcurrency: {max: 1}\n"})
	a := w.launch(invoke("j", ""))
	b := w.launch(invoke("j", ""))
	// The host stopped between the run's end and its free: the run is
	// stored ended, its slot still held.
	r := w.get(a.ID)
	ended, err := run.Finish(r, run.Outcome{Status: run.StatusSucceeded, Reason: "exited 0"}, w.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	ended.Notified = true
	if _, err := w.store.Update(ctx, ended); err != nil {
		t.Fatal(err)
	}
	if _, err := w.svc.StartDue(ctx); err != nil {
		t.Fatal(err)
	}
	if got := w.get(b.ID); got.Status != run.StatusQueued {
		t.Fatalf("the waiting run is %s before reconciling, want queued", got.Status)
	}
	if _, err := w.svc.Reconcile(ctx, dispatch.ReconcileOptions{Quiet: time.Hour}); err != nil {
		t.Fatal(err)
	}
	if got := w.get(b.ID); got.Status != run.StatusStarting {
		t.Errorf("the waiting run is %s after reconciling, want starting", got.Status)
	}
}
