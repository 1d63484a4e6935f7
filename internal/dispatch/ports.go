// Package dispatch holds the two services of the run lifecycle — launch
// (a trigger becomes a run and a started task) and track (task observations
// become a finished, reported run) — over the ports they declare here. The
// local engine and the Lambdas wire the same services to their own adapters.
package dispatch

import (
	"context"
	"errors"
	"time"

	"github.com/longshore/longshore/internal/job"
	"github.com/longshore/longshore/internal/run"
)

// Catalog gives the jobs by name.
type Catalog interface {
	Get(name string) (*job.Spec, bool)
}

// RunStore keeps runs. Every adapter passes the suite in package storetest.
type RunStore interface {
	// Create stores r unless a run with the same idempotency key exists; it
	// then returns that run and created=false. r.Revision is set by the store.
	Create(ctx context.Context, r run.Run) (stored run.Run, created bool, err error)
	// Get returns the run with that id, or ErrNotFound.
	Get(ctx context.Context, id string) (run.Run, error)
	// Update replaces the run if its stored revision is still r.Revision, and
	// returns it with the next revision; otherwise ErrConflict.
	Update(ctx context.Context, r run.Run) (run.Run, error)
	// List returns runs matching q, newest first, and a cursor for the next
	// page ("" when there is none).
	List(ctx context.Context, q Query) ([]run.Run, string, error)
}

// Query selects runs. Zero fields do not filter.
type Query struct {
	Job    string
	Status []run.Status
	// Unreported selects finished runs whose outcome has not been reported
	// and that have no next attempt.
	Unreported bool
	// Limit bounds the page; the store's default when zero.
	Limit int
	// Cursor continues a previous List.
	Cursor string
}

// Store errors.
var (
	ErrNotFound = errors.New("run not found")
	ErrConflict = errors.New("run changed meanwhile")
)

// TaskRunner starts, stops and describes tasks: ECS, a local process or a container.
type TaskRunner interface {
	// Start starts the task of a run. It is idempotent per run id: a second
	// Start for the same run returns the task the first one started. It
	// returns a *StartError when the task cannot start, and ErrTaskNotFound
	// when a resumed run's task can neither be found nor safely started
	// again (the run is then lost).
	Start(ctx context.Context, t Task) (taskRef string, err error)
	// Stop asks the task to stop (SIGTERM, then SIGKILL after its grace).
	// Stopping a stopped or unknown task is not an error.
	Stop(ctx context.Context, taskRef, reason string) error
	// Describe observes the task now; ErrTaskNotFound when the runner no
	// longer knows it.
	Describe(ctx context.Context, taskRef string) (run.TaskState, error)
}

// TaskFinder is a TaskRunner that can find the task started for a run
// without starting one (ECS: ListTasks by startedBy). Find returns
// ErrTaskNotFound when the run has no task, or none yet.
type TaskFinder interface {
	Find(ctx context.Context, runID string) (taskRef string, err error)
}

// BatchDescriber is a TaskRunner that describes many tasks in one go (ECS:
// DescribeTasks takes a hundred). Tasks it no longer knows are left out of
// the answer.
type BatchDescriber interface {
	DescribeAll(ctx context.Context, taskRefs []string) (map[string]run.TaskState, error)
}

// ErrTaskNotFound: the runner has no record of the task.
var ErrTaskNotFound = errors.New("task not found")

// Task is what a runner needs to start a run's task.
type Task struct {
	Run run.Run
	Job *job.Spec
	// Env is the task's environment: the job's variables, the run's
	// overrides and Longshore's LONGSHORE_* variables. Secrets stay in
	// Job.Secrets as references for the runner to resolve.
	Env map[string]string
	// Command replaces the job's command when set.
	Command []string
	// Resume is set when the run may already have a task (a repeated
	// trigger, a repair, a queued run started again): the runner looks for
	// the run's task before starting one. A fresh run's Start may skip that
	// look-up.
	Resume bool
}

// BodyStore keeps a trigger body too large to travel in a run or a task's
// environment (payload.Bucket on AWS, a folder of the data folder on one
// machine). Put is idempotent: the same run's body again is the same
// object.
type BodyStore interface {
	// PutBody keeps the body of run id of job and returns its URI, which
	// the run's task receives in LONGSHORE_SQS_BODY_URI.
	PutBody(ctx context.Context, jobName, runID string, body []byte) (uri string, err error)
}

// StartError says why a task could not be started.
type StartError struct {
	// Transient errors (throttling, capacity) may succeed later: the run
	// stays queued and the trigger is retried. Others fail the run.
	Transient bool
	// Throttled says the runner refused the call itself (a rate limit), not
	// this task: callers starting many runs stop and wait before the next.
	Throttled bool
	Reason    string
	Err       error
}

func (e *StartError) Error() string {
	if e.Err != nil {
		return e.Reason + ": " + e.Err.Error()
	}
	return e.Reason
}

func (e *StartError) Unwrap() error { return e.Err }

// Notifier reports a finished run to whoever started it (its Callback) and
// publishes the result. It may be called more than once for one run.
type Notifier interface {
	Notify(ctx context.Context, r run.Run) error
}

// Clock tells the time; tests give a fake one.
type Clock func() time.Time
