package handler

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/longshore/longshore/internal/api"
	"github.com/longshore/longshore/internal/aws/ecs"
	"github.com/longshore/longshore/internal/deploy"
	"github.com/longshore/longshore/internal/dispatch"
	"github.com/longshore/longshore/internal/run"
)

// Operations of the api function.
const (
	OpGet  = "get"
	OpList = "list"
	OpStop = "stop"
	OpLogs = "logs"
	// OpCatalog answers the catalog the deployment runs (CatalogPage).
	OpCatalog = "catalog"
	// OpPause and OpResume pause and resume a job (api.PauseResponse);
	// OpPauses answers every job's pause state (PausesPage).
	OpPause  = "pause"
	OpResume = "resume"
	OpPauses = "pauses"
)

// APIRequest is the payload of the api function, which the CLI's AWS
// backend sends with lambda Invoke (RequestResponse):
//
//	{"op": "get", "id": "r-..."}                                 -> api.Run
//	{"op": "list", "job": J, "status": [S...], "limit": N, "cursor": C} -> api.RunList
//	{"op": "stop", "id": "r-..."}                                -> api.Run
//	{"op": "logs", "id": "r-...", "token": T, "limit": N}        -> LogsPage
//	{"op": "catalog"}                                            -> CatalogPage
//	{"op": "pause", "job": J, "reason": R}                       -> api.PauseResponse
//	{"op": "resume", "job": J}                                   -> api.PauseResponse
//	{"op": "pauses"}                                             -> PausesPage
//
// Errors come back as Lambda function errors whose errorType is
// RequestError (a request that can never succeed), NotFound or
// InternalError.
type APIRequest struct {
	Op     string       `json:"op"`
	ID     string       `json:"id,omitempty"`
	Job    string       `json:"job,omitempty"`
	Status []run.Status `json:"status,omitempty"`
	Limit  int          `json:"limit,omitempty"`
	Cursor string       `json:"cursor,omitempty"`
	// Token continues the log stream from an earlier LogsPage.Next.
	Token string `json:"token,omitempty"`
	// Reason says why a job is paused (op pause).
	Reason string `json:"reason,omitempty"`
}

// LogsPage is a page of a run's container output, and where it is.
type LogsPage struct {
	RunID     string `json:"runId"`
	LogGroup  string `json:"logGroup"`
	LogStream string `json:"logStream,omitempty"`
	// Events are the lines from Token on; empty when the run has no task
	// yet or the task wrote nothing new.
	Events []LogEvent `json:"events"`
	// Next continues the stream (send it back as token).
	Next string `json:"next,omitempty"`
	// Done is true once the run has finished and this page reached the end
	// of its output: following it can stop.
	Done bool `json:"done"`
}

// CatalogPage is the job catalog a deployment runs: its files as they were
// shipped to the functions, by path below the catalog folder
// (<name>/job.yaml). The CLI loads them as the functions did, so what it
// shows of a deployment's jobs is what the deployment runs.
type CatalogPage struct {
	Files map[string]string `json:"files"`
}

// StopService stops runs (dispatch.Service).
type StopService interface {
	Stop(ctx context.Context, id string, why run.StopRequest) (run.Run, error)
}

// LogEvent is one line of a run's output.
type LogEvent struct {
	Time    time.Time `json:"time"`
	Message string    `json:"message"`
}

// LogReader reads log streams (logs.Reader): the events of a stream from
// its start, or from token, and the token to read on from.
type LogReader interface {
	Read(ctx context.Context, group, stream, token string, limit int) ([]LogEvent, string, error)
}

// LiveTasks tells what ECS knows now of runs' tasks (ecs.Runner): the task
// of one run, or the cluster's active tasks by run id.
type LiveTasks interface {
	Find(ctx context.Context, runID string) (string, error)
	Describe(ctx context.Context, taskRef string) (run.TaskState, error)
	Active(ctx context.Context) (map[string]run.TaskState, error)
}

// APIOptions configure the api function's handler.
type APIOptions struct {
	Service StopService
	Runs    Runs
	// Tasks, when set, shows runs that have not finished as their tasks are
	// now: the tracker records a run when it is created and when its task
	// stops, so a started run's task, status (running) and start time are
	// read from ECS when asked for, not written for every run.
	Tasks LiveTasks
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// Logs reads the jobs' log streams; without it, logs answers the
	// location only.
	Logs   LogReader
	Prefix string
	Log    *slog.Logger
	// JobFiles are the deployed catalog's files (host.Host.JobFiles).
	JobFiles map[string]string
	// Jobs and Pauses pause and resume jobs; without them, pause and
	// resume are refused.
	Jobs   Catalog
	Pauses api.Pauser
}

