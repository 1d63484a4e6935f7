package handler_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/longshore/longshore/internal/api"
	"github.com/longshore/longshore/internal/aws/handler"
	"github.com/longshore/longshore/internal/deploy"
	"github.com/longshore/longshore/internal/dispatch"
	"github.com/longshore/longshore/internal/run"
)

var ctx = context.Background()

func schedulePayload(jobName, at string) json.RawMessage {
	b, _ := json.Marshal(deploy.SchedulePayload{
		Job: jobName, ScheduledTime: at, ScheduleArn: "arn:aws:scheduler:us-east-1:111122223333:schedule/longshore/longshore-" + jobName + "-0",
		ExecutionID: "e-1",
	})
	return b
}

func TestTheLauncherTellsTheEventKindsApart(t *testing.T) {
	tests := []struct {
		name    string
		payload func(t *testing.T) json.RawMessage
		want    run.TriggerKind
		job     string
	}{
		{"an EventBridge Scheduler payload is a schedule", func(*testing.T) json.RawMessage {
			return schedulePayload("nightly-report", "2026-11-22T03:00:00Z")
		}, run.TriggerSchedule, "nightly-report"},
		{"an EventBridge rule's Scheduled Event is a schedule of the job the rule names", func(t *testing.T) json.RawMessage {
			return fixture(t, "eventbridge-scheduled-event.json")
		}, run.TriggerSchedule, "nightly-report"},
		{"an S3 Object Created event through EventBridge is an upload", func(t *testing.T) json.RawMessage {
			return fixture(t, "s3-object-created-eventbridge.json")
		}, run.TriggerS3, "ingest"},
		{"a batch of SQS records is messages", func(t *testing.T) json.RawMessage {
			return fixture(t, "sqs-batch.json")
		}, run.TriggerSQS, "resize"},
		{"a run request is a direct invoke", func(*testing.T) json.RawMessage {
			return json.RawMessage(`{"job": "hello", "env": {"EXIT_CODE": "3"}, "key": "k1"}`)
		}, run.TriggerInvoke, "hello"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			if _, err := w.launcher.Handle(ctx, tt.payload(t)); err != nil {
				t.Fatalf("Handle = %v", err)
			}
			runs := w.runs()
			if len(runs) == 0 {
				t.Fatal("no run launched")
			}
			for _, r := range runs {
				if r.Trigger.Kind == tt.want && r.Job == tt.job {
					return
				}
			}
			t.Errorf("runs %v, want a %s run of %s", runs, tt.want, tt.job)
		})
	}
}

func TestTheLauncherRefusesWhatIsNoTriggerClearly(t *testing.T) {
	tests := []struct {
		name, payload, want string
	}{
		{"a payload that is not a JSON object", `"hello"`, "not a JSON object"},
		{"malformed JSON", `{"job": `, "decode the event"},
		{"an event of another service", `{"source": "aws.ec2", "detail-type": "EC2 Instance State-change Notification", "detail": {}}`, `"aws.ec2"`},
		{"an object with none of the fields", `{"hello": "world"}`, "none of"},
		{"a run request with an unknown field", `{"job": "hello", "wait": 10}`, `unknown field "wait"`},
		{"a run request of an unknown job", `{"job": "nope"}`, `unknown job "nope"`},
		{"a run request with a negative wait", `{"job": "hello", "waitSeconds": -1}`, "waitSeconds"},
		{"a callback queue without its URL", `{"job": "hello", "callback": {"kind": "queue"}}`, "queue's URL"},
		{"a callback of an unknown kind", `{"job": "hello", "callback": {"kind": "email", "target": "x@y"}}`, `kind "email"`},
		{"an event callback to a bus the deployment may not put events on", `{"job": "hello", "callback": {"kind": "event", "target": "arn:aws:events:us-east-1:999999999999:event-bus/elsewhere"}}`,
			`may not put events on: use longshore-results or ` + partnerBus + `, leave "target" empty`},
		{"an event callback to another bus of the account by name", `{"job": "hello", "callback": {"kind": "event", "target": "partner"}}`, `names bus "partner"`},
		{"a schedule payload whose time was never substituted", string(schedulePayload("nightly-report", "<aws.scheduler.scheduled-time>")), "placeholder"},
		{"a schedule payload of an unknown job", string(schedulePayload("nope", "2026-11-22T03:00:00Z")), `unknown job "nope"`},
		{"a schedule payload with a bad time", string(schedulePayload("nightly-report", "yesterday")), "not an RFC 3339 time"},
		{"a rule that names no job", `{"source": "aws.events", "detail-type": "Scheduled Event", "time": "2026-11-22T03:00:00Z", "resources": ["arn:aws:events:us-east-1:1:rule/other"]}`, "names no job"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			_, err := w.launcher.Handle(ctx, json.RawMessage(tt.payload))
			if err == nil || !strings.Contains(errorMessage(err), tt.want) {
				t.Fatalf("Handle = %v, want an error saying %s", err, tt.want)
			}
			if errorType(err) != handler.ErrorRequest {
				t.Errorf("errorType %q, want %s", errorType(err), handler.ErrorRequest)
			}
			if len(w.runs()) != 0 {
				t.Errorf("runs were made: %v", w.runs())
			}
		})
	}
}

