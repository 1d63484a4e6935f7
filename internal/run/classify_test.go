package run

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

func code(n int) *int { return &n }

func at(s string) *time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return &t
}

// stopped builds a stopped task whose app container exited with exit (nil:
// never exited), stopped with stopCode and reason.
func stopped(stopCode, reason string, exit *int, started bool) TaskState {
	ts := TaskState{
		TaskRef:       "arn:aws:ecs:us-east-1:111122223333:task/longshore/abc",
		RunID:         "r-0123456789abcdef",
		Version:       5,
		Phase:         PhaseStopped,
		StopCode:      stopCode,
		StoppedReason: reason,
		Containers:    []Container{{Name: "app", ExitCode: exit}},
		StoppedAt:     at("2026-11-22T10:05:12Z"),
	}
	if started {
		ts.StartedAt = at("2026-11-22T10:00:35Z")
	}
	return ts
}

func TestClassify(t *testing.T) {
	const secretDenied = "ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve secret from asm: service call has been retried 1 time(s): failed to fetch secret arn:aws:secretsmanager:us-east-1:111122223333:secret:longshore/db-AbCdEf from secrets manager: AccessDeniedException: User: arn:aws:sts::111122223333:assumed-role/longshore-hello-exec/abc is not authorized to perform: secretsmanager:GetSecretValue"
	withSidecar := stopped(StopCodeEssentialExited, "Essential container in task exited", code(1), true)
	withSidecar.Containers = []Container{{Name: "log-router", ExitCode: code(0)}, {Name: "app", ExitCode: code(1)}}
	namedEssential := stopped(StopCodeEssentialExited, "Essential container in task exited", nil, true)
	namedEssential.Essential = "worker"
	namedEssential.Containers = []Container{{Name: "app", ExitCode: code(0)}, {Name: "worker", ExitCode: code(2)}}
	oneOddlyNamed := stopped(StopCodeEssentialExited, "Essential container in task exited", nil, true)
	oneOddlyNamed.Containers = []Container{{Name: "main", ExitCode: code(4)}}
	oomByECS := stopped(StopCodeEssentialExited, "Essential container in task exited", code(137), true)
	oomByECS.Containers[0].Reason = "OutOfMemoryError: Container killed due to memory usage"
	pullFailedInContainer := stopped(StopCodeFailedToStart, "Task failed to start", nil, false)
	pullFailedInContainer.Containers[0].Reason = "CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref 111122223333.dkr.ecr.us-east-1.amazonaws.com/hello:2.0: not found"

	tests := []struct {
		name      string
		ts        TaskState
		stop      StopRequest
		status    Status
		cause     Cause
		exit      *int
		reason    string // the exact reason, or a part of it after "~"
		transient bool
	}{
		{"an app that exits 0 succeeds", stopped(StopCodeEssentialExited, "Essential container in task exited", code(0), true), StopNone,
			StatusSucceeded, CauseNone, code(0), "exited with code 0", false},
		{"an app that exits 3 fails with cause exit", stopped(StopCodeEssentialExited, "Essential container in task exited", code(3), true), StopNone,
			StatusFailed, CauseExit, code(3), "exited with code 3", false},
		{"the app's exit code decides, not a sidecar's", withSidecar, StopNone,
			StatusFailed, CauseExit, code(1), "exited with code 1", false},
		{"a job can name another essential container", namedEssential, StopNone,
			StatusFailed, CauseExit, code(2), "exited with code 2", false},
		{"a task with a single container uses it whatever its name", oneOddlyNamed, StopNone,
			StatusFailed, CauseExit, code(4), "exited with code 4", false},
		{"ECS's out-of-memory kill says so", oomByECS, StopNone,
			StatusFailed, CauseExit, code(137), "out of memory: OutOfMemoryError: Container killed due to memory usage", false},
		{"a local 137 with no reason is likely out of memory", stopped("", "", code(OOMExitCode), true), StopNone,
			StatusFailed, CauseExit, code(137), "killed (137), likely out of memory", false},
		{"a local exit with no stop code is decided by its code", stopped("", "", code(0), true), StopNone,
			StatusSucceeded, CauseNone, code(0), "exited with code 0", false},
		{"a SIGTERM exit names the signal", stopped(StopCodeEssentialExited, "", code(143), true), StopNone,
			StatusFailed, CauseExit, code(143), "exited with code 143 (terminated, SIGTERM)", false},

		{"a secret the execution role cannot read never started and is not transient", stopped(StopCodeFailedToStart, secretDenied, nil, false), StopNone,
			StatusFailed, CauseStart, nil, "never started: the execution role cannot read secret arn:aws:secretsmanager:us-east-1:111122223333:secret:longshore/db-AbCdEf", false},
		{"an SSM parameter the role cannot read is named", stopped(StopCodeFailedToStart, "ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve secrets from ssm: service call has been retried 1 time(s): AccessDeniedException: User: arn:aws:sts::111122223333:assumed-role/exec/x is not authorized to perform: ssm:GetParameters on resource: arn:aws:ssm:us-east-1:111122223333:parameter/longshore/db-url because no identity-based policy allows the ssm:GetParameters action", nil, false), StopNone,
			StatusFailed, CauseStart, nil, "never started: the execution role cannot read SSM parameter arn:aws:ssm:us-east-1:111122223333:parameter/longshore/db-url", false},
		{"a missing SSM parameter is named", stopped(StopCodeFailedToStart, "ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve secrets from ssm: service call has been retried 1 time(s): invalid parameters: /longshore/missing", nil, false), StopNone,
			StatusFailed, CauseStart, nil, "never started: SSM parameter /longshore/missing does not exist", false},
		{"no free addresses names the subnet and is transient", stopped(StopCodeFailedToStart, "InsufficientFreeAddressesInSubnet: Insufficient free addresses in subnet subnet-0a1b2c3d4e5f60001", nil, false), StopNone,
			StatusFailed, CauseStart, nil, "never started: no free IP addresses in subnet subnet-0a1b2c3d4e5f60001", true},
		{"no Fargate capacity is transient", stopped(StopCodeFailedToStart, "Capacity is unavailable at this time. Please try again later or in a different availability zone", nil, false), StopNone,
			StatusFailed, CauseStart, nil, "never started: no Fargate capacity available at the moment", true},
		{"no network interface is transient", stopped(StopCodeFailedToStart, "RESOURCE:ENI", nil, false), StopNone,
			StatusFailed, CauseStart, nil, "never started: no network interface could be attached (RESOURCE:ENI)", true},
		{"an unavailable agent is transient", stopped(StopCodeFailedToStart, "AGENT", nil, false), StopNone,
			StatusFailed, CauseStart, nil, "never started: the container agent was unavailable (AGENT)", true},
		{"an image that does not exist is not transient", stopped(StopCodeFailedToStart, "CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref 111122223333.dkr.ecr.us-east-1.amazonaws.com/hello:2.0: not found", nil, false), StopNone,
			StatusFailed, CauseStart, nil, "never started: image could not be pulled: pull image manifest has been retried 5 time(s): failed to resolve ref 111122223333.dkr.ecr.us-east-1.amazonaws.com/hello:2.0: not found", false},
		{"an image pull that timed out is transient", stopped(StopCodeFailedToStart, "CannotPullContainerError: dial tcp 52.1.2.3:443: i/o timeout", nil, false), StopNone,
			StatusFailed, CauseStart, nil, "never started: image could not be pulled: dial tcp 52.1.2.3:443: i/o timeout", true},
		{"the container's reason is used when the task's says nothing", pullFailedInContainer, StopNone,
			StatusFailed, CauseStart, nil, "~never started: image could not be pulled: ", false},
		{"a start failure without a stop code is still a start failure", stopped("", "InsufficientFreeAddressesInSubnet: Insufficient free addresses in subnet subnet-0abc", nil, false), StopNone,
			StatusFailed, CauseStart, nil, "never started: no free IP addresses in subnet subnet-0abc", true},
		{"a task that stopped before starting, with no reason, never started", stopped("", "", nil, false), StopNone,
			StatusFailed, CauseStart, nil, "never started: no reason given", true},
		{"registry auth that timed out is transient", stopped(StopCodeFailedToStart, "ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve ecr registry auth: service call has been retried 3 time(s): RequestError: send request failed caused by: Post \"https://api.ecr.us-east-1.amazonaws.com/\": dial tcp 10.0.0.1:443: i/o timeout", nil, false), StopNone,
			StatusFailed, CauseStart, nil, "~never started: ResourceInitializationError: unable to pull secrets or registry auth", true},

		{"Spot reclaiming the capacity is an interruption with the exit code kept", stopped(StopCodeSpotInterruption, "Your Spot Task was interrupted.", code(143), true), StopNone,
			StatusFailed, CauseInterrupted, code(143), `interrupted: Fargate Spot reclaimed the capacity ("Your Spot Task was interrupted.")`, true},
		{"a termination notice is an interruption", stopped(StopCodeTerminationNotice, "", nil, true), StopNone,
			StatusFailed, CauseInterrupted, nil, "interrupted: the host running the task was retired", true},
		{"the service scheduler stopping a task is an interruption", stopped(StopCodeServiceScheduler, "Scaling activity initiated by deployment", code(0), true), StopNone,
			StatusFailed, CauseInterrupted, code(0), "~interrupted: the ECS service scheduler stopped the task", true},
		{"a local engine that stopped under its task is an interruption", stopped(StopCodeHostRestarted, "the engine stopped while the task was running", nil, true), StopNone,
			StatusFailed, CauseInterrupted, nil, "interrupted: the engine stopped while the task was running", true},

		{"a stop for the job's timeout times the run out", stopped(StopCodeUserInitiated, "Task stopped by user: timeout after 3600s", code(143), true), StopTimeout,
			StatusTimedOut, CauseNone, code(143), "stopped after the job's timeout", false},
		{"a stop asked by a user cancels the run", stopped(StopCodeUserInitiated, "cancelled", code(143), true), StopCancel,
			StatusCancelled, CauseNone, code(143), "cancelled on request", false},
		{"a stop for a newer run says it was replaced", stopped(StopCodeUserInitiated, "replaced", code(143), true), StopReplace,
			StatusCancelled, CauseNone, code(143), "replaced by a newer run", false},
		{"a stop for the engine's shutdown cancels the run and says so", stopped(StopCodeUserInitiated, "shutdown", code(143), true), StopShutdown,
			StatusCancelled, CauseNone, code(143), "stopped because the engine was shut down", false},
		{"a stop from outside Longshore cancels and quotes ECS", stopped(StopCodeUserInitiated, "Task stopped by user: timeout after 3600s", code(143), true), StopNone,
			StatusCancelled, CauseNone, code(143), `stopped outside Longshore: "Task stopped by user: timeout after 3600s"`, false},
		{"a local timeout kill (no stop code) times out", stopped("", "", code(137), true), StopTimeout,
			StatusTimedOut, CauseNone, code(137), "stopped after the job's timeout", false},
		{"an app that finished on its own before the timeout stop keeps its exit", stopped(StopCodeEssentialExited, "Essential container in task exited", code(0), true), StopTimeout,
			StatusSucceeded, CauseNone, code(0), "exited with code 0", false},
		{"a cancel of a task that was failing to start is still a cancel", stopped(StopCodeFailedToStart, "CannotPullContainerError: not found", nil, false), StopCancel,
			StatusCancelled, CauseNone, nil, "cancelled on request", false},

		{"a started task that stopped with no exit code fails and says so", stopped(StopCodeEssentialExited, "Essential container in task exited", nil, true), StopNone,
			StatusFailed, CauseExit, nil, "stopped without an exit code: Essential container in task exited", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := Classify(tt.ts, tt.stop)
			if o.Status != tt.status || o.Cause != tt.cause {
				t.Errorf("status, cause = %s, %q; want %s, %q (reason %q)", o.Status, o.Cause, tt.status, tt.cause, o.Reason)
			}
			if !sameCode(o.ExitCode, tt.exit) {
				t.Errorf("exit code = %s, want %s", show(o.ExitCode), show(tt.exit))
			}
			if part, ok := strings.CutPrefix(tt.reason, "~"); ok {
				if !strings.Contains(o.Reason, part) {
					t.Errorf("reason = %q, want it to contain %q", o.Reason, part)
				}
			} else if o.Reason != tt.reason {
				t.Errorf("reason = %q\nwant %q", o.Reason, tt.reason)
			}
			if o.Transient != tt.transient {
				t.Errorf("transient = %v, want %v", o.Transient, tt.transient)
			}
		})
	}
}

