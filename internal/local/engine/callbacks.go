package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/longshore/longshore/internal/api"
	"github.com/longshore/longshore/internal/dispatch"
	"github.com/longshore/longshore/internal/local/endpoint/sqs"
	"github.com/longshore/longshore/internal/run"
)

// replyQueues are the local SQS endpoint's reply queues (*sqs.Endpoint).
type replyQueues interface {
	// ReplyQueue makes sure the queue a callback names exists; an error
	// wrapping sqs.ErrNoReplyQueue says it never can.
	ReplyQueue(target string) (string, error)
	// Reply puts a message on it.
	Reply(target, body string, attrs map[string]string) error
}

// callbackLauncher is the runs API's launcher: the dispatch service, with
// the callback of each request checked before anything starts, for the
// callbacks a local engine can follow:
//   - event: the result event, appended to DATA/events.jsonl (as for
//     every run);
//   - queue: the result as a message on a reply queue of the local SQS
//     endpoint, named by its URL or name, which is made if missing;
//   - task-token: refused, for it needs Step Functions.
type callbackLauncher struct {
	api.Launcher
	replies replyQueues
}

// TaskTokenRefusal says why a task-token callback is refused locally.
const TaskTokenRefusal = "task-token callbacks need Step Functions, which Longshore uses on AWS only: locally, use a callback of kind queue (the result arrives as a message on the local SQS endpoint's queue it names) or event (the result is appended to events.jsonl in the data folder); nothing was started"

func (l callbackLauncher) Launch(ctx context.Context, req dispatch.Request) (dispatch.Launched, error) {
	if err := l.check(req.Callback); err != nil {
		return dispatch.Launched{}, err
	}
	return l.Launcher.Launch(ctx, req)
}

func (l callbackLauncher) check(cb *run.Callback) error {
	if cb == nil {
		return nil
	}
	switch cb.Kind {
	case run.CallbackEvent:
		return nil
	case run.CallbackQueue:
		if cb.Target == "" {
			return &dispatch.RequestError{Msg: `callback of kind queue needs "target": the reply queue's URL or name`}
		}
		_, err := l.replies.ReplyQueue(cb.Target)
		if errors.Is(err, sqs.ErrNoReplyQueue) {
			return &dispatch.RequestError{Msg: fmt.Sprintf("callback of kind queue: target %q: %v; nothing was started", cb.Target, err)}
		}
		return err
	case run.CallbackTaskToken:
		return &dispatch.RequestError{Msg: TaskTokenRefusal}
	}
	return &dispatch.RequestError{Msg: fmt.Sprintf("callback kind %q is unknown: use event or queue (task-token needs AWS)", cb.Kind)}
}

// maxReply bounds the run JSON sent to a reply queue, as on AWS.
const maxReply = 250 << 10

// replyBody is the message a queue callback sends: the run's JSON (the
// api.Run contract), without its inputs (env, command, the trigger's
// message body) when the whole would exceed maxReply — the body the AWS
// notifier sends.
func replyBody(r run.Run) (string, error) {
	v := api.FromRun(r)
	b, err := json.Marshal(v)
	if err != nil || len(b) <= maxReply {
		return string(b), err
	}
	v.Env, v.Command, v.Trigger.Body = nil, nil, ""
	b, err = json.Marshal(v)
	return string(b), err
}

// reply follows a finished run's callback, when it has one the local
// engine delivers. A callback that can never be delivered is logged and
// dropped, so that the reconciler does not try it forever; any other
// error is returned, to be tried again.
func (e *eventLog) reply(r run.Run) error {
	cb := r.Callback
	if cb == nil {
		return nil
	}
	switch cb.Kind {
	case run.CallbackQueue:
	case run.CallbackTaskToken:
		e.log.Error("callback dropped: "+TaskTokenRefusal, "run", r.ID, "kind", cb.Kind)
		return nil
	default:
		return nil // event: the line in events.jsonl is it
	}
	e.mu.Lock()
	replies := e.replies
	e.mu.Unlock()
	if replies == nil {
		return fmt.Errorf("reply of run %s: the SQS endpoint is not up yet", r.ID)
	}
	body, err := replyBody(r)
	if err != nil {
		return fmt.Errorf("encode reply of run %s: %w", r.ID, err)
	}
	err = replies.Reply(cb.Target, body, map[string]string{"longshore-run": r.ID, "longshore-status": string(r.Status)})
	switch {
	case errors.Is(err, sqs.ErrNoReplyQueue), errors.Is(err, sqs.ErrReplyRefused):
		e.log.Error("callback dropped: it can never be delivered", "run", r.ID, "target", cb.Target, "err", err)
		return nil
	case err != nil:
		return fmt.Errorf("send reply of run %s to %s: %w", r.ID, cb.Target, err)
	}
	e.log.Info("reply sent", "run", r.ID, "queue", cb.Target, "status", r.Status)
	return nil
}
