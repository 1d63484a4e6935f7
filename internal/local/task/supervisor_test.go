package task

import (
	"context"
	"errors"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/longshore/longshore/internal/dispatch"
	"github.com/longshore/longshore/internal/dispatch/runnertest"
	"github.com/longshore/longshore/internal/local/jsonfile"
	"github.com/longshore/longshore/internal/run"
)

// testGrace is the grace period of the supervisors under test.
const testGrace = 50 * time.Millisecond

// fixture is a backend, the config of supervisors over it and their
// observations.
type fixture struct {
	b   *fakeBackend
	c   Config
	rec *runnertest.Recorder
}

func newFixture(t *testing.T) *fixture {
	f := &fixture{b: &fakeBackend{}, rec: runnertest.NewRecorder()}
	f.c = Config{JobsDir: t.TempDir(), DataDir: t.TempDir(), Grace: testGrace, Now: func() time.Time { return fixedNow },
		Observe: f.rec.Observe}
	return f
}

// supervisor returns a Supervisor over the fixture, shut down at the end
// of the test.
func (f *fixture) supervisor(t *testing.T) *Supervisor {
	t.Helper()
	s, err := New(f.b, f.c)
	if err != nil {
		t.Fatal(err)
	}
	runnertest.ShutdownAtEnd(t, s.Shutdown)
	return s
}

func (f *fixture) start(t *testing.T, s *Supervisor, n int) string {
	t.Helper()
	ref, err := s.Start(context.Background(), runnertest.Task(n, runnertest.Job(nil)))
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	return ref
}

// handle is the handle the backend made for run n.
func (f *fixture) handle(t *testing.T, n int) *fakeHandle {
	t.Helper()
	f.b.mu.Lock()
	defer f.b.mu.Unlock()
	for _, h := range f.b.created {
		if h.ref == "fake:"+runnertest.RunID(n) {
			return h
		}
	}
	t.Fatalf("no task of run %d was created", n)
	return nil
}

// record writes a record of run n as an earlier engine would have.
func (f *fixture) record(t *testing.T, n int, name string, v any) {
	t.Helper()
	r := records{dataDir: f.c.DataDir}
	if err := r.write(context.Background(), runnertest.RunID(n), name, v); err != nil {
		t.Fatal(err)
	}
}

// started records the start of run n's task as an earlier engine would have.
func (f *fixture) started(t *testing.T, n int) string {
	t.Helper()
	h := newFakeHandle(runnertest.RunID(n))
	rec, err := newStarted(h, runnertest.RunID(n), fixedNow)
	if err != nil {
		t.Fatal(err)
	}
	f.record(t, n, TaskFile, rec)
	return h.ref
}

func TestATasksEndIsRecordedThenReportedThenItIsRemoved(t *testing.T) {
	f := newFixture(t)
	f.b.change = func(h *fakeHandle) { h.output = "hello\n" }
	observed := make(chan error, 2)
	f.c.Observe = func(ctx context.Context, ts run.TaskState) {
		if ts.Phase == run.PhaseStopped {
			var e end
			observed <- jsonfile.Read(f.c.DataDir+"/runs/"+ts.RunID, ExitFile, &e)
		}
		f.rec.Observe(ctx, ts)
	}
	s := f.supervisor(t)
	ref := f.start(t, s, 1)
	h := f.handle(t, 1)
	if first := f.rec.Next(t, runnertest.RunID(1)); first.Phase != run.PhaseRunning || first.Version != VersionRunning ||
		first.TaskRef != ref || !first.StartedAt.Equal(fixedNow) {
		t.Errorf("first observation = %+v, want running v1 at the clock's time", first)
	}
	h.end(3)
	ts := f.rec.Next(t, runnertest.RunID(1))
	if ts.Phase != run.PhaseStopped || ts.Version != VersionStopped || ts.StopCode != run.StopCodeEssentialExited ||
		runnertest.ShowCode(runnertest.ExitCode(ts)) != "3" || ts.StoppedReason != "the fake exited" {
		t.Errorf("second observation = %+v, want stopped with 3", ts)
	}
	if err := <-observed; err != nil {
		t.Errorf("exit.json when the end was reported: %v", err)
	}
	if !h.wasRemoved() {
		t.Error("the task was not removed after its end was recorded")
	}
	if got := runnertest.ReadLog(t, f.c.DataDir, runnertest.RunID(1), StdoutFile); got != "hello\n" {
		t.Errorf("stdout.log = %q", got)
	}
	if again, err := s.Describe(context.Background(), ref); err != nil || again.StopCode != run.StopCodeEssentialExited {
		t.Errorf("Describe after the end = %+v, %v", again, err)
	}
}

