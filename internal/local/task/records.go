package task

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
)

// Files in a run's folder, DataDir/runs/<run id>/: the same for every
// backend, so that `longshore logs` reads any.
const (
	// StdoutFile and StderrFile hold the task's output, written as it
	// comes; each is created at the stream's first byte.
	StdoutFile = "stdout.log"
	StderrFile = "stderr.log"
	// TaskFile records the task's start, before it runs where the backend
	// can tell creating from starting; ExitFile its end; StopFile a stop
	// Longshore asked for, so that an engine that takes the task over
	// finishes the stop. All three are written atomically (a temporary
	// file renamed), unless Config.Records keeps them, under the same names.
	TaskFile = "task.json"
	ExitFile = "exit.json"
	StopFile = "stop.json"
)

// Records keeps the records of each run's task (TaskFile, ExitFile,
// StopFile by name) where a record costs less than a file of its own: the
// local store (*store.Store). A record must outlive a crash of the engine
// once SetRecord returns. An empty record is no record.
type Records interface {
	// Record returns the record name of the run, false when there is none.
	Record(ctx context.Context, runID, name string) ([]byte, bool, error)
	SetRecord(ctx context.Context, runID, name string, body []byte) error
}

// records reads and writes the records of runs: in Records when set, else
// as files in each run's folder.
type records struct {
	dataDir string
	store   Records
}

// runDir is the folder of a run's logs and records.
func (r records) runDir(runID string) string {
	return filepath.Join(r.dataDir, "runs", runID)
}

// read reads the record name of a run into v: from Records, then from the
// run's folder, where records are kept without Records (and by earlier
// versions). The error wraps fs.ErrNotExist when there is none.
func (r records) read(ctx context.Context, runID, name string, v any) error {
	if r.store != nil {
		body, ok, err := r.store.Record(ctx, runID, name)
		if err != nil {
			return err
		}
		if ok && len(body) == 0 {
			return fmt.Errorf("record %s of run %s: %w", name, runID, fs.ErrNotExist)
		}
		if ok {
			if err := json.Unmarshal(body, v); err != nil {
				return fmt.Errorf("read record %s of run %s: %w", name, runID, err)
			}
			return nil
		}
	}
	return jsonfile.Read(r.runDir(runID), name, v)
}

// write writes v as the record name of a run: to Records when set, else
// atomically to a file in the run's folder.
func (r records) write(ctx context.Context, runID, name string, v any) error {
	if r.store != nil {
		body, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("encode %s: %w", name, err)
		}
		return r.store.SetRecord(ctx, runID, name, body)
	}
	dir := r.runDir(runID)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create the folder of run %s: %w", runID, err)
	}
	return jsonfile.Write(dir, name, v)
}

// remove removes the record name of a run (in Records: empties it), so
// that the run is free to start again.
func (r records) remove(ctx context.Context, runID, name string) {
	if r.store != nil {
		_ = r.store.SetRecord(ctx, runID, name, []byte{})
		return
	}
	_ = os.Remove(filepath.Join(r.runDir(runID), name))
}

// isNotExist tells a missing record from one that cannot be read.
func isNotExist(err error) bool { return errors.Is(err, fs.ErrNotExist) }

// Started is a task's start record (TaskFile): its ref, its run, when it
// started, and beside them in the same JSON object what its backend keeps
// of it (Handle.Record), read back with Decode.
type Started struct {
	Ref       string    `json:"ref"`
	RunID     string    `json:"runId"`
	StartedAt time.Time `json:"startedAt"`
	// body is the whole record as read or written.
	body []byte
}

// newStarted is the start record of a task.
func newStarted(h Handle, runID string, at time.Time) (Started, error) {
	s := Started{Ref: h.Ref(), RunID: runID, StartedAt: at}
	fields := map[string]json.RawMessage{}
	if own := h.Record(); own != nil {
		b, err := json.Marshal(own)
		if err != nil {
			return s, fmt.Errorf("encode the start of run %s: %w", runID, err)
		}
		if err := json.Unmarshal(b, &fields); err != nil {
			return s, fmt.Errorf("encode the start of run %s: %w", runID, err)
		}
	}
	for name, v := range map[string]any{"ref": s.Ref, "runId": s.RunID, "startedAt": s.StartedAt} {
		b, err := json.Marshal(v)
		if err != nil {
			return s, fmt.Errorf("encode the start of run %s: %w", runID, err)
		}
		fields[name] = b
	}
	body, err := json.Marshal(fields)
	if err != nil {
		return s, fmt.Errorf("encode the start of run %s: %w", runID, err)
	}
	s.body = body
	return s, nil
}

// Decode reads the backend's part of the record into v.
func (s Started) Decode(v any) error {
	if len(s.body) == 0 {
		return nil
	}
	return json.Unmarshal(s.body, v)
}

// MarshalJSON writes the whole record.
func (s Started) MarshalJSON() ([]byte, error) {
	if s.body == nil {
		type plain Started
		return json.Marshal(plain(s))
	}
	return s.body, nil
}

// UnmarshalJSON reads the record, keeping it whole for Decode.
func (s *Started) UnmarshalJSON(b []byte) error {
	type plain Started
	var p plain
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	*s = Started(p)
	s.body = append([]byte(nil), b...)
	return nil
}

// stopRequest is StopFile: a stop Longshore asked for.
type stopRequest struct {
	Code   string `json:"stopCode"`
	Reason string `json:"reason"`
}
