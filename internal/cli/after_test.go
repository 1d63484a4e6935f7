package cli

import (
	"testing"

	"github.com/longshore/longshore/internal/run"
)

func TestARunAfterAnotherSaysWhichRunStartedIt(t *testing.T) {
	code := 0
	got := triggerWord(run.Trigger{Kind: run.TriggerAfter, UpstreamRunID: "r-0123456789abcdef", UpstreamJob: "extract",
		UpstreamStatus: run.StatusSucceeded, UpstreamExitCode: &code})
	if want := "after extract succeeded (run r-0123456789abcdef)"; got != want {
		t.Errorf("triggerWord = %q, want %q", got, want)
	}
}
