package run

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// OOMExitCode is the exit code of a container killed by the kernel (SIGKILL),
// which with a memory limit almost always means it ran out of memory.
const OOMExitCode = 137

// Outcome is what a stopped task means for its run.
type Outcome struct {
	Status Status
	// Cause is set only when Status is failed.
	Cause Cause
	// ExitCode is the essential container's exit code; nil when it never
	// exited (the task never started, or the runner did not report it).
	ExitCode *int
	// Reason explains the outcome in plain words; never empty for a
	// terminal outcome.
	Reason string
	// Transient is true when the failure may clear on its own (capacity,
	// addresses, interruptions), so a retry is worth it.
	Transient bool
}

// Classify decides the outcome of an observed task. stop is what Longshore
// itself asked for (StopNone when it asked nothing).
//
// The rules, first match wins, for a stopped task:
//   - The task stopped with EssentialContainerExited and the application
//     container reported an exit code: that code decides (0 succeeded,
//     anything else failed with cause exit), whatever Longshore asked,
//     because the application finished on its own first.
//   - Longshore asked for the stop (timeout, cancel, replace): timed_out or
//     cancelled, as asked.
//   - UserInitiated with no request from Longshore: someone stopped the task
//     outside Longshore: cancelled, quoting the runner's reason.
//   - SpotInterruption, TerminationNotice, ServiceSchedulerInitiated, and
//     HostRestarted (a local engine stopped under its task): failed with
//     cause interrupted (transient).
//   - TaskFailedToStart, or no exit code and a reason that says the task
//     could not start (or it never started at all): failed with cause start;
//     see ClassifyStartFailure for the reason and Transient.
//   - Otherwise the application container's exit code decides.
//
// A task that is not stopped yet gets the non-terminal status it implies
// (starting or running) and no reason.
func Classify(ts TaskState, stop StopRequest) Outcome {
	switch ts.Phase {
	case PhasePending:
		return Outcome{Status: StatusStarting}
	case PhaseRunning:
		return Outcome{Status: StatusRunning}
	}

	app, found := ts.essential()
	exit := app.ExitCode

	if ts.StopCode == StopCodeEssentialExited && exit != nil {
		return exitOutcome(*exit, app.Reason, ts.StoppedReason)
	}
	switch stop {
	case StopTimeout:
		return Outcome{Status: StatusTimedOut, ExitCode: exit, Reason: "stopped after the job's timeout"}
	case StopCancel:
		return Outcome{Status: StatusCancelled, ExitCode: exit, Reason: "cancelled on request"}
	case StopReplace:
		return Outcome{Status: StatusCancelled, ExitCode: exit, Reason: "replaced by a newer run"}
	case StopShutdown:
		return Outcome{Status: StatusCancelled, ExitCode: exit, Reason: "stopped because the engine was shut down"}
	}

	switch ts.StopCode {
	case StopCodeUserInitiated:
		reason := "stopped outside Longshore"
		if ts.StoppedReason != "" {
			reason += ": " + strconv.Quote(ts.StoppedReason)
		}
		return Outcome{Status: StatusCancelled, ExitCode: exit, Reason: reason}
	case StopCodeSpotInterruption:
		return interrupted("Fargate Spot reclaimed the capacity", ts.StoppedReason, exit)
	case StopCodeTerminationNotice:
		return interrupted("the host running the task was retired", ts.StoppedReason, exit)
	case StopCodeServiceScheduler:
		return interrupted("the ECS service scheduler stopped the task", ts.StoppedReason, exit)
	case StopCodeHostRestarted:
		return interrupted("the engine stopped while the task was running", "", exit)
	case StopCodeFailedToStart:
		return ClassifyStartFailure(startReason(ts, app))
	}

	if exit == nil {
		reason := startReason(ts, app)
		if ts.StartedAt == nil || startFailureKind(reason) != "" {
			return ClassifyStartFailure(reason)
		}
		what := "stopped without an exit code"
		if !found {
			name := ts.Essential
			if name == "" {
				name = DefaultEssential
			}
			what = fmt.Sprintf("stopped without an exit code (no container named %q)", name)
		}
		if reason != "" {
			what += ": " + reason
		}
		return Outcome{Status: StatusFailed, Cause: CauseExit, Reason: what}
	}
	return exitOutcome(*exit, app.Reason, ts.StoppedReason)
}

