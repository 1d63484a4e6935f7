package run

import (
	"errors"
	"testing"
	"time"
)

// Named times of one run's life.
var (
	launchedAt = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	observedAt = time.Date(2026, 11, 22, 10, 5, 13, 0, time.UTC)
)

const taskARN = "arn:aws:ecs:us-east-1:111122223333:task/longshore/abc"

func aRun(status Status, version int64) Run {
	r := Run{ID: "r-0123456789abcdef", Job: "hello", Attempt: 1, Status: status, TaskVersion: version,
		CreatedAt: launchedAt, UpdatedAt: launchedAt}
	if version > 0 {
		r.TaskRef = taskARN
	}
	return r
}

func observed(phase TaskPhase, version int64) TaskState {
	ts := TaskState{TaskRef: taskARN, RunID: "r-0123456789abcdef", Version: version, Phase: phase,
		Containers: []Container{{Name: "app"}}}
	if phase != PhasePending {
		ts.StartedAt = at("2026-11-22T10:00:35Z")
	}
	if phase == PhaseStopped {
		ts.StopCode = StopCodeEssentialExited
		ts.StoppedReason = "Essential container in task exited"
		ts.Containers = []Container{{Name: "app", ExitCode: code(0)}}
		ts.StoppedAt = at("2026-11-22T10:05:12Z")
	}
	return ts
}

func TestApply(t *testing.T) {
	stoppedWithoutTimes := observed(PhaseStopped, 4)
	stoppedWithoutTimes.StoppedAt, stoppedWithoutTimes.StartedAt = nil, nil
	fromAnotherRun := observed(PhaseRunning, 3)
	fromAnotherRun.RunID = "r-fffffffffffffff0"
	fromAnotherTask := observed(PhaseRunning, 3)
	fromAnotherTask.TaskRef = taskARN + "-other"
	unknownPhase := observed("deactivating", 3)
	localRunning := observed(PhaseRunning, 0)
	timedOut := aRun(StatusRunning, 3)
	timedOut.StopReq = StopTimeout
	stopByUser := observed(PhaseStopped, 5)
	stopByUser.StopCode = StopCodeUserInitiated
	stopByUser.Containers = []Container{{Name: "app", ExitCode: code(143)}}

	tests := []struct {
		name      string
		run       Run
		ts        TaskState
		applied   bool
		status    Status
		version   int64
		startedAt *time.Time
		stoppedAt *time.Time
	}{
		{"a pending task moves a queued run to starting", aRun(StatusQueued, 0), observed(PhasePending, 1),
			true, StatusStarting, 1, nil, nil},
		{"a running task moves a starting run to running with the task's start time", aRun(StatusStarting, 1), observed(PhaseRunning, 3),
			true, StatusRunning, 3, at("2026-11-22T10:00:35Z"), nil},
		{"a running task seen by a queued run goes through starting", aRun(StatusQueued, 0), observed(PhaseRunning, 3),
			true, StatusRunning, 3, at("2026-11-22T10:00:35Z"), nil},
		{"a stopped task finishes a running run", aRun(StatusRunning, 3), observed(PhaseStopped, 5),
			true, StatusSucceeded, 5, at("2026-11-22T10:00:35Z"), at("2026-11-22T10:05:12Z")},
		{"a stopped event arriving before any running one still finishes the run", aRun(StatusStarting, 1), observed(PhaseStopped, 5),
			true, StatusSucceeded, 5, at("2026-11-22T10:00:35Z"), at("2026-11-22T10:05:12Z")},
		{"a stopped event finishes a run still queued", aRun(StatusQueued, 0), observed(PhaseStopped, 5),
			true, StatusSucceeded, 5, at("2026-11-22T10:00:35Z"), at("2026-11-22T10:05:12Z")},
		{"a stop without times is stamped with now", aRun(StatusRunning, 3), stoppedWithoutTimes,
			true, StatusSucceeded, 4, nil, &observedAt},
		{"a timeout stop asked by Longshore times the run out", timedOut, stopByUser,
			true, StatusTimedOut, 5, at("2026-11-22T10:00:35Z"), at("2026-11-22T10:05:12Z")},
		{"a newer event of the same phase records its version", aRun(StatusRunning, 3), observed(PhaseRunning, 4),
			true, StatusRunning, 4, at("2026-11-22T10:00:35Z"), nil},
		{"a local runner without versions is applied", aRun(StatusStarting, 0), localRunning,
			true, StatusRunning, 0, at("2026-11-22T10:00:35Z"), nil},

		{"an older version is dropped", aRun(StatusRunning, 5), observed(PhaseRunning, 2),
			false, StatusRunning, 5, nil, nil},
		{"the same version again is dropped", aRun(StatusRunning, 3), observed(PhaseRunning, 3),
			false, StatusRunning, 3, nil, nil},
		{"a running event after the run finished is dropped", aRun(StatusSucceeded, 5), observed(PhaseRunning, 6),
			false, StatusSucceeded, 5, nil, nil},
		{"a stopped event after the run finished is dropped", aRun(StatusCancelled, 5), observed(PhaseStopped, 6),
			false, StatusCancelled, 5, nil, nil},
		{"a pending event after running is dropped", aRun(StatusRunning, 3), observed(PhasePending, 4),
			false, StatusRunning, 3, nil, nil},
		{"an event of another run is dropped", aRun(StatusStarting, 1), fromAnotherRun,
			false, StatusStarting, 1, nil, nil},
		{"an event of another task is dropped", aRun(StatusStarting, 1), fromAnotherTask,
			false, StatusStarting, 1, nil, nil},
		{"an event with an unknown phase is dropped", aRun(StatusStarting, 1), unknownPhase,
			false, StatusStarting, 1, nil, nil},
		{"an event for a run without a status is dropped", aRun("", 1), observed(PhaseRunning, 3),
			false, "", 1, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, applied := Apply(tt.run, tt.ts, observedAt)
			if applied != tt.applied {
				t.Fatalf("applied = %v, want %v", applied, tt.applied)
			}
			if !applied {
				if !sameRun(got, tt.run) {
					t.Errorf("a dropped event changed the run: %+v", got)
				}
				return
			}
			if got.Status != tt.status || got.TaskVersion != tt.version {
				t.Errorf("status, version = %s, %d; want %s, %d", got.Status, got.TaskVersion, tt.status, tt.version)
			}
			if got.TaskRef != taskARN {
				t.Errorf("task ref = %q, want %q", got.TaskRef, taskARN)
			}
			if tt.startedAt != nil && !sameTime(got.StartedAt, tt.startedAt) {
				t.Errorf("startedAt = %v, want %v", got.StartedAt, tt.startedAt)
			}
			if !sameTime(got.StoppedAt, tt.stoppedAt) {
				t.Errorf("stoppedAt = %v, want %v", got.StoppedAt, tt.stoppedAt)
			}
			if !got.UpdatedAt.Equal(observedAt) {
				t.Errorf("updatedAt = %v, want now (%v)", got.UpdatedAt, observedAt)
			}
			if got.Status.Terminal() && got.Reason == "" {
				t.Errorf("a finished run has no reason")
			}
		})
	}
}

