package handler_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/aws/aws-lambda-go/lambda/messages"

	"github.com/longshore/longshore/internal/aws/handler"
	"github.com/longshore/longshore/internal/dispatch"
	"github.com/longshore/longshore/internal/dispatch/fake"
	"github.com/longshore/longshore/internal/job"
	"github.com/longshore/longshore/internal/run"
)

// The fixtures' facts.
const (
	cluster       = "arn:aws:ecs:us-east-1:111122223333:cluster/longshore"
	uploads       = "longshore-uploads-111122223333"
	fixtureRun    = "r-7f3a2c91"
	fixtureTaskID = "3f1d2e4c5b6a47889900aabbccddeeff"
)

// catalogFiles are the jobs of these tests, written so that the fixtures
// match them: resize reads the queue of sqs-batch.json, ingest takes the
// upload of s3-object-created-eventbridge.json, nightly-report is the rule
// of eventbridge-scheduled-event.json.
var catalogFiles = fstest.MapFS{
	"hello/job.yaml":          {Data: []byte("image: {uri: busybox}\ntimeout: 5m\nretries: {attempts: 2}\ntriggers: [invoke]\n")},
	"nightly-report/job.yaml": {Data: []byte("image: {uri: busybox}\ntimeout: 30m\nconcurrency: forbid\ntriggers:\n  - schedule: cron(0 3 * * ? *)\n")},
	"resize/job.yaml":         {Data: []byte("image: {uri: busybox}\ntriggers:\n  - sqs: {queue: resize}\n")},
	"ingest/job.yaml":         {Data: []byte("image: {uri: busybox}\ntriggers:\n  - s3: {prefix: incoming/, suffix: .csv}\n")},
	"archive/job.yaml":        {Data: []byte("image: {uri: busybox}\ntriggers:\n  - s3: {prefix: incoming/}\n")},
	"thumbnail/job.yaml":      {Data: []byte("image: {uri: busybox}\ntriggers:\n  - s3: {prefix: incoming/, suffix: .jpg}\n")},
}

func mondayMorning() time.Time { return time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC) }

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// world is the dispatch services over fakes, with the four handlers.
type world struct {
	t      testing.TB
	jobs   *job.Catalog
	store  *fake.Store
	runner *fake.Runner
	notes  *fake.Notifier
	clock  *fake.Clock
	svc    *dispatch.Service
	// launches counts Launch calls; failLaunch fails those of a message id.
	launches   *countingLauncher
	launcher   *handler.Launcher
	tracker    *handler.Tracker
	reconciler *handler.Reconciler
	api        *handler.API
	logs       *fakeLogs
	pauses     *dispatch.MemoryPauses
}

func newWorld(t testing.TB) *world {
	t.Helper()
	return newWorldAt(t, mondayMorning())
}

// newWorldAt is a world whose clock starts at start.
func newWorldAt(t testing.TB, start time.Time) *world {
	t.Helper()
	cat, err := job.Load(catalogFiles, "jobs", job.Options{SkipFiles: true})
	if err != nil {
		t.Fatal(err)
	}
	w := &world{t: t, jobs: cat, store: fake.NewStore(), runner: fake.NewRunner(), notes: &fake.Notifier{},
		clock: fake.NewClock(start), logs: &fakeLogs{}, pauses: &dispatch.MemoryPauses{}}
	var mu sync.Mutex
	n := 0
	w.svc = dispatch.New(dispatch.Deps{
		Jobs: cat, Store: w.store, Runner: w.runner, Notifier: w.notes, Now: w.clock.Now, Log: quiet,
		NewID:  func() (string, error) { mu.Lock(); defer mu.Unlock(); n++; return fmt.Sprintf("r-%016x", n), nil },
		Pauses: w.pauses,
	})
	w.launches = &countingLauncher{svc: w.svc, fail: map[string]error{}}
	w.launcher = handler.NewLauncher(handler.LauncherOptions{
		Service: w.launches, Runs: w.store, Jobs: cat, Prefix: "longshore", UploadsBucket: uploads,
		EventBus: "longshore-results", CallbackBuses: []string{partnerBus},
		Now: w.clock.Now, Sleep: func(ctx context.Context, d time.Duration) error { w.clock.Advance(d); return ctx.Err() },
		Poll: time.Second, Log: quiet,
	})
	w.tracker = handler.NewTracker(handler.TrackerOptions{Service: w.svc, Cluster: cluster, Log: quiet})
	w.reconciler = handler.NewReconciler(w.svc, 0, quiet)
	w.api = handler.NewAPI(handler.APIOptions{Service: w.svc, Runs: w.store, Logs: w.logs, Prefix: "longshore", Log: quiet,
		Jobs: cat, Pauses: w.svc})
	return w
}

