package notify_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/longshore/longshore/internal/aws/notify"
	"github.com/longshore/longshore/internal/deploy"
	"github.com/longshore/longshore/internal/run"
	"github.com/longshore/longshore/internal/testsupport/awsfake"
)

const bus = "longshore-results"

func newNotifier(f *awsfake.Server) *notify.Notifier {
	creds := credentials.NewStaticCredentialsProvider(awsfake.AccessKeyID, awsfake.SecretAccessKey, "")
	endpoint := aws.String(f.URL)
	return notify.New(notify.Options{
		Bus:    bus,
		Events: eventbridge.New(eventbridge.Options{Region: "us-east-1", BaseEndpoint: endpoint, Credentials: creds, Retryer: aws.NopRetryer{}}),
		Queues: sqs.New(sqs.Options{Region: "us-east-1", BaseEndpoint: endpoint, Credentials: creds, Retryer: aws.NopRetryer{}}),
		States: sfn.New(sfn.Options{Region: "us-east-1", BaseEndpoint: endpoint, Credentials: creds, Retryer: aws.NopRetryer{}}),
		Log:    slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
}

// failed is a run of hello that exited 3.
func failed(cb *run.Callback) run.Run {
	code := 3
	stopped := time.Date(2026, 11, 22, 10, 5, 12, 0, time.UTC)
	return run.Run{
		ID: "r-0000000000000001", Job: "hello", Attempt: 1, Trigger: run.Trigger{Kind: run.TriggerInvoke},
		Status: run.StatusFailed, Cause: run.CauseExit, ExitCode: &code, Reason: "exited with code 3",
		TaskRef:  "arn:aws:ecs:us-east-1:111122223333:task/longshore/abc",
		Callback: cb, CreatedAt: stopped.Add(-time.Minute), StoppedAt: &stopped, UpdatedAt: stopped,
	}
}

func succeeded(cb *run.Callback) run.Run {
	r := failed(cb)
	code := 0
	r.Status, r.Cause, r.ExitCode, r.Reason = run.StatusSucceeded, run.CauseNone, &code, "exited with code 0"
	return r
}

func detail(t *testing.T, c awsfake.Call) map[string]any {
	t.Helper()
	var d map[string]any
	if err := json.Unmarshal([]byte(awsfake.Dig(c.Body, "Entries", 0, "Detail").(string)), &d); err != nil {
		t.Fatalf("event detail is not JSON: %v", err)
	}
	return d
}

func TestEveryFinishedRunPutsAResultEvent(t *testing.T) {
	f := awsfake.New(t)
	if err := newNotifier(f).Notify(context.Background(), failed(nil)); err != nil {
		t.Fatal(err)
	}
	calls := f.Calls("PutEvents")
	if len(calls) != 1 {
		t.Fatalf("%d PutEvents, want 1", len(calls))
	}
	e := awsfake.Dig(calls[0].Body, "Entries", 0).(map[string]any)
	if e["EventBusName"] != bus || e["Source"] != deploy.ResultSource || e["DetailType"] != deploy.ResultDetailType ||
		awsfake.Dig(e, "Resources", 0) != "arn:aws:ecs:us-east-1:111122223333:task/longshore/abc" {
		t.Errorf("entry = %v", e)
	}
	d := detail(t, calls[0])
	if d["id"] != "r-0000000000000001" || d["status"] != "failed" || d["cause"] != "exit" || d["exitCode"] != float64(3) {
		t.Errorf("detail = %v", d)
	}
	if len(f.Calls("SendMessage"))+len(f.Calls("SendTaskSuccess"))+len(f.Calls("SendTaskFailure")) != 0 {
		t.Error("a run without callback was sent somewhere else")
	}
}

func TestTheCallbackGetsTheOutcome(t *testing.T) {
	const queue = "https://sqs.us-east-1.amazonaws.com/111122223333/longshore-reply-orders"
	tests := []struct {
		name  string
		run   run.Run
		check func(t *testing.T, f *awsfake.Server)
	}{
		{"a reply queue receives the run", failed(&run.Callback{Kind: run.CallbackQueue, Target: queue}), func(t *testing.T, f *awsfake.Server) {
			c := f.Calls("SendMessage")
			if len(c) != 1 || c[0].Body["QueueUrl"] != queue || !strings.Contains(c[0].Body["MessageBody"].(string), `"exitCode":3`) {
				t.Fatalf("SendMessage calls = %v", c)
			}
			if awsfake.Dig(c[0].Body, "MessageAttributes", "longshore-status", "StringValue") != "failed" || c[0].Body["MessageDeduplicationId"] != nil {
				t.Errorf("message = %v", c[0].Body)
			}
		}},
		{"a FIFO reply queue deduplicates by run id", failed(&run.Callback{Kind: run.CallbackQueue, Target: queue + ".fifo"}), func(t *testing.T, f *awsfake.Server) {
			c := f.Calls("SendMessage")
			if len(c) != 1 || c[0].Body["MessageDeduplicationId"] != "r-0000000000000001" || c[0].Body["MessageGroupId"] != "hello" {
				t.Errorf("SendMessage = %v", c)
			}
		}},
		{"a task token of a succeeded run gets SendTaskSuccess with the run as output", succeeded(&run.Callback{Kind: run.CallbackTaskToken, Token: "tok"}), func(t *testing.T, f *awsfake.Server) {
			c := f.Calls("SendTaskSuccess")
			if len(c) != 1 || c[0].Body["taskToken"] != "tok" || !strings.Contains(c[0].Body["output"].(string), `"status":"succeeded"`) {
				t.Errorf("SendTaskSuccess = %v", c)
			}
		}},
		{"a task token of a failed run gets SendTaskFailure with status/cause and the exit code", failed(&run.Callback{Kind: run.CallbackTaskToken, Token: "tok"}), func(t *testing.T, f *awsfake.Server) {
			c := f.Calls("SendTaskFailure")
			if len(c) != 1 || c[0].Body["error"] != "failed/exit" || c[0].Body["cause"] != "run r-0000000000000001 of hello: exited with code 3" {
				t.Errorf("SendTaskFailure = %v", c)
			}
		}},
		{"another event bus named by the callback receives the event too", failed(&run.Callback{Kind: run.CallbackEvent, Target: "team-bus"}), func(t *testing.T, f *awsfake.Server) {
			c := f.Calls("PutEvents")
			if len(c) != 2 || awsfake.Dig(c[1].Body, "Entries", 0, "EventBusName") != "team-bus" {
				t.Errorf("PutEvents = %v", c)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := awsfake.New(t)
			if err := newNotifier(f).Notify(context.Background(), tt.run); err != nil {
				t.Fatal(err)
			}
			tt.check(t, f)
		})
	}
}

func TestNotifyTwiceOrInVainIsHandled(t *testing.T) {
	token := &run.Callback{Kind: run.CallbackTaskToken, Token: "tok"}
	tests := []struct {
		name    string
		op      string
		answer  awsfake.Answer
		run     run.Run
		wantErr string
	}{
		{"a token completed before is taken as done", "SendTaskFailure",
			awsfake.Error(400, "TaskTimedOut", "Task Timed Out: 'Provided task does not exist anymore'"), failed(token), ""},
		{"an invalid token is logged and dropped", "SendTaskSuccess", awsfake.Error(400, "InvalidToken", "Invalid token"), succeeded(token), ""},
		{"a reply queue that does not exist is dropped", "SendMessage",
			awsfake.Error(400, "AWS.SimpleQueueService.NonExistentQueue", "no queue"), failed(&run.Callback{Kind: run.CallbackQueue, Target: "https://sqs.x/1/q"}), ""},
		{"a throttled token completion is an error, to be tried again", "SendTaskFailure",
			awsfake.Error(400, "ThrottlingException", "slow down"), failed(token), "ThrottlingException"},
		{"an event the bus rejects is an error", "PutEvents",
			awsfake.OK(map[string]any{"FailedEntryCount": 1, "Entries": []any{map[string]any{"ErrorCode": "InternalFailure", "ErrorMessage": "try again"}}}), failed(nil), "InternalFailure"},
		{"an event bus that fails is an error", "PutEvents", awsfake.Error(500, "InternalException", "boom"), failed(nil), "InternalException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := awsfake.New(t)
			f.On(tt.op, tt.answer)
			err := newNotifier(f).Notify(context.Background(), tt.run)
			if tt.wantErr == "" && err != nil {
				t.Fatalf("Notify = %v, want nil", err)
			}
			if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("Notify = %v, want an error with %s", err, tt.wantErr)
			}
		})
	}
}

func TestARunTooLargeForAnEventIsSentWithoutItsInputs(t *testing.T) {
	f := awsfake.New(t)
	r := failed(nil)
	r.Trigger = run.Trigger{Kind: run.TriggerSQS, MessageID: "m1", Body: strings.Repeat("b", 250<<10)}
	if err := newNotifier(f).Notify(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	d := detail(t, f.Calls("PutEvents")[0])
	if awsfake.Dig(d, "trigger", "body") != nil || d["exitCode"] != float64(3) || awsfake.Dig(d, "trigger", "messageId") != "m1" {
		t.Errorf("detail = %.300v", d)
	}
}

func TestTheTaskFailureSaysTheExitCodeWhenTheReasonDoesNot(t *testing.T) {
	r := failed(nil)
	code := 137
	r.ExitCode, r.Reason = &code, "out of memory: OutOfMemoryError: Container killed due to memory usage"
	if got := notify.TaskCause(r); !strings.HasSuffix(got, "(exit code 137)") {
		t.Errorf("cause %q", got)
	}
	r.Status, r.Cause = run.StatusTimedOut, run.CauseNone
	if got := notify.TaskError(r); got != "timed_out" {
		t.Errorf("error %q", got)
	}
}
