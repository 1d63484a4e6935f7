// Package notify reports finished runs on AWS: a result event on the
// deployment's event bus for every run, and the caller's own callback when
// it gave one — a message on an SQS reply queue, or the completion of a
// Step Functions task token.
package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"

	"github.com/longshore/longshore/internal/api"
	"github.com/longshore/longshore/internal/deploy"
	"github.com/longshore/longshore/internal/dispatch"
	"github.com/longshore/longshore/internal/run"
)

var _ dispatch.Notifier = (*Notifier)(nil)

// EventsAPI puts events on a bus (the EventBridge client).
type EventsAPI interface {
	PutEvents(ctx context.Context, in *eventbridge.PutEventsInput, optFns ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error)
}

// QueuesAPI sends messages (the SQS client).
type QueuesAPI interface {
	SendMessage(ctx context.Context, in *sqs.SendMessageInput, optFns ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
}

// StatesAPI completes task tokens (the Step Functions client).
type StatesAPI interface {
	SendTaskSuccess(ctx context.Context, in *sfn.SendTaskSuccessInput, optFns ...func(*sfn.Options)) (*sfn.SendTaskSuccessOutput, error)
	SendTaskFailure(ctx context.Context, in *sfn.SendTaskFailureInput, optFns ...func(*sfn.Options)) (*sfn.SendTaskFailureOutput, error)
}

// Options configure a Notifier.
type Options struct {
	// Bus receives every result event (name or ARN).
	Bus    string
	Events EventsAPI
	Queues QueuesAPI
	States StatesAPI
	Log    *slog.Logger
}

// Size limits of what is sent: an EventBridge entry and an SQS message
// take 256 KiB, a task token's output 256 KiB; the run is sent without
// its inputs (env, the trigger's message body) when it would not fit.
const (
	maxEventDetail = 240 << 10
	maxMessage     = 250 << 10
	maxOutput      = 250 << 10
	maxError       = 256
	maxCause       = 32768
)

// Notifier is a dispatch.Notifier over EventBridge, SQS and Step Functions.
//
// Notify puts an event (source deploy.ResultSource, detail-type
// deploy.ResultDetailType, detail the run as api.Run) on the bus, and then
// follows the run's callback:
//   - queue: SendMessage of the same JSON to the callback's queue URL, with
//     the run id as deduplication id (and its job as group) on a FIFO queue;
//   - task-token: SendTaskSuccess with the run JSON as output when the run
//     succeeded, else SendTaskFailure with error "<status>" or
//     "<status>/<cause>" and the reason (with the exit code) as cause;
//   - event with a target bus other than the deployment's: the event is put
//     there too.
//
// Calling it twice for one run is harmless: the event and the message go
// out again (consumers see each at least once anyway), and a task token
// that is already complete (TaskTimedOut, TaskDoesNotExist) is taken as
// done. A callback that can never be delivered — an invalid token, a queue
// that does not exist or that Longshore may not write to — is logged and
// dropped, so that the reconciler does not try it forever; every other
// error is returned, to be tried again.
type Notifier struct {
	o Options
}

// New returns a Notifier.
func New(o Options) *Notifier {
	if o.Log == nil {
		o.Log = slog.Default()
	}
	return &Notifier{o: o}
}

// Notify implements dispatch.Notifier.
func (n *Notifier) Notify(ctx context.Context, r run.Run) error {
	if err := n.putEvent(ctx, n.o.Bus, r); err != nil {
		return err
	}
	cb := r.Callback
	if cb == nil {
		return nil
	}
	var err error
	switch cb.Kind {
	case run.CallbackQueue:
		err = n.send(ctx, cb.Target, r)
	case run.CallbackTaskToken:
		err = n.complete(ctx, cb.Token, r)
	case run.CallbackEvent, "":
		if cb.Target != "" && cb.Target != n.o.Bus {
			err = n.putEvent(ctx, cb.Target, r)
		}
	default:
		n.o.Log.Error("callback dropped: unknown kind", "run", r.ID, "kind", cb.Kind)
		return nil
	}
	if permanent(err) {
		n.o.Log.Error("callback dropped: it can never be delivered", "run", r.ID, "kind", cb.Kind, "err", err)
		return nil
	}
	return err
}

// body is the run's JSON, without its inputs when the whole would exceed max.
func body(r run.Run, max int) ([]byte, error) {
	v := api.FromRun(r)
	b, err := json.Marshal(v)
	if err != nil || len(b) <= max {
		return b, err
	}
	v.Env, v.Command, v.Trigger.Body = nil, nil, ""
	return json.Marshal(v)
}

func (n *Notifier) putEvent(ctx context.Context, bus string, r run.Run) error {
	detail, err := body(r, maxEventDetail)
	if err != nil {
		return fmt.Errorf("encode result event of run %s: %w", r.ID, err)
	}
	entry := ebtypes.PutEventsRequestEntry{
		EventBusName: aws.String(bus),
		Source:       aws.String(deploy.ResultSource),
		DetailType:   aws.String(deploy.ResultDetailType),
		Detail:       aws.String(string(detail)),
	}
	if strings.HasPrefix(r.TaskRef, "arn:") {
		entry.Resources = []string{r.TaskRef}
	}
	if r.StoppedAt != nil {
		entry.Time = aws.Time(*r.StoppedAt)
	}
	out, err := n.o.Events.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{entry}})
	if err != nil {
		return fmt.Errorf("put result event of run %s on %s: %w", r.ID, bus, err)
	}
	if out.FailedEntryCount > 0 {
		code, msg := "", ""
		if len(out.Entries) > 0 {
			code, msg = aws.ToString(out.Entries[0].ErrorCode), aws.ToString(out.Entries[0].ErrorMessage)
		}
		return fmt.Errorf("put result event of run %s on %s: rejected: %s %s", r.ID, bus, code, msg)
	}
	return nil
}

