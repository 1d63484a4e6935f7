package dispatch_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/longshore/longshore/internal/dispatch"
	"github.com/longshore/longshore/internal/dispatch/fake"
	"github.com/longshore/longshore/internal/job"
	"github.com/longshore/longshore/internal/run"
)

// chainJobs is a catalog with after triggers: load after extract
// succeeds, alert after it fails or times out.
var chainJobs = map[string]string{
	"extract": "image: {uri: busybox}\n",
	"load":    "image: {uri: busybox}\ntriggers:\n  - after: {job: extract}\n",
	"alert":   "image: {uri: busybox}\ntriggers:\n  - after: {job: extract, status: [failed, timed_out]}\n",
}

// chainStore fails the creates of downstream runs and the updates of a
// run, a given number of times each: a host stopping between an
// upstream's end and its downstream runs, or before its final write.
type chainStore struct {
	*fake.Store
	mu            sync.Mutex
	failCreates   int    // creates of after-triggered runs to fail
	failUpdatesOf string // run id whose updates fail
	failUpdates   int
}

var errStoreOffline = errors.New("the store is unreachable")

func (s *chainStore) Create(ctx context.Context, r run.Run) (run.Run, bool, error) {
	s.mu.Lock()
	if r.Trigger.Kind == run.TriggerAfter {
		if s.failCreates > 0 {
			s.failCreates--
			s.mu.Unlock()
			return run.Run{}, false, errStoreOffline
		}
	}
	s.mu.Unlock()
	return s.Store.Create(ctx, r)
}

func (s *chainStore) Update(ctx context.Context, r run.Run) (run.Run, error) {
	s.mu.Lock()
	if r.ID == s.failUpdatesOf && s.failUpdates > 0 {
		s.failUpdates--
		s.mu.Unlock()
		return run.Run{}, errStoreOffline
	}
	s.mu.Unlock()
	return s.Store.Update(ctx, r)
}