// countingLauncher passes launches on, failing those of chosen SQS messages.
type countingLauncher struct {
	svc  *dispatch.Service
	mu   sync.Mutex
	n    int
	fail map[string]error
}

func (c *countingLauncher) Launch(ctx context.Context, req dispatch.Request) (dispatch.Launched, error) {
	c.mu.Lock()
	c.n++
	err := c.fail[req.Trigger.MessageID]
	c.mu.Unlock()
	if err != nil {
		return dispatch.Launched{}, err
	}
	return c.svc.Launch(ctx, req)
}

// fixture reads a testdata event.
func fixture(t testing.TB, name string) json.RawMessage {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// edit decodes a fixture, lets f change it, and encodes it again.
func edit(t testing.TB, name string, f func(ev map[string]any)) json.RawMessage {
	t.Helper()
	var ev map[string]any
	if err := json.Unmarshal(fixture(t, name), &ev); err != nil {
		t.Fatal(err)
	}
	f(ev)
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// errorType is the errorType a function error answers with.
func errorType(err error) string {
	var ie messages.InvokeResponse_Error
	if e, ok := err.(messages.InvokeResponse_Error); ok {
		ie = e
	}
	return ie.Type
}

// errorMessage is the errorMessage a function error answers with.
func errorMessage(err error) string {
	if e, ok := err.(messages.InvokeResponse_Error); ok {
		return e.Message
	}
	if err == nil {
		return ""
	}
	return err.Error()
}

// runs returns every stored run.
func (w *world) runs() []run.Run { return w.store.Runs() }

// taskRun stores the run the ECS fixtures belong to: r-7f3a2c91 of hello,
// starting, its task being the fixture's.
func (w *world) taskRun(taskID string) run.Run {
	w.t.Helper()
	now := w.clock.Now()
	r := run.Run{ID: fixtureRun, Job: "hello", Key: "hello/invoke/k1", Attempt: 1, Trigger: run.Trigger{Kind: run.TriggerInvoke},
		Status: run.StatusStarting, TaskRef: "arn:aws:ecs:us-east-1:111122223333:task/longshore/" + taskID,
		Callback: &run.Callback{Kind: run.CallbackTaskToken, Token: "tok"}, CreatedAt: now, UpdatedAt: now}
	got, _, err := w.store.Create(context.Background(), r)
	if err != nil {
		w.t.Fatal(err)
	}
	return got
}

func (w *world) get(id string) run.Run {
	w.t.Helper()
	r, err := w.store.Get(context.Background(), id)
	if err != nil {
		w.t.Fatalf("get %s: %v", id, err)
	}
	return r
}

type logsEvent = handler.LogEvent

// fakeLogs serves one stream of two lines.
type fakeLogs struct {
	group, stream, token string
}

func (f *fakeLogs) Read(_ context.Context, group, stream, token string, _ int) ([]logsEvent, string, error) {
	f.group, f.stream, f.token = group, stream, token
	if token == "f/2" {
		return []logsEvent{}, "f/2", nil
	}
	return []logsEvent{{Time: mondayMorning(), Message: "hello"}, {Time: mondayMorning(), Message: "bye"}}, "f/2", nil
}