// exitOutcome classifies an exit code of the application container.
func exitOutcome(code int, containerReason, taskReason string) Outcome {
	c := code
	if code == 0 {
		return Outcome{Status: StatusSucceeded, ExitCode: &c, Reason: "exited with code 0"}
	}
	o := Outcome{Status: StatusFailed, Cause: CauseExit, ExitCode: &c}
	switch {
	case code == OOMExitCode && isOOM(containerReason):
		o.Reason = "out of memory: " + containerReason
	case code == OOMExitCode && isOOM(taskReason):
		o.Reason = "out of memory: " + taskReason
	case code == OOMExitCode && containerReason == "":
		o.Reason = "killed (137), likely out of memory"
	default:
		o.Reason = "exited with code " + strconv.Itoa(code)
		if sig, ok := signals[code]; ok {
			o.Reason += " (" + sig + ")"
		}
		if containerReason != "" {
			o.Reason += ": " + containerReason
		}
	}
	return o
}

// signals names the usual "128 + signal" exit codes.
var signals = map[int]string{
	130: "interrupted, SIGINT",
	134: "aborted, SIGABRT",
	137: "killed, SIGKILL",
	139: "segmentation fault, SIGSEGV",
	143: "terminated, SIGTERM",
}

func isOOM(reason string) bool {
	r := strings.ToLower(reason)
	return strings.Contains(r, "outofmemory") || strings.Contains(r, "out of memory") || strings.Contains(r, "oomkilled")
}

func interrupted(what, stoppedReason string, exit *int) Outcome {
	reason := "interrupted: " + what
	if stoppedReason != "" {
		reason += " (" + strconv.Quote(stoppedReason) + ")"
	}
	return Outcome{Status: StatusFailed, Cause: CauseInterrupted, ExitCode: exit, Reason: reason, Transient: true}
}

// startReason is the runner's explanation of a task that did not start:
// the task's stoppedReason, or the application container's reason when the
// task's own says nothing specific.
func startReason(ts TaskState, app Container) string {
	if startFailureKind(ts.StoppedReason) == "" && startFailureKind(app.Reason) != "" {
		return app.Reason
	}
	if ts.StoppedReason == "" {
		return app.Reason
	}
	return ts.StoppedReason
}

// Kinds of start failure recognised in a runner's reason.
const (
	startSecret    = "secret"
	startPull      = "pull"
	startAddresses = "addresses"
	startCapacity  = "capacity"
	startResource  = "resource"
	startAgent     = "agent"
	startInit      = "init"
)

var (
	agentWord      = regexp.MustCompile(`\bAGENT\b`)
	resourceWord   = regexp.MustCompile(`\bRESOURCE:[A-Z_]+`)
	subnetID       = regexp.MustCompile(`\bsubnet-[0-9a-f]+\b`)
	secretARN      = regexp.MustCompile(`arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:[A-Za-z0-9/_+=.@-]+`)
	parameterARN   = regexp.MustCompile(`arn:aws[a-z-]*:ssm:[a-z0-9-]+:[0-9]{12}:parameter/[A-Za-z0-9/_.-]+`)
	invalidParams  = regexp.MustCompile(`invalid parameters?: ?([^\s,]+)`)
	permanentWords = []string{
		"denied", "not authorized", "unauthorized", "forbidden",
		"notfound", "not found", "does not exist", "manifest unknown", "invalid",
	}
)

// startFailureKind names the kind of start failure a reason describes, or ""
// when it describes none.
func startFailureKind(reason string) string {
	lower := strings.ToLower(reason)
	switch {
	case strings.Contains(reason, "InsufficientFreeAddressesInSubnet"):
		return startAddresses
	case strings.Contains(lower, "capacity is unavailable"):
		return startCapacity
	case resourceWord.MatchString(reason):
		return startResource
	case agentWord.MatchString(reason):
		return startAgent
	case strings.Contains(reason, "CannotPullContainerError"):
		return startPull
	case strings.Contains(reason, "ResourceInitializationError") && mentionsSecret(lower):
		return startSecret
	case strings.Contains(reason, "ResourceInitializationError"), strings.Contains(reason, "CannotStartContainerError"),
		strings.Contains(reason, "CannotCreateContainerError"):
		return startInit
	}
	return ""
}

