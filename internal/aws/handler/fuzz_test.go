package handler_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"

	"github.com/longshore/longshore/internal/api"
	"github.com/longshore/longshore/internal/aws/ecs"
	"github.com/longshore/longshore/internal/aws/handler"
	"github.com/longshore/longshore/internal/run"
)

// The fuzz targets of the functions' handlers. Each input gets a world of
// its own, so a failure replays from its corpus entry alone; their seeds
// are the AWS-shaped fixtures of testdata/ and, committed under
// testdata/fuzz/<Target>/, the edge cases of each event kind.

// seedFile reads a testdata fixture for a fuzz target.
func seedFile(f *testing.F, name string) []byte {
	f.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		f.Fatal(err)
	}
	return b
}

// snapshot is everything a handler may change: the runs, the tasks started
// and the outcomes reported.
type snapshot struct {
	Runs    []run.Run
	Tasks   int
	Reports []run.Run
}

func (w *world) snapshot() snapshot {
	return snapshot{Runs: w.runs(), Tasks: w.runner.Count(), Reports: w.notes.Reports()}
}

// unchanged fails the test when a rejected input changed the world.
func (w *world) unchanged(t *testing.T, before snapshot, input []byte, err error) {
	t.Helper()
	if after := w.snapshot(); !reflect.DeepEqual(before, after) {
		t.Fatalf("%q was refused (%v) but changed the world:\nbefore %+v\nafter  %+v", input, err, before, after)
	}
}

// clearError fails the test unless err is a function error of one of the
// types given, with a message that says something, in one valid string.
func clearError(t *testing.T, input []byte, err error, types ...string) {
	t.Helper()
	typ, msg := errorType(err), errorMessage(err)
	ok := false
	for _, want := range types {
		ok = ok || typ == want
	}
	if !ok || strings.TrimSpace(msg) == "" || !utf8.ValidString(msg) {
		t.Fatalf("%q: error %T %q of type %q, want one of %v with a message", input, err, msg, typ, types)
	}
}

// fuzzLauncher is the world's launcher whose direct invokes wait on the
// world's clock and give up after a bounded number of polls, as the
// invocation's deadline would end them on AWS.
func fuzzLauncher(w *world) *handler.Launcher {
	polls := 0
	return handler.NewLauncher(handler.LauncherOptions{
		Service: w.launches, Runs: w.store, Jobs: w.jobs, Prefix: "longshore", UploadsBucket: uploads,
		Now: w.clock.Now,
		Sleep: func(ctx context.Context, d time.Duration) error {
			if polls++; polls > 100 {
				return context.DeadlineExceeded
			}
			w.clock.Advance(d)
			return ctx.Err()
		},
		Poll: 10 * time.Second, Log: quiet,
	})
}

// FuzzLauncherHandle sends any payload to the launcher: its envelope, and
// each event kind behind it (an S3 Object Created event through
// EventBridge, an SQS batch, a Scheduler payload, a rule's Scheduled
// Event, a direct invoke). It never panics; what it refuses is a
// RequestError that says why and changes nothing; what it takes is
// stored, once per trigger, and answered in the shape of its kind.
func FuzzLauncherHandle(f *testing.F) {
	for _, name := range []string{"s3-object-created-eventbridge.json", "sqs-batch.json", "eventbridge-scheduled-event.json"} {
		f.Add(seedFile(f, name))
	}
	f.Add([]byte(schedulePayload("nightly-report", "2026-11-22T03:00:00Z")))
	f.Add([]byte(`{"job": "hello", "env": {"EXIT_CODE": "3"}, "key": "k1", "waitSeconds": 30}`))
	f.Add(seedFile(f, "pipes-sqs-batch.json"))
	f.Add([]byte(`[{"job": "hello", "key": "k1"}, {"job": "nope", "key": "k2"}, ` + string(schedulePayload("nightly-report", "2026-11-22T03:00:00Z")) + `]`))
	f.Fuzz(func(t *testing.T, payload []byte) {
		w := newWorld(t)
		before := w.snapshot()
		l := fuzzLauncher(w)
		out, err := l.Handle(ctx, payload)
		if err != nil {
			clearError(t, payload, err, handler.ErrorRequest)
			if strings.Contains(errorMessage(err), "elements of the batch failed") {
				// Some elements of a batch are stored: delivered again,
				// the batch makes them no second run.
				redelivered(t, w, l, payload)
				return
			}
			w.unchanged(t, before, payload, err)
			return
		}
		runs := w.runs()
		switch res := out.(type) {
		case handler.BatchResult:
			var elems []json.RawMessage
			if err := json.Unmarshal(payload, &elems); err != nil || len(elems) != len(res.Items) {
				t.Fatalf("%q answered %d items (%v)", payload, len(res.Items), err)
			}
			redelivered(t, w, l, payload)
		case events.SQSEventResponse:
			checkBatch(t, payload, res, runs)
		case handler.LaunchResult:
			if len(res.Runs) != len(runs) || (len(runs) == 0) != (res.Ignored != "") {
				t.Fatalf("%q answered %+v with %d run(s) stored", payload, res, len(runs))
			}
			for _, r := range res.Runs {
				if got, err := w.store.Get(ctx, r.ID); err != nil || got.Job != r.Job || got.Attempt != 1 {
					t.Fatalf("%q answered run %+v, stored %+v (%v)", payload, r, got, err)
				}
			}
		case api.RunResponse:
			if len(runs) != 1 || runs[0].ID != res.ID || runs[0].Trigger.Kind != run.TriggerInvoke {
				t.Fatalf("%q answered run %s, stored %+v", payload, res.ID, runs)
			}
		default:
			t.Fatalf("%q answered a %T", payload, out)
		}
	})
}