func TestClassifyOfATaskNotStoppedYet(t *testing.T) {
	tests := []struct {
		name  string
		phase TaskPhase
		want  Status
	}{
		{"a pending task means the run is starting", PhasePending, StatusStarting},
		{"a running task means the run is running", PhaseRunning, StatusRunning},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := Classify(TaskState{Phase: tt.phase}, StopNone)
			if o.Status != tt.want || o.Status.Terminal() {
				t.Errorf("status = %s, want %s", o.Status, tt.want)
			}
		})
	}
}

func TestEveryTerminalOutcomeHasAReason(t *testing.T) {
	codes := []string{"", StopCodeEssentialExited, StopCodeFailedToStart, StopCodeUserInitiated,
		StopCodeSpotInterruption, StopCodeTerminationNotice, StopCodeServiceScheduler, "SomethingNew"}
	exits := []*int{nil, code(0), code(1), code(137)}
	stops := []StopRequest{StopNone, StopTimeout, StopCancel, StopReplace, StopShutdown}
	for _, sc := range codes {
		for _, exit := range exits {
			for _, stop := range stops {
				for _, started := range []bool{false, true} {
					o := Classify(stopped(sc, "", exit, started), stop)
					if !o.Status.Terminal() || o.Reason == "" {
						t.Errorf("stopCode %q, exit %s, stop %q, started %v: status %s, reason %q; want a terminal status with a reason",
							sc, show(exit), stop, started, o.Status, o.Reason)
					}
					if (o.Status == StatusFailed) != (o.Cause != CauseNone) {
						t.Errorf("stopCode %q, exit %s, stop %q: status %s with cause %q; a cause goes with failed only", sc, show(exit), stop, o.Status, o.Cause)
					}
				}
			}
		}
	}
}