// API is the api function's handler.
type API struct {
	o APIOptions
}

// NewAPI returns the api function's handler.
func NewAPI(o APIOptions) *API {
	o.Log = logOr(o.Log)
	if o.Now == nil {
		o.Now = time.Now
	}
	return &API{o: o}
}

// Handle decodes an APIRequest, refusing unknown fields, and serves it.
func (a *API) Handle(ctx context.Context, payload json.RawMessage) (any, error) {
	var req APIRequest
	if err := strict(payload, &req); err != nil {
		return nil, invokeError(badRequest(fmt.Sprintf("api: the payload is not an API request: %v; send {\"op\": \"get\", \"id\": ID} or another op", err)))
	}
	return a.Serve(ctx, req)
}

// Serve serves one APIRequest.
func (a *API) Serve(ctx context.Context, req APIRequest) (any, error) {
	var out any
	var err error
	switch req.Op {
	case OpGet:
		out, err = a.get(ctx, req)
	case OpList:
		out, err = a.list(ctx, req)
	case OpStop:
		out, err = a.stop(ctx, req)
	case OpLogs:
		out, err = a.logs(ctx, req)
	case OpCatalog:
		files := a.o.JobFiles
		if files == nil {
			files = map[string]string{}
		}
		out = CatalogPage{Files: files}
	case OpPause, OpResume:
		out, err = a.setPause(ctx, req)
	case OpPauses:
		out, err = a.pauses(ctx)
	default:
		err = badRequest(fmt.Sprintf("op %q is unknown: use %s, %s, %s, %s, %s, %s, %s or %s", req.Op,
			OpGet, OpList, OpStop, OpLogs, OpCatalog, OpPause, OpResume, OpPauses))
	}
	if err != nil {
		return nil, invokeError(err)
	}
	return out, nil
}

func checkID(id string) error {
	if !run.ValidID(id) {
		return badRequest(fmt.Sprintf("%q is not a run id: run ids look like r-0123456789abcdef", id))
	}
	return nil
}

func (a *API) get(ctx context.Context, req APIRequest) (api.Run, error) {
	if err := checkID(req.ID); err != nil {
		return api.Run{}, err
	}
	r, err := a.o.Runs.Get(ctx, req.ID)
	if err != nil {
		return api.Run{}, fmt.Errorf("get run %s: %w", req.ID, err)
	}
	return api.FromRun(a.liveOne(ctx, r)), nil
}

// unseen reports whether a run may have a task the store has not recorded
// as running yet.
func unseen(r run.Run) bool {
	return r.Status == run.StatusStarting
}

// liveOne shows a run as its task is now. What ECS says is only shown,
// never stored; when ECS cannot be asked, the run is shown as stored.
func (a *API) liveOne(ctx context.Context, r run.Run) run.Run {
	if a.o.Tasks == nil || !unseen(r) {
		return r
	}
	ref := r.TaskRef
	if ref == "" {
		found, err := a.o.Tasks.Find(ctx, r.ID)
		if err != nil {
			if !errors.Is(err, dispatch.ErrTaskNotFound) {
				a.o.Log.Warn("look for the task of a run", "run", r.ID, "err", err)
			}
			return r
		}
		ref = found
	}
	ts, err := a.o.Tasks.Describe(ctx, ref)
	if err != nil {
		a.o.Log.Warn("describe the task of a run", "run", r.ID, "task", ref, "err", err)
		return r
	}
	ts.RunID = r.ID
	return live(r, ts, a.o.Now())
}

// liveAll shows a page of runs as their tasks are now, from one read of the
// cluster's active tasks.
func (a *API) liveAll(ctx context.Context, runs []run.Run) []run.Run {
	if a.o.Tasks == nil || !slices.ContainsFunc(runs, unseen) {
		return runs
	}
	active, err := a.o.Tasks.Active(ctx)
	if err != nil {
		a.o.Log.Warn("read the cluster's active tasks", "err", err)
		return runs
	}
	out := slices.Clone(runs)
	for i, r := range out {
		if ts, ok := active[r.ID]; ok && unseen(r) {
			out[i] = live(r, ts, a.o.Now())
		}
	}
	return out
}

