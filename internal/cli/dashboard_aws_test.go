package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"io/fs"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/longshore/longshore/internal/api"
	"github.com/longshore/longshore/internal/aws/remote"
	"github.com/longshore/longshore/internal/dashboard"
)

// lockedBuffer is a buffer a command writes to while the test reads it.
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

// oneAtATime lets the fake deployment's functions, which are not safe for
// concurrent use, answer the dashboard's concurrent calls (Lambda's client
// is safe).
type oneAtATime struct {
	mu sync.Mutex
	l  *lambdas
}

func (o *oneAtATime) Invoke(ctx context.Context, in *lambda.InvokeInput, opts ...func(*lambda.Options)) (*lambda.InvokeOutput, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.l.Invoke(ctx, in, opts...)
}

// interrupt is Ctrl-C.
func interrupt(t *testing.T) {
	t.Helper()
	p, err := os.FindProcess(os.Getpid())
	if err == nil {
		err = p.Signal(os.Interrupt)
	}
	if err != nil {
		t.Fatalf("interrupt: %v", err)
	}
}

func TestTheDashboardOfADeploymentServesThePagesAndTheRunsOfTheDeployment(t *testing.T) {
	e, l := newDeployment(t)
	out, errb := &lockedBuffer{}, &lockedBuffer{}
	app := &App{Stdout: out, Stderr: errb, Now: func() time.Time { return now }, Getenv: func(string) string { return "" },
		AWS: remote.New(&oneAtATime{l: l}, "")}
	var code int
	exited := make(chan struct{})
	go func() {
		defer close(exited)
		code = app.Main([]string{"dashboard", "--aws", "--addr", "127.0.0.1:0"})
	}()
	t.Cleanup(func() {
		select {
		case <-exited: // already ended: a signal now would end the tests
		default:
			interrupt(t)
			<-exited
		}
	})

	var base string
	for deadline := time.Now().Add(5 * time.Second); base == "" && time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		select {
		case <-exited:
			t.Fatalf("dashboard --aws exited %d before serving: %s %s", code, out.String(), errb.String())
		default:
		}
		if s := out.String(); strings.HasSuffix(s, "/\n") {
			base = strings.TrimSuffix(strings.TrimSpace(s), "/")
		}
	}
	if !strings.HasPrefix(base, "http://127.0.0.1:") {
		t.Fatalf("no address printed: %q %q", out.String(), errb.String())
	}
	if !strings.Contains(errb.String(), `deployment "longshore"`) {
		t.Errorf("stderr does not say which deployment: %q", errb.String())
	}

	get := func(path string) (int, http.Header, string) {
		t.Helper()
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header, string(b)
	}

	index, _ := fs.ReadFile(dashboard.Assets(), "index.html")
	if status, h, body := get("/"); status != 200 || body != string(index) || h.Get("Content-Security-Policy") == "" {
		t.Errorf("GET / = %d %.80q: want the dashboard's index.html", status, body)
	}
	if status, _, body := get("/assets/app.js"); status != 200 || !strings.Contains(body, "import") {
		t.Errorf("GET /assets/app.js = %d %.80q", status, body)
	}

	// The Run button: a POST from the page itself.
	req, _ := http.NewRequest("POST", base+"/v1/runs", strings.NewReader(`{"job":"hello","env":{"EXIT_CODE":"3"}}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", base)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var started api.RunResponse
	json.NewDecoder(resp.Body).Decode(&started)
	resp.Body.Close()
	if resp.StatusCode != 201 || started.Job != "hello" || started.Env["EXIT_CODE"] != "3" {
		t.Fatalf("POST /v1/runs = %d %+v", resp.StatusCode, started)
	}
	e.finish(t, started.ID, 3)

	status, _, body := get("/v1/runs")
	var list api.RunList
	if status != 200 || json.Unmarshal([]byte(body), &list) != nil || len(list.Runs) != 1 || list.Runs[0].ID != started.ID ||
		list.Runs[0].ExitCode == nil || *list.Runs[0].ExitCode != 3 {
		t.Errorf("GET /v1/runs = %d %s", status, body)
	}
	if status, _, body := get("/v1/runs/" + started.ID); status != 200 || !strings.Contains(body, `"status":"failed"`) {
		t.Errorf("GET /v1/runs/%s = %d %s", started.ID, status, body)
	}
	status, h, body := get("/v1/runs/" + started.ID + "/logs?stream=stdout&tail=65536")
	if status != 200 || body != "hello from Fargate\nexiting with 3\n" || h.Get(api.HeaderRunDone) != "true" || h.Get(api.HeaderLogStreams) != "combined" {
		t.Errorf("GET the tail of the logs = %d %v %q", status, h, body)
	}
	status, _, body = get("/v1/jobs")
	var jobs struct{ Jobs []api.Job }
	if status != 200 || json.Unmarshal([]byte(body), &jobs) != nil || len(jobs.Jobs) != len(deployedFiles) {
		t.Fatalf("GET /v1/jobs = %d %s: want the deployment's jobs", status, body)
	}
	for _, j := range jobs.Jobs {
		if ran := j.LastRun != nil && j.LastRun.ID == started.ID; ran != (j.Name == "hello") {
			t.Errorf("job %s: last run %+v", j.Name, j.LastRun)
		}
	}
	if status, _, body := get("/v1/runs/r-00000000000000ff"); status != 404 || !strings.Contains(body, `"error":`) {
		t.Errorf("GET an unknown run = %d %s", status, body)
	}

	interrupt(t)
	select {
	case <-exited:
		if code != 0 {
			t.Errorf("after Ctrl-C: exit %d, want 0: %s", code, errb.String())
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Ctrl-C did not stop the dashboard")
	}
	if _, err := http.Get(base + "/healthz"); err == nil {
		t.Error("still serving after Ctrl-C")
	}
}

func TestTheDashboardOfADeploymentSaysWhatIsWrongBeforeServing(t *testing.T) {
	tests := []struct {
		name   string
		args   []string
		prefix string // of the deployment that is there
		code   int
		want   string
	}{
		{"an address of the network is refused", []string{"dashboard", "--aws", "--addr", "0.0.0.0:8760"}, "", 2, "is not a loopback address"},
		{"an address without a host is refused", []string{"dashboard", "--aws", "--addr", ":8760"}, "", 2, "is not a loopback address"},
		{"an address that is no address is refused", []string{"dashboard", "--aws", "--addr", "here"}, "", 2, "is not HOST:PORT"},
		{"an address without --aws is refused", []string{"dashboard", "--addr", "127.0.0.1:0"}, "", 2, "--addr is for --aws"},
		{"a deployment that is not there says how to make one", []string{"dashboard", "--aws", "--prefix", "staging"}, "staging", 1,
			"no function staging-api in this account and region"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			app := &App{Stdout: &out, Stderr: &errb, Now: func() time.Time { return now }, Getenv: func(string) string { return "" },
				AWS: remote.New(&lambdas{}, tt.prefix)}
			code := app.Main(tt.args)
			if code != tt.code || !strings.Contains(errb.String(), tt.want) || out.Len() != 0 {
				t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit %d with %q", tt.args, code, out.String(), errb.String(), tt.code, tt.want)
			}
		})
	}
}
