package api_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/longshore/longshore/internal/api"
	"github.com/longshore/longshore/internal/run"
)

// ui stands in for the dashboard.
var ui = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	io.WriteString(w, "<!doctype html>dashboard "+r.URL.Path)
})

func withUI(t *testing.T, w *world) *httptest.Server {
	t.Helper()
	h := api.NewHandler(api.Options{Launcher: w.svc, Runs: w.store, Logs: w.logs, UI: ui,
		Jobs: func() []api.Job { return []api.Job{{Name: "hello", Triggers: []string{"invoke"}}} },
		Log:  slog.New(slog.NewTextHandler(io.Discard, nil))})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func TestTheUIGetsEveryPageOutsideTheAPI(t *testing.T) {
	tests := []struct {
		name, method, path string
		status             int
		ui                 bool
	}{
		{"the root is the UI's", "GET", "/", 200, true},
		{"a page of runs is the UI's", "GET", "/runs/r-0123456789abcdef", 200, true},
		{"an asset is the UI's", "GET", "/assets/app.js", 200, true},
		{"a HEAD of a page is the UI's", "HEAD", "/jobs", 200, true},
		{"an unknown API path stays a JSON 404", "GET", "/v1/nope", 404, false},
		{"the bare API prefix stays a JSON 404", "GET", "/v1", 404, false},
		{"an unknown Lambda path stays a JSON 404", "GET", "/2015-03-31/functions", 404, false},
		{"liveness is the API's", "GET", "/healthz", 200, false},
		{"a POST outside the API is not the UI's", "POST", "/", 404, false},
		{"the API itself is untouched", "GET", "/v1/jobs", 200, false},
	}
	w := newWorld(t)
	srv := withUI(t, w)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, srv.URL+tt.path, nil)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			isUI := strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html")
			if resp.StatusCode != tt.status || isUI != tt.ui {
				t.Errorf("%s %s = %d %q; want %d, UI %v", tt.method, tt.path, resp.StatusCode, resp.Header.Get("Content-Type"), tt.status, tt.ui)
			}
		})
	}
}

func TestWithoutAUITheRootIsStillAJSON404(t *testing.T) {
	w := newWorld(t)
	status, body := w.do(t, "GET", "/", "")
	if status != 404 || !strings.Contains(body, "no such endpoint: GET /") {
		t.Errorf("GET / = %d %s", status, body)
	}
}

func TestTheClientFindsTheDashboardOnlyWhereOneIsServed(t *testing.T) {
	w := newWorld(t)
	c, _ := api.NewClient(withUI(t, w).URL)
	if got, err := c.DashboardURL(context.Background()); err != nil || got != c.Base+"/" {
		t.Errorf("with a UI: %q, %v", got, err)
	}
	bare, _ := api.NewClient(w.srv.URL)
	if _, err := bare.DashboardURL(context.Background()); err != api.ErrNoDashboard {
		t.Errorf("without a UI: %v, want ErrNoDashboard", err)
	}
}

func TestEachJobComesWithItsNewestRun(t *testing.T) {
	w := newWorld(t)
	c, _ := api.NewClient(w.srv.URL)
	ctx := context.Background()
	if jobs, err := c.Jobs(ctx); err != nil || len(jobs) != 1 || jobs[0].LastRun != nil {
		t.Fatalf("before any run: %+v, %v", jobs, err)
	}
	first, _ := c.Start(ctx, api.RunRequest{Job: "hello"})
	code := 3
	w.svc.Observe(ctx, w.runner.SetState(first.ID, run.TaskState{Phase: run.PhaseStopped, StopCode: run.StopCodeEssentialExited,
		Containers: []run.Container{{Name: "app", ExitCode: &code}}}))
	jobs, err := c.Jobs(ctx)
	if err != nil || jobs[0].LastRun == nil {
		t.Fatalf("after a run: %+v, %v", jobs, err)
	}
	last := jobs[0].LastRun
	if last.ID != first.ID || last.Status != run.StatusFailed || last.ExitCode == nil || *last.ExitCode != 3 || last.StoppedAt == nil {
		t.Errorf("lastRun = %+v", last)
	}

	_, body := w.do(t, "GET", "/v1/jobs", "")
	var raw struct {
		Jobs []map[string]any `json:"jobs"`
	}
	json.Unmarshal([]byte(body), &raw)
	lr, _ := raw.Jobs[0]["lastRun"].(map[string]any)
	for _, k := range []string{"id", "status", "cause", "exitCode", "createdAt", "startedAt", "stoppedAt"} {
		if _, ok := lr[k]; !ok {
			t.Errorf("lastRun has no %q: %s", k, body)
		}
	}
}

