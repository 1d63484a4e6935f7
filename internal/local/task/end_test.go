package task

import (
	"strconv"
	"testing"

	"github.com/longshore/longshore/internal/run"
)

func TestDecide(t *testing.T) {
	code := func(c int) *int { return &c }
	exited := func(c int) Exit {
		return Exit{Code: code(c), StopCode: run.StopCodeEssentialExited, Reason: "the container exited with code N"}
	}
	limited := func(ex Exit) Exit { ex.MemoryMiB = 512; return ex }
	oom := func(ex Exit) Exit { ex.OOMKilled = true; return ex }
	userStop := stopRequest{Code: run.StopCodeUserInitiated, Reason: "stopped by alice"}
	tests := []struct {
		name string
		ex   Exit
		stop stopRequest
		want verdict
	}{
		{"an exit on its own is told in the backend's words", exited(3), stopRequest{},
			verdict{exitCode: code(3), stopCode: run.StopCodeEssentialExited, reason: "the container exited with code N"}},
		{"a stop Longshore asked for names the end, with the exit code", exited(143), userStop,
			verdict{exitCode: code(143), stopCode: run.StopCodeUserInitiated, reason: "stopped by alice"}},
		{"a task that never ran keeps its own words though a stop was asked for",
			Exit{NeverRan: true, StopCode: run.StopCodeFailedToStart, Reason: "CannotStartContainerError: no"}, userStop,
			verdict{stopCode: run.StopCodeFailedToStart, reason: "CannotStartContainerError: no"}},
		{"a task gone without a stop is told as the backend says",
			Exit{StopCode: run.StopCodeUserInitiated, Reason: "the container was removed outside Longshore"}, stopRequest{},
			verdict{stopCode: run.StopCodeUserInitiated, reason: "the container was removed outside Longshore"}},
		{"137 that the engine says was out of memory is out of memory", oom(limited(exited(137))), stopRequest{},
			verdict{exitCode: code(137), stopCode: run.StopCodeEssentialExited, reason: "the container exited with code N",
				containerReason: "OutOfMemoryError: the fake went past its memory limit of 512 MiB"}},
		{"137 that the engine says was out of memory is out of memory even when stopped", oom(limited(exited(137))), userStop,
			verdict{exitCode: code(137), stopCode: run.StopCodeUserInitiated, reason: "stopped by alice",
				containerReason: "OutOfMemoryError: the fake went past its memory limit of 512 MiB"}},
		{"137 under a memory limit without a stop is taken for out of memory", limited(exited(137)), stopRequest{},
			verdict{exitCode: code(137), stopCode: run.StopCodeEssentialExited, reason: "the container exited with code N",
				containerReason: "OutOfMemoryError: killed (137) under a memory limit of 512 MiB"}},
		{"137 under a memory limit after a stop Longshore asked for is the stop's SIGKILL", limited(exited(137)), userStop,
			verdict{exitCode: code(137), stopCode: run.StopCodeUserInitiated, reason: "stopped by alice"}},
		{"137 without a memory limit is a plain exit", exited(137), stopRequest{},
			verdict{exitCode: code(137), stopCode: run.StopCodeEssentialExited, reason: "the container exited with code N"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := decide("fake", tt.ex, tt.stop)
			if showVerdict(got) != showVerdict(tt.want) {
				t.Errorf("decide = %s, want %s", showVerdict(got), showVerdict(tt.want))
			}
		})
	}
}

func showVerdict(v verdict) string {
	c := "none"
	if v.exitCode != nil {
		c = strconv.Itoa(*v.exitCode)
	}
	return c + " " + v.stopCode + " " + v.reason + " " + v.containerReason
}

func TestAnEndStandsForAStoppedObservation(t *testing.T) {
	code := 3
	e := verdict{exitCode: &code, stopCode: run.StopCodeEssentialExited, reason: "exited", containerReason: "why"}.
		end("fake:r-1", "r-1", fixedNow, fixedNow.Add(1))
	ts := e.state()
	if ts.Phase != run.PhaseStopped || ts.Version != VersionStopped || ts.TaskRef != "fake:r-1" || ts.RunID != "r-1" {
		t.Errorf("state = %+v, want the stopped observation of fake:r-1", ts)
	}
	if len(ts.Containers) != 1 || *ts.Containers[0].ExitCode != 3 || ts.Containers[0].Reason != "why" ||
		ts.Containers[0].Name != run.DefaultEssential {
		t.Errorf("containers = %+v, want the app container with 3", ts.Containers)
	}
	if !ts.StartedAt.Equal(fixedNow) || !ts.StoppedAt.Equal(fixedNow.Add(1)) {
		t.Errorf("times = %v, %v", ts.StartedAt, ts.StoppedAt)
	}
	if lost(", and more").end("fake:r-1", "r-1", fixedNow, fixedNow).state().Containers != nil {
		t.Error("a lost task has an exit code")
	}
}
