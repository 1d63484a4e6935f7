// Package task supervises the tasks `longshore local` runs on this machine,
// whatever runs them: a Supervisor is a dispatch.TaskRunner over a Backend
// that knows one kind of task (a process, a container) and nothing else.
//
// What the Supervisor does for every backend:
//
//   - Start is idempotent per run: the start of a task is recorded (task.json)
//     before Start returns, and a second Start, by this Supervisor or by one
//     over the same data folder after a restart, returns the first task's
//     ref and starts nothing; it takes over what is left of the task.
//   - Each task's output goes to DataDir/runs/<run id>/stdout.log and
//     stderr.log (mode 0600) as it comes, capped per stream with a single
//     truncation line (Log); a stream's file is created at its first byte.
//   - Observe gets each task's running observation (Version 1) and then its
//     stopped one (Version 2), in order, from a goroutine per task; the end
//     is recorded (exit.json) before it is reported, and only then does the
//     backend remove the task.
//   - Stop records the stop (stop.json), then sends SIGTERM and SIGKILL after
//     the grace period; the task is reported with run.StopCodeUserInitiated
//     and the reason given. Stopping twice, a stopped task or an unknown one
//     does nothing.
//   - Describe, Stop and Start of a task this Supervisor does not follow look
//     in the run's records and ask the backend what is left of it (Find):
//     a lost task is recorded stopped with run.StopCodeHostRestarted, a
//     running one is followed to its end (a recorded stop is finished), one
//     that ended is recorded with its exit code.
//   - Shutdown stops every task and reports them with
//     run.StopCodeHostRestarted (except those already being stopped through
//     Stop), waits for their ends and reports, and refuses later Starts.
//
// The records are files in the run's folder, or rows of Config.Records.
package task

import (
	"context"
	"syscall"
	"time"

	"github.com/longshore/longshore/internal/dispatch"
)

// Versions of the two observations of a task.
const (
	VersionRunning = 1
	VersionStopped = 2
)

// Backend runs one kind of task: it makes, finds and lists them; the
// Supervisor does the rest. Its methods are called concurrently, but never
// twice at once for one run.
type Backend interface {
	// Kind names what a task is to this backend ("process", "container"),
	// in messages: "the process runner is shut down".
	Kind() string
	// Create makes the task of a run and returns it: created but not
	// started where the backend can tell the two apart (a container),
	// started otherwise (a process). A *dispatch.StartError says why it
	// cannot: transient when trying again later may work.
	Create(ctx context.Context, t dispatch.Task) (Handle, error)
	// Parse reads a ref this backend made, and returns the run's id; false
	// for any other ref.
	Parse(ref string) (runID string, ok bool)
	// Find looks at what is left of a task whose start was recorded and
	// whose end was not: by an earlier engine, or by a start that was
	// interrupted.
	Find(ctx context.Context, rec Started) (Found, error)
	// Leftovers lists the tasks of earlier engines over the same data folder
	// that are still on the machine, whatever their records say; none when
	// the backend cannot list them.
	Leftovers(ctx context.Context) ([]Handle, error)
}

// Handle is one task as its backend runs it.
type Handle interface {
	// Ref is the task's ref, as Backend.Parse reads it.
	Ref() string
	// Record is what the start record keeps of the task beside its ref, its
	// run and its start time: a value that encodes to a JSON object, which
	// Backend.Find decodes with Started.Decode.
	Record() any
	// Start lets a created task run; it does nothing for one that runs
	// already. A *dispatch.StartError says why it cannot.
	Start(ctx context.Context) error
	// Wait copies the task's output into out and returns once the task has
	// exited, saying how; its output may still come until Drain. It returns
	// ctx's error when ctx ends first.
	Wait(ctx context.Context, out Output) (Exit, error)
	// Drain waits, not for long, for the output that follows Wait.
	Drain()
	// Kill sends sig to the task. It may be called at any time, from any
	// goroutine, before or after the task exits: once it has exited, it
	// reaches nothing else.
	Kill(sig syscall.Signal)
	// Remove ends the task if it still runs and frees what it holds.
	Remove()
}

// Exit is how a task ended, as its backend saw it.
type Exit struct {
	// Code is the exit code, 128+N when signal N killed it; nil when there
	// is none (the task never ran, or is gone).
	Code *int
	// StopCode and Reason say why the task stopped unless Longshore stopped
	// it: run.StopCodeEssentialExited and the words for its exit, as a rule.
	StopCode, Reason string
	// NeverRan is set when the task never ran (its engine could not start
	// it): StopCode and Reason stand even if Longshore asked for a stop.
	NeverRan bool
	// MemoryMiB is the task's memory limit; 0 when it has none.
	MemoryMiB int
	// OOMKilled is set when the engine says the task went past its memory.
	OOMKilled bool
}

// State is what a backend finds of a task.
type State int

// States of a task found.
const (
	// Lost: nothing of the task can be followed; it is gone, or was killed
	// as it was found.
	Lost State = iota
	// Created: the task exists and never started.
	Created
	// Running: the task runs.
	Running
	// Exited: the task exited while nobody watched.
	Exited
)

// Found is what Backend.Find found of a task.
type Found struct {
	State State
	// Handle is the task; nil when Lost.
	Handle Handle
	// Detail ends the reason of a Lost task's end: how it was lost.
	Detail string
}

// Defaults of Config.
const (
	DefaultGrace       = 10 * time.Second
	DefaultMaxLogBytes = 256 << 20
)
