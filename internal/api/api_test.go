package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/longshore/longshore/internal/api"
	"github.com/longshore/longshore/internal/dispatch"
	"github.com/longshore/longshore/internal/dispatch/fake"
	"github.com/longshore/longshore/internal/job"
	"github.com/longshore/longshore/internal/run"
)

type catalog map[string]*job.Spec

func (c catalog) Get(name string) (*job.Spec, bool) { s, ok := c[name]; return s, ok }

// logs serves fixed output per run and stream.
type logs map[string]string

type readSeekNopCloser struct{ *bytes.Reader }

func (readSeekNopCloser) Close() error { return nil }

func (l logs) Open(id, stream string) (io.ReadSeekCloser, error) {
	s, ok := l[id+"/"+stream]
	if !ok {
		return nil, fs.ErrNotExist
	}
	return readSeekNopCloser{bytes.NewReader([]byte(s))}, nil
}

type world struct {
	srv     *httptest.Server
	handler http.Handler
	svc     *dispatch.Service
	store   *fake.Store
	runner  *fake.Runner
	logs    logs
}

func newWorld(t testing.TB) *world {
	t.Helper()
	spec, err := job.Parse([]byte("image: {uri: busybox}\n"), "hello", "jobs/hello/job.yaml")
	if err != nil {
		t.Fatal(err)
	}
	w := &world{store: fake.NewStore(), runner: fake.NewRunner(), logs: logs{}}
	clock := fake.NewClock(time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC))
	n := 0
	w.svc = dispatch.New(dispatch.Deps{Jobs: catalog{"hello": spec}, Store: w.store, Runner: w.runner, Notifier: &fake.Notifier{},
		Now: clock.Now, NewID: func() (string, error) { n++; return fmt.Sprintf("r-%016x", n), nil },
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	w.handler = api.NewHandler(api.Options{Launcher: w.svc, Runs: w.store, Logs: w.logs, Poll: time.Millisecond,
		Jobs: func() []api.Job { return []api.Job{{Name: "hello", Triggers: []string{"invoke"}}} },
		Log:  slog.New(slog.NewTextHandler(io.Discard, nil))})
	w.srv = httptest.NewServer(w.handler)
	t.Cleanup(w.srv.Close)
	return w
}

func (w *world) do(t *testing.T, method, path, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, w.srv.URL+path, strings.NewReader(body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestARunReadsBackInTheContractShape(t *testing.T) {
	w := newWorld(t)
	c, _ := api.NewClient(w.srv.URL)
	got, err := c.Start(context.Background(), api.RunRequest{Job: "hello", Env: map[string]string{"EXIT_CODE": "3"}})
	if err != nil {
		t.Fatal(err)
	}
	code := 3
	ts := w.runner.SetState(got.ID, run.TaskState{Phase: run.PhaseStopped, StopCode: run.StopCodeEssentialExited,
		Containers: []run.Container{{Name: "app", ExitCode: &code}}})
	w.svc.Observe(context.Background(), ts)

	status, body := w.do(t, "GET", "/v1/runs/"+got.ID, "")
	var m map[string]any
	if err := json.Unmarshal([]byte(body), &m); status != 200 || err != nil {
		t.Fatalf("GET = %d %s", status, body)
	}
	for _, k := range []string{"id", "job", "status", "cause", "exitCode", "reason", "attempt", "trigger", "createdAt", "startedAt", "stoppedAt"} {
		if _, ok := m[k]; !ok {
			t.Errorf("the run has no %q: %s", k, body)
		}
	}
	if m["status"] != "failed" || m["cause"] != "exit" || m["exitCode"] != float64(3) || m["trigger"].(map[string]any)["kind"] != "invoke" {
		t.Errorf("run = %s", body)
	}
}

func TestAFreshRunHasNullCauseAndExitCode(t *testing.T) {
	w := newWorld(t)
	_, body := w.do(t, "POST", "/v1/runs", `{"job":"hello"}`)
	if !strings.Contains(body, `"cause":null`) || !strings.Contains(body, `"exitCode":null`) || !strings.Contains(body, `"duplicate":false`) {
		t.Errorf("new run = %s", body)
	}
}

func TestTheSameKeyTwiceIsOneRun(t *testing.T) {
	w := newWorld(t)
	s1, b1 := w.do(t, "POST", "/v1/runs", `{"job":"hello","key":"deploy-7"}`)
	s2, b2 := w.do(t, "POST", "/v1/runs", `{"job":"hello","key":"deploy-7"}`)
	var r1, r2 api.RunResponse
	json.Unmarshal([]byte(b1), &r1)
	json.Unmarshal([]byte(b2), &r2)
	if s1 != 201 || s2 != 200 || r1.ID != r2.ID || !r2.Duplicate || w.runner.Count() != 1 {
		t.Errorf("answers %d %s / %d %s, %d tasks", s1, b1, s2, b2, w.runner.Count())
	}
}

func TestBadRequestsGetAClearErrorAndChangeNothing(t *testing.T) {
	tests := []struct {
		name, method, path, body string
		status                   int
		want                     string
	}{
		{"malformed JSON", "POST", "/v1/runs", `{"job":`, 400, "request body is not a run request"},
		{"an unknown field", "POST", "/v1/runs", `{"job":"hello","evn":{}}`, 400, `unknown field "evn"`},
		{"no job", "POST", "/v1/runs", `{}`, 400, `request has no "job"`},
		{"an unknown job", "POST", "/v1/runs", `{"job":"nope"}`, 400, `unknown job "nope"`},
		{"an oversized body", "POST", "/v1/runs", `{"job":"hello","env":{"A":"` + strings.Repeat("x", api.MaxBodyBytes) + `"}}`, 413, "larger than"},
		{"a wrong method", "DELETE", "/v1/runs", "", 405, "DELETE is not allowed on /v1/runs"},
		{"a run id with a path in it", "GET", "/v1/runs/..%2f..%2fetc", "", 400, "is not a run id"},
		{"an unknown run", "GET", "/v1/runs/r-00000000000000ff", "", 404, "run not found"},
		{"an unknown status filter", "GET", "/v1/runs?status=done", "", 400, `status "done" is unknown`},
		{"a limit out of range", "GET", "/v1/runs?limit=0", "", 400, "limit \"0\" is out of range"},
		{"a garbage cursor", "GET", "/v1/runs?cursor=xyz", "", 400, "cursor"},
		{"an unknown stream", "GET", "/v1/runs/r-0000000000000001/logs?stream=both", "", 400, `stream "both" is unknown`},
		{"an unknown endpoint", "GET", "/v2/things", "", 404, "no such endpoint"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			status, body := w.do(t, tt.method, tt.path, tt.body)
			var e api.Error
			if status != tt.status || json.Unmarshal([]byte(body), &e) != nil || !strings.Contains(e.Message, tt.want) {
				t.Errorf("%s %s = %d %s; want %d with %q", tt.method, tt.path, status, body, tt.status, tt.want)
			}
			if len(w.store.Runs()) != 0 {
				t.Error("a bad request stored a run")
			}
		})
	}
}

func TestLogsAreReadFromAnOffset(t *testing.T) {
	w := newWorld(t)
	c, _ := api.NewClient(w.srv.URL)
	r, _ := c.Start(context.Background(), api.RunRequest{Job: "hello"})
	w.logs[r.ID+"/stdout"] = "line 1\nline 2\n"
	var out bytes.Buffer
	next, done, err := c.Logs(context.Background(), r.ID, "stdout", 7, &out)
	if err != nil || next != 14 || done || out.String() != "line 2\n" {
		t.Errorf("Logs = %d %v %v %q", next, done, err, out.String())
	}
	out.Reset()
	if next, _, err := c.Logs(context.Background(), r.ID, "stderr", 0, &out); err != nil || next != 0 || out.Len() != 0 {
		t.Errorf("no stderr yet: %d %v %q", next, err, out.String())
	}
}

func TestAStartCanWaitForTheExitCode(t *testing.T) {
	w := newWorld(t)
	go func() {
		for {
			runs := w.store.Runs()
			if _, started := w.runner.Task(firstID(runs)); started {
				code := 7
				ts := w.runner.SetState(runs[0].ID, run.TaskState{Phase: run.PhaseStopped, StopCode: run.StopCodeEssentialExited,
					Containers: []run.Container{{Name: "app", ExitCode: &code}}})
				w.svc.Observe(context.Background(), ts)
				return
			}
			time.Sleep(time.Millisecond)
		}
	}()
	c, _ := api.NewClient(w.srv.URL)
	got, err := c.Start(context.Background(), api.RunRequest{Job: "hello", WaitSeconds: 30})
	if err != nil || got.Status != run.StatusFailed || got.ExitCode == nil || *got.ExitCode != 7 {
		t.Errorf("Start with wait = %+v, %v", got, err)
	}
}

func TestTheLambdaInvokeAPIWorksWithTheSDK(t *testing.T) {
	w := newWorld(t)
	client := lambda.New(lambda.Options{Region: "us-east-1", BaseEndpoint: aws.String(w.srv.URL),
		Credentials: credentials.NewStaticCredentialsProvider("local", "local", "")})
	ctx := context.Background()

	out, err := client.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("launcher"), Payload: []byte(`{"job":"hello","key":"k1"}`)})
	if err != nil || out.FunctionError != nil {
		t.Fatalf("Invoke = %v, %v", out, err)
	}
	var resp api.RunResponse
	if err := json.Unmarshal(out.Payload, &resp); err != nil || !run.ValidID(resp.ID) || resp.Job != "hello" {
		t.Errorf("payload = %s", out.Payload)
	}

	bad, err := client.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("launcher"), Payload: []byte(`{"job":"nope"}`)})
	if err != nil || bad.FunctionError == nil || !strings.Contains(string(bad.Payload), `unknown job \"nope\"`) {
		t.Errorf("Invoke of an unknown job = %+v %s, %v; want a function error", bad, bad.Payload, err)
	}

	_, err = client.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("other"), Payload: []byte(`{}`)})
	var nf *types.ResourceNotFoundException
	if !errors.As(err, &nf) {
		t.Errorf("Invoke of another function = %v, want ResourceNotFoundException", err)
	}

	async, err := client.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("launcher"), InvocationType: types.InvocationTypeEvent, Payload: []byte(`{"job":"hello"}`)})
	if err != nil || async.StatusCode != 202 {
		t.Errorf("async Invoke = %+v, %v", async, err)
	}
	if n := len(w.store.Runs()); n != 2 {
		t.Errorf("%d runs, want 2 (one per good invoke)", n)
	}
}

// firstID is the id of the only run, or "" when there is not exactly one.
func firstID(runs []run.Run) string {
	if len(runs) != 1 {
		return ""
	}
	return runs[0].ID
}
