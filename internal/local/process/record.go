package process

import (
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
