package handler

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/longshore/longshore/internal/api"
	"github.com/longshore/longshore/internal/dispatch"
	"github.com/longshore/longshore/internal/run"
)

// MaxTokenLen is the longest Step Functions task token.
const MaxTokenLen = 1024

// Invoke starts a one-off run (a direct invoke of the launcher, as `longshore
// run JOB --aws` sends it) and answers it, after waiting up to WaitSeconds
// for its last attempt to finish when asked — never past the invocation's
// deadline. The same key twice is one run (duplicate true).
func (l *Launcher) Invoke(ctx context.Context, req api.RunRequest) (api.RunResponse, error) {
	if err := l.checkRunRequest(req); err != nil {
		return api.RunResponse{}, err
	}
	got, err := l.o.Service.Launch(ctx, dispatch.Request{
		Job: req.Job, Trigger: run.Trigger{Kind: run.TriggerInvoke, Caller: "lambda-invoke"}, Key: req.Key,
		Env: req.Env, Command: req.Command, Callback: req.Callback,
	})
	if !dispatch.Stored(got, err) {
		return api.RunResponse{}, fmt.Errorf("launch %s: %w", req.Job, err)
	}
	r := got.Run
	if req.WaitSeconds > 0 {
		until := l.o.Now().Add(time.Duration(req.WaitSeconds) * time.Second)
		if deadline, ok := ctx.Deadline(); ok && deadline.Add(-l.o.Reserve).Before(until) {
			until = deadline.Add(-l.o.Reserve)
		}
		if r, err = l.waitFinal(ctx, r, until); err != nil {
			return api.RunResponse{}, err
		}
	}
	return api.RunResponse{Run: api.FromRun(r), Duplicate: got.Duplicate}, nil
}

func (l *Launcher) checkRunRequest(req api.RunRequest) error {
	switch {
	case req.Job == "":
		return badRequest(`run request has no "job": name the job to run`)
	case req.WaitSeconds < 0:
		return badRequest(`"waitSeconds" must be 0 or more`)
	}
	cb := req.Callback
	if cb == nil {
		return nil
	}
	switch cb.Kind {
	case run.CallbackEvent:
		if !l.busAllowed(cb.Target) {
			allowed := append([]string{busName(l.o.EventBus)}, l.o.CallbackBuses...)
			return badRequest(fmt.Sprintf(`callback of kind event names bus %q, which this deployment may not put events on: use %s, `+
				`leave "target" empty for the deployment's own bus, or add the bus's ARN to the deployment with -c callbackEventBusArns`,
				cb.Target, strings.Join(allowed, " or ")))
		}
	case run.CallbackQueue:
		if !strings.HasPrefix(cb.Target, "https://") && !strings.HasPrefix(cb.Target, "http://") {
			return badRequest(fmt.Sprintf(`callback of kind queue needs "target": the reply queue's URL, not %q`, cb.Target))
		}
	case run.CallbackTaskToken:
		if cb.Token == "" || len(cb.Token) > MaxTokenLen {
			return badRequest(`callback of kind task-token needs "token": the Step Functions task token ($$.Task.Token)`)
		}
	default:
		return badRequest(fmt.Sprintf("callback kind %q is unknown: use event, queue or task-token", cb.Kind))
	}
	return nil
}

// busAllowed reports whether an event callback may name the bus: the
// deployment's own (empty, by name or by ARN) or one it was granted.
func (l *Launcher) busAllowed(target string) bool {
	if target == "" || busName(target) == busName(l.o.EventBus) {
		return true
	}
	for _, arn := range l.o.CallbackBuses {
		if target == arn {
			return true
		}
	}
	return false
}

// busName is the name of an event bus given by name or by ARN.
func busName(bus string) string {
	if i := strings.LastIndex(bus, ":event-bus/"); i >= 0 {
		return bus[i+len(":event-bus/"):]
	}
	return bus
}

// waitFinal follows a run and its retries until the last attempt finishes
// or the time is up, and returns the latest attempt.
func (l *Launcher) waitFinal(ctx context.Context, r run.Run, until time.Time) (run.Run, error) {
	for {
		if r.Status.Terminal() && r.NextRunID == "" {
			return r, nil
		}
		left := until.Sub(l.o.Now())
		if left <= 0 {
			return r, nil
		}
		if err := l.o.Sleep(ctx, min(l.o.Poll, left)); err != nil {
			return r, nil
		}
		id := r.ID
		if r.NextRunID != "" {
			id = r.NextRunID
		}
		next, err := l.o.Runs.Get(ctx, id)
		if err != nil {
			if ctx.Err() != nil {
				return r, nil
			}
			return r, fmt.Errorf("follow run %s: %w", id, err)
		}
		r = next
	}
}
