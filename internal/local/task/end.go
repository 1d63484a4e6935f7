package task

import (
	"fmt"
	"time"

	"github.com/longshore/longshore/internal/run"
)

// hostRestartedReason is the stopped reason of a task stopped because the
// supervisor shut down, or lost while no engine watched it.
const hostRestartedReason = "the engine stopped while the task was running"

// end is ExitFile: a task's end, recorded before it is reported and before
// its backend removes it.
type end struct {
	Ref   string `json:"ref"`
	RunID string `json:"runId"`
	// ExitCode is the task's exit code, 128+N when signal N killed it; null
	// when it is unknown (the engine stopped while it ran, or it is gone).
	ExitCode        *int       `json:"exitCode"`
	ContainerReason string     `json:"containerReason,omitempty"`
	StopCode        string     `json:"stopCode"`
	StoppedReason   string     `json:"stoppedReason,omitempty"`
	StartedAt       *time.Time `json:"startedAt,omitempty"`
	StoppedAt       time.Time  `json:"stoppedAt"`
}

// verdict is how a task ended: its exit code (nil: none), the stop code
// and its reason, and the container's own reason beside its exit code.
type verdict struct {
	exitCode                          *int
	stopCode, reason, containerReason string
}

// decide tells the end of a task of kind that exited as ex says, when
// Longshore had asked for stop (zero if not). A stop Longshore asked for
// names the end, unless the task never ran; an exit code of 137 is taken
// for an out-of-memory kill when the engine says so, or when the task had
// a memory limit and Longshore did not stop it (engines such as Podman do
// not report those kills reliably).
func decide(kind string, ex Exit, stop stopRequest) verdict {
	v := verdict{exitCode: ex.Code, stopCode: ex.StopCode, reason: ex.Reason}
	if stop.Code != "" && !ex.NeverRan {
		v.stopCode, v.reason = stop.Code, stop.Reason
	}
	if ex.Code == nil || *ex.Code != run.OOMExitCode {
		return v
	}
	switch {
	case ex.OOMKilled:
		v.containerReason = fmt.Sprintf("OutOfMemoryError: the %s went past its memory limit of %d MiB", kind, ex.MemoryMiB)
	case stop.Code == "" && ex.MemoryMiB > 0:
		v.containerReason = fmt.Sprintf("OutOfMemoryError: killed (137) under a memory limit of %d MiB", ex.MemoryMiB)
	}
	return v
}

// abandoned is the verdict on a task whose end was not waited for: the
// supervisor shut down before it ended.
var abandoned = verdict{stopCode: run.StopCodeHostRestarted, reason: hostRestartedReason}

// lost is the verdict on a task nothing was left of when it was looked for;
// detail says how it was lost.
func lost(detail string) verdict {
	return verdict{stopCode: run.StopCodeHostRestarted, reason: hostRestartedReason + detail}
}

// end is the end record of the task ref of run runID, started at started
// and stopped at stopped, that ended as v says.
func (v verdict) end(ref, runID string, started, stopped time.Time) end {
	return end{Ref: ref, RunID: runID, ExitCode: v.exitCode, ContainerReason: v.containerReason,
		StopCode: v.stopCode, StoppedReason: v.reason, StartedAt: &started, StoppedAt: stopped}
}

// state is the stopped observation an end record stands for.
func (e end) state() run.TaskState {
	ts := run.TaskState{
		TaskRef: e.Ref, RunID: e.RunID, Version: VersionStopped, Phase: run.PhaseStopped,
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