func TestClassifyStartFailureOfRunTaskFailures(t *testing.T) {
	tests := []struct {
		name      string
		reason    string
		want      string
		transient bool
	}{
		{"RESOURCE:ENI from RunTask is transient", "RESOURCE:ENI", "never started: no network interface could be attached (RESOURCE:ENI)", true},
		{"other RESOURCE failures are transient", "RESOURCE:MEMORY", "never started: not enough resources (RESOURCE:MEMORY)", true},
		{"AGENT from RunTask is transient", "AGENT", "never started: the container agent was unavailable (AGENT)", true},
		{"no capacity from RunTask is transient", "Capacity is unavailable at this time. Please try again later or in a different availability zone", "never started: no Fargate capacity available at the moment", true},
		{"an unknown reason is kept and retried", "MISSING something odd", "never started: MISSING something odd", true},
		{"an access denied reason is not retried", "AccessDeniedException: not allowed", "never started: AccessDeniedException: not allowed", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := ClassifyStartFailure(tt.reason)
			if o.Status != StatusFailed || o.Cause != CauseStart || o.ExitCode != nil {
				t.Errorf("outcome = %s/%s exit %s, want failed/start with no exit code", o.Status, o.Cause, show(o.ExitCode))
			}
			if o.Reason != tt.want || o.Transient != tt.transient {
				t.Errorf("reason, transient = %q, %v; want %q, %v", o.Reason, o.Transient, tt.want, tt.transient)
			}
		})
	}
}

func sameCode(a, b *int) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

func show(p *int) string {
	if p == nil {
		return "nil"
	}
	return strconv.Itoa(*p)
}
