package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/longshore/longshore/internal/dispatch"
	"github.com/longshore/longshore/internal/run"
)

// Launcher starts and stops runs (dispatch.Service).
type Launcher interface {
	Launch(ctx context.Context, req dispatch.Request) (dispatch.Launched, error)
	Stop(ctx context.Context, id string, why run.StopRequest) (run.Run, error)
}

// Runs reads runs (a dispatch.RunStore).
type Runs interface {
	Get(ctx context.Context, id string) (run.Run, error)
	List(ctx context.Context, q dispatch.Query) ([]run.Run, string, error)
}

// Changes tells of writes to runs (the local store's Watch): Watch returns
// a channel that receives the run id as later writes store it (at least
// the newest), and a function that releases it.
type Changes interface {
	Watch(id string) (runs <-chan run.Run, stop func())
}

// Logs opens a run's output: stream is "stdout" or "stderr". A run with no
// output yet gives an error satisfying errors.Is(err, fs.ErrNotExist).
type Logs interface {
	Open(runID, stream string) (io.ReadSeekCloser, error)
}

// Options configure the handler.
type Options struct {
	Launcher Launcher
	Runs     Runs
	Logs     Logs
	// Jobs lists the catalog as the API shows it.
	Jobs func() []Job
	Log  *slog.Logger
	// MaxWait bounds RunRequest.WaitSeconds (default 15 minutes, Lambda's limit).
	MaxWait time.Duration
	// Poll is how often a waiting request looks at its run (default 100ms).
	Poll time.Duration
	// Changes, when set, wakes a waiting request as soon as its run is
	// written; Poll then only backs it up.
	Changes Changes
	// UI, when set, serves GET and HEAD requests for every path outside the
	// API (/v1/, /2015-03-31/, /healthz): the dashboard.
	UI http.Handler
	// Backfill, when set, serves POST /v1/jobs/{name}/backfill.
	Backfill BackfillFunc
	// Pauser, when set, pauses and resumes jobs (POST /v1/jobs/{name}/pause,
	// /resume) and tells which are paused (GET /v1/jobs).
	Pauser Pauser
	// Now tells the time the jobs' 30-day costs end at (time.Now when nil).
	Now func() time.Time
	// Notifications, when set, gives the delivery attempts of a run's
	// notifications, shown by GET /v1/runs/{id}.
	Notifications func(ctx context.Context, runID string) ([]Notification, error)
}

// Limits of the API.
const (
	MaxBodyBytes = 1 << 20
	MaxLogChunk  = 1 << 20
	MaxListLimit = 1000
	launcherName = "launcher"
)

type handler struct {
	o Options
}

