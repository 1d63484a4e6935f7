package notice_test

import (
	"testing"
	"time"

	"github.com/longshore/longshore/internal/notice"
	"github.com/longshore/longshore/internal/run"
)

func TestTheMessageSaysInPlainWordsWhatHappened(t *testing.T) {
	start := time.Date(2026, 12, 4, 3, 0, 0, 0, time.UTC)
	stop := start.Add(4*time.Minute + 12*time.Second)
	code := func(c int) *int { return &c }
	tests := []struct {
		name      string
		r         run.Run
		dashboard string
		outcome   string
		want      string
	}{
		{"a failed exit gives its code, reason, duration and the dashboard link",
			run.Run{ID: "r1", Job: "report", Status: run.StatusFailed, Cause: run.CauseExit, ExitCode: code(3), Attempt: 2,
				Reason: "essential container exited with code 3", StartedAt: &start, StoppedAt: &stop},
			"http://127.0.0.1:8750/", "failed",
			"Job report failed: run r1 exited with code 3 after 4m12s.\nReason: essential container exited with code 3\n" +
				"Exit code: 3 · Attempt: 2 · Duration: 4m12s\nRun: http://127.0.0.1:8750/runs/r1\n"},
		{"a run that never started says so and has no duration or link without a dashboard",
			run.Run{ID: "r2", Job: "report", Status: run.StatusFailed, Cause: run.CauseStart, Attempt: 1,
				Reason: "CannotPullContainerError: image not found", StoppedAt: &stop},
			"", "never_started",
			"Job report never started: run r2 could not start.\nReason: CannotPullContainerError: image not found\n" +
				"Exit code: none · Attempt: 1 · Duration: did not run\n"},
		{"a timeout says it was stopped at its timeout",
			run.Run{ID: "r3", Job: "report", Status: run.StatusTimedOut, ExitCode: code(137), Attempt: 1,
				Reason: "timed out after 4m", StartedAt: &start, StoppedAt: &stop},
			"", "timed_out",
			"Job report timed out: run r3 was stopped at its timeout after 4m12s.\nReason: timed out after 4m\n" +
				"Exit code: 137 · Attempt: 1 · Duration: 4m12s\n"},
		{"a success is short",
			run.Run{ID: "r4", Job: "report", Status: run.StatusSucceeded, ExitCode: code(0), Attempt: 1,
				StartedAt: &start, StoppedAt: &stop},
			"", "succeeded",
			"Job report succeeded: run r4 exited with code 0 after 4m12s.\nExit code: 0 · Attempt: 1 · Duration: 4m12s\n"},
		{"a cancelled run says it was stopped",
			run.Run{ID: "r5", Job: "report", Status: run.StatusCancelled, Attempt: 1, Reason: "stopped by a user"},
			"", "cancelled",
			"Job report was cancelled: run r5 was stopped.\nReason: stopped by a user\nExit code: none · Attempt: 1 · Duration: did not run\n"},
		{"an interrupted run says so",
			run.Run{ID: "r6", Job: "report", Status: run.StatusFailed, Cause: run.CauseInterrupted, Attempt: 3,
				Reason: "Spot capacity reclaimed", StartedAt: &start, StoppedAt: &stop},
			"", "failed",
			"Job report failed: run r6 was interrupted after 4m12s.\nReason: Spot capacity reclaimed\n" +
				"Exit code: none · Attempt: 3 · Duration: 4m12s\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := notice.Build(tt.r, tt.dashboard)
			if m.Text != tt.want {
				t.Errorf("Text =\n%s\nwant:\n%s", m.Text, tt.want)
			}
			if m.Outcome != tt.outcome || m.RunID != tt.r.ID || m.Job != tt.r.Job {
				t.Errorf("message = %+v", m)
			}
		})
	}
}

func TestTheSignatureIsTheHexHMACSHA256OfTheBody(t *testing.T) {
	// RFC 4231 test case 2.
	got := notice.Sign([]byte("what do ya want for nothing?"), "Jefe")
	want := "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
	if got != want {
		t.Errorf("Sign = %s, want %s", got, want)
	}
}

func TestTheTemplateNamesEveryFactByItsRunJSONField(t *testing.T) {
	got := notice.Template(func(p string) string { return "<" + p + ">" })
	want := "Job <job> ended <status> (cause: <cause>): run <id>.\nReason: <reason>\n" +
		"Exit code: <exitCode> · Attempt: <attempt> · Started: <startedAt> · Stopped: <stoppedAt>\n"
	if got != want {
		t.Errorf("Template =\n%s\nwant:\n%s", got, want)
	}
}