// redelivered hands payload, a batch already handled once, to the
// launcher again: it makes no run that the first delivery made.
func redelivered(t *testing.T, w *world, l *handler.Launcher, payload []byte) {
	t.Helper()
	before := len(w.runs())
	_, _ = l.Handle(ctx, payload)
	if after := len(w.runs()); after != before {
		t.Fatalf("%q delivered again made %d more run(s)", payload, after-before)
	}
}

// checkBatch: every message the answer does not fail has its one run, every
// failure names a message of the batch, and no message has two runs.
func checkBatch(t *testing.T, payload []byte, res events.SQSEventResponse, runs []run.Run) {
	t.Helper()
	var ev events.SQSEvent
	if err := json.Unmarshal(payload, &ev); err != nil {
		t.Fatalf("%q was taken as a batch, but it is not one: %v", payload, err)
	}
	sent := map[string]bool{}
	for _, m := range ev.Records {
		sent[m.MessageId] = true
	}
	failed := map[string]bool{}
	for _, f := range res.BatchItemFailures {
		if !sent[f.ItemIdentifier] {
			t.Fatalf("%q: failure %q names no message of the batch", payload, f.ItemIdentifier)
		}
		failed[f.ItemIdentifier] = true
	}
	ran := map[string]int{}
	for _, r := range runs {
		if r.Trigger.Kind != run.TriggerSQS || !sent[r.Trigger.MessageID] {
			t.Fatalf("%q: run %+v is of no message of the batch", payload, r)
		}
		if ran[r.Trigger.Queue+"\x00"+r.Trigger.MessageID]++; ran[r.Trigger.Queue+"\x00"+r.Trigger.MessageID] > 1 {
			t.Fatalf("%q: message %s has two runs", payload, r.Trigger.MessageID)
		}
	}
	for _, m := range ev.Records {
		if failed[m.MessageId] {
			continue
		}
		found := false
		for _, r := range runs {
			found = found || r.Trigger.MessageID == m.MessageId
		}
		if !found {
			t.Fatalf("%q: message %q is not failed, yet it has no run: it would be lost", payload, m.MessageId)
		}
	}
}

// FuzzTrackerHandle sends any payload to the tracker, with a starting run
// of hello whose task is the one the event names when it names one. It
// never panics; a malformed event is a RequestError that changes nothing;
// an event that is not applied changes nothing; an applied one moves the
// run to the status it answers; and the same event delivered again is
// never applied twice.
func FuzzTrackerHandle(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "ecs-task-*.json"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no ECS task fixtures: %v", err)
	}
	for _, p := range files {
		f.Add(seedFile(f, filepath.Base(p)))
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		w := newWorld(t)
		task := fixtureTaskID
		if ev, err := ecs.ParseTaskStateChange(payload); err == nil && ecs.TaskID(ev.Detail.TaskARN) != "" {
			task = ecs.TaskID(ev.Detail.TaskARN)
		}
		w.taskRun(task)
		before := w.snapshot()
		res, err := w.tracker.Handle(ctx, payload)
		if err != nil {
			clearError(t, payload, err, handler.ErrorRequest)
			w.unchanged(t, before, payload, err)
			return
		}
		if !res.Applied {
			if res.Ignored == "" && res.Run == "" {
				t.Fatalf("%q: neither applied nor said why not: %+v", payload, res)
			}
			w.unchanged(t, before, payload, nil)
			return
		}
		if got := w.get(fixtureRun); res.Run != fixtureRun || got.Status != res.Status {
			t.Fatalf("%q: applied %+v, run is %s", payload, res, got.Status)
		}
		again := w.snapshot()
		res2, err := w.tracker.Handle(ctx, payload)
		if err != nil || res2.Applied {
			t.Fatalf("%q delivered again: %+v, %v; want it dropped as a duplicate", payload, res2, err)
		}
		w.unchanged(t, again, payload, nil)
	})
}

// FuzzAPIHandle sends any payload to the api function, with two runs
// stored (r-0000000000000001 and r-0000000000000002). It never panics;
// every error is a RequestError or NotFound that says why; nothing but a
// successful stop changes anything; and every answer has its op's shape.
func FuzzAPIHandle(f *testing.F) {
	for _, s := range []string{
		`{"op": "get", "id": "r-0000000000000001"}`,
		`{"op": "list", "job": "hello", "status": ["starting", "failed"], "limit": 1}`,
		`{"op": "stop", "id": "r-0000000000000002"}`,
		`{"op": "logs", "id": "r-0000000000000001", "token": "f/2", "limit": 10}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		w := newWorld(t)
		w.launch(t, `{"job": "hello"}`)
		w.clock.Advance(time.Second)
		w.launch(t, `{"job": "nightly-report"}`)
		before := w.snapshot()
		out, err := w.api.Handle(ctx, payload)
		var req handler.APIRequest
		_ = json.Unmarshal(payload, &req)
		if err != nil {
			clearError(t, payload, err, handler.ErrorRequest, handler.ErrorNotFound)
			w.unchanged(t, before, payload, err)
			return
		}
		if req.Op != handler.OpStop {
			w.unchanged(t, before, payload, nil)
		}
		var ok bool
		switch req.Op {
		case handler.OpGet, handler.OpStop:
			var r api.Run
			r, ok = out.(api.Run)
			ok = ok && r.ID == req.ID
		case handler.OpList:
			_, ok = out.(api.RunList)
		case handler.OpLogs:
			var p handler.LogsPage
			p, ok = out.(handler.LogsPage)
			ok = ok && p.RunID == req.ID && p.Events != nil
		}
		if !ok {
			t.Fatalf("%q answered %T %+v", payload, out, out)
		}
	})
}
