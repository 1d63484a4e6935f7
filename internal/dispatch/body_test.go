package dispatch_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/longshore/longshore/internal/dispatch"
	"github.com/longshore/longshore/internal/run"
)

// bodies is a BodyStore in memory.
type bodies struct {
	mu   sync.Mutex
	puts map[string]string
	err  error
}

func (b *bodies) PutBody(_ context.Context, jobName, runID string, body []byte) (string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.err != nil {
		return "", b.err
	}
	uri := "s3://payloads/payloads/" + jobName + "/" + runID + ".body"
	b.puts[uri] = string(body)
	return uri, nil
}

func withBodies(t *testing.T) (*world, *bodies) {
	w := newWorld(t, map[string]string{"hello": hello})
	b := &bodies{puts: map[string]string{}}
	w.svc = dispatch.New(dispatch.Deps{
		Jobs: w.catalog, Store: w.store, Runner: w.runner, Notifier: w.notes, Now: w.clock.Now, NewID: w.newID,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Bodies: b,
	})
	return w, b
}

func message(id, body string) dispatch.Request {
	return dispatch.Request{Job: "hello", Trigger: run.Trigger{Kind: run.TriggerSQS, Queue: "hello", MessageID: id, Body: body}}
}

func TestABodyTooLargeForARunIsPassedByReferenceWhole(t *testing.T) {
	tests := []struct {
		name     string
		size     int
		inline   bool
		wantKeys []string
	}{
		{"a body of MaxInlineBody stays in the run and the environment", run.MaxInlineBody, true, []string{"LONGSHORE_SQS_BODY"}},
		{"a body of 600 KiB is kept apart, by reference", 600 << 10, false, []string{"LONGSHORE_SQS_BODY_URI"}},
		{"a body of SQS's 1 MiB too", 1 << 20, false, []string{"LONGSHORE_SQS_BODY_URI"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, b := withBodies(t)
			body := strings.Repeat("b", tt.size)
			r := w.launch(message("m-1", body))
			stored := w.get(r.ID).Trigger
			task, _ := w.runner.Task(r.ID)
			for _, k := range tt.wantKeys {
				if _, ok := task.Task.Env[k]; !ok {
					t.Errorf("the task has no %s", k)
				}
			}
			if tt.inline {
				if stored.Body != body || stored.BodyURI != "" || len(b.puts) != 0 {
					t.Errorf("stored body of %d bytes, URI %q, %d puts; want the body inline", len(stored.Body), stored.BodyURI, len(b.puts))
				}
				return
			}
			if stored.Body != "" || stored.BodySize != tt.size || b.puts[stored.BodyURI] != body {
				t.Errorf("stored body %d bytes, size %d, URI %q holding %d bytes; want the whole body by reference",
					len(stored.Body), stored.BodySize, stored.BodyURI, len(b.puts[stored.BodyURI]))
			}
			if _, inline := task.Task.Env["LONGSHORE_SQS_BODY"]; inline || task.Task.Env["LONGSHORE_SQS_BODY_URI"] != stored.BodyURI {
				t.Errorf("task environment %v, want LONGSHORE_SQS_BODY_URI only", task.Task.Env["LONGSHORE_SQS_BODY_URI"])
			}
			// The same message again is the same run, and the same object.
			again, err := w.svc.Launch(ctx, message("m-1", body))
			if err != nil || !again.Duplicate || len(b.puts) != 1 || w.runner.Count() != 1 {
				t.Errorf("a second delivery: %+v %v, %d objects, %d tasks", again, err, len(b.puts), w.runner.Count())
			}
		})
	}
}

func TestABodyThatCannotBeKeptIsNotTakenAndComesAgain(t *testing.T) {
	w, b := withBodies(t)
	b.err = errors.New("SlowDown")
	_, err := w.svc.Launch(ctx, message("m-1", strings.Repeat("b", 10_000)))
	if err == nil || dispatch.Stored(dispatch.Launched{}, err) || !strings.Contains(err.Error(), "keep the 10000-byte body") {
		t.Fatalf("Launch = %v, want an error that leaves the message to be delivered again", err)
	}
	if len(w.store.Runs()) != 0 {
		t.Errorf("a run was stored without its body")
	}
	b.err = nil
	r := w.launch(message("m-1", strings.Repeat("b", 10_000)))
	if w.get(r.ID).Trigger.BodySize != 10_000 {
		t.Errorf("the message delivered again made %+v", w.get(r.ID).Trigger)
	}
}