func TestStopRecordsTheStopThenSendsSIGTERMThenSIGKILL(t *testing.T) {
	tests := []struct {
		name       string
		ignoreTerm bool
		want       []syscall.Signal
		code       string
	}{
		{"a task that obeys SIGTERM gets only SIGTERM", false, []syscall.Signal{syscall.SIGTERM}, "143"},
		{"a task that ignores SIGTERM gets SIGKILL after the grace period", true, []syscall.Signal{syscall.SIGTERM, syscall.SIGKILL}, "137"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.b.change = func(h *fakeHandle) { h.ignoreTerm = tt.ignoreTerm }
			s := f.supervisor(t)
			ref := f.start(t, s, i+1)
			runID := runnertest.RunID(i + 1)
			if err := s.Stop(context.Background(), ref, "stopped by alice"); err != nil {
				t.Fatal(err)
			}
			var stop stopRequest
			if err := jsonfile.Read(s.RunDir(runID), StopFile, &stop); err != nil || stop.Reason != "stopped by alice" {
				t.Errorf("stop.json after Stop = %+v, %v", stop, err)
			}
			if err := s.Stop(context.Background(), ref, "a second stop"); err != nil {
				t.Fatal(err)
			}
			ts := f.rec.Ended(t, runID)
			if ts.StopCode != run.StopCodeUserInitiated || ts.StoppedReason != "stopped by alice" ||
				runnertest.ShowCode(runnertest.ExitCode(ts)) != tt.code {
				t.Errorf("end = %s %q %s, want %s with the first reason and %s", ts.StopCode, ts.StoppedReason,
					runnertest.ShowCode(runnertest.ExitCode(ts)), run.StopCodeUserInitiated, tt.code)
			}
			if got := f.handle(t, i+1).sent(); !slices.Equal(got, tt.want) {
				t.Errorf("signals = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestAStartThatFailsAfterItsRecordLeavesNothing(t *testing.T) {
	f := newFixture(t)
	refusal := &dispatch.StartError{Reason: "CannotStartContainerError: no"}
	f.b.change = func(h *fakeHandle) { h.startErr = refusal }
	s := f.supervisor(t)
	tk := runnertest.Task(1, runnertest.Job(nil))
	if _, err := s.Start(context.Background(), tk); !errors.Is(err, refusal) {
		t.Fatalf("Start = %v, want the handle's refusal", err)
	}
	if !f.handle(t, 1).wasRemoved() {
		t.Error("the task that could not start was not removed")
	}
	var rec Started
	if err := jsonfile.Read(s.RunDir(tk.Run.ID), TaskFile, &rec); err == nil {
		t.Errorf("task.json is left: %+v", rec)
	}
	f.rec.None(t, tk.Run.ID)
	f.b.change = nil
	f.start(t, s, 1)
	if n := f.b.creates(); n != 2 {
		t.Errorf("%d creates, want a second one for the second Start", n)
	}
}

func TestASecondStartOfARunStartsNothing(t *testing.T) {
	f := newFixture(t)
	s := f.supervisor(t)
	first := f.start(t, s, 1)
	if second := f.start(t, s, 1); second != first {
		t.Errorf("second Start = %s, want %s", second, first)
	}
	f.handle(t, 1).end(0)
	f.rec.Ended(t, runnertest.RunID(1))
	if third := f.start(t, f.supervisor(t), 1); third != first {
		t.Errorf("Start by a new supervisor = %s, want %s", third, first)
	}
	if n := f.b.creates(); n != 1 {
		t.Errorf("%d creates, want 1", n)
	}
	f.rec.None(t, runnertest.RunID(1))
}

func TestATaskAnEarlierEngineLeftIsTakenOver(t *testing.T) {
	tests := []struct {
		name  string
		found func(h *fakeHandle) Found
		stop  bool // an earlier engine had asked for a stop
		// observed: its end comes through Observe, not from Describe.
		observed bool
		wantStop string
		wantWhy  string
		wantCode string
		started  bool
		removed  bool
	}{
		{"a lost task is recorded stopped with the host and the backend's detail",
			func(*fakeHandle) Found { return Found{State: Lost, Detail: ", and it was gone"} }, false, false,
			run.StopCodeHostRestarted, "the engine stopped while the task was running, and it was gone", "none", false, false},
		{"a task that exited meanwhile is recorded with its exit code and removed",
			func(h *fakeHandle) Found { h.end(7); return Found{State: Exited, Handle: h} }, false, false,
			run.StopCodeEssentialExited, "the fake exited", "7", false, true},
		{"a task that exited meanwhile after a stop is told as the stop",
			func(h *fakeHandle) Found { h.end(143); return Found{State: Exited, Handle: h} }, true, false,
			run.StopCodeUserInitiated, "stopped by alice", "143", false, true},
		{"a running task is followed to its end, and a stop under way finished",
			func(h *fakeHandle) Found { return Found{State: Running, Handle: h} }, true, true,
			run.StopCodeUserInitiated, "stopped by alice", "143", false, true},
		{"a created task is started and followed",
			func(h *fakeHandle) Found { return Found{State: Created, Handle: h} }, true, true,
			run.StopCodeUserInitiated, "stopped by alice", "143", true, true},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			n := i + 1
			ref := f.started(t, n)
			if tt.stop {
				f.record(t, n, StopFile, stopRequest{Code: run.StopCodeUserInitiated, Reason: "stopped by alice"})
			}
			h := newFakeHandle(runnertest.RunID(n))
			f.b.find = func(Started) (Found, error) { return tt.found(h), nil }
			s := f.supervisor(t)
			ts, err := s.Describe(context.Background(), ref)
			if err != nil {
				t.Fatal(err)
			}
			if tt.observed {
				if ts.Phase != run.PhaseRunning {
					t.Errorf("Describe = %s, want running", ts.Phase)
				}
				ts = f.rec.Next(t, runnertest.RunID(n))
			}
			if ts.Phase != run.PhaseStopped || ts.StopCode != tt.wantStop || ts.StoppedReason != tt.wantWhy ||
				runnertest.ShowCode(runnertest.ExitCode(ts)) != tt.wantCode || !ts.StartedAt.Equal(fixedNow) {
				t.Errorf("end = %s %s %q %s, want stopped %s %q %s", ts.Phase, ts.StopCode, ts.StoppedReason,
					runnertest.ShowCode(runnertest.ExitCode(ts)), tt.wantStop, tt.wantWhy, tt.wantCode)
			}
			h.mu.Lock()
			started, removed := h.started, h.removed
			h.mu.Unlock()
			if started != tt.started || removed != tt.removed {
				t.Errorf("started %v, removed %v; want %v, %v", started, removed, tt.started, tt.removed)
			}
			// Recorded: the next look says the same without the backend.
			f.b.find = nil
			if again, err := s.Describe(context.Background(), ref); err != nil || again.StopCode != tt.wantStop {
				t.Errorf("second Describe = %+v, %v", again, err)
			}
			f.rec.None(t, runnertest.RunID(n))
		})
	}
}

func TestRecoverTakesOverStopsOrRemovesWhatItFinds(t *testing.T) {
	f := newFixture(t)
	unrecorded := newFakeHandle(runnertest.RunID(1))
	ended := newFakeHandle(runnertest.RunID(2))
	f.started(t, 2)
	f.record(t, 2, ExitFile, end{Ref: ended.ref, RunID: runnertest.RunID(2), StopCode: run.StopCodeEssentialExited})
	finished := newFakeHandle(runnertest.RunID(3))
	f.started(t, 3)
	active := newFakeHandle(runnertest.RunID(4))
	f.started(t, 4)
	f.b.left = []Handle{unrecorded, ended, finished, active}
	f.b.find = func(rec Started) (Found, error) {
		for _, h := range []*fakeHandle{finished, active} {
			if h.ref == rec.Ref {
				return Found{State: Running, Handle: h}, nil
			}
		}
		return Found{State: Lost}, nil
	}
	s := f.supervisor(t)
	err := s.Recover(context.Background(), func(runID string) bool { return runID == runnertest.RunID(4) })
	if err != nil {
		t.Fatal(err)
	}
	if !unrecorded.wasRemoved() || !ended.wasRemoved() {
		t.Error("a task no start recorded, or whose end is recorded, was not removed")
	}
	ts := f.rec.Next(t, runnertest.RunID(3))
	if ts.StopCode != run.StopCodeUserInitiated || ts.StoppedReason != "its run had already ended when the engine started again" {
		t.Errorf("the task of a finished run ended %s %q, want it stopped", ts.StopCode, ts.StoppedReason)
	}
	if ts, err := s.Describe(context.Background(), active.ref); err != nil || ts.Phase != run.PhaseRunning || len(active.sent()) > 0 {
		t.Errorf("the task of an active run = %+v, %v, signals %v; want it followed, running", ts, err, active.sent())
	}
}

func TestShutdownStopsEveryTaskAndRefusesLaterStarts(t *testing.T) {
	f := newFixture(t)
	f.b.change = func(h *fakeHandle) { h.ignoreTerm = h.ref == "fake:"+runnertest.RunID(2) }
	s := f.supervisor(t)
	for n := 1; n <= 3; n++ {
		f.start(t, s, n)
	}
	if err := s.Stop(context.Background(), "fake:"+runnertest.RunID(3), "cancelled"); err != nil {
		t.Fatal(err)
	}
	if err := s.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	for n, want := range map[int]string{1: run.StopCodeHostRestarted, 2: run.StopCodeHostRestarted, 3: run.StopCodeUserInitiated} {
		if ts := f.rec.Ended(t, runnertest.RunID(n)); ts.StopCode != want {
			t.Errorf("run %d stopped with %s %q, want %s", n, ts.StopCode, ts.StoppedReason, want)
		}
	}
	_, err := s.Start(context.Background(), runnertest.Task(9, runnertest.Job(nil)))
	var se *dispatch.StartError
	if !errors.As(err, &se) || !se.Transient || se.Reason != "the fake runner is shut down" {
		t.Errorf("Start after Shutdown = %v, want a transient StartError", err)
	}
}

func TestShutdownWhoseTimeIsUpGivesUpOnATaskThatWillNotEnd(t *testing.T) {
	f := newFixture(t)
	f.b.change = func(h *fakeHandle) { h.ignoreAll = true }
	s := f.supervisor(t)
	f.start(t, s, 1)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Shutdown(ctx); err != nil && !errors.Is(err, context.Canceled) {
		t.Fatalf("Shutdown = %v", err)
	}
	ts := f.rec.Ended(t, runnertest.RunID(1))
	if ts.StopCode != run.StopCodeHostRestarted || runnertest.ExitCode(ts) != nil {
		t.Errorf("end = %+v, want HostRestarted without an exit code", ts)
	}
	if got := f.handle(t, 1).sent(); !slices.Contains(got, syscall.SIGKILL) {
		t.Errorf("signals = %v, want SIGKILL at once", got)
	}
}

func TestNewNeedsItsFolders(t *testing.T) {
	for _, c := range []Config{{}, {JobsDir: "/jobs"}, {DataDir: t.TempDir()}} {
		if _, err := New(&fakeBackend{}, c); err == nil || err.Error() != "fake runner: the jobs folder and the data folder are required" {
			t.Errorf("New(%+v) = %v", c, err)
		}
	}
}