func TestApplyRecordsTheOutcomeOfAStoppedTask(t *testing.T) {
	ts := observed(PhaseStopped, 5)
	ts.Containers = []Container{{Name: "log-router", ExitCode: code(0)}, {Name: "app", ExitCode: code(3)}}
	got, ok := Apply(aRun(StatusRunning, 3), ts, observedAt)
	if !ok {
		t.Fatal("a stopped task was not applied")
	}
	if got.Status != StatusFailed || got.Cause != CauseExit || !sameCode(got.ExitCode, code(3)) || got.Reason != "exited with code 3" {
		t.Errorf("run = %s/%s exit %s %q; want failed/exit exit 3 \"exited with code 3\"", got.Status, got.Cause, show(got.ExitCode), got.Reason)
	}
	if len(got.Containers) != 2 || got.Containers[0].Name != "log-router" {
		t.Errorf("containers = %+v, want both containers recorded", got.Containers)
	}
	ts.Containers[1].ExitCode = code(99)
	if *got.ExitCode != 3 || *got.Containers[1].ExitCode != 3 {
		t.Error("the run shares memory with the observed task")
	}
}

func TestApplyKeepsTransientForRetries(t *testing.T) {
	ts := TaskState{TaskRef: taskARN, Version: 1, Phase: PhaseStopped, StopCode: StopCodeFailedToStart,
		StoppedReason: "RESOURCE:ENI", Containers: []Container{{Name: "app"}}}
	got, ok := Apply(aRun(StatusStarting, 0), ts, observedAt)
	if !ok || got.Status != StatusFailed || got.Cause != CauseStart || !got.Transient || got.ExitCode != nil || got.StartedAt != nil {
		t.Errorf("run = %+v; want failed/start, transient, no exit code, never started", got)
	}
}

