package remoteapi_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/longshore/longshore/internal/api"
	"github.com/longshore/longshore/internal/aws/handler"
	"github.com/longshore/longshore/internal/aws/remote"
	"github.com/longshore/longshore/internal/aws/remoteapi"
	"github.com/longshore/longshore/internal/run"
)

var now = time.Date(2026, 11, 22, 19, 0, 0, 0, time.UTC)

// deployment is a fake of a deployment's client: runs in memory, and for
// each run a log stream read as CloudWatch's GetLogEvents reads one from
// its head: pages of at most pageSize events, a token "t<n>" going on from
// the n-th event, the same token back at the end.
type deployment struct {
	mu       sync.Mutex
	runs     []api.Run // newest first
	lines    map[string][]string
	pageSize int
	// emptyEvery, when > 0, answers an empty page with a token that goes on
	// before every emptyEvery-th page, as CloudWatch may.
	emptyEvery int
	pages      int
	fail       map[string]error // by op: start, get, list, stop, logs
	calls      map[string]int
	listed     []api.ListOptions
	started    []api.RunRequest
}

func newDeployment() *deployment {
	code := 3
	stopped := now.Add(-time.Minute)
	cause := run.CauseExit
	return &deployment{
		runs: []api.Run{
			{ID: "r-00000000000000b2", Job: "hello", Status: run.StatusRunning, Attempt: 1, CreatedAt: now.Add(-30 * time.Second)},
			{ID: "r-00000000000000b1", Job: "hello", Status: run.StatusFailed, Cause: &cause, ExitCode: &code, Reason: "exited with code 3",
				Attempt: 1, CreatedAt: now.Add(-2 * time.Minute), StoppedAt: &stopped},
		},
		lines:    map[string][]string{},
		pageSize: 3,
		fail:     map[string]error{},
		calls:    map[string]int{},
	}
}

func (d *deployment) called(op string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.calls[op]++
	return d.fail[op]
}

func (d *deployment) count(op string) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.calls[op]
}

func (d *deployment) find(id string) (api.Run, bool) {
	for _, r := range d.runs {
		if r.ID == id {
			return r, true
		}
	}
	return api.Run{}, false
}

func notFound(id string) error {
	return &remote.Error{Type: handler.ErrorNotFound, Message: "get run " + id + ": run not found"}
}

func (d *deployment) Start(_ context.Context, req api.RunRequest) (api.RunResponse, error) {
	if err := d.called("start"); err != nil {
		return api.RunResponse{}, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.started = append(d.started, req)
	if req.Key == "again" {
		return api.RunResponse{Run: d.runs[0], Duplicate: true}, nil
	}
	r := api.Run{ID: fmt.Sprintf("r-%016x", 0xc0+len(d.started)), Job: req.Job, Status: run.StatusQueued, Attempt: 1, CreatedAt: now, Env: req.Env}
	d.runs = append([]api.Run{r}, d.runs...)
	return api.RunResponse{Run: r}, nil
}

func (d *deployment) Get(_ context.Context, id string) (api.Run, error) {
	if err := d.called("get"); err != nil {
		return api.Run{}, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if r, ok := d.find(id); ok {
		return r, nil
	}
	return api.Run{}, notFound(id)
}

func (d *deployment) List(_ context.Context, o api.ListOptions) (api.RunList, error) {
	if err := d.called("list"); err != nil {
		return api.RunList{}, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.listed = append(d.listed, o)
	var out api.RunList
	for _, r := range d.runs {
		if o.Job != "" && r.Job != o.Job {
			continue
		}
		if o.Limit > 0 && len(out.Runs) == o.Limit {
			out.Next = "more"
			break
		}
		out.Runs = append(out.Runs, r)
	}
	return out, nil
}

func (d *deployment) Stop(_ context.Context, id string) (api.Run, error) {
	if err := d.called("stop"); err != nil {
		return api.Run{}, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	for i, r := range d.runs {
		if r.ID == id {
			if !r.Status.Terminal() {
				d.runs[i].Status = run.StatusCancelled
			}
			return d.runs[i], nil
		}
	}
	return api.Run{}, notFound(id)
}

func (d *deployment) Logs(_ context.Context, id, token string) (handler.LogsPage, error) {
	if err := d.called("logs"); err != nil {
		return handler.LogsPage{}, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	r, ok := d.find(id)
	if !ok {
		return handler.LogsPage{}, notFound(id)
	}
	pos := 0
	if token != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(strings.TrimSuffix(token, "+"), "t"))
		if err != nil {
			return handler.LogsPage{}, &remote.Error{Type: handler.ErrorInternal, Message: "bad token " + token}
		}
		pos = n
	}
	page := handler.LogsPage{RunID: id, Events: []handler.LogEvent{}, Next: token}
	d.pages++
	if d.emptyEvery > 0 && d.pages%d.emptyEvery == 0 && !strings.HasSuffix(token, "+") {
		page.Next = fmt.Sprintf("t%d+", pos) // an empty page that goes on
		return page, nil
	}
	lines := d.lines[id]
	for _, l := range lines[min(pos, len(lines)):min(pos+d.pageSize, len(lines))] {
		page.Events = append(page.Events, handler.LogEvent{Time: now, Message: l})
	}
	if len(page.Events) > 0 {
		page.Next = fmt.Sprintf("t%d", pos+len(page.Events))
	}
	page.Done = r.Status.Terminal() && len(page.Events) == 0
	return page, nil
}

// write appends lines to a run's log stream.
func (d *deployment) write(id string, lines ...string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.lines[id] = append(d.lines[id], lines...)
}

// output is a run's whole output as the handler answers it.
func (d *deployment) output(id string) string {
	d.mu.Lock()
	defer d.mu.Unlock()
	var b strings.Builder
	for _, l := range d.lines[id] {
		b.WriteString(l + "\n")
	}
	return b.String()
}

func (d *deployment) finish(id string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for i := range d.runs {
		if d.runs[i].ID == id {
			d.runs[i].Status = run.StatusSucceeded
		}
	}
}

// ui stands for the dashboard.
var ui = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "<!doctype html>dashboard "+r.URL.Path) })

func newHandler(d *deployment, o remoteapi.Options) http.Handler {
	o.Deployment = d
	if o.Jobs == nil {
		o.Jobs = func(time.Time) []api.Job {
			return []api.Job{{Name: "hello", Triggers: []string{"invoke"}}, {Name: "orders", Triggers: []string{"sqs longshore-orders"}}}
		}
	}
	o.UI = ui
	o.Now = func() time.Time { return now }
	o.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	return remoteapi.New(o)
}

// answer is a response, read.
type answer struct {
	status int
	header http.Header
	body   string
}

func do(t *testing.T, h http.Handler, method, target, body string, header ...string) answer {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, "http://127.0.0.1:8760"+target, rd)
	for i := 0; i+1 < len(header); i += 2 {
		if header[i] == "Host" {
			req.Host = header[i+1]
			continue
		}
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return answer{rec.Code, rec.Header(), rec.Body.String()}
}

func (a answer) String() string {
	return fmt.Sprintf("%d %s", a.status, strings.TrimSpace(a.body))
}