func (n *Notifier) send(ctx context.Context, queueURL string, r run.Run) error {
	msg, err := body(r, maxMessage)
	if err != nil {
		return fmt.Errorf("encode reply of run %s: %w", r.ID, err)
	}
	in := &sqs.SendMessageInput{
		QueueUrl:    aws.String(queueURL),
		MessageBody: aws.String(string(msg)),
		MessageAttributes: map[string]sqstypes.MessageAttributeValue{
			"longshore-run":    {DataType: aws.String("String"), StringValue: aws.String(r.ID)},
			"longshore-status": {DataType: aws.String("String"), StringValue: aws.String(string(r.Status))},
		},
	}
	if strings.HasSuffix(queueURL, ".fifo") {
		in.MessageGroupId = aws.String(r.Job)
		in.MessageDeduplicationId = aws.String(r.ID)
	}
	if _, err := n.o.Queues.SendMessage(ctx, in); err != nil {
		return fmt.Errorf("send reply of run %s to %s: %w", r.ID, queueURL, err)
	}
	return nil
}

func (n *Notifier) complete(ctx context.Context, token string, r run.Run) error {
	var err error
	if r.Status == run.StatusSucceeded {
		var out []byte
		if out, err = body(r, maxOutput); err != nil {
			return fmt.Errorf("encode output of run %s: %w", r.ID, err)
		}
		_, err = n.o.States.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String(token), Output: aws.String(string(out))})
	} else {
		_, err = n.o.States.SendTaskFailure(ctx, &sfn.SendTaskFailureInput{
			TaskToken: aws.String(token), Error: aws.String(TaskError(r)), Cause: aws.String(TaskCause(r)),
		})
	}
	if alreadyComplete(err) {
		n.o.Log.Info("task token already complete", "run", r.ID, "err", err)
		return nil
	}
	if err != nil {
		return fmt.Errorf("complete the task token of run %s: %w", r.ID, err)
	}
	return nil
}

// TaskError is the error of a failed task token: the run's status, and its
// cause when it has one ("failed/exit", "timed_out", "cancelled").
func TaskError(r run.Run) string {
	e := string(r.Status)
	if r.Cause != run.CauseNone {
		e += "/" + string(r.Cause)
	}
	return truncate(e, maxError)
}

// TaskCause is the cause of a failed task token: the run's reason, with its
// exit code when the reason does not give it.
func TaskCause(r run.Run) string {
	c := "run " + r.ID + " of " + r.Job + ": " + r.Reason
	if r.ExitCode != nil && !strings.Contains(r.Reason, "code "+strconv.Itoa(*r.ExitCode)) {
		c += " (exit code " + strconv.Itoa(*r.ExitCode) + ")"
	}
	return truncate(c, maxCause)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// alreadyComplete reports Step Functions' answer for a token that was
// completed (or timed out) before.
func alreadyComplete(err error) bool {
	return apiCode(err) == "TaskTimedOut" || apiCode(err) == "TaskDoesNotExist"
}

// permanent reports an answer that no retry will change.
func permanent(err error) bool {
	switch apiCode(err) {
	case "InvalidToken", "AccessDenied", "AccessDeniedException", "AWS.SimpleQueueService.NonExistentQueue",
		"QueueDoesNotExist", "InvalidAddress", "ResourceNotFoundException", "InvalidParameterValue":
		return true
	}
	return false
}

func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}