// partnerBus is a bus the test deployment was granted (-c callbackEventBusArns).
const partnerBus = "arn:aws:events:us-east-1:123456789012:event-bus/partner"

func TestAnEventCallbackMayNameTheDeploymentsBusOrAGrantedOne(t *testing.T) {
	for _, target := range []string{"", "longshore-results", "arn:aws:events:us-east-1:123456789012:event-bus/longshore-results", partnerBus} {
		t.Run("target "+target, func(t *testing.T) {
			w := newWorld(t)
			payload := `{"job": "hello", "callback": {"kind": "event", "target": "` + target + `"}}`
			if _, err := w.launcher.Handle(ctx, json.RawMessage(payload)); err != nil {
				t.Fatalf("Handle = %v", err)
			}
			if len(w.runs()) != 1 {
				t.Errorf("runs = %v, want one", w.runs())
			}
		})
	}
}

func TestAScheduleMakesOneRunPerScheduledMinute(t *testing.T) {
	w := newWorld(t)
	first, err := w.launcher.Handle(ctx, schedulePayload("nightly-report", "2026-11-22T03:00:00Z"))
	if err != nil {
		t.Fatal(err)
	}
	// Scheduler's retry of the same firing, a few seconds later within the minute.
	again, err := w.launcher.Handle(ctx, schedulePayload("nightly-report", "2026-11-22T03:00:07Z"))
	if err != nil {
		t.Fatal(err)
	}
	a, b := first.(handler.LaunchResult), again.(handler.LaunchResult)
	if len(w.runs()) != 1 || a.Runs[0].ID != b.Runs[0].ID || !b.Runs[0].Duplicate {
		t.Fatalf("runs %v; first %+v, again %+v", w.runs(), a, b)
	}
	r := w.runs()[0]
	if r.Trigger.ScheduledTime == nil || !r.Trigger.ScheduledTime.Equal(time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC)) ||
		!strings.HasPrefix(r.Trigger.Schedule, "arn:aws:scheduler:") {
		t.Errorf("trigger = %+v", r.Trigger)
	}
	task, _ := w.runner.Task(r.ID)
	if task.Task.Env["LONGSHORE_SCHEDULED_TIME"] != "2026-11-22T03:00:00Z" || w.runner.Count() != 1 {
		t.Errorf("task env %v, %d tasks", task.Task.Env, w.runner.Count())
	}
}

func TestAnUploadStartsEveryMatchingJobOnce(t *testing.T) {
	w := newWorld(t)
	out, err := w.launcher.Handle(ctx, fixture(t, "s3-object-created-eventbridge.json"))
	if err != nil {
		t.Fatal(err)
	}
	res := out.(handler.LaunchResult)
	var jobs []string
	for _, r := range res.Runs {
		jobs = append(jobs, r.Job)
	}
	slices.Sort(jobs)
	if fmt.Sprint(jobs) != "[archive ingest]" {
		t.Fatalf("launched %v, want archive and ingest", jobs)
	}
	for _, r := range w.runs() {
		tr := r.Trigger
		if tr.Bucket != uploads || tr.Key != "incoming/2026-11-22T10:01:02-orders.csv" || tr.Sequencer != "00617F08299329D189" {
			t.Errorf("trigger %+v: the key must be used as stored", tr)
		}
	}
	// EventBridge delivers the same event again.
	if _, err := w.launcher.Handle(ctx, fixture(t, "s3-object-created-eventbridge.json")); err != nil {
		t.Fatal(err)
	}
	if len(w.runs()) != 2 || w.runner.Count() != 2 {
		t.Errorf("%d runs and %d tasks after a duplicate delivery, want 2 and 2", len(w.runs()), w.runner.Count())
	}
}

