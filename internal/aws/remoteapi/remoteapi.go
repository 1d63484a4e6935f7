// Package remoteapi serves the runs API that the dashboard reads (/v1/...)
// from a deployment on AWS: every request becomes a call of the
// deployment's launcher or api function (remote.Client) under the caller's
// own AWS credentials, so IAM decides who may see or start runs. It is what
// `longshore dashboard --aws` serves on a loopback address, beside the
// embedded dashboard.
//
// The deployment keeps a run's output in one CloudWatch Logs stream read on
// with tokens; the handler maps the dashboard's byte offsets onto those
// tokens (see logs.go) and answers the whole stream as stdout.
package remoteapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/longshore/longshore/internal/api"
	"github.com/longshore/longshore/internal/aws/handler"
	"github.com/longshore/longshore/internal/aws/remote"
	"github.com/longshore/longshore/internal/run"
)

// Deployment is the part of a deployment's client (remote.Client) the
// handler calls.
type Deployment interface {
	Start(ctx context.Context, req api.RunRequest) (api.RunResponse, error)
	Get(ctx context.Context, id string) (api.Run, error)
	List(ctx context.Context, o api.ListOptions) (api.RunList, error)
	Stop(ctx context.Context, id string) (api.Run, error)
	Logs(ctx context.Context, id, token string) (handler.LogsPage, error)
}

var _ Deployment = (*remote.Client)(nil)

// Options configure the handler.
type Options struct {
	Deployment Deployment
	// Pauser, when set, pauses and resumes jobs and tells which are paused.
	Pauser Pauser
	// Jobs lists the catalog as of now (CatalogJobs); the handler adds each
	// job's newest run from the deployment.
	Jobs func(now time.Time) []api.Job
	// UI, when set, serves GET and HEAD requests for every path outside the
	// API (/v1/, /healthz): the dashboard.
	UI  http.Handler
	Now func() time.Time
	Log *slog.Logger
	// LogRuns bounds how many runs' log positions are kept (default 256);
	// the least recently read run is forgotten first and read again from
	// the start of its stream when asked for.
	LogRuns int
	// LogPages bounds the pages of a log stream one request reads (default
	// 32); a request that needs more answers what it has and the next one
	// goes on from there.
	LogPages int
}

type server struct {
	o    Options
	logs *positions
}

// New serves the dashboard's API from a deployment:
//
//	POST /v1/runs                                  start a run (api.RunRequest) through the launcher
//	GET  /v1/runs?job=&status=&limit=&cursor=      list runs, newest first
//	GET  /v1/runs/{id}                             one run
//	GET  /v1/runs/{id}/logs?offset=N | ?tail=N     the run's output (stdout: the whole log stream)
//	POST /v1/runs/{id}/stop                        stop a run
//	GET  /v1/jobs                                  Options.Jobs, each with its newest run and pause state
//	POST /v1/jobs/{name}/pause, /resume            pause or resume a job (Options.Pauser)
//	GET  /healthz                                  liveness (asks the deployment nothing)
//	GET  /...                                      Options.UI, when set
//
// Errors answer as the local API's do, {"error": ...}: 400 for a request
// the deployment refuses, 404 for a run it does not have, 500 when one of
// its functions failed, 403 when AWS refuses the caller, 503 when it
// throttles, and 502 when the deployment cannot be reached at all (no
// credentials, no such function, no network).
//
// It answers only requests addressed to a loopback host (127.0.0.1, ::1,
// localhost), so that no web page can reach it through a DNS name that
// points there, and, as the local API does, refuses a POST a browser sends
// from another origin.
func New(o Options) http.Handler {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.Jobs == nil {
		o.Jobs = func(time.Time) []api.Job { return nil }
	}
	s := &server{o: o, logs: newPositions(o.LogRuns)}
	if s.o.LogPages <= 0 {
		s.o.LogPages = 32
	}
	rt := api.Routes{
		List: s.list, Start: s.start, Get: s.get, Logs: s.readLogs, Stop: s.stop, Jobs: s.jobs, UI: o.UI,
		Instead: "use the dashboard served here, or the CLI",
	}
	if o.Pauser != nil {
		rt.Pause, rt.Resume = s.pause, s.resume
	}
	protected := api.Serve(rt)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !loopbackHost(r.Host) {
			api.WriteError(w, http.StatusForbidden, fmt.Sprintf("host %q is refused: this dashboard answers on this machine's loopback address only (http://127.0.0.1:PORT/)", r.Host))
			return
		}
		protected.ServeHTTP(w, r)
	})
}

// loopbackHost tells whether a request's Host names this machine's
// loopback interface.
func loopbackHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// start serves POST /v1/runs through the launcher's direct invoke.
func (s *server) start(w http.ResponseWriter, r *http.Request) {
	req, status, err := decodeRunRequest(w, r)
	if err != nil {
		api.WriteError(w, status, err.Error())
		return
	}
	resp, err := s.o.Deployment.Start(r.Context(), req)
	if err != nil {
		s.fail(w, "start a run of "+req.Job, err)
		return
	}
	status = http.StatusCreated
	if resp.Duplicate {
		status = http.StatusOK
	}
	api.WriteJSON(w, status, resp)
}

func decodeRunRequest(w http.ResponseWriter, r *http.Request) (api.RunRequest, int, error) {
	var req api.RunRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, api.MaxBodyBytes))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return req, http.StatusRequestEntityTooLarge, fmt.Errorf("request body is larger than %d bytes", api.MaxBodyBytes)
		}
		return req, http.StatusBadRequest, fmt.Errorf("request body is not a run request: %v; send {\"job\": NAME, \"env\": {...}, \"command\": [...], \"key\": KEY, \"waitSeconds\": N}", err)
	}
	switch {
	case dec.More():
		return req, http.StatusBadRequest, errors.New("request body holds more than one JSON value")
	case req.Job == "":
		return req, http.StatusBadRequest, errors.New(`request has no "job": name the job to run`)
	case req.WaitSeconds < 0:
		return req, http.StatusBadRequest, errors.New(`"waitSeconds" must be 0 or more`)
	}
	return req, 0, nil
}

