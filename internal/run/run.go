// Package run holds the run lifecycle: the Run record, its statuses and
// causes, the allowed transitions, and the pure decisions taken about a run
// (classify a stopped task, retry or not, concurrency, idempotency keys,
// stale task events). Nothing here does I/O or reads the clock: callers pass
// the time in.
package run

import (
	"time"

	"github.com/longshore/longshore/internal/job"
)

// Status is where a run is in its lifecycle.
type Status string

const (
	StatusQueued    Status = "queued"
	StatusStarting  Status = "starting"
	StatusRunning   Status = "running"
	StatusSucceeded Status = "succeeded"
	StatusFailed    Status = "failed"
	StatusTimedOut  Status = "timed_out"
	StatusCancelled Status = "cancelled"
)

// Cause explains a failed run.
type Cause string

const (
	CauseNone Cause = ""
	// CauseExit: the application exited non-zero.
	CauseExit Cause = "exit"
	// CauseStart: the task never started (capacity, addresses, secrets, image).
	CauseStart Cause = "start"
	// CauseInterrupted: Spot reclaimed the capacity or the infrastructure stopped the task.
	CauseInterrupted Cause = "interrupted"
	// CauseLost: tracking was lost and reconciliation could not recover the task.
	CauseLost Cause = "lost"
)

// TriggerKind names what started a run.
type TriggerKind string

const (
	TriggerSchedule TriggerKind = "schedule"
	TriggerS3       TriggerKind = "s3"
	TriggerSQS      TriggerKind = "sqs"
	TriggerInvoke   TriggerKind = "invoke"
	// TriggerAfter: a run of another job ended (an after trigger; see Downstream).
	TriggerAfter TriggerKind = "after"
)

// Trigger is what fired a run, with the facts of that firing.
type Trigger struct {
	Kind TriggerKind `json:"kind"`
	// Schedule: the expression (or schedule ARN) and the time it was due.
	Schedule      string     `json:"schedule,omitempty"`
	ScheduledTime *time.Time `json:"scheduledTime,omitempty"`
	// S3: the object that was created.
	Bucket    string `json:"bucket,omitempty"`
	Key       string `json:"key,omitempty"`
	Sequencer string `json:"sequencer,omitempty"`
	// SQS: the queue and the message.
	Queue     string `json:"queue,omitempty"`
	MessageID string `json:"messageId,omitempty"`
	Body      string `json:"body,omitempty"`
	// BodyURI holds a body larger than MaxInlineBody, passed by reference
	// (s3:// on AWS, file:// on one machine), and BodySize its length; Body
	// is then empty.
	BodyURI  string `json:"bodyUri,omitempty"`
	BodySize int    `json:"bodySize,omitempty"`
	// Invoke: who asked, when known.
	Caller string `json:"caller,omitempty"`
	// After: the upstream run whose end started this one (the last attempt
	// of its chain), its job, how it ended and its exit code (nil when no
	// container exited).
	UpstreamRunID    string `json:"upstreamRunId,omitempty"`
	UpstreamJob      string `json:"upstreamJob,omitempty"`
	UpstreamStatus   Status `json:"upstreamStatus,omitempty"`
	UpstreamExitCode *int   `json:"upstreamExitCode,omitempty"`
}

// MaxInlineBody bounds a trigger body (an SQS message's) kept in the run
// and given to its task in LONGSHORE_SQS_BODY; a larger one is kept apart
// and given by reference in LONGSHORE_SQS_BODY_URI. It keeps a run record
// well within DynamoDB's 400 KB and the task's overrides within ECS's 8 KiB.
const MaxInlineBody = 4 * 1024

// CallbackKind names how a finished run is reported to its caller.
type CallbackKind string

const (
	// CallbackEvent publishes a result event (the default for every run).
	CallbackEvent CallbackKind = "event"
	// CallbackQueue sends the result to a reply queue.
	CallbackQueue CallbackKind = "queue"
	// CallbackTaskToken completes a Step Functions task token.
	CallbackTaskToken CallbackKind = "task-token"
)

// Callback is where the caller wants the result of a run.
type Callback struct {
	Kind   CallbackKind `json:"kind"`
	Target string       `json:"target,omitempty"` // queue URL or event bus
	Token  string       `json:"token,omitempty"`  // Step Functions task token
}