func TestUploadsThatStartNothing(t *testing.T) {
	tests := []struct {
		name    string
		edit    func(ev map[string]any)
		ignored string
		err     string
	}{
		{"an object no job wants is ignored", func(ev map[string]any) {
			ev["detail"].(map[string]any)["object"].(map[string]any)["key"] = "outgoing/report.pdf"
		}, "no job's s3 trigger matches", ""},
		{"an object of another bucket is refused", func(ev map[string]any) {
			ev["detail"].(map[string]any)["bucket"].(map[string]any)["name"] = "someone-elses"
		}, "", "only the uploads bucket"},
		{"an event without a sequencer is refused", func(ev map[string]any) {
			delete(ev["detail"].(map[string]any)["object"].(map[string]any), "sequencer")
		}, "", "no sequencer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			out, err := w.launcher.Handle(ctx, edit(t, "s3-object-created-eventbridge.json", tt.edit))
			if tt.err != "" {
				if err == nil || !strings.Contains(errorMessage(err), tt.err) || errorType(err) != handler.ErrorRequest {
					t.Fatalf("Handle = %v, want a request error saying %s", err, tt.err)
				}
			} else if err != nil || !strings.Contains(out.(handler.LaunchResult).Ignored, tt.ignored) {
				t.Fatalf("Handle = %+v, %v", out, err)
			}
			if len(w.runs()) != 0 {
				t.Errorf("runs %v", w.runs())
			}
		})
	}
}

func batch(t *testing.T) events.SQSEvent {
	var ev events.SQSEvent
	if err := json.Unmarshal(fixture(t, "sqs-batch.json"), &ev); err != nil {
		t.Fatal(err)
	}
	return ev
}

func TestABatchMakesOneRunPerMessageAndFailsOnlyTheBadOnes(t *testing.T) {
	ids := func(r events.SQSEventResponse) []string {
		out := []string{}
		for _, f := range r.BatchItemFailures {
			out = append(out, f.ItemIdentifier)
		}
		return out
	}
	tests := []struct {
		name     string
		setup    func(w *world, ev *events.SQSEvent)
		failures []string
		runs     int
	}{
		{"every message of a good batch is a run, the one that is not JSON too", func(*world, *events.SQSEvent) {}, []string{}, 3},
		{"a message of a queue no job reads fails alone", func(_ *world, ev *events.SQSEvent) {
			ev.Records[1].EventSourceARN = "arn:aws:sqs:us-east-1:111122223333:longshore-unknown"
		}, []string{"059f36b4-87a3-44ab-83d2-661975851281"}, 2},
		{"a message of another deployment's queue fails alone", func(_ *world, ev *events.SQSEvent) {
			ev.Records[0].EventSourceARN = "arn:aws:sqs:us-east-1:111122223333:other-resize"
		}, []string{"059f36b4-87a3-44ab-83d2-661975851280"}, 2},
		{"a message whose run cannot be stored fails alone, to be received again", func(w *world, _ *events.SQSEvent) {
			w.launches.fail["059f36b4-87a3-44ab-83d2-661975851282"] = errors.New("store unavailable")
		}, []string{"059f36b4-87a3-44ab-83d2-661975851282"}, 2},
		{"a message whose task must wait for capacity is taken: its run is stored", func(w *world, _ *events.SQSEvent) {
			w.runner.StartErr = &dispatch.StartError{Transient: true, Reason: "RESOURCE:ENI"}
		}, []string{}, 3},
		{"a record that is not an SQS message fails alone", func(_ *world, ev *events.SQSEvent) {
			ev.Records[2].EventSource = "aws:kinesis"
		}, []string{"059f36b4-87a3-44ab-83d2-661975851282"}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			ev := batch(t)
			tt.setup(w, &ev)
			resp, err := w.launcher.Messages(ctx, ev)
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(ids(resp)) != fmt.Sprint(tt.failures) {
				t.Errorf("batchItemFailures %v, want %v", ids(resp), tt.failures)
			}
			if len(w.runs()) != tt.runs {
				t.Errorf("%d runs, want %d", len(w.runs()), tt.runs)
			}
		})
	}
}

