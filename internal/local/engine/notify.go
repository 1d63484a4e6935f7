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
// event bus) and written to the engine's log.
type eventLog struct {
	mu   sync.Mutex
	path string
	log  *slog.Logger
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
	e.mu.Lock()
	defer e.mu.Unlock()
	f, err := os.OpenFile(e.path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("open %s: %w", e.path, err)
	}
	defer f.Close()
	if _, err := f.Write(append(line, '\n')); err != nil {
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
	return nil
}
