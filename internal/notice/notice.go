// Package notice builds the message a job's notifications send when a run
// ends (job.Notify): what happened, in plain words and as JSON. It is pure:
// the local engine sends it to webhooks, and the construct writes the same
// words into the EventBridge input template of its rules.
package notice

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/longshore/longshore/internal/job"
	"github.com/longshore/longshore/internal/run"
)

// SignatureHeader carries a webhook body's signature: "sha256=<hex>".
const SignatureHeader = "X-Longshore-Signature"

// Message is what a notification says, as a webhook receives it (JSON).
type Message struct {
	Job      string     `json:"job"`
	RunID    string     `json:"runId"`
	Outcome  string     `json:"outcome"`
	Status   run.Status `json:"status"`
	Cause    *run.Cause `json:"cause"`
	ExitCode *int       `json:"exitCode"`
	Reason   string     `json:"reason"`
	Attempt  int        `json:"attempt"`
	// StartedAt and StoppedAt are nil when the run never started (or never stopped).
	StartedAt *time.Time `json:"startedAt"`
	StoppedAt *time.Time `json:"stoppedAt"`
	// DurationSeconds is how long the task ran, nil when it never started.
	DurationSeconds *float64 `json:"durationSeconds"`
	// URL is the run on the dashboard, when one is known.
	URL string `json:"url,omitempty"`
	// Text is the whole message in plain words.
	Text string `json:"text"`
}

// Outcome is a finished run's outcome as notify entries name it: its
// status, never_started for a failure with cause start.
func Outcome(r run.Run) string {
	if r.Status == run.StatusFailed && r.Cause == run.CauseStart {
		return job.OutcomeNeverStarted
	}
	return string(r.Status)
}

// RunURL is the run's page on a dashboard served at base ("" when base is).
func RunURL(base, runID string) string {
	if base == "" {
		return ""
	}
	return strings.TrimRight(base, "/") + "/runs/" + runID
}

// Build says what happened to the finished run r; dashboard is the
// dashboard's base URL, or "" when none is known.
func Build(r run.Run, dashboard string) Message {
	m := Message{
		Job: r.Job, RunID: r.ID, Outcome: Outcome(r), Status: r.Status, ExitCode: r.ExitCode,
		Reason: r.Reason, Attempt: r.Attempt, StartedAt: utc(r.StartedAt), StoppedAt: utc(r.StoppedAt),
		URL: RunURL(dashboard, r.ID),
	}
	if r.Cause != run.CauseNone {
		c := r.Cause
		m.Cause = &c
	}
	var took time.Duration
	if r.StartedAt != nil && r.StoppedAt != nil && !r.StoppedAt.Before(*r.StartedAt) {
		took = r.StoppedAt.Sub(*r.StartedAt).Round(time.Second)
		secs := took.Seconds()
		m.DurationSeconds = &secs
	}
	m.Text = text(m, took)
	return m
}

func text(m Message, took time.Duration) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Job %s %s: run %s %s", m.Job, headline(m), m.RunID, what(m))
	if m.DurationSeconds != nil {
		fmt.Fprintf(&b, " after %s", took)
	}
	b.WriteString(".\n")
	if m.Reason != "" {
		fmt.Fprintf(&b, "Reason: %s\n", m.Reason)
	}
	facts := []string{}
	if m.ExitCode != nil {
		facts = append(facts, "Exit code: "+strconv.Itoa(*m.ExitCode))
	} else {
		facts = append(facts, "Exit code: none")
	}
	facts = append(facts, "Attempt: "+strconv.Itoa(m.Attempt))
	if m.DurationSeconds != nil {
		facts = append(facts, "Duration: "+took.String())
	} else {
		facts = append(facts, "Duration: did not run")
	}
	b.WriteString(strings.Join(facts, " · ") + "\n")
	if m.URL != "" {
		fmt.Fprintf(&b, "Run: %s\n", m.URL)
	}
	return b.String()
}

// headline is the outcome in a few words.
func headline(m Message) string {
	switch m.Outcome {
	case job.OutcomeSucceeded:
		return "succeeded"
	case job.OutcomeTimedOut:
		return "timed out"
	case job.OutcomeCancelled:
		return "was cancelled"
	case job.OutcomeNeverStarted:
		return "never started"
	}
	return "failed"
}

// what says what the run did.
func what(m Message) string {
	switch {
	case m.Outcome == job.OutcomeNeverStarted:
		return "could not start"
	case m.Outcome == job.OutcomeTimedOut:
		return "was stopped at its timeout"
	case m.Outcome == job.OutcomeCancelled:
		return "was stopped"
	case m.ExitCode != nil:
		return "exited with code " + strconv.Itoa(*m.ExitCode)
	case m.Cause != nil && *m.Cause == run.CauseInterrupted:
		return "was interrupted"
	case m.Cause != nil && *m.Cause == run.CauseLost:
		return "was lost"
	}
	return "ended"
}

// Sign is the value of SignatureHeader for body signed with secret:
// "sha256=" and the hex HMAC-SHA256 of the body keyed by the secret.
func Sign(body []byte, secret string) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// Template is the message as a host that cannot run code at delivery
// writes it (an EventBridge input transformer on AWS): the same facts, each
// taken from the run JSON (api.Run) at the path field is given ("$.detail"
// prefixed there); field returns the host's placeholder for a path. The
// host cannot compute the duration: it gives the start and stop times.
func Template(field func(path string) string) string {
	return "Job " + field("job") + " ended " + field("status") + " (cause: " + field("cause") + "): run " + field("id") + ".\n" +
		"Reason: " + field("reason") + "\n" +
		"Exit code: " + field("exitCode") + " · Attempt: " + field("attempt") +
		" · Started: " + field("startedAt") + " · Stopped: " + field("stoppedAt") + "\n"
}
