package container

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/longshore/longshore/internal/run"
)

// Files in a run's folder, DataDir/runs/<run id>/: the same as the process
// runner's, so that `longshore logs` reads either.
const (
	// StdoutFile and StderrFile hold the container's output, written as it comes.
	StdoutFile = "stdout.log"
	StderrFile = "stderr.log"
	// TaskFile records the created container, before it is started; ExitFile
	// its end; StopFile a stop Longshore asked for, so that an engine that
	// restarts while a container stops finishes the stop. All three are
	// written atomically (a temporary file renamed).
	TaskFile = "task.json"
	ExitFile = "exit.json"
	StopFile = "stop.json"
)

// taskRecord is task.json.
type taskRecord struct {
	Ref         string    `json:"ref"`
	RunID       string    `json:"runId"`
	ContainerID string    `json:"containerId"`
	Name        string    `json:"name"`
	Image       string    `json:"image"`
	MemoryMiB   int       `json:"memoryMiB,omitempty"`
	StartedAt   time.Time `json:"startedAt"`
}

// exitRecord is exit.json: the task's end, written before it is reported
// and before its container is removed.
type exitRecord struct {
	Ref   string `json:"ref"`
	RunID string `json:"runId"`
	// ExitCode is the container's exit code; null when it is unknown (the
	// container was gone when an engine looked again).
	ExitCode        *int       `json:"exitCode"`
	ContainerReason string     `json:"containerReason,omitempty"`
	StopCode        string     `json:"stopCode"`
	StoppedReason   string     `json:"stoppedReason,omitempty"`
	StartedAt       *time.Time `json:"startedAt,omitempty"`
	StoppedAt       time.Time  `json:"stoppedAt"`
}

// stopRecord is stop.json.
type stopRecord struct {
	StopCode string `json:"stopCode"`
	Reason   string `json:"reason"`
}

// state is the stopped observation an exit record stands for.
func (e exitRecord) state() run.TaskState {
	ts := run.TaskState{
		TaskRef: e.Ref, RunID: e.RunID, Version: versionStopped, Phase: run.PhaseStopped,
		StopCode: e.StopCode, StoppedReason: e.StoppedReason, Essential: run.DefaultEssential,
	}
	if e.ExitCode != nil {
		c := *e.ExitCode
		ts.Containers = []run.Container{{Name: run.DefaultEssential, ExitCode: &c, Reason: e.ContainerReason}}
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