// get serves GET /v1/runs/{id}.
func (s *server) get(w http.ResponseWriter, r *http.Request) {
	id, ok := runID(w, r)
	if !ok {
		return
	}
	got, err := s.o.Deployment.Get(r.Context(), id)
	if err != nil {
		s.fail(w, "read run "+id, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, got)
}

// list serves GET /v1/runs.
func (s *server) list(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	o := api.ListOptions{Job: q.Get("job"), Cursor: q.Get("cursor")}
	for _, v := range q["status"] {
		for _, one := range strings.Split(v, ",") {
			if !run.Status(one).Valid() {
				api.WriteError(w, http.StatusBadRequest, fmt.Sprintf("status %q is unknown: use queued, starting, running, succeeded, failed, timed_out or cancelled", one))
				return
			}
			o.Status = append(o.Status, one)
		}
	}
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > api.MaxListLimit {
			api.WriteError(w, http.StatusBadRequest, fmt.Sprintf("limit %q is out of range: use 1 to %d", l, api.MaxListLimit))
			return
		}
		o.Limit = n
	}
	got, err := s.o.Deployment.List(r.Context(), o)
	if err != nil {
		s.fail(w, "list runs", err)
		return
	}
	if got.Runs == nil {
		got.Runs = []api.Run{}
	}
	api.WriteJSON(w, http.StatusOK, got)
}

// stop serves POST /v1/runs/{id}/stop.
func (s *server) stop(w http.ResponseWriter, r *http.Request) {
	id, ok := runID(w, r)
	if !ok {
		return
	}
	got, err := s.o.Deployment.Stop(r.Context(), id)
	if err != nil {
		s.fail(w, "stop run "+id, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, got)
}

// jobs serves GET /v1/jobs: the catalog, each job with its newest run,
// asked of the deployment for all jobs at once.
func (s *server) jobs(w http.ResponseWriter, r *http.Request) {
	jobs := s.o.Jobs(s.o.Now())
	if jobs == nil {
		jobs = []api.Job{}
	}
	// The costs' first page of each job gives its newest run too.
	if name, err := WithCosts(r.Context(), s.o.Deployment, jobs, s.o.Now()); err != nil {
		s.fail(w, "list the runs of job "+name, err)
		return
	}
	if name, err := WithLastRuns(r.Context(), s.o.Deployment, jobs); err != nil {
		s.fail(w, "list the runs of job "+name, err)
		return
	}
	if s.o.Pauser != nil {
		if err := WithPauses(r.Context(), s.o.Pauser, jobs); err != nil {
			s.fail(w, "read which jobs are paused", err)
			return
		}
	}
	api.WriteJSON(w, http.StatusOK, map[string][]api.Job{"jobs": jobs})
}

// RunLister lists a deployment's runs (remote.Client).
type RunLister interface {
	List(ctx context.Context, o api.ListOptions) (api.RunList, error)
}

// WithLastRuns sets each job's newest run (LastRun), asking the deployment
// for all jobs at once. On an error it returns the name of a job whose runs
// could not be listed.
func WithLastRuns(ctx context.Context, dep RunLister, jobs []api.Job) (string, error) {
	errs := make([]error, len(jobs))
	var wg sync.WaitGroup
	for i := range jobs {
		if jobs[i].LastRun != nil {
			continue
		}
		wg.Go(func() {
			got, err := dep.List(ctx, api.ListOptions{Job: jobs[i].Name, Limit: 1})
			if err != nil {
				errs[i] = err
				return
			}
			if len(got.Runs) > 0 {
				sum := got.Runs[0].Summary()
				jobs[i].LastRun = &sum
			}
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			return jobs[i].Name, err
		}
	}
	return "", nil
}

func runID(w http.ResponseWriter, r *http.Request) (string, bool) {
	id := r.PathValue("id")
	if !run.ValidID(id) {
		api.WriteError(w, http.StatusBadRequest, fmt.Sprintf("%q is not a run id: run ids look like r-0123456789abcdef", id))
		return "", false
	}
	return id, true
}

// fail answers an error of the deployment. What the deployment itself
// answered reads as the local API would say it; anything else (AWS
// refusing the call, no network) says what was being done.
func (s *server) fail(w http.ResponseWriter, action string, err error) {
	status := statusOf(err)
	msg := err.Error()
	var re *remote.Error
	if !errors.As(err, &re) {
		msg = action + ": " + msg
	}
	if status >= 500 {
		s.o.Log.Error(action, "err", err)
	}
	api.WriteError(w, status, msg)
}

// statusOf is the HTTP status an error of the deployment answers with.
func statusOf(err error) int {
	var re *remote.Error
	if errors.As(err, &re) {
		switch re.Type {
		case handler.ErrorRequest:
			return http.StatusBadRequest
		case handler.ErrorNotFound:
			return http.StatusNotFound
		}
		return http.StatusInternalServerError
	}
	var he interface{ HTTPStatusCode() int }
	if errors.As(err, &he) {
		switch code := he.HTTPStatusCode(); code {
		case http.StatusUnauthorized, http.StatusForbidden:
			return http.StatusForbidden
		case http.StatusTooManyRequests:
			return http.StatusServiceUnavailable
		}
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return http.StatusGatewayTimeout
	}
	return http.StatusBadGateway
}
