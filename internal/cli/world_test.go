package cli

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/longshore/longshore/internal/api"
	"github.com/longshore/longshore/internal/cost"
	"github.com/longshore/longshore/internal/dashboard"
	"github.com/longshore/longshore/internal/dispatch"
	"github.com/longshore/longshore/internal/dispatch/fake"
	"github.com/longshore/longshore/internal/job"
	"github.com/longshore/longshore/internal/run"
)

// now is the time of every test of this package.
var now = time.Date(2026, 11, 23, 19, 0, 0, 0, time.UTC)

type catalog map[string]*job.Spec

func (c catalog) Get(name string) (*job.Spec, bool) { s, ok := c[name]; return s, ok }

type noLogs struct{}

func (noLogs) Open(string, string) (io.ReadSeekCloser, error) { return nil, fs.ErrNotExist }

// fakeEngine is the runs API over fakes, as an engine serves it.
type fakeEngine struct {
	srv    *httptest.Server
	svc    *dispatch.Service
	store  *fake.Store
	runner *fake.Runner
	clock  *fake.Clock
}

// nextReport is when the nightly report fires next: 03:00 in Berlin.
var nextReport = time.Date(2026, 11, 24, 2, 0, 0, 0, time.UTC)

func newEngine(t *testing.T, withUI bool) *fakeEngine {
	t.Helper()
	specs := catalog{}
	for _, name := range []string{"hello", "nightly-report"} {
		s, err := job.Parse([]byte("image: {uri: busybox}\n"), name, "jobs/"+name+"/job.yaml")
		if err != nil {
			t.Fatal(err)
		}
		specs[name] = s
	}
	e := &fakeEngine{store: fake.NewStore(), runner: fake.NewRunner()}
	n := 0
	var mu sync.Mutex
	clock := fake.NewClock(now.Add(-time.Hour))
	e.clock = clock
	prices, _ := cost.For("us-east-1")
	e.svc = dispatch.New(dispatch.Deps{Jobs: specs, Store: e.store, Runner: e.runner, Notifier: &fake.Notifier{},
		Now: clock.Now, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Prices: prices, CostBasis: cost.BasisEstimate,
		Pauses: &dispatch.MemoryPauses{},
		NewID:  func() (string, error) { mu.Lock(); defer mu.Unlock(); n++; return fmt.Sprintf("r-%016x", n), nil }})
	o := api.Options{Launcher: e.svc, Runs: e.store, Logs: noLogs{}, Poll: time.Millisecond, Now: clock.Now,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Jobs: func() []api.Job {
			next := nextReport
			return []api.Job{
				{Name: "hello", Description: "Prints its environment.", Triggers: []string{"invoke"}, Runner: "process: ./hello"},
				{Name: "nightly-report", Triggers: []string{"schedule cron(0 3 * * ? *) Europe/Berlin"}, NextFire: &next,
					Schedules: []api.Schedule{{Expression: "cron(0 3 * * ? *)", Timezone: "Europe/Berlin", NextFire: &next}}},
			}
		}}
	if withUI {
		o.UI = dashboard.Handler()
	}
	e.srv = httptest.NewServer(api.NewHandler(o))
	t.Cleanup(e.srv.Close)
	return e
}

// finish ends a run's task with an exit code.
func (e *fakeEngine) finish(t *testing.T, id string, code int) {
	t.Helper()
	started := now.Add(-2 * time.Minute)
	stopped := now.Add(-time.Minute)
	e.svc.Observe(context.Background(), e.runner.SetState(id, run.TaskState{Phase: run.PhaseRunning, StartedAt: &started}))
	e.svc.Observe(context.Background(), e.runner.SetState(id, run.TaskState{Phase: run.PhaseStopped, StopCode: run.StopCodeEssentialExited,
		StartedAt: &started, StoppedAt: &stopped, Containers: []run.Container{{Name: "app", ExitCode: &code}}}))
}

// start starts a run of job through the API and returns its id.
func (e *fakeEngine) start(t *testing.T, job string) string {
	t.Helper()
	c, _ := api.NewClient(e.srv.URL)
	r, err := c.Start(context.Background(), api.RunRequest{Job: job})
	if err != nil {
		t.Fatal(err)
	}
	return r.ID
}

type result struct {
	stdout, stderr string
	code           int
}

// longshore runs the CLI against endpoint ("" for none that answers).
func longshore(t *testing.T, endpoint string, args ...string) result {
	t.Helper()
	if endpoint == "" {
		endpoint = "http://127.0.0.1:1"
	}
	var out, errb bytes.Buffer
	app := &App{Stdout: &out, Stderr: &errb, Now: func() time.Time { return now },
		Getenv: func(k string) string {
			if k == "LONGSHORE_ENDPOINT" {
				return endpoint
			}
			return ""
		}}
	code := app.Main(args)
	return result{out.String(), errb.String(), code}
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
}

func lines(s string) []string { return strings.Split(strings.TrimRight(s, "\n"), "\n") }
