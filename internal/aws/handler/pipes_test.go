package handler_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/longshore/longshore/internal/aws/handler"
	"github.com/longshore/longshore/internal/dispatch"
	"github.com/longshore/longshore/internal/run"
)

// pipesBatch is a JSON array of the elements given, as EventBridge Pipes
// hands a batch to a Lambda target.
func pipesBatch(t *testing.T, elems ...json.RawMessage) json.RawMessage {
	t.Helper()
	b, err := json.Marshal(elems)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// pipesRecords are the SQS records of a Pipe's batch, one by one.
func pipesRecords(t *testing.T) []json.RawMessage {
	t.Helper()
	var recs []json.RawMessage
	if err := json.Unmarshal(fixture(t, "pipes-sqs-batch.json"), &recs); err != nil {
		t.Fatal(err)
	}
	return recs
}

// failingService fails the launches fail picks, and passes the others on.
type failingService struct {
	svc  *dispatch.Service
	mu   sync.Mutex
	fail func(req dispatch.Request) error
}

func (f *failingService) Launch(ctx context.Context, req dispatch.Request) (dispatch.Launched, error) {
	f.mu.Lock()
	fail := f.fail
	f.mu.Unlock()
	if fail != nil {
		if err := fail(req); err != nil {
			return dispatch.Launched{}, err
		}
	}
	return f.svc.Launch(ctx, req)
}

func (f *failingService) set(fail func(req dispatch.Request) error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fail = fail
}

// pipesLauncher is the world's launcher over a service that fails what
// its failingService is told to.
func pipesLauncher(w *world) (*handler.Launcher, *failingService) {
	fs := &failingService{svc: w.svc}
	return handler.NewLauncher(handler.LauncherOptions{
		Service: fs, Runs: w.store, Jobs: w.jobs, Prefix: "longshore", UploadsBucket: uploads,
		Now: w.clock.Now, Sleep: func(ctx context.Context, d time.Duration) error { w.clock.Advance(d); return ctx.Err() },
		Poll: time.Second, Log: quiet,
	}), fs
}

func itemFailures(r handler.BatchResult) []string {
	out := []string{}
	for _, f := range r.BatchItemFailures {
		out = append(out, f.ItemIdentifier)
	}
	return out
}

// triggerKinds lists the trigger kind of each stored run, sorted.
func triggerKinds(runs []run.Run) []string {
	var out []string
	for _, r := range runs {
		out = append(out, r.Job+"/"+string(r.Trigger.Kind))
	}
	slices.Sort(out)
	return out
}

func TestAPipesBatchIsHandledElementByElement(t *testing.T) {
	tests := []struct {
		name      string
		batch     func(t *testing.T) json.RawMessage
		fail      func(req dispatch.Request) error
		wantRuns  []string // job/trigger kind of each run, sorted
		wantFails []string // batchItemFailures
		wantErrs  []int    // elements answered with an error
	}{
		{
			name:     "an empty batch starts nothing and fails nothing",
			batch:    func(*testing.T) json.RawMessage { return json.RawMessage(`[]`) },
			wantRuns: nil, wantFails: []string{},
		},
		{
			name:     "the SQS records of a Pipe each start a run of the queue's job",
			batch:    func(t *testing.T) json.RawMessage { return fixture(t, "pipes-sqs-batch.json") },
			wantRuns: []string{"resize/sqs", "resize/sqs"}, wantFails: []string{},
		},
		{
			name: "every kind of event is handled as the launcher handles it alone",
			batch: func(t *testing.T) json.RawMessage {
				return pipesBatch(t, pipesRecords(t)[0], fixture(t, "s3-object-created-eventbridge.json"),
					schedulePayload("nightly-report", "2026-11-22T03:00:00Z"), fixture(t, "eventbridge-scheduled-event.json"),
					json.RawMessage(`{"job": "hello", "key": "pipe-1"}`))
			},
			// The upload matches two jobs; the rule's Scheduled Event is
			// the same firing as the schedule payload: one run.
			wantRuns:  []string{"archive/s3", "hello/invoke", "ingest/s3", "nightly-report/schedule", "resize/sqs"},
			wantFails: []string{},
		},
		{
			name:  "a record whose run cannot be stored fails alone, for Pipes to deliver again",
			batch: func(t *testing.T) json.RawMessage { return fixture(t, "pipes-sqs-batch.json") },
			fail: func(req dispatch.Request) error {
				if req.Trigger.MessageID == "059f36b4-87a3-44ab-83d2-661975851281" {
					return errors.New("store unavailable")
				}
				return nil
			},
			wantRuns: []string{"resize/sqs"}, wantFails: []string{"059f36b4-87a3-44ab-83d2-661975851281"}, wantErrs: []int{1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			l, fs := pipesLauncher(w)
			fs.set(tt.fail)
			batch := tt.batch(t)
			out, err := l.Handle(ctx, batch)
			if err != nil {
				t.Fatalf("Handle = %v", err)
			}
			res, ok := out.(handler.BatchResult)
			if !ok {
				t.Fatalf("answered a %T, want a BatchResult", out)
			}
			var elems []json.RawMessage
			_ = json.Unmarshal(batch, &elems)
			if len(res.Items) != len(elems) {
				t.Errorf("%d items answered for %d elements", len(res.Items), len(elems))
			}
			var errs []int
			for i, it := range res.Items {
				if it.Error != "" {
					errs = append(errs, i)
				} else if it.Result == nil {
					t.Errorf("item %d has neither a result nor an error", i)
				}
			}
			if fmt.Sprint(errs) != fmt.Sprint(tt.wantErrs) {
				t.Errorf("elements %v answered errors, want %v", errs, tt.wantErrs)
			}
			if got := itemFailures(res); !slices.Equal(got, tt.wantFails) {
				t.Errorf("batchItemFailures %v, want %v", got, tt.wantFails)
			}
			if got := triggerKinds(w.runs()); !slices.Equal(got, tt.wantRuns) {
				t.Errorf("runs %v, want %v", got, tt.wantRuns)
			}
			// The answer is what Pipes reads: batchItemFailures at the top.
			raw, _ := json.Marshal(res)
			if !strings.HasPrefix(string(raw), `{"batchItemFailures":[`) {
				t.Errorf("answer %s", raw)
			}
		})
	}
}

func TestABatchWithAnElementTheLauncherDoesNotTakeIsRefusedWholeNamingIt(t *testing.T) {
	tests := []struct {
		name    string
		element json.RawMessage
		want    string
	}{
		{"an element that is not an object", json.RawMessage(`"hello"`), "not a JSON object"},
		{"an element that is null", json.RawMessage(`null`), "not a JSON object"},
		{"an SQS record without its message id", json.RawMessage(`{"eventSource": "aws:sqs", "body": "x", "eventSourceARN": "arn:aws:sqs:us-east-1:111122223333:longshore-resize"}`), "no messageId"},
		{"a record of another source", json.RawMessage(`{"eventSource": "aws:kinesis", "eventID": "shardId-000:1"}`), `"aws:kinesis"`},
		{"an SQS record whose fields have the wrong types", json.RawMessage(`{"eventSource": "aws:sqs", "messageId": 7}`), "decode the SQS record"},
		{"an S3 event whose detail is not an object", json.RawMessage(`{"source": "aws.s3", "detail-type": "Object Created", "detail": "x"}`), "decode the S3 Object Created event"},
		{"an event of another service", json.RawMessage(`{"source": "aws.ec2", "detail-type": "EC2 Instance State-change Notification"}`), `"aws.ec2"`},
		{"a run request with an unknown field", json.RawMessage(`{"job": "hello", "key": "k", "wait": 1}`), `unknown field "wait"`},
		{"a run request without a key", json.RawMessage(`{"job": "hello"}`), `needs "key"`},
		{"a run request that would wait", json.RawMessage(`{"job": "hello", "key": "k", "waitSeconds": 30}`), "cannot wait"},
		{"a whole SQS event", json.RawMessage(`{"Records": []}`), "records themselves"},
		{"an object with none of the fields", json.RawMessage(`{"hello": "world"}`), "none of"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			recs := pipesRecords(t)
			_, err := w.launcher.Handle(ctx, pipesBatch(t, recs[0], tt.element, recs[1]))
			if err == nil || !strings.Contains(errorMessage(err), "element 1 of the batch") || !strings.Contains(errorMessage(err), tt.want) {
				t.Fatalf("Handle = %v, want an error naming element 1 and saying %s", err, tt.want)
			}
			if errorType(err) != handler.ErrorRequest {
				t.Errorf("errorType %q, want %s", errorType(err), handler.ErrorRequest)
			}
			if n := len(w.runs()); n != 0 {
				t.Errorf("%d runs were made for a refused batch", n)
			}
		})
	}
	t.Run("an array that is not JSON", func(t *testing.T) {
		w := newWorld(t)
		_, err := w.launcher.Handle(ctx, json.RawMessage(`[{"job": "hello"},`))
		if err == nil || errorType(err) != handler.ErrorRequest || !strings.Contains(errorMessage(err), "decode the batch") {
			t.Fatalf("Handle = %v, want a RequestError about the batch", err)
		}
	})
}

