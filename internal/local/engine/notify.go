package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"sync"

	"github.com/longshore/longshore/internal/api"
	"github.com/longshore/longshore/internal/run"
)

// eventLog is the local Notifier: each finished run is appended to
// DATA/events.jsonl as a result event (the local counterpart of the results
// event bus) and written to the engine's log, and a run's callback of kind
// queue is sent to its reply queue on the local SQS endpoint (reply).
type eventLog struct {
	mu      sync.Mutex
	path    string
	log     *slog.Logger
	replies replyQueues // set once the SQS endpoint is made (setReplies)
	notices *notices    // the job's notifications; nil: none sent
}

func (e *eventLog) setReplies(r replyQueues) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.replies = r
}

// resultEvent is one line of events.jsonl.
type resultEvent struct {
	Type string  `json:"type"`
	Run  api.Run `json:"run"`
}

func (e *eventLog) Notify(_ context.Context, r run.Run) error {
	line, err := json.Marshal(resultEvent{Type: "run.finished", Run: api.FromRun(r)})
	if err != nil {
		return fmt.Errorf("encode result of run %s: %w", r.ID, err)
	}
	if err := e.appendLine(line); err != nil {
		return fmt.Errorf("append result of run %s: %w", r.ID, err)
	}
	attrs := []any{"run", r.ID, "job", r.Job, "attempt", r.Attempt, "status", r.Status}
	if r.Cause != run.CauseNone {
		attrs = append(attrs, "cause", r.Cause)
	}
	if r.ExitCode != nil {
		attrs = append(attrs, "exitCode", *r.ExitCode)
	}
	e.log.Info("run finished: "+r.Reason, attrs...)
	if e.notices != nil {
		e.notices.send(r)
	}
	return e.reply(r)
}

func (e *eventLog) appendLine(line []byte) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	f, err := os.OpenFile(e.path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = f.Write(append(line, '\n'))
	return err
}