// NewHandler serves the API:
//
//	POST /2015-03-31/functions/launcher/invocations  Lambda Invoke of the launcher (RunRequest), by
//	                                                 name, ARN or partial ARN (FunctionName)
//	POST /v1/runs                                    start a run (RunRequest)
//	GET  /v1/runs?job=&status=&limit=&cursor=        list runs, newest first
//	GET  /v1/runs/{id}                               one run; ?waitSeconds=N&status=S answers once it is no longer S
//	GET  /v1/runs/{id}/logs?stream=stdout&offset=N   output from an offset
//	GET  /v1/runs/{id}/logs?stream=stdout&tail=N     the last N bytes of output
//	POST /v1/runs/{id}/stop                          stop a run
//	GET  /v1/jobs                                    the catalog
//	POST /v1/jobs/{name}/backfill                    runs of a job's schedule times in a window (BackfillRequest)
//	POST /v1/jobs/{name}/pause                       pause a job (PauseRequest)
//	POST /v1/jobs/{name}/resume                      resume a paused job
//	GET  /healthz                                    liveness
//	GET  /...                                        Options.UI, when set
//
// Requests that change something (POST) are refused when a browser sends
// them from another origin (http.CrossOriginProtection), so that no web page
// can start or stop runs through a user's browser; other clients (the CLI,
// the AWS SDK, curl) send no such headers and are not affected.
func NewHandler(o Options) http.Handler {
	if o.MaxWait <= 0 {
		o.MaxWait = 15 * time.Minute
	}
	if o.Poll <= 0 {
		o.Poll = 100 * time.Millisecond
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	h := &handler{o: o}
	return Serve(Routes{
		List: h.list, Start: h.start, Get: h.get, Logs: h.logs, Stop: h.stop, Jobs: h.jobs, Invoke: h.invoke, UI: o.UI, Backfill: h.backfill,
		Pause: h.pause, Resume: h.resume,
		Instead: "use the dashboard served by the engine itself, the CLI, or the API without a browser",
	})
}

// Methods routes a request by its method, answering any other method with
// a JSON 405 that lists the allowed ones (Go's mux answers in plain text).
func Methods(fs map[string]http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		f, ok := fs[r.Method]
		if !ok {
			allowed := make([]string, 0, len(fs))
			for m := range fs {
				allowed = append(allowed, m)
			}
			slices.Sort(allowed)
			w.Header().Set("Allow", strings.Join(allowed, ", "))
			WriteError(w, http.StatusMethodNotAllowed, fmt.Sprintf("%s is not allowed on %s: use %s", r.Method, r.URL.Path, strings.Join(allowed, " or ")))
			return
		}
		f(w, r)
	}
}

// start serves POST /v1/runs.
func (h *handler) start(w http.ResponseWriter, r *http.Request) {
	req, err := decodeRunRequest(w, r)
	if err != nil {
		WriteError(w, statusOf(err), err.Error())
		return
	}
	resp, err := h.launch(r.Context(), req, "api")
	if err != nil {
		WriteError(w, statusOf(err), err.Error())
		return
	}
	status := http.StatusCreated
	if resp.Duplicate {
		status = http.StatusOK
	}
	WriteJSON(w, status, resp)
}

// invoke serves Lambda's Invoke API for the launcher function: errors of
// the function come back as Lambda reports them (200 with
// X-Amz-Function-Error), so the SDK's Invoke behaves as against AWS.
func (h *handler) invoke(w http.ResponseWriter, r *http.Request) {
	given := r.PathValue("name")
	name, err := FunctionName(given)
	if err != nil {
		w.Header().Set("X-Amzn-ErrorType", "InvalidParameterValueException")
		WriteJSON(w, http.StatusBadRequest, map[string]string{"Type": "User", "Message": err.Error()})
		return
	}
	if name != launcherName && name != "longshore-"+launcherName {
		w.Header().Set("X-Amzn-ErrorType", "ResourceNotFoundException")
		WriteJSON(w, http.StatusNotFound, map[string]string{"Type": "User", "Message": fmt.Sprintf("Function not found: %s (the local engine serves %q)", given, launcherName)})
		return
	}
	req, err := decodeRunRequest(w, r)
	if err == nil {
		switch r.Header.Get("X-Amz-Invocation-Type") {
		case "DryRun":
			w.WriteHeader(http.StatusNoContent)
			return
		case "Event":
			req.WaitSeconds = 0
			if _, err = h.launch(r.Context(), req, "lambda-invoke"); err == nil {
				w.WriteHeader(http.StatusAccepted)
				return
			}
		default:
			var resp RunResponse
			if resp, err = h.launch(r.Context(), req, "lambda-invoke"); err == nil {
				WriteJSON(w, http.StatusOK, resp)
				return
			}
		}
	}
	if statusOf(err) >= 500 {
		h.o.Log.Error("invoke", "err", err)
	}
	w.Header().Set("X-Amz-Function-Error", "Unhandled")
	WriteJSON(w, http.StatusOK, map[string]string{"errorType": errorType(err), "errorMessage": err.Error()})
}