func TestSchedulesAndALastRunGivenByTheEngineAreKept(t *testing.T) {
	w := newWorld(t)
	next := time.Date(2026, 11, 24, 2, 0, 0, 0, time.UTC)
	given := &api.RunSummary{ID: "r-00000000000000aa", Status: run.StatusSucceeded}
	h := api.NewHandler(api.Options{Launcher: w.svc, Runs: w.store, Logs: w.logs,
		Jobs: func() []api.Job {
			return []api.Job{{Name: "report", Triggers: []string{"schedule cron(0 3 * * ? *) Europe/Berlin"}, NextFire: &next,
				Schedules: []api.Schedule{{Expression: "cron(0 3 * * ? *)", Timezone: "Europe/Berlin", NextFire: &next}}, LastRun: given}}
		}})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/v1/jobs", nil))
	want := `"schedules":[{"expression":"cron(0 3 * * ? *)","timezone":"Europe/Berlin","nextFire":"2026-11-24T02:00:00Z"}],"lastRun":{"id":"r-00000000000000aa"`
	if !strings.Contains(rec.Body.String(), want) {
		t.Errorf("GET /v1/jobs = %s\nwant it to hold %s", rec.Body.String(), want)
	}
}

func TestTheLogsTailIsTheLastBytesAndSaysWhereItStarts(t *testing.T) {
	tests := []struct {
		name, query       string
		status            int
		body, start, next string
	}{
		{"the last bytes", "tail=7", 200, "line 2\n", "7", "14"},
		{"a tail longer than the output is all of it", "tail=1000", 200, "line 1\nline 2\n", "0", "14"},
		{"an offset still reads on from a byte", "offset=7", 200, "line 2\n", "7", "14"},
		{"a tail of nothing is refused", "tail=0", 400, "", "", ""},
		{"a tail beyond a chunk is refused", "tail=99999999", 400, "", "", ""},
		{"a tail and an offset together are refused", "tail=3&offset=1", 400, "", "", ""},
	}
	w := newWorld(t)
	c, _ := api.NewClient(w.srv.URL)
	r, _ := c.Start(context.Background(), api.RunRequest{Job: "hello"})
	w.logs[r.ID+"/stdout"] = "line 1\nline 2\n"
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := http.Get(w.srv.URL + "/v1/runs/" + r.ID + "/logs?stream=stdout&" + tt.query)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d %s, want %d", resp.StatusCode, b, tt.status)
			}
			if tt.status != 200 {
				return
			}
			if string(b) != tt.body || resp.Header.Get(api.HeaderLogStart) != tt.start || resp.Header.Get(api.HeaderLogOffset) != tt.next {
				t.Errorf("body %q start %q next %q; want %q %q %q", b, resp.Header.Get(api.HeaderLogStart), resp.Header.Get(api.HeaderLogOffset), tt.body, tt.start, tt.next)
			}
		})
	}
}

func TestABrowserOnAnotherOriginCannotStartOrStopRuns(t *testing.T) {
	tests := []struct {
		name    string
		headers map[string]string
		status  int
	}{
		{"a page of another site", map[string]string{"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}, 403},
		{"another port of the same host", map[string]string{"Origin": "http://127.0.0.1:1", "Sec-Fetch-Site": "same-site"}, 403},
		{"an old browser that sends only Origin", map[string]string{"Origin": "https://evil.example"}, 403},
		{"the dashboard itself", map[string]string{"Sec-Fetch-Site": "same-origin"}, 201},
		{"a client that is not a browser", map[string]string{}, 201},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			req, _ := http.NewRequest("POST", w.srv.URL+"/v1/runs", strings.NewReader(`{"job":"hello"}`))
			for k, v := range tt.headers {
				req.Header.Set(k, v)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var e api.Error
			b, _ := io.ReadAll(resp.Body)
			json.Unmarshal(b, &e)
			if resp.StatusCode != tt.status {
				t.Errorf("POST = %d %s, want %d", resp.StatusCode, b, tt.status)
			}
			if tt.status == 403 && (len(w.store.Runs()) != 0 || !strings.Contains(e.Message, "another origin")) {
				t.Errorf("a refused request stored %d runs; error %q", len(w.store.Runs()), e.Message)
			}
		})
	}
}