func TestApplyThenALateOlderEventLeavesTheFinishedRun(t *testing.T) {
	r, _ := Apply(aRun(StatusStarting, 1), observed(PhaseStopped, 5), observedAt)
	late, ok := Apply(r, observed(PhaseRunning, 2), observedAt.Add(time.Second))
	if ok || late.Status != StatusSucceeded || late.TaskVersion != 5 {
		t.Errorf("a late running event was applied: applied %v, status %s, version %d", ok, late.Status, late.TaskVersion)
	}
}

func TestFinish(t *testing.T) {
	failedToLaunch := ClassifyStartFailure("RESOURCE:ENI")
	t.Run("a run whose RunTask failed is finished with the start failure", func(t *testing.T) {
		got, err := Finish(aRun(StatusQueued, 0), failedToLaunch, observedAt)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != StatusFailed || got.Cause != CauseStart || !got.Transient || !sameTime(got.StoppedAt, &observedAt) || !got.UpdatedAt.Equal(observedAt) {
			t.Errorf("run = %+v", got)
		}
	})
	t.Run("a finished run cannot be finished again", func(t *testing.T) {
		_, err := Finish(aRun(StatusSucceeded, 5), failedToLaunch, observedAt)
		var te *TransitionError
		if !errors.As(err, &te) || te.From != StatusSucceeded || te.To != StatusFailed {
			t.Errorf("error = %v, want a *TransitionError from succeeded to failed", err)
		}
	})
	t.Run("an outcome that is not terminal is refused", func(t *testing.T) {
		if _, err := Finish(aRun(StatusQueued, 0), Outcome{Status: StatusRunning, Reason: "x"}, observedAt); err == nil {
			t.Error("no error")
		}
	})
	t.Run("an outcome without a reason is refused", func(t *testing.T) {
		if _, err := Finish(aRun(StatusRunning, 0), Outcome{Status: StatusFailed, Cause: CauseLost}, observedAt); err == nil {
			t.Error("no error")
		}
	})
}

func sameRun(a, b Run) bool {
	return a.Status == b.Status && a.TaskVersion == b.TaskVersion && a.TaskRef == b.TaskRef &&
		a.UpdatedAt.Equal(b.UpdatedAt) && sameTime(a.StartedAt, b.StartedAt) && sameTime(a.StoppedAt, b.StoppedAt) &&
		a.Reason == b.Reason && sameCode(a.ExitCode, b.ExitCode)
}

func TestApplyRecordsWhyTheTaskStopped(t *testing.T) {
	tests := []struct {
		name string
		ts   TaskState
		want string
	}{
		{"a Spot interruption is recorded, for the retry to leave Spot", func() TaskState {
			ts := observed(PhaseStopped, 5)
			ts.StopCode, ts.StoppedReason = StopCodeSpotInterruption, "Your Spot Task was interrupted."
			ts.Containers = []Container{{Name: "app", ExitCode: code(143)}}
			return ts
		}(), StopCodeSpotInterruption},
		{"an application's exit is recorded", observed(PhaseStopped, 5), StopCodeEssentialExited},
		{"a running task records none", observed(PhaseRunning, 3), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := Apply(aRun(StatusRunning, 2), tt.ts, observedAt)
			if !ok || got.StopCode != tt.want {
				t.Errorf("Apply = applied %v, stop code %q; want %q", ok, got.StopCode, tt.want)
			}
		})
	}
}

func TestARunThatWaitedForASlotNoLongerSaysSoOnceItsTaskIsSeen(t *testing.T) {
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	waiting := Run{ID: "r-0000000000000001", Status: StatusQueued, Reason: WaitingPrefix + "runs r-a, r-b are active and concurrency allows 2 at once; starts when one ends"}
	got, ok := Apply(waiting, TaskState{RunID: waiting.ID, TaskRef: "t-1", Version: 1, Phase: PhaseRunning}, now)
	if !ok || got.Status != StatusRunning || got.Reason != "" {
		t.Errorf("after its task's running observation: %s %q (applied %v); want running, no waiting reason", got.Status, got.Reason, ok)
	}
}