func TestARedeliveredPipesBatchMakesNoSecondRun(t *testing.T) {
	tests := []struct {
		name string
		// fail fails launches of the first delivery only.
		fail     func(req dispatch.Request) error
		wantType string // errorType of the first delivery, "" for none
	}{
		{name: "a batch delivered twice, as at least once delivery allows"},
		{
			name: "a batch whose upload could not be stored fails, and Pipes delivers it all again",
			fail: func(req dispatch.Request) error {
				if req.Job == "ingest" {
					return errors.New("store unavailable")
				}
				return nil
			},
			wantType: handler.ErrorInternal,
		},
		{
			name: "a batch whose run request could not be stored fails, and Pipes delivers it all again",
			fail: func(req dispatch.Request) error {
				if req.Trigger.Kind == run.TriggerInvoke {
					return errors.New("store unavailable")
				}
				return nil
			},
			wantType: handler.ErrorInternal,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			l, fs := pipesLauncher(w)
			recs := pipesRecords(t)
			batch := pipesBatch(t, recs[0], recs[1], fixture(t, "s3-object-created-eventbridge.json"),
				schedulePayload("nightly-report", "2026-11-22T03:00:00Z"), json.RawMessage(`{"job": "hello", "key": "pipe-7"}`))
			want := []string{"archive/s3", "hello/invoke", "ingest/s3", "nightly-report/schedule", "resize/sqs", "resize/sqs"}

			fs.set(tt.fail)
			_, err := l.Handle(ctx, batch)
			if errorType(err) != tt.wantType {
				t.Fatalf("first delivery: %v (type %q), want type %q", err, errorType(err), tt.wantType)
			}
			if err != nil && !strings.Contains(errorMessage(err), "element ") {
				t.Errorf("the error %q names no element", errorMessage(err))
			}
			fs.set(nil)
			for range 2 {
				out, err := l.Handle(ctx, batch)
				if err != nil {
					t.Fatalf("delivery again: %v", err)
				}
				if f := itemFailures(out.(handler.BatchResult)); len(f) != 0 {
					t.Fatalf("delivery again: failures %v", f)
				}
			}
			if got := triggerKinds(w.runs()); !slices.Equal(got, want) {
				t.Errorf("runs %v, want one per trigger: %v", got, want)
			}
			if n := w.runner.Count(); n != len(want) {
				t.Errorf("%d tasks started, want %d", n, len(want))
			}
		})
	}
}
