package engine

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/longshore/longshore/internal/api"
	"github.com/longshore/longshore/internal/dispatch"
	"github.com/longshore/longshore/internal/job"
	sqsendpoint "github.com/longshore/longshore/internal/local/endpoint/sqs"
	"github.com/longshore/longshore/internal/run"
)

// recordingLauncher records the runs asked for, and stores none.
type recordingLauncher struct {
	mu   sync.Mutex
	reqs []dispatch.Request
}

func (l *recordingLauncher) Launch(_ context.Context, req dispatch.Request) (dispatch.Launched, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.reqs = append(l.reqs, req)
	return dispatch.Launched{Run: run.Run{ID: "r-0123456789abcdef", Job: req.Job, Status: run.StatusQueued, Callback: req.Callback}}, nil
}

func (l *recordingLauncher) Stop(context.Context, string, run.StopRequest) (run.Run, error) {
	return run.Run{}, dispatch.ErrNotFound
}

func (l *recordingLauncher) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.reqs)
}

type noRuns struct{}

func (noRuns) Get(context.Context, string) (run.Run, error) { return run.Run{}, dispatch.ErrNotFound }
func (noRuns) List(context.Context, dispatch.Query) ([]run.Run, string, error) {
	return nil, "", nil
}

type oneQueueJob struct{}

// Jobs: the job "orders" reads the trigger queue "orders".
func (oneQueueJob) Jobs() []*job.Spec {
	return []*job.Spec{{Name: "orders", Triggers: []job.Trigger{{SQS: &job.SQSTrigger{}}}}}
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func newSQSEndpoint(t *testing.T) (*sqsendpoint.Endpoint, *httptest.Server) {
	t.Helper()
	srv := httptest.NewServer(nil)
	e := sqsendpoint.New(sqsendpoint.Options{BaseURL: srv.URL, Jobs: oneQueueJob{}, Launch: &recordingLauncher{}, Log: quiet})
	srv.Config.Handler = e
	t.Cleanup(srv.Close)
	return e, srv
}

func TestARunRequestsCallbackIsCheckedBeforeAnythingStarts(t *testing.T) {
	tests := []struct {
		name     string
		callback string // JSON, "" for none
		want     string // in the error; "" when the run starts
	}{
		{name: "no callback", callback: ""},
		{name: "an event callback", callback: `{"kind": "event"}`},
		{name: "a queue callback by local URL", callback: `{"kind": "queue", "target": "http://127.0.0.1:8752/000000000000/replies"}`},
		{name: "a queue callback by AWS URL", callback: `{"kind": "queue", "target": "https://sqs.us-east-1.amazonaws.com/111122223333/replies"}`},
		{name: "a queue callback by name", callback: `{"kind": "queue", "target": "replies"}`},
		{name: "a task-token callback, which needs Step Functions", callback: `{"kind": "task-token", "token": "AAAAKgAAAAIAAAAA"}`,
			want: "task-token callbacks need Step Functions, which Longshore uses on AWS only: locally, use a callback of kind queue"},
		{name: "a queue callback without its queue", callback: `{"kind": "queue"}`, want: `callback of kind queue needs "target"`},
		{name: "a queue callback to a job's trigger queue", callback: `{"kind": "queue", "target": "orders"}`, want: "trigger queue of job orders"},
		{name: "a queue callback to a FIFO queue", callback: `{"kind": "queue", "target": "replies.fifo"}`, want: "no FIFO queues"},
		{name: "a callback of an unknown kind", callback: `{"kind": "email", "target": "x@example.com"}`, want: `callback kind "email" is unknown`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sqsh, sqsSrv := newSQSEndpoint(t)
			launch := &recordingLauncher{}
			h := api.NewHandler(api.Options{Launcher: callbackLauncher{Launcher: launch, replies: sqsh}, Runs: noRuns{}, Log: quiet,
				Jobs: func() []api.Job { return nil }})
			body := `{"job": "hello"`
			if tt.callback != "" {
				body += `, "callback": ` + tt.callback
			}
			body += "}"

			// POST /v1/runs, as `longshore run` sends it.
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/v1/runs", strings.NewReader(body)))
			// Lambda's Invoke of the launcher.
			inv := httptest.NewRecorder()
			h.ServeHTTP(inv, httptest.NewRequest(http.MethodPost, "/2015-03-31/functions/launcher/invocations", strings.NewReader(body)))

			if tt.want == "" {
				if rec.Code != http.StatusCreated || inv.Code != http.StatusOK || inv.Header().Get("X-Amz-Function-Error") != "" {
					t.Fatalf("start %d %s, invoke %d %s: want both started", rec.Code, rec.Body, inv.Code, inv.Body)
				}
				if n := launch.count(); n != 2 {
					t.Errorf("%d launches, want 2", n)
				}
				if strings.Contains(tt.callback, `"queue"`) {
					// The reply queue exists as soon as a run names it.
					out, err := newSQSClient(sqsSrv.URL).GetQueueUrl(context.Background(), &sqs.GetQueueUrlInput{QueueName: aws.String("replies")})
					if err != nil || aws.ToString(out.QueueUrl) != sqsSrv.URL+"/000000000000/replies" {
						t.Errorf("GetQueueUrl(replies) = %v, %v", out, err)
					}
				}
				return
			}
			var e api.Error
			json.Unmarshal(rec.Body.Bytes(), &e)
			if rec.Code != http.StatusBadRequest || !strings.Contains(e.Message, tt.want) {
				t.Errorf("start answered %d %s, want 400 saying %s", rec.Code, rec.Body, tt.want)
			}
			var fe struct{ ErrorType, ErrorMessage string }
			json.Unmarshal(inv.Body.Bytes(), &fe)
			if inv.Header().Get("X-Amz-Function-Error") == "" || fe.ErrorType != "RequestError" || !strings.Contains(fe.ErrorMessage, tt.want) {
				t.Errorf("invoke answered %d %s, want a RequestError saying %s", inv.Code, inv.Body, tt.want)
			}
			if n := launch.count(); n != 0 {
				t.Errorf("%d launches for a refused callback, want none", n)
			}
		})
	}
}

