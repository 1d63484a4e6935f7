package container

import (
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
