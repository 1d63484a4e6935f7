package integration

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// runtimeAPI is a small fake of the Lambda Runtime API
// (https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html): it hands
// queued invocations to the function process polling
// GET /2018-06-01/runtime/invocation/next and collects what the function
// posts to .../invocation/{id}/response or .../invocation/{id}/error (and
// /runtime/init/error).
type runtimeAPI struct {
	t       *testing.T
	srv     *httptest.Server
	pending chan *invocation
	done    chan struct{}

	mu      sync.Mutex
	running map[string]*invocation
	n       int
}

// invocation is one event given to the function, and its outcome.
type invocation struct {
	id       string
	payload  []byte
	deadline time.Time
	result   chan invokeResult
}

// invokeResult is what the function answered.
type invokeResult struct {
	body []byte
	// failed is true when the function posted to /error; errorType and
	// errorMessage are then its error.
	failed       bool
	errorType    string
	errorMessage string
}

const runtimePrefix = "/2018-06-01/runtime/"

func newRuntimeAPI(t *testing.T) *runtimeAPI {
	r := &runtimeAPI{t: t, pending: make(chan *invocation, 16), done: make(chan struct{}), running: map[string]*invocation{}}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(func() {
		close(r.done)
		r.srv.Close()
	})
	return r
}

// addr is the value of AWS_LAMBDA_RUNTIME_API.
func (r *runtimeAPI) addr() string { return strings.TrimPrefix(r.srv.URL, "http://") }

func (r *runtimeAPI) serve(w http.ResponseWriter, req *http.Request) {
	path, ok := strings.CutPrefix(req.URL.Path, runtimePrefix)
	if !ok {
		http.NotFound(w, req)
		return
	}
	switch {
	case req.Method == http.MethodGet && path == "invocation/next":
		select {
		case inv := <-r.pending:
			r.mu.Lock()
			r.running[inv.id] = inv
			r.mu.Unlock()
			h := w.Header()
			h.Set("Lambda-Runtime-Aws-Request-Id", inv.id)
			h.Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(inv.deadline.UnixMilli(), 10))
			h.Set("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:111122223333:function:longshore-test")
			h.Set("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000")
			w.WriteHeader(http.StatusOK)
			w.Write(inv.payload)
		case <-req.Context().Done():
		case <-r.done:
			w.WriteHeader(http.StatusGone)
		}
	case req.Method == http.MethodPost && path == "init/error":
		body, _ := io.ReadAll(req.Body)
		r.t.Logf("function init error: %s", body)
		w.WriteHeader(http.StatusAccepted)
	case req.Method == http.MethodPost && strings.HasPrefix(path, "invocation/"):
		rest := strings.TrimPrefix(path, "invocation/")
		id, kind, _ := strings.Cut(rest, "/")
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		inv := r.running[id]
		delete(r.running, id)
		r.mu.Unlock()
		if inv == nil || (kind != "response" && kind != "error") {
			r.t.Errorf("runtime API: unexpected POST %s", req.URL.Path)
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		res := invokeResult{body: body, failed: kind == "error"}
		if res.failed {
			var e struct {
				Type    string `json:"errorType"`
				Message string `json:"errorMessage"`
			}
			json.Unmarshal(body, &e)
			res.errorType, res.errorMessage = e.Type, e.Message
		}
		inv.result <- res
		w.WriteHeader(http.StatusAccepted)
	default:
		http.NotFound(w, req)
	}
}

// function is a Lambda binary running under the fake runtime.
type function struct {
	t       *testing.T
	name    string
	runtime *runtimeAPI
	cmd     *exec.Cmd
	stderr  *lockedBuffer
	exited  chan struct{}
}

// lockedBuffer collects a process's output.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startFunction runs binary with env (and AWS_LAMBDA_RUNTIME_API) under a
// new fake runtime. The process is killed when the test ends; its stderr
// (the function's log) is shown when the test failed.
func startFunction(t *testing.T, name, binary string, env []string) *function {
	t.Helper()
	rt := newRuntimeAPI(t)
	f := &function{t: t, name: name, runtime: rt, stderr: &lockedBuffer{}, exited: make(chan struct{})}
	f.cmd = exec.Command(binary)
	f.cmd.Env = append(env, "AWS_LAMBDA_RUNTIME_API="+rt.addr(), "AWS_LAMBDA_FUNCTION_NAME=longshore-"+name)
	f.cmd.Stdout, f.cmd.Stderr = f.stderr, f.stderr
	if err := f.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() { f.cmd.Wait(); close(f.exited) }()
	t.Cleanup(func() {
		f.cmd.Process.Kill()
		<-f.exited
		if t.Failed() {
			t.Logf("%s output:\n%s", name, f.stderr.String())
		}
	})
	return f
}

// invoke gives the function one event and waits for its answer. The
// invocation's deadline is 30 seconds away, as a function timeout.
func (f *function) invoke(payload []byte) invokeResult {
	f.t.Helper()
	f.runtime.mu.Lock()
	f.runtime.n++
	id := fmt.Sprintf("req-%s-%d", f.name, f.runtime.n)
	f.runtime.mu.Unlock()
	inv := &invocation{id: id, payload: payload, deadline: time.Now().Add(30 * time.Second), result: make(chan invokeResult, 1)}
	f.runtime.pending <- inv
	select {
	case res := <-inv.result:
		return res
	case <-f.exited:
		f.t.Fatalf("%s exited during invocation %s: %v\n%s", f.name, id, f.cmd.ProcessState, f.stderr.String())
	case <-time.After(60 * time.Second):
		f.t.Fatalf("%s did not answer invocation %s within a minute\n%s", f.name, id, f.stderr.String())
	}
	return invokeResult{}
}

// ok invokes the function and decodes its answer into out, failing the
// test on a function error.
func (f *function) ok(payload []byte, out any) {
	f.t.Helper()
	res := f.invoke(payload)
	if res.failed {
		f.t.Fatalf("%s answered an error %s: %s", f.name, res.errorType, res.errorMessage)
	}
	if out != nil {
		if err := json.Unmarshal(res.body, out); err != nil {
			f.t.Fatalf("%s answered %s: %v", f.name, res.body, err)
		}
	}
}
