package process

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/longshore/longshore/internal/local/jsonfile"
	"github.com/longshore/longshore/internal/run"
)

// Files in a run's folder, DataDir/runs/<run id>/.
const (
	// StdoutFile and StderrFile hold the task's output, written as it
	// comes; each is created at the stream's first byte.
	StdoutFile = "stdout.log"
	StderrFile = "stderr.log"
	// TaskFile records the started process; ExitFile its end. Both are
	// written atomically (a temporary file renamed), unless Options.Records
	// keeps them, under the same names.
	TaskFile = "task.json"
	ExitFile = "exit.json"
)

// Records keeps the runner's records of each run's task (TaskFile,
// ExitFile by name) where a record costs less than a file of its own: the
// local store (*store.Store). A record must outlive a crash of the engine
// once SetRecord returns.
type Records interface {
	// Record returns the record name of the run, false when there is none.
	Record(ctx context.Context, runID, name string) ([]byte, bool, error)
	SetRecord(ctx context.Context, runID, name string, body []byte) error
}

// readRecord reads the record name of a run into v: from Options.Records,
// then from the run's folder, where records are kept without Records (and
// by the container runner, and by earlier versions). The error wraps
// fs.ErrNotExist when there is none.
func (r *Runner) readRecord(ctx context.Context, runID, name string, v any) error {
	if r.o.Records != nil {
		body, ok, err := r.o.Records.Record(ctx, runID, name)
		if err != nil {
			return err
		}
		if ok {
			if err := json.Unmarshal(body, v); err != nil {
				return fmt.Errorf("read record %s of run %s: %w", name, runID, err)
			}
			return nil
		}
	}
	return jsonfile.Read(r.RunDir(runID), name, v)
}

// writeRecord writes v as the record name of a run: to Options.Records
// when set, else atomically to a file in the run's folder.
func (r *Runner) writeRecord(ctx context.Context, runID, name string, v any) error {
	if r.o.Records != nil {
		body, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("encode %s: %w", name, err)
		}
		return r.o.Records.SetRecord(ctx, runID, name, body)
	}
	dir := r.RunDir(runID)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create the folder of run %s: %w", runID, err)
	}
	return jsonfile.Write(dir, name, v)
}

// isNotExist tells a missing record from one that cannot be read.
func isNotExist(err error) bool { return errors.Is(err, fs.ErrNotExist) }

// logFile is a stream's log, created at the stream's first byte (with the
// run's folder): a task that prints nothing costs no file. A log that
// cannot be created fails every Write, which copyCapped takes as a full
// disk: the stream is drained and dropped.
type logFile struct {
	dir, name string
	f         *os.File
	err       error
}

func (l *logFile) Write(p []byte) (int, error) {
	if l.f == nil && l.err == nil {
		if l.err = os.MkdirAll(l.dir, 0o700); l.err == nil {
			l.f, l.err = os.OpenFile(filepath.Join(l.dir, l.name), os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
		}
	}
	if l.err != nil {
		return 0, l.err
	}
	return l.f.Write(p)
}

// Close closes the file, if it was created.
func (l *logFile) Close() error {
	if l.f == nil {
		return nil
	}
	return l.f.Close()
}

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