var (
	functionNameRe = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,140}$`)
	qualifierRe    = regexp.MustCompile(`^(\$LATEST|[a-zA-Z0-9_-]{1,128})$`)
	accountRe      = regexp.MustCompile(`^[0-9]{12}$`)
)

// FunctionName takes the function's name out of what Lambda's Invoke takes
// as FunctionName: a name ("launcher"), a full ARN
// ("arn:aws:lambda:us-east-1:123456789012:function:launcher") or a partial
// ARN ("123456789012:function:launcher"), each optionally followed by
// ":" and a version or alias, which the local engine (one version of one
// function) accepts and ignores. The region and account of an ARN are not
// checked against anything.
func FunctionName(s string) (string, error) {
	parts := strings.Split(s, ":")
	var name string
	var rest []string
	switch {
	case parts[0] == "arn":
		if len(parts) < 7 || !strings.HasPrefix(parts[1], "aws") || parts[2] != "lambda" || parts[3] == "" ||
			!accountRe.MatchString(parts[4]) || parts[5] != "function" {
			return "", fmt.Errorf("%q is not the ARN of a Lambda function: arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]", s)
		}
		name, rest = parts[6], parts[7:]
	case len(parts) >= 3 && accountRe.MatchString(parts[0]) && parts[1] == "function":
		name, rest = parts[2], parts[3:]
	default:
		name, rest = parts[0], parts[1:]
	}
	switch {
	case !functionNameRe.MatchString(name):
		return "", fmt.Errorf("%q does not name a function: give its name, ARN or partial ARN (ACCOUNT:function:NAME)", s)
	case len(rest) > 1:
		return "", fmt.Errorf("%q has more than one qualifier: NAME[:VERSION_OR_ALIAS]", s)
	case len(rest) == 1 && !qualifierRe.MatchString(rest[0]):
		return "", fmt.Errorf("%q has an invalid qualifier %q: use $LATEST, a version or an alias", s, rest[0])
	}
	return name, nil
}

func (h *handler) launch(ctx context.Context, req RunRequest, caller string) (RunResponse, error) {
	got, err := h.o.Launcher.Launch(ctx, dispatch.Request{
		Job: req.Job, Trigger: run.Trigger{Kind: run.TriggerInvoke, Caller: caller}, Key: req.Key,
		Env: req.Env, Command: req.Command, Callback: req.Callback,
	})
	if !dispatch.Stored(got, err) {
		return RunResponse{}, err
	}
	r := got.Run
	if req.WaitSeconds > 0 {
		wait := min(time.Duration(req.WaitSeconds)*time.Second, h.o.MaxWait)
		if r, err = h.waitFinal(ctx, r, wait); err != nil {
			return RunResponse{}, err
		}
	}
	return RunResponse{Run: FromRun(r), Duplicate: got.Duplicate}, nil
}

// watch is Options.Changes.Watch, or a channel that never receives.
func (h *handler) watch(id string) (<-chan run.Run, func()) {
	if h.o.Changes == nil {
		return nil, func() {}
	}
	return h.o.Changes.Watch(id)
}

func decodeRunRequest(w http.ResponseWriter, r *http.Request) (RunRequest, error) {
	var req RunRequest
	body := http.MaxBytesReader(w, r.Body, MaxBodyBytes)
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return req, &httpError{http.StatusRequestEntityTooLarge, fmt.Sprintf("request body is larger than %d bytes", MaxBodyBytes)}
		}
		return req, &httpError{http.StatusBadRequest, fmt.Sprintf("request body is not a run request: %v; send {\"job\": NAME, \"env\": {...}, \"command\": [...], \"key\": KEY, \"waitSeconds\": N}", err)}
	}
	if dec.More() {
		return req, &httpError{http.StatusBadRequest, "request body holds more than one JSON value"}
	}
	if req.Job == "" {
		return req, &httpError{http.StatusBadRequest, `request has no "job": name the job to run`}
	}
	if req.WaitSeconds < 0 {
		return req, &httpError{http.StatusBadRequest, `"waitSeconds" must be 0 or more`}
	}
	return req, nil
}

// get serves GET /v1/runs/{id}.
func (h *handler) get(w http.ResponseWriter, r *http.Request) {
	id, ok := runID(w, r)
	if !ok {
		return
	}
	wait, err := changeWait(r)
	if err != nil {
		WriteError(w, http.StatusBadRequest, err.Error())
		return
	}
	// Watch before reading, so that no write after the read goes unseen.
	runs, stop := h.watch(id)
	defer stop()
	got, err := h.o.Runs.Get(r.Context(), id)
	if err != nil {
		WriteError(w, statusOf(err), err.Error())
		return
	}
	if wait.d > 0 {
		got = h.waitChange(r.Context(), got, wait, runs)
	}
	v := FromRun(got)
	if h.o.Notifications != nil {
		if v.Notifications, err = h.o.Notifications(r.Context(), id); err != nil {
			h.o.Log.Warn("read the notifications of a run", "run", id, "err", err)
		}
	}
	WriteJSON(w, http.StatusOK, v)
}

// list serves GET /v1/runs.
func (h *handler) list(w http.ResponseWriter, r *http.Request) {
	q := dispatch.Query{Job: r.URL.Query().Get("job"), Cursor: r.URL.Query().Get("cursor")}
	for _, s := range r.URL.Query()["status"] {
		for _, one := range strings.Split(s, ",") {
			st := run.Status(one)
			if !st.Valid() {
				WriteError(w, http.StatusBadRequest, fmt.Sprintf("status %q is unknown: use queued, starting, running, succeeded, failed, timed_out or cancelled", one))
				return
			}
			q.Status = append(q.Status, st)
		}
	}
	if l := r.URL.Query().Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > MaxListLimit {
			WriteError(w, http.StatusBadRequest, fmt.Sprintf("limit %q is out of range: use 1 to %d", l, MaxListLimit))
			return
		}
		q.Limit = n
	}
	runs, next, err := h.o.Runs.List(r.Context(), q)
	if err != nil {
		WriteError(w, http.StatusBadRequest, fmt.Sprintf("list runs: %v", err))
		return
	}
	out := RunList{Runs: make([]Run, 0, len(runs)), Next: next}
	for _, r := range runs {
		out.Runs = append(out.Runs, FromRun(r))
	}
	WriteJSON(w, http.StatusOK, out)
}

// logs serves GET /v1/runs/{id}/logs: the output from an offset, at most
// MaxLogChunk bytes, with the next offset and whether the run is done.
func (h *handler) logs(w http.ResponseWriter, r *http.Request) {
	id, ok := runID(w, r)
	if !ok {
		return
	}
	stream := r.URL.Query().Get("stream")
	if stream == "" {
		stream = "stdout"
	}
	if stream != "stdout" && stream != "stderr" {
		WriteError(w, http.StatusBadRequest, fmt.Sprintf("stream %q is unknown: use stdout or stderr", stream))
		return
	}
	var offset, tail int64
	if o := r.URL.Query().Get("offset"); o != "" {
		n, err := strconv.ParseInt(o, 10, 64)
		if err != nil || n < 0 {
			WriteError(w, http.StatusBadRequest, fmt.Sprintf("offset %q is not a byte offset", o))
			return
		}
		offset = n
	}
	if t := r.URL.Query().Get("tail"); t != "" {
		n, err := strconv.ParseInt(t, 10, 64)
		if err != nil || n < 1 || n > MaxLogChunk {
			WriteError(w, http.StatusBadRequest, fmt.Sprintf("tail %q is out of range: use 1 to %d bytes", t, MaxLogChunk))
			return
		}
		if r.URL.Query().Get("offset") != "" {
			WriteError(w, http.StatusBadRequest, "give offset or tail, not both: tail reads the last bytes, offset reads on from a byte")
			return
		}
		tail = n
	}
	// Read the run first: output that exists when the run is seen finished is complete.
	got, err := h.o.Runs.Get(r.Context(), id)
	if err != nil {
		WriteError(w, statusOf(err), err.Error())
		return
	}
	var chunk []byte
	f, err := h.o.Logs.Open(id, stream)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		WriteError(w, http.StatusInternalServerError, fmt.Sprintf("read output of run %s: %v", id, err))
		return
	default:
		defer f.Close()
		if tail > 0 {
			if size, err := f.Seek(0, io.SeekEnd); err == nil {
				offset = max(0, size-tail)
			}
		}
		if _, err := f.Seek(offset, io.SeekStart); err == nil {
			chunk, _ = io.ReadAll(io.LimitReader(f, MaxLogChunk))
		}
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set(HeaderLogStart, strconv.FormatInt(offset, 10))
	w.Header().Set(HeaderLogOffset, strconv.FormatInt(offset+int64(len(chunk)), 10))
	w.Header().Set(HeaderRunDone, strconv.FormatBool(got.Status.Terminal() && len(chunk) < MaxLogChunk))
	w.WriteHeader(http.StatusOK)
	w.Write(chunk)
}

// stop serves POST /v1/runs/{id}/stop.
func (h *handler) stop(w http.ResponseWriter, r *http.Request) {
	id, ok := runID(w, r)
	if !ok {
		return
	}
	got, err := h.o.Launcher.Stop(r.Context(), id, run.StopCancel)
	if err != nil {
		WriteError(w, statusOf(err), err.Error())
		return
	}
	WriteJSON(w, http.StatusOK, FromRun(got))
}

// jobs serves GET /v1/jobs: the catalog, each job with its newest run
// and its cost over the last 30 days.
func (h *handler) jobs(w http.ResponseWriter, r *http.Request) {
	jobs := slices.Clone(h.o.Jobs())
	if jobs == nil {
		jobs = []Job{}
	}
	for i := range jobs {
		if err := WithCost(r.Context(), &jobs[i], h.listPage, h.now()); err != nil {
			WriteError(w, statusOf(err), fmt.Sprintf("list the runs of job %s: %v", jobs[i].Name, err))
			return
		}
		if h.o.Pauser != nil {
			if err := WithPause(r.Context(), &jobs[i], h.o.Pauser); err != nil {
				WriteError(w, statusOf(err), err.Error())
				return
			}
		}
		if jobs[i].LastRun != nil {
			continue
		}
		runs, _, err := h.o.Runs.List(r.Context(), dispatch.Query{Job: jobs[i].Name, Limit: 1})
		if err != nil {
			WriteError(w, statusOf(err), fmt.Sprintf("list the runs of job %s: %v", jobs[i].Name, err))
			return
		}
		if len(runs) > 0 {
			s := FromRun(runs[0]).Summary()
			jobs[i].LastRun = &s
		}
	}
	WriteJSON(w, http.StatusOK, map[string][]Job{"jobs": jobs})
}

func runID(w http.ResponseWriter, r *http.Request) (string, bool) {
	id := r.PathValue("id")
	if !run.ValidID(id) {
		WriteError(w, http.StatusBadRequest, fmt.Sprintf("%q is not a run id: run ids look like r-0123456789abcdef", id))
		return "", false
	}
	return id, true
}

type httpError struct {
	status int
	msg    string
}

func (e *httpError) Error() string { return e.msg }

func statusOf(err error) int {
	var he *httpError
	var re *dispatch.RequestError
	switch {
	case errors.As(err, &he):
		return he.status
	case errors.As(err, &re):
		return http.StatusBadRequest
	case errors.Is(err, dispatch.ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

func errorType(err error) string {
	var re *dispatch.RequestError
	var he *httpError
	var se *dispatch.StartError
	switch {
	case errors.As(err, &re), errors.As(err, &he):
		return "RequestError"
	case errors.As(err, &se):
		return "StartError"
	}
	return "InternalError"
}

// WriteJSON answers v as JSON with status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.Encode(v)
}

// WriteError answers an Error with status.
func WriteError(w http.ResponseWriter, status int, msg string) {
	WriteJSON(w, status, Error{Message: msg})
}
