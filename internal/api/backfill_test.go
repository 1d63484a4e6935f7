package api_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/longshore/longshore/internal/api"
	"github.com/longshore/longshore/internal/dispatch"
	"github.com/longshore/longshore/internal/dispatch/fake"
	"github.com/longshore/longshore/internal/job"
	"github.com/longshore/longshore/internal/local/scheduler"
)

// noMarks keeps no schedule marks.
type noMarks struct{}

func (noMarks) Mark(context.Context, string) (time.Time, bool, error) { return time.Time{}, false, nil }
func (noMarks) SetMark(context.Context, string, time.Time) error      { return nil }

// backfillWorld is the runs API over the real dispatch service and the
// local scheduler's backfill, as the engine wires them.
func backfillWorld(t *testing.T) (*api.Client, *fake.Store) {
	t.Helper()
	cat := catalog{}
	var specs []*job.Spec
	for name, y := range map[string]string{
		"hourly": "image: {uri: busybox}\ntriggers:\n  - schedule: rate(1 hour)\n",
		"hello":  "image: {uri: busybox}\n",
	} {
		s, err := job.Parse([]byte(y), name, "jobs/"+name+"/job.yaml")
		if err != nil {
			t.Fatal(err)
		}
		cat[name] = s
		specs = append(specs, s)
	}
	clock := clockwork.NewFakeClockAt(time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC))
	store := fake.NewStore()
	n := 0
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	svc := dispatch.New(dispatch.Deps{Jobs: cat, Store: store, Runner: fake.NewRunner(), Notifier: &fake.Notifier{},
		Now: clock.Now, NewID: func() (string, error) { n++; return fmt.Sprintf("r-%016x", n), nil }, Log: log})
	sched, err := scheduler.New(scheduler.Options{Jobs: specs, Launch: svc, Marks: noMarks{}, Clock: clock, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	h := api.NewHandler(api.Options{Launcher: svc, Runs: store, Logs: logs{}, Log: log, Jobs: func() []api.Job { return nil },
		Backfill: func(ctx context.Context, name string, req api.BackfillRequest) (api.BackfillResponse, error) {
			b, err := sched.Backfill(ctx, name, req.From, req.To, req.DryRun)
			if err != nil {
				return api.BackfillResponse{}, err
			}
			return api.BackfillAnswer(name, req, b.Times, b.Runs, b.Errs), nil
		}})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	c, err := api.NewClient(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	return c, store
}

func TestABackfillThroughTheAPICreatesEachTimeOnce(t *testing.T) {
	c, store := backfillWorld(t)
	ctx := context.Background()
	req := api.BackfillRequest{From: time.Date(2026, 11, 23, 5, 0, 0, 0, time.UTC), To: time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)}
	steps := []struct {
		name              string
		dryRun            bool
		created, existing int
		runs              int
	}{
		{"a dry run lists the times and creates nothing", true, 0, 0, 0},
		{"a backfill creates a run per time", false, 3, 0, 3},
		{"a second backfill finds them all", false, 0, 3, 3},
	}
	for _, s := range steps {
		req.DryRun = s.dryRun
		got, err := c.Backfill(ctx, "hourly", req)
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		var times []string
		for _, tm := range got.Times {
			times = append(times, tm.At.Format("15:04"))
		}
		if strings.Join(times, " ") != "05:00 06:00 07:00" || len(got.Created) != s.created || len(got.Existing) != s.existing ||
			got.Failed != 0 || got.DryRun != s.dryRun || len(store.Runs()) != s.runs {
			b, _ := json.Marshal(got)
			t.Errorf("%s: %s; %d runs stored", s.name, b, len(store.Runs()))
		}
	}
}

func TestABackfillTheEngineCannotDoSaysWhy(t *testing.T) {
	c, store := backfillWorld(t)
	day := func(d, h int) time.Time { return time.Date(2026, 11, d, h, 0, 0, 0, time.UTC) }
	tests := []struct {
		name     string
		job      string
		from, to time.Time
		status   int
		want     string
	}{
		{"an unknown job, naming the closest", "hourli", day(22, 0), day(23, 0), 404, `unknown job "hourli"; did you mean "hourly"?`},
		{"a job without a schedule", "hello", day(22, 0), day(23, 0), 400, "job hello has no schedule trigger"},
		{"a window of more than 1,000 times", "hourly", time.Date(2026, 8, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), 400,
			"fire 2208 times from 2026-08-01T00:00:00Z to 2026-11-01T00:00:00Z; one backfill creates at most 1000"},
		{"a window reaching the future", "hourly", day(23, 0), day(24, 0), 400, "the window reaches past now"},
		{"no window", "hourly", time.Time{}, time.Time{}, 400, `a backfill needs "from" and "to"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.Backfill(context.Background(), tt.job, api.BackfillRequest{From: tt.from, To: tt.to})
			var se *api.StatusError
			if !errors.As(err, &se) || se.Status != tt.status || !strings.Contains(se.Message, tt.want) {
				t.Errorf("Backfill = %v; want %d with %q", err, tt.status, tt.want)
			}
		})
	}
	if len(store.Runs()) != 0 {
		t.Error("a refused backfill stored runs")
	}
}

func TestABackfillIsAPost(t *testing.T) {
	w := newWorld(t)
	status, body := w.do(t, "GET", "/v1/jobs/hello/backfill", "")
	if status != 405 || !strings.Contains(body, "use POST") {
		t.Errorf("GET backfill = %d %s", status, body)
	}
	status, body = w.do(t, "POST", "/v1/jobs/hello/backfill", `{"from":"2026-11-22T00:00:00Z","to":"2026-11-23T00:00:00Z"}`)
	if status != 404 || !strings.Contains(body, "does not backfill") {
		t.Errorf("POST backfill to a handler without one = %d %s", status, body)
	}
	status, body = w.do(t, "POST", "/v1/jobs/hello/backfill", `{"form":"2026-11-22"}`)
	if status != 400 || !strings.Contains(body, "not a backfill request") {
		t.Errorf("POST a bad backfill = %d %s", status, body)
	}
}