// live applies a task's present state to a run that has not finished, as
// the tracker will: a task that has stopped is left for the tracker to
// record (with its report), so that a finished run is one that is stored.
func live(r run.Run, ts run.TaskState, now time.Time) run.Run {
	if ts.Phase == run.PhaseStopped {
		// Shown as it was before it stopped: running if it started,
		// starting (with its task) if it never did.
		phase := run.PhaseRunning
		if ts.StartedAt == nil {
			phase = run.PhasePending
		}
		ts = run.TaskState{TaskRef: ts.TaskRef, RunID: ts.RunID, Phase: phase, StartedAt: ts.StartedAt}
	}
	if ts.Phase == run.PhaseRunning && ts.StartedAt == nil {
		ts.Phase = run.PhasePending // a start time is ECS's to tell, never the clock's here
	}
	next, ok := run.Apply(r, ts, now)
	if !ok {
		return r
	}
	next.UpdatedAt = r.UpdatedAt
	return next
}

func (a *API) list(ctx context.Context, req APIRequest) (api.RunList, error) {
	for _, st := range req.Status {
		if !st.Valid() {
			return api.RunList{}, badRequest(fmt.Sprintf("status %q is unknown: use queued, starting, running, succeeded, failed, timed_out or cancelled", st))
		}
	}
	if req.Limit < 0 || req.Limit > api.MaxListLimit {
		return api.RunList{}, badRequest(fmt.Sprintf("limit %d is out of range: use 1 to %d", req.Limit, api.MaxListLimit))
	}
	runs, next, err := a.o.Runs.List(ctx, dispatch.Query{Job: req.Job, Status: req.Status, Limit: req.Limit, Cursor: req.Cursor})
	if err != nil {
		if strings.Contains(err.Error(), "cursor") {
			return api.RunList{}, badRequest(err.Error())
		}
		return api.RunList{}, err
	}
	out := api.RunList{Runs: make([]api.Run, 0, len(runs)), Next: next}
	for _, r := range a.liveAll(ctx, runs) {
		out.Runs = append(out.Runs, api.FromRun(r))
	}
	return out, nil
}

// stop stops a run. When the stop is recorded but its report could not go
// out (the api function may not publish), the run is answered all the
// same: the reconciler reports it.
func (a *API) stop(ctx context.Context, req APIRequest) (api.Run, error) {
	if err := checkID(req.ID); err != nil {
		return api.Run{}, err
	}
	r, err := a.o.Service.Stop(ctx, req.ID, run.StopCancel)
	if err != nil {
		if errors.Is(err, dispatch.ErrNotFound) {
			return api.Run{}, err
		}
		cur, gerr := a.o.Runs.Get(ctx, req.ID)
		if gerr != nil || (!cur.Status.Terminal() && cur.StopReq == run.StopNone) {
			return api.Run{}, fmt.Errorf("stop run %s: %w", req.ID, err)
		}
		a.o.Log.Warn("run stopped; the rest is left to the reconciler", "run", req.ID, "err", err)
		r = cur
	}
	return api.FromRun(r), nil
}

func (a *API) logs(ctx context.Context, req APIRequest) (LogsPage, error) {
	if err := checkID(req.ID); err != nil {
		return LogsPage{}, err
	}
	r, err := a.o.Runs.Get(ctx, req.ID)
	if err != nil {
		return LogsPage{}, fmt.Errorf("get run %s: %w", req.ID, err)
	}
	r = a.liveOne(ctx, r)
	page := LogsPage{RunID: r.ID, LogGroup: deploy.LogGroup(a.o.Prefix, r.Job), Events: []LogEvent{}, Next: req.Token}
	if r.TaskRef == "" {
		page.Done = r.Status.Terminal()
		return page, nil
	}
	page.LogStream = deploy.LogStream(ecs.TaskID(r.TaskRef))
	if a.o.Logs == nil {
		page.Done = r.Status.Terminal()
		return page, nil
	}
	events, next, err := a.o.Logs.Read(ctx, page.LogGroup, page.LogStream, req.Token, req.Limit)
	if err != nil {
		return LogsPage{}, err
	}
	page.Events, page.Next = events, next
	page.Done = r.Status.Terminal() && len(events) == 0
	return page, nil
}
