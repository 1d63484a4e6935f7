package run

import (
	"slices"
	"time"

	"github.com/longshore/longshore/internal/job"
)

// TaskPhase is the coarse state of an observed task, as far as the run
// lifecycle cares.
type TaskPhase string

const (
	// PhasePending: the task exists but its containers are not running yet
	// (provisioning, pending, activating; or on its way down without ever
	// having started).
	PhasePending TaskPhase = "pending"
	// PhaseRunning: the task started. A task that is stopping
	// (deactivating, stopping, deprovisioning) stays running until it is
	// actually stopped.
	PhaseRunning TaskPhase = "running"
	// PhaseStopped: the task is stopped for good; its outcome can be
	// classified.
	PhaseStopped TaskPhase = "stopped"
)

// Valid reports whether p is one of the three phases.
func (p TaskPhase) Valid() bool {
	return p == PhasePending || p == PhaseRunning || p == PhaseStopped
}

// DefaultEssential is the name of the application container when a job
// does not name another one.
const DefaultEssential = "app"

// Stop codes say why a task stopped. Their values are the ones ECS uses;
// local runners use the same words so that Classify treats both hosts alike.
// An empty stop code means the runner did not say (Classify then relies on
// the exit code and the reason).
const (
	StopCodeEssentialExited   = "EssentialContainerExited"
	StopCodeFailedToStart     = "TaskFailedToStart"
	StopCodeUserInitiated     = "UserInitiated"
	StopCodeSpotInterruption  = "SpotInterruption"
	StopCodeTerminationNotice = "TerminationNotice"
	StopCodeServiceScheduler  = "ServiceSchedulerInitiated"
	// StopCodeHostRestarted is Longshore's own word, used by the local
	// runners: the engine that supervised the task stopped (crashed, was
	// killed or shut down) while the task was running, so the task was
	// stopped with it and its exit code, if any, is unknown.
	StopCodeHostRestarted = "HostRestarted"
)

// TaskState is one observation of the task behind a run, in domain words:
// the ECS adapter builds it from a Task State Change event or a
// DescribeTasks answer, the local runners from a process or container.
type TaskState struct {
	// TaskRef is the runner's handle on the task (ECS task ARN, process or container id).
	TaskRef string
	// RunID is the run that started the task; empty when the task was not
	// started by Longshore.
	RunID string
	// Version orders observations of one task: a higher version is newer.
	// Zero means the runner does not version its observations.
	Version int64
	Phase   TaskPhase

	// StopCode is one of the StopCode* constants (or another runner word, or empty).
	StopCode string
	// StoppedReason is the runner's own explanation of the stop, verbatim.
	StoppedReason string

	Containers []Container
	// Essential names the application container whose exit code decides
	// the run; DefaultEssential when empty.
	Essential string

	// Capacity is the capacity the task runs on (on-demand or spot), when
	// the runner says; empty when it does not.
	Capacity job.Capacity

	StartedAt, StoppedAt         *time.Time
	PullStartedAt, PullStoppedAt *time.Time
}

// essential returns the container whose exit decides the run: the one named
// ts.Essential (or "app"), else the only container when there is just one.
func (ts TaskState) essential() (Container, bool) {
	name := ts.Essential
	if name == "" {
		name = DefaultEssential
	}
	for _, c := range ts.Containers {
		if c.Name == name {
			return c, true
		}
	}
	if len(ts.Containers) == 1 {
		return ts.Containers[0], true
	}
	return Container{}, false
}

// Clone returns a copy of ts that shares no memory with it.
func (ts TaskState) Clone() TaskState {
	ts.Containers = slices.Clone(ts.Containers)
	for i, c := range ts.Containers {
		if c.ExitCode != nil {
			code := *c.ExitCode
			ts.Containers[i].ExitCode = &code
		}
	}
	for _, p := range []**time.Time{&ts.StartedAt, &ts.StoppedAt, &ts.PullStartedAt, &ts.PullStoppedAt} {
		if *p != nil {
			t := **p
			*p = &t
		}
	}
	return ts
}