func TestARedeliveredBatchMakesNoSecondRun(t *testing.T) {
	w := newWorld(t)
	for range 2 {
		out, err := w.launcher.Handle(ctx, fixture(t, "sqs-batch.json"))
		if err != nil {
			t.Fatal(err)
		}
		if f := out.(events.SQSEventResponse).BatchItemFailures; len(f) != 0 {
			t.Fatalf("failures %v", f)
		}
	}
	if len(w.runs()) != 3 || w.runner.Count() != 3 {
		t.Errorf("%d runs, %d tasks; want 3 and 3", len(w.runs()), w.runner.Count())
	}
	for _, r := range w.runs() {
		if r.Trigger.Queue != "resize" || r.Trigger.MessageID == "" {
			t.Errorf("trigger %+v", r.Trigger)
		}
	}
	var notJSON bool
	for _, r := range w.runs() {
		task, _ := w.runner.Task(r.ID)
		notJSON = notJSON || task.Task.Env["LONGSHORE_SQS_BODY"] == "this is not json"
	}
	if !notJSON {
		t.Error("the message that is not JSON did not reach its task as it was sent")
	}
}

func TestADirectInvokeAnswersTheRun(t *testing.T) {
	w := newWorld(t)
	out, err := w.launcher.Handle(ctx, json.RawMessage(`{"job": "hello", "env": {"EXIT_CODE": "3"}, "key": "k1"}`))
	if err != nil {
		t.Fatal(err)
	}
	first := out.(api.RunResponse)
	if first.Job != "hello" || first.Status != run.StatusStarting || first.Duplicate || first.Trigger.Kind != run.TriggerInvoke {
		t.Errorf("answer %+v", first)
	}
	out, err = w.launcher.Handle(ctx, json.RawMessage(`{"job": "hello", "env": {"EXIT_CODE": "3"}, "key": "k1"}`))
	if err != nil {
		t.Fatal(err)
	}
	if again := out.(api.RunResponse); again.ID != first.ID || !again.Duplicate {
		t.Errorf("the same key again answered %s duplicate=%v, want %s duplicate", again.ID, again.Duplicate, first.ID)
	}
	out, _ = w.launcher.Handle(ctx, json.RawMessage(`{"job": "hello"}`))
	if other := out.(api.RunResponse); other.ID == first.ID {
		t.Error("an invoke without a key was taken as a duplicate")
	}
}

func TestADirectInvokeWaitsForTheExitCodeWithinItsDeadline(t *testing.T) {
	tests := []struct {
		name       string
		wait       int
		deadline   time.Duration
		finishAt   int // the poll at which the task stops with exit 3; 0 never
		wantStatus run.Status
		wantWaited time.Duration
	}{
		{"the answer comes when the run finishes", 60, time.Hour, 3, run.StatusFailed, 3 * time.Second},
		{"the wait ends after waitSeconds", 5, time.Hour, 0, run.StatusStarting, 5 * time.Second},
		{"the wait ends a second before the invocation's deadline", 600, 30 * time.Second, 0, run.StatusStarting, 29 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The clock starts now: the handler reads the context's deadline against it.
			w := newWorldAt(t, time.Now())
			polls := 0
			w.launcher = handler.NewLauncher(handler.LauncherOptions{
				Service: w.svc, Runs: w.store, Jobs: w.jobs, Prefix: "longshore", Now: w.clock.Now, Poll: time.Second, Log: quiet,
				Sleep: func(_ context.Context, d time.Duration) error {
					w.clock.Advance(d)
					polls++
					if polls == tt.finishAt {
						r := w.runs()[0]
						code := 3
						ts := w.runner.SetState(r.ID, run.TaskState{Phase: run.PhaseStopped, StopCode: run.StopCodeEssentialExited,
							Containers: []run.Container{{Name: "app", ExitCode: &code}}})
						if _, err := w.svc.Observe(ctx, ts); err != nil {
							t.Error(err)
						}
					}
					return nil
				},
			})
			start := w.clock.Now()
			c, cancel := context.WithDeadline(ctx, start.Add(tt.deadline))
			defer cancel()
			out, err := w.launcher.Invoke(c, api.RunRequest{Job: "hello", WaitSeconds: tt.wait})
			if err != nil {
				t.Fatal(err)
			}
			if out.Status != tt.wantStatus || w.clock.Now().Sub(start) != tt.wantWaited {
				t.Errorf("answered %s after %v, want %s after %v", out.Status, w.clock.Now().Sub(start), tt.wantStatus, tt.wantWaited)
			}
			if tt.wantStatus == run.StatusFailed && (out.ExitCode == nil || *out.ExitCode != 3) {
				t.Errorf("exit code %v, want 3", out.ExitCode)
			}
		})
	}
}