// mentionsSecret reports whether a (lower-cased) ResourceInitializationError
// is about a secret or an SSM parameter rather than, say, registry auth
// (ECS prefixes both with "unable to pull secrets or registry auth").
func mentionsSecret(lower string) bool {
	for _, w := range []string{"retrieve secret", "fetch secret", "from asm", "from ssm", "secretsmanager:", "ssm:getparameter", "invalid parameter"} {
		if strings.Contains(lower, w) {
			return true
		}
	}
	return false
}

// permanent reports whether a start failure reason shows a problem that a
// retry will not fix: missing permissions, or something that does not exist.
func permanent(reason string) bool {
	lower := strings.ToLower(reason)
	for _, w := range permanentWords {
		if strings.Contains(lower, w) {
			return true
		}
	}
	return false
}

// ClassifyStartFailure classifies a task that never started, from the
// runner's reason (an ECS stoppedReason, a RunTask failures[] reason such as
// "RESOURCE:ENI" or "Capacity is unavailable at this time...", or a local
// runner's error). The outcome is failed with cause start, no exit code, and
// a reason that starts with "never started: ".
//
// Transient is true for capacity, subnet addresses, RESOURCE:* and AGENT,
// false when the reason shows missing permissions or something that does
// not exist (a secret, an image), and true for any other reason: a retry is
// bounded by the job's attempts, a lost run is not.
func ClassifyStartFailure(reason string) Outcome {
	o := Outcome{Status: StatusFailed, Cause: CauseStart, Transient: true}
	switch startFailureKind(reason) {
	case startAddresses:
		if s := subnetID.FindString(reason); s != "" {
			o.Reason = "never started: no free IP addresses in subnet " + s
		} else {
			o.Reason = "never started: no free IP addresses in the task's subnets"
		}
	case startCapacity:
		o.Reason = "never started: no Fargate capacity available at the moment"
	case startResource:
		r := resourceWord.FindString(reason)
		if r == "RESOURCE:ENI" {
			o.Reason = "never started: no network interface could be attached (RESOURCE:ENI)"
		} else {
			o.Reason = "never started: not enough resources (" + r + ")"
		}
	case startAgent:
		o.Reason = "never started: the container agent was unavailable (AGENT)"
	case startPull:
		o.Reason = "never started: image could not be pulled: " + after(reason, "CannotPullContainerError:")
		o.Transient = !permanent(reason)
	case startSecret:
		o.Reason, o.Transient = secretFailure(reason)
	case startInit:
		o.Reason = "never started: " + reason
		o.Transient = !permanent(reason)
	default:
		if strings.TrimSpace(reason) == "" {
			o.Reason = "never started: no reason given"
		} else {
			o.Reason = "never started: " + reason
			o.Transient = !permanent(reason)
		}
	}
	return o
}

// secretFailure explains a secret that the task could not read, naming the
// secret or SSM parameter when the reason mentions it.
func secretFailure(reason string) (string, bool) {
	what := "a secret"
	switch {
	case secretARN.MatchString(reason):
		what = "secret " + secretARN.FindString(reason)
	case parameterARN.MatchString(reason):
		what = "SSM parameter " + parameterARN.FindString(reason)
	case invalidParams.MatchString(reason):
		return "never started: SSM parameter " + invalidParams.FindStringSubmatch(reason)[1] + " does not exist", false
	}
	lower := strings.ToLower(reason)
	switch {
	case strings.Contains(lower, "accessdenied") || strings.Contains(lower, "not authorized"):
		return "never started: the execution role cannot read " + what, false
	case strings.Contains(lower, "resourcenotfound") || strings.Contains(lower, "can't find") ||
		strings.Contains(lower, "not found") || strings.Contains(lower, "does not exist"):
		return "never started: " + what + " does not exist", false
	}
	return "never started: " + what + " could not be read: " + reason, !permanent(reason)
}

// after returns what follows prefix in s (trimmed), or s when prefix is absent.
func after(s, prefix string) string {
	if _, rest, ok := strings.Cut(s, prefix); ok && strings.TrimSpace(rest) != "" {
		return strings.TrimSpace(rest)
	}
	return s
}