func newSQSClient(url string) *sqs.Client {
	return sqs.New(sqs.Options{Region: "us-east-1", BaseEndpoint: aws.String(url),
		Credentials: credentials.NewStaticCredentialsProvider("local", "local", "")})
}

func finishedRun(cb *run.Callback) run.Run {
	stopped := time.Date(2026, 12, 4, 10, 15, 0, 0, time.UTC)
	code := 3
	return run.Run{ID: "r-0123456789abcdef", Job: "hello", Attempt: 1, Status: run.StatusFailed, Cause: run.CauseExit, ExitCode: &code,
		Reason: "exited with code 3", Trigger: run.Trigger{Kind: run.TriggerInvoke, Caller: "api"}, Env: map[string]string{"EXIT_CODE": "3"},
		Callback: cb, CreatedAt: stopped.Add(-time.Minute), StartedAt: &stopped, StoppedAt: &stopped, UpdatedAt: stopped}
}

func TestAFinishedRunsCallbackIsFollowedLocally(t *testing.T) {
	big := strings.Repeat("x", maxReply)
	tests := []struct {
		name      string
		run       run.Run
		wantReply bool
		trimmed   bool // the reply lacks the run's inputs
	}{
		{name: "a queue callback sends the run's JSON to the reply queue", run: finishedRun(&run.Callback{Kind: run.CallbackQueue, Target: "replies"}), wantReply: true},
		{name: "a queue callback by URL sends it to the queue of that name", run: finishedRun(&run.Callback{Kind: run.CallbackQueue, Target: "https://sqs.us-east-1.amazonaws.com/111122223333/replies"}), wantReply: true},
		{name: "a reply too big for a message goes without the run's inputs", run: func() run.Run {
			r := finishedRun(&run.Callback{Kind: run.CallbackQueue, Target: "replies"})
			r.Env["BIG"] = big
			return r
		}(), wantReply: true, trimmed: true},
		{name: "an event callback sends no message", run: finishedRun(&run.Callback{Kind: run.CallbackEvent})},
		{name: "no callback sends no message", run: finishedRun(nil)},
		// Stored by an engine that took them, they are dropped, saying why.
		{name: "a task-token callback is dropped", run: finishedRun(&run.Callback{Kind: run.CallbackTaskToken, Token: "tok"})},
		{name: "a queue callback to a trigger queue is dropped", run: finishedRun(&run.Callback{Kind: run.CallbackQueue, Target: "orders"})},
		{name: "a reply larger than SQS takes, even without the run's inputs, is dropped", run: func() run.Run {
			r := finishedRun(&run.Callback{Kind: run.CallbackQueue, Target: "replies"})
			r.Reason = big + big
			return r
		}()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sqsh, sqsSrv := newSQSEndpoint(t)
			if _, err := sqsh.ReplyQueue("replies"); err != nil {
				t.Fatal(err)
			}
			data := t.TempDir()
			notes := &eventLog{path: filepath.Join(data, "events.jsonl"), log: quiet}
			notes.setReplies(sqsh)
			if err := notes.Notify(context.Background(), tt.run); err != nil {
				t.Fatalf("Notify = %v", err)
			}
			if lines, _ := os.ReadFile(notes.path); strings.Count(string(lines), "\n") != 1 {
				t.Errorf("events.jsonl holds %q, want one result event", lines)
			}
			out, err := newSQSClient(sqsSrv.URL).ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{
				QueueUrl: aws.String(sqsSrv.URL + "/000000000000/replies"), MaxNumberOfMessages: 10, MessageAttributeNames: []string{"All"}})
			if err != nil {
				t.Fatalf("ReceiveMessage: %v", err)
			}
			if !tt.wantReply {
				if len(out.Messages) != 0 {
					t.Errorf("received %d messages, want none", len(out.Messages))
				}
				return
			}
			if len(out.Messages) != 1 {
				t.Fatalf("received %d messages, want the reply", len(out.Messages))
			}
			m := out.Messages[0]
			want := api.FromRun(tt.run)
			if tt.trimmed {
				want.Env, want.Command, want.Trigger.Body = nil, nil, ""
			}
			raw, _ := json.Marshal(want)
			if aws.ToString(m.Body) != string(raw) {
				t.Errorf("reply %.300s, want the run's JSON %.300s", aws.ToString(m.Body), raw)
			}
			if aws.ToString(m.MessageAttributes["longshore-run"].StringValue) != tt.run.ID || aws.ToString(m.MessageAttributes["longshore-status"].StringValue) != "failed" {
				t.Errorf("attributes %v, want longshore-run and longshore-status", m.MessageAttributes)
			}
		})
	}
}

func TestAReplyThatCannotBeSentYetIsTriedAgain(t *testing.T) {
	notes := &eventLog{path: filepath.Join(t.TempDir(), "events.jsonl"), log: quiet}
	r := finishedRun(&run.Callback{Kind: run.CallbackQueue, Target: "replies"})
	if err := notes.Notify(context.Background(), r); err == nil {
		t.Fatal("Notify before the SQS endpoint is up = nil, want an error (the reconciler notifies again)")
	}
	sqsh, _ := newSQSEndpoint(t)
	notes.setReplies(sqsh)
	if err := notes.Notify(context.Background(), r); err != nil {
		t.Fatalf("Notify again = %v", err)
	}
}