// Container is one container of a task as last seen.
type Container struct {
	Name     string `json:"name"`
	ExitCode *int   `json:"exitCode"`
	Reason   string `json:"reason,omitempty"`
}

// StopRequest records that Longshore itself asked for a run's task to stop,
// so the stop that follows is classified as what it was.
type StopRequest string

const (
	StopNone    StopRequest = ""
	StopTimeout StopRequest = "timeout"
	StopCancel  StopRequest = "cancel"
	// StopReplace: a newer run of a job with concurrency "replace" took its place.
	StopReplace StopRequest = "replace"
	// StopShutdown: the local engine was shut down while the run was going.
	StopShutdown StopRequest = "shutdown"
)

// Run is one attempt at running a job.
type Run struct {
	ID      string  `json:"id"`
	Job     string  `json:"job"`
	Trigger Trigger `json:"trigger"`
	// Key is the idempotency key derived from the trigger: the store refuses
	// a second run with the same key.
	Key     string `json:"key"`
	Attempt int    `json:"attempt"`
	// PreviousRunID links a retry to the attempt before it.
	PreviousRunID string `json:"previousRunId,omitempty"`
	// NextRunID links an attempt to the retry that followed it.
	NextRunID string `json:"nextRunId,omitempty"`

	Status     Status      `json:"status"`
	Cause      Cause       `json:"cause,omitempty"`
	ExitCode   *int        `json:"exitCode"` // the essential container's; nil when none exited
	Containers []Container `json:"containers,omitempty"`
	Reason     string      `json:"reason,omitempty"`
	// Transient is set on a failed run whose failure may clear on its own
	// (no capacity, no free addresses, an interruption): retries use it.
	Transient bool        `json:"transient,omitempty"`
	StopReq   StopRequest `json:"stopRequested,omitempty"`
	// StopCode is the runner's word for why the run's task stopped (one of
	// the StopCode* constants, such as SpotInterruption), when it said.
	StopCode string `json:"stopCode,omitempty"`
	// Capacity, when set, is the capacity this attempt starts on instead
	// of its job's: on-demand for the retry of a spot-then-on-demand job
	// that Fargate Spot interrupted (see Retry). Later attempts keep it.
	Capacity job.Capacity `json:"capacity,omitempty"`
	// TaskCapacity is the capacity the run's task ran on (on-demand or
	// spot), when its runner said: ECS does, so that a spot-then-on-demand
	// start that fell back to on-demand is known.
	TaskCapacity job.Capacity `json:"taskCapacity,omitempty"`

	// TaskRef is the runner's handle on the task (an ECS task ARN, a process or container id).
	TaskRef string `json:"taskRef,omitempty"`
	// TaskVersion is the version of the last task event applied.
	TaskVersion int64 `json:"taskVersion,omitempty"`

	// Overrides asked for by the trigger or caller.
	Env     map[string]string `json:"env,omitempty"`
	Command []string          `json:"command,omitempty"`

	Callback *Callback `json:"callback,omitempty"`

	CreatedAt time.Time `json:"createdAt"`
	// NotBefore delays the start of a retry (backoff).
	NotBefore *time.Time `json:"notBefore,omitempty"`
	StartedAt *time.Time `json:"startedAt"`
	StoppedAt *time.Time `json:"stoppedAt"`
	UpdatedAt time.Time  `json:"updatedAt"`
	// Notified is set once the caller has been told of the final outcome.
	Notified bool `json:"notified,omitempty"`

	// CostUSD is the cost of the run's task on Fargate at list prices, in
	// US dollars rounded to the micro-dollar (package cost), recorded when
	// the run finished; 0 for a run that never started, nil when not
	// recorded. CostBasis says what it is (cost.BasisFargate on AWS,
	// cost.BasisEstimate for a run on one machine: what it would have cost
	// on Fargate) and CostRegion whose prices it used.
	CostUSD    *float64 `json:"costUSD,omitempty"`
	CostBasis  string   `json:"costBasis,omitempty"`
	CostRegion string   `json:"costRegion,omitempty"`

	// Revision increases with every stored change; stores use it for
	// conditional updates.
	Revision int64 `json:"revision"`
}
