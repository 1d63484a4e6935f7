package process

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/longshore/longshore/internal/dispatch"
	"github.com/longshore/longshore/internal/dispatch/runnertest"
	"github.com/longshore/longshore/internal/job"
	"github.com/longshore/longshore/internal/local/task"
	"github.com/longshore/longshore/internal/run"
)

// patience bounds every wait of these tests: it is reached only when
// something is broken, never in a passing run.
const patience = 30 * time.Second

// testGrace is the grace period of the runners under test.
const testGrace = 300 * time.Millisecond

// fixedNow is the clock of the runners under test.
var fixedNow = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

// ended waits for a run's running then stopped observations, with the
// process runner's own versions, and returns the stopped one.
func ended(t *testing.T, rec *runnertest.Recorder, runID string) run.TaskState {
	t.Helper()
	if ts := rec.Next(t, runID); ts.Phase != run.PhaseRunning || ts.Version != task.VersionRunning {
		t.Fatalf("first observation = %s v%d, want running v1", ts.Phase, ts.Version)
	}
	ts := rec.Next(t, runID)
	if ts.Phase != run.PhaseStopped || ts.Version != task.VersionStopped {
		t.Fatalf("second observation = %s v%d, want stopped v2", ts.Phase, ts.Version)
	}
	return ts
}

// fixture is a jobs folder and a data folder.
type fixture struct {
	jobs, data string
	rec        *runnertest.Recorder
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{jobs: t.TempDir(), data: t.TempDir(), rec: runnertest.NewRecorder()}
	if err := os.MkdirAll(filepath.Join(f.jobs, "hello", "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	return f
}

// runner returns a Runner over the fixture, shut down at the end of the test.
func (f *fixture) runner(t *testing.T, change ...func(*Options)) *Runner {
	t.Helper()
	o := Options{
		Config: task.Config{JobsDir: f.jobs, DataDir: f.data, Grace: testGrace, Observe: f.rec.Observe,
			Now: func() time.Time { return fixedNow }},
		BaseEnv: []string{"PATH=" + os.Getenv("PATH")},
	}
	for _, c := range change {
		c(&o)
	}
	r, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	runnertest.ShutdownAtEnd(t, r.Shutdown)
	return r
}

// shell is a job whose local.command runs script with sh.
func shell(script string) *job.Spec {
	return &job.Spec{Name: "hello", Dir: "hello", Path: "jobs/hello/job.yaml",
		Local: job.Local{Command: []string{"sh", "-c", script, "sh"}}}
}

// runID returns a valid run id numbered n.
func runID(n int) string { return fmt.Sprintf("r-%016d", n) }

// taskOf is the task of run n of spec, with Longshore's environment.
func taskOf(n int, spec *job.Spec) dispatch.Task {
	r := run.Run{ID: runID(n), Job: spec.Name, Attempt: 1, Trigger: run.Trigger{Kind: run.TriggerInvoke}}
	return dispatch.Task{Run: r, Job: spec, Env: dispatch.Environment(spec, r)}
}

// start starts a task and fails the test if it cannot.
func start(t *testing.T, r *Runner, tk dispatch.Task) string {
	t.Helper()
	ref, err := r.Start(context.Background(), tk)
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	return ref
}

// fifo makes a named pipe for a job to tell the test something.
func fifo(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(p, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// readFIFO reads what a job writes to the named pipe, until it closes it.
func readFIFO(t *testing.T, p string) string {
	t.Helper()
	got := make(chan string, 1)
	go func() {
		b, _ := os.ReadFile(p)
		got <- strings.TrimSpace(string(b))
	}()
	select {
	case s := <-got:
		return s
	case <-time.After(patience):
		t.Fatalf("nothing written to %s", p)
		return ""
	}
}

// alive reports whether pid is a live process (not a zombie).
func alive(pid int) bool {
	st, err := readStat(pid)
	return err == nil && st.state != 'Z' && st.state != 'X'
}

// waitGone waits until pid has exited, through a pidfd (readable once the
// process has exited), and fails the test if it does not.
func waitGone(t *testing.T, pid int) {
	t.Helper()
	fd, _, e := syscall.Syscall(434 /* pidfd_open */, uintptr(pid), uintptr(syscall.O_NONBLOCK), 0)
	if e != 0 {
		if errors.Is(e, syscall.ESRCH) {
			return
		}
		t.Fatalf("pidfd_open %d: %v", pid, e)
	}
	f := os.NewFile(fd, "pidfd")
	defer f.Close()
	rc, err := f.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	_ = f.SetReadDeadline(time.Now().Add(patience))
	err = rc.Read(func(uintptr) bool { return !alive(pid) })
	if err != nil || alive(pid) {
		t.Fatalf("process %d is still alive (%v)", pid, err)
	}
}

// pidOf reads the pid out of a task ref.
func pidOf(t *testing.T, ref string) int {
	t.Helper()
	if id, ok := parseRef(ref); ok {
		return id.pid
	}
	t.Fatalf("ref %q does not parse", ref)
	return 0
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatalf("%q is not a number", s)
	}
	return n
}

// readLog returns a log file of a run.
func readLog(t *testing.T, f *fixture, n int, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(f.data, "runs", runID(n), name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func setpgid() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }

// removeRun deletes a run's folder.
func removeRun(f *fixture, n int) error { return os.RemoveAll(filepath.Join(f.data, "runs", runID(n))) }
