package process

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/longshore/longshore/internal/run"
)

// Files in a run's folder, DataDir/runs/<run id>/.
const (
	// StdoutFile and StderrFile hold the task's output, written as it comes.
	StdoutFile = "stdout.log"
	StderrFile = "stderr.log"
	// TaskFile records the started process; ExitFile its end. Both are
	// written atomically (a temporary file renamed).
	TaskFile = "task.json"
	ExitFile = "exit.json"
)

// taskRecord is task.json: written once the process has started, before
// Start returns, so that a restarted engine neither starts the run again
// nor loses track of its process.
type taskRecord struct {
	Ref       string    `json:"ref"`
	RunID     string    `json:"runId"`
	PID       int       `json:"pid"`
	Ticks     uint64    `json:"startTicks"`
	BootID    string    `json:"bootId,omitempty"`
	StartedAt time.Time `json:"startedAt"`
}

// exitRecord is exit.json: the task's end, written before it is reported.
type exitRecord struct {
	Ref   string `json:"ref"`
	RunID string `json:"runId"`
	// ExitCode is the process's exit code, 128+N when signal N killed it;
	// null when it is unknown (the engine stopped while it ran).
	ExitCode      *int       `json:"exitCode"`
	StopCode      string     `json:"stopCode"`
	StoppedReason string     `json:"stoppedReason,omitempty"`
	StartedAt     *time.Time `json:"startedAt,omitempty"`
	StoppedAt     time.Time  `json:"stoppedAt"`
}

// state is the stopped observation an exit record stands for.
func (e exitRecord) state() run.TaskState {
	ts := run.TaskState{
		TaskRef: e.Ref, RunID: e.RunID, Version: versionStopped, Phase: run.PhaseStopped,
		StopCode: e.StopCode, StoppedReason: e.StoppedReason,
	}
	if e.ExitCode != nil {
		c := *e.ExitCode
		ts.Containers = []run.Container{{Name: run.DefaultEssential, ExitCode: &c}}
	}
	if e.StartedAt != nil {
		t := *e.StartedAt
		ts.StartedAt = &t
	}
	stopped := e.StoppedAt
	ts.StoppedAt = &stopped
	return ts
}

// writeJSON writes v to dir/name atomically: a temporary file in dir,
// synced, then renamed over name.
func writeJSON(dir, name string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode %s: %w", name, err)
	}
	f, err := os.CreateTemp(dir, "."+name+".*")
	if err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	tmp := f.Name()
	_, err = f.Write(append(data, '\n'))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, filepath.Join(dir, name))
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("write %s in %s: %w", name, dir, err)
	}
	return nil
}

// readJSON reads dir/name into v; the error wraps fs.ErrNotExist when the
// file does not exist.
func readJSON(dir, name string, v any) error {
	data, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("read %s: %w", filepath.Join(dir, name), err)
	}
	return nil
}