// chainWorld is a world over a catalog loaded as the hosts load it (a
// job.Catalog, which lists its jobs) and a chainStore.
func chainWorld(t *testing.T, jobs map[string]string) (*world, *chainStore) {
	t.Helper()
	fsys := fstest.MapFS{}
	for name, y := range jobs {
		fsys[name+"/job.yaml"] = &fstest.MapFile{Data: []byte(y)}
	}
	cat, err := job.Load(fsys, "jobs", job.Options{SkipFiles: true})
	if err != nil {
		t.Fatalf("load jobs: %v", err)
	}
	w := newWorld(t, jobs)
	st := &chainStore{Store: w.store}
	w.svc = dispatch.New(dispatch.Deps{Jobs: cat, Store: st, Runner: w.runner, Notifier: w.notes, Now: w.clock.Now,
		NewID: w.newID, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	return w, st
}

// downstream lists the after-triggered runs, as "job upstream-id status".
func (w *world) downstream() []string {
	var out []string
	for _, r := range w.store.Runs() {
		if r.Trigger.Kind == run.TriggerAfter {
			out = append(out, fmt.Sprintf("%s %s %s", r.Job, r.Trigger.UpstreamRunID, r.Status))
		}
	}
	return out
}

func TestAFinishedRunStartsItsDownstreamJobsOnceWithTheUpstreamInTheirEnvironment(t *testing.T) {
	tests := []struct {
		name string
		end  run.TaskState
		want string // the downstream job started, "" for none
		code string // its LONGSHORE_UPSTREAM_EXIT_CODE
	}{
		{"a success starts the job after success", exited(0), "load", "0"},
		{"a failure starts the job after failure", exited(3), "alert", "3"},
		{"a start that failed starts the job after failure, with no exit code", failedToStart("CannotPullContainerError: pull access denied"), "alert", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, _ := chainWorld(t, chainJobs)
			up := w.launch(invoke("extract", "k"))
			w.observe(up.ID, running())
			w.observe(up.ID, tt.end)
			w.observe(up.ID, tt.end) // delivered twice
			if _, err := w.svc.Reconcile(ctx, dispatch.ReconcileOptions{Quiet: time.Minute}); err != nil {
				t.Fatal(err)
			}
			got := w.downstream()
			if len(got) != 1 || got[0] != tt.want+" "+up.ID+" starting" {
				t.Fatalf("downstream runs = %q, want one %s run after %s", got, tt.want, up.ID)
			}
			key := tt.want + "/after/" + up.ID
			down := w.get(run.KeyID(key))
			if down.Key != key {
				t.Errorf("key = %q, want %q", down.Key, key)
			}
			task, ok := w.runner.Task(down.ID)
			if !ok {
				t.Fatalf("the downstream run %s has no task", down.ID)
			}
			env := task.Task.Env
			for k, v := range map[string]string{"LONGSHORE_TRIGGER": "after", "LONGSHORE_UPSTREAM_RUN_ID": up.ID,
				"LONGSHORE_UPSTREAM_JOB": "extract", "LONGSHORE_UPSTREAM_EXIT_CODE": tt.code} {
				if got, ok := env[k]; !ok || got != v {
					t.Errorf("%s = %q (set %v), want %q", k, got, ok, v)
				}
			}
			if !w.get(up.ID).Notified {
				t.Error("the upstream run is not reported")
			}
		})
	}
}

func TestOnlyTheLastAttemptOfARetriedRunStartsItsDownstream(t *testing.T) {
	jobs := map[string]string{
		"extract": "image: {uri: busybox}\nretries: {attempts: 2, exitCodes: [75], backoff: 10s}\n",
		"load":    chainJobs["load"],
		"alert":   chainJobs["alert"],
	}
	w, _ := chainWorld(t, jobs)
	first := w.launch(invoke("extract", "k"))
	w.observe(first.ID, exited(75))
	if got := w.downstream(); len(got) != 0 {
		t.Fatalf("a failed attempt that is retried started %q", got)
	}
	second := w.get(first.ID).NextRunID
	w.clock.Advance(time.Minute)
	if _, err := w.svc.Reconcile(ctx, dispatch.ReconcileOptions{Quiet: time.Hour}); err != nil {
		t.Fatal(err)
	}
	w.observe(second, exited(0))
	if got := w.downstream(); len(got) != 1 || got[0] != "load "+second+" starting" {
		t.Errorf("downstream runs = %q, want load after the second attempt %s", got, second)
	}
}

func TestARunEndedByTheServicesStartsItsDownstream(t *testing.T) {
	jobs := map[string]string{
		"extract": "image: {uri: busybox}\nconcurrency: forbid\n",
		"cleanup": "image: {uri: busybox}\ntriggers:\n  - after: {job: extract, status: [cancelled]}\n",
	}
	w, _ := chainWorld(t, jobs)
	w.runner.StartErr = &dispatch.StartError{Transient: true, Reason: "capacity"}
	l, err := w.svc.Launch(ctx, invoke("extract", "k"))
	if !dispatch.Stored(l, err) || l.Run.Status != run.StatusQueued {
		t.Fatalf("Launch = %+v, %v", l, err)
	}
	w.runner.StartErr = nil
	if _, err := w.svc.Stop(ctx, l.Run.ID, run.StopCancel); err != nil {
		t.Fatal(err)
	}
	if got := w.downstream(); len(got) != 1 || got[0] != "cleanup "+l.Run.ID+" starting" {
		t.Errorf("downstream runs = %q, want cleanup after the cancelled %s", got, l.Run.ID)
	}
}

// TestADownstreamRunIsNeverLostWhenTheHostStopsHalfWay stops the work of
// settling an upstream run at each step, and checks that what is left is
// finished later (by the event delivered again, or by the reconciler):
// exactly one downstream run, started, and the upstream reported.
func TestADownstreamRunIsNeverLostWhenTheHostStopsHalfWay(t *testing.T) {
	tests := []struct {
		name  string
		setup func(st *chainStore, upstream string)
		// then repairs: the end delivered again, or the reconciler.
		redeliver bool
	}{
		{"the downstream run cannot be stored: the upstream's end is written unreported and the reconciler chains it",
			func(st *chainStore, _ string) { st.failCreates = 1 }, false},
		{"the downstream run cannot be stored on any try: the upstream stays unreported until it can",
			func(st *chainStore, _ string) { st.failCreates = 3 }, false},
		{"the upstream's final write fails after its downstream run is stored: the end delivered again finds it",
			func(st *chainStore, up string) { st.failUpdatesOf, st.failUpdates = up, 1 }, true},
		{"the upstream's final write fails after its downstream run is stored: the reconciler starts it all the same",
			func(st *chainStore, up string) { st.failUpdatesOf, st.failUpdates = up, 1 }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, st := chainWorld(t, chainJobs)
			up := w.launch(invoke("extract", "k"))
			w.observe(up.ID, running())
			tt.setup(st, up.ID)
			end := w.runner.SetState(up.ID, exited(0))
			if _, err := w.svc.Observe(ctx, end); !errors.Is(err, errStoreOffline) {
				t.Fatalf("Observe error = %v, want the store's", err)
			}
			if r := w.get(up.ID); r.Notified {
				t.Fatalf("the upstream %s counts as reported before its downstream run is stored", up.ID)
			}
			// Repair until the store answers; each pass a minute later.
			for i := 0; i < 5 && !w.get(up.ID).Notified; i++ {
				w.clock.Advance(time.Minute)
				if tt.redeliver {
					_, _ = w.svc.Observe(ctx, end)
				}
				_, _ = w.svc.Reconcile(ctx, dispatch.ReconcileOptions{Quiet: 30 * time.Second})
			}
			// And whatever is stored but not started is started by the reconciler.
			w.clock.Advance(time.Minute)
			if _, err := w.svc.Reconcile(ctx, dispatch.ReconcileOptions{Quiet: 30 * time.Second}); err != nil {
				t.Fatal(err)
			}
			if r := w.get(up.ID); r.Status != run.StatusSucceeded || !r.Notified {
				t.Errorf("upstream = %s notified %v, want succeeded and reported", r.Status, r.Notified)
			}
			got := w.downstream()
			if len(got) != 1 || !strings.HasPrefix(got[0], "load "+up.ID+" ") {
				t.Fatalf("downstream runs = %q, want exactly one load run after %s", got, up.ID)
			}
			down := w.get(run.KeyID("load/after/" + up.ID))
			if _, ok := w.runner.Task(down.ID); !ok || down.TaskRef == "" && down.Status == run.StatusQueued {
				t.Errorf("the downstream run %s (%s) was never started", down.ID, down.Status)
			}
			if w.runner.Count() != 2 {
				t.Errorf("%d tasks started, want the upstream's and one downstream", w.runner.Count())
			}
		})
	}
}

func TestADownstreamJobKeepsItsConcurrencyPolicy(t *testing.T) {
	jobs := map[string]string{
		"extract": "image: {uri: busybox}\n",
		"load":    "image: {uri: busybox}\nconcurrency: forbid\ntriggers:\n  - after: {job: extract}\n",
	}
	w, _ := chainWorld(t, jobs)
	busy := w.launch(invoke("load", "busy"))
	w.observe(busy.ID, running())
	up := w.launch(invoke("extract", "k"))
	w.observe(up.ID, exited(0))
	down := w.get(run.KeyID("load/after/" + up.ID))
	if down.Status != run.StatusCancelled || !strings.Contains(down.Reason, busy.ID) {
		t.Errorf("downstream = %s %q, want cancelled naming the active run %s", down.Status, down.Reason, busy.ID)
	}
}
