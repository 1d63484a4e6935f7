package runnertest

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/longshore/longshore/internal/run"
)

// Recorder keeps the observations a runner reports, per run.
type Recorder struct {
	mu    sync.Mutex
	chans map[string]chan run.TaskState
}

// NewRecorder returns an empty Recorder.
func NewRecorder() *Recorder { return &Recorder{chans: map[string]chan run.TaskState{}} }

func (rec *Recorder) ch(runID string) chan run.TaskState {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	c, ok := rec.chans[runID]
	if !ok {
		c = make(chan run.TaskState, 16)
		rec.chans[runID] = c
	}
	return c
}

// Observe is a runner's Observe callback.
func (rec *Recorder) Observe(_ context.Context, ts run.TaskState) { rec.ch(ts.RunID) <- ts }

// Next returns the next observation of the run.
func (rec *Recorder) Next(t testing.TB, runID string) run.TaskState {
	t.Helper()
	select {
	case ts := <-rec.ch(runID):
		return ts
	case <-time.After(Patience):
		t.Fatalf("no observation of run %s", runID)
		return run.TaskState{}
	}
}

// None checks that no observation of the run is waiting.
func (rec *Recorder) None(t testing.TB, runID string) {
	t.Helper()
	select {
	case ts := <-rec.ch(runID):
		t.Errorf("unexpected observation of run %s: %+v", runID, ts)
	default:
	}
}

// Ended waits for the running then the stopped observation of a run and
// returns the stopped one.
func (rec *Recorder) Ended(t testing.TB, runID string) run.TaskState {
	t.Helper()
	first := rec.Next(t, runID)
	if first.Phase != run.PhaseRunning {
		t.Fatalf("first observation of run %s = %s, want running", runID, first.Phase)
	}
	ts := rec.Next(t, runID)
	if ts.Phase != run.PhaseStopped || ts.Version <= first.Version {
		t.Fatalf("second observation of run %s = %s v%d after v%d, want stopped with a higher version", runID, ts.Phase, ts.Version, first.Version)
	}
	return ts
}

// ReadLog returns a log file of a run.
func ReadLog(t testing.TB, dataDir, runID, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dataDir, "runs", runID, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// WaitForLog waits until a log file of a run holds want: the task's
// output, read as the runner writes it.
func WaitForLog(t testing.TB, dataDir, runID, name, want string) {
	t.Helper()
	path := filepath.Join(dataDir, "runs", runID, name)
	deadline := time.Now().Add(Patience)
	for {
		b, _ := os.ReadFile(path)
		if strings.Contains(string(b), want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s does not say %q after %v: %q", path, want, Patience, b)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// ExitCode returns the app container's exit code of an observation.
func ExitCode(ts run.TaskState) *int {
	for _, c := range ts.Containers {
		if c.Name == run.DefaultEssential {
			return c.ExitCode
		}
	}
	return nil
}

// ShowCode prints an exit code that may be missing.
func ShowCode(c *int) string {
	if c == nil {
		return "none"
	}
	return strconv.Itoa(*c)
}

// Records keeps a local runner's records of each run's task in memory, as
// the local store keeps them in its database.
type Records struct {
	mu sync.Mutex
	m  map[string][]byte // by run id + "/" + name
}

// NewRecords returns an empty Records.
func NewRecords() *Records { return &Records{m: map[string][]byte{}} }

// Record returns the record name of the run, false when there is none.
func (r *Records) Record(_ context.Context, runID, name string) ([]byte, bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	b, ok := r.m[runID+"/"+name]
	return b, ok, nil
}

// SetRecord keeps body as the record name of the run.
func (r *Records) SetRecord(_ context.Context, runID, name string, body []byte) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.m[runID+"/"+name] = append([]byte(nil), body...)
	return nil
}

// Has reports whether the run has a record name.
func (r *Records) Has(runID, name string) bool {
	_, ok, _ := r.Record(context.Background(), runID, name)
	return ok
}
