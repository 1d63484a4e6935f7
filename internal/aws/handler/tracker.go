package handler

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/longshore/longshore/internal/aws/ecs"
	"github.com/longshore/longshore/internal/deploy"
	"github.com/longshore/longshore/internal/dispatch"
	"github.com/longshore/longshore/internal/run"
)

// ObserveService applies task observations to runs (dispatch.Service).
type ObserveService interface {
	Observe(ctx context.Context, ts run.TaskState) (dispatch.Observed, error)
}

// TrackerOptions configure the tracker.
type TrackerOptions struct {
	Service ObserveService
	// Cluster is the ARN of the cluster whose tasks are Longshore's.
	Cluster string
	Log     *slog.Logger
}

// Tracker is the tracker function's handler.
type Tracker struct {
	o TrackerOptions
}

// NewTracker returns the tracker's handler.
func NewTracker(o TrackerOptions) *Tracker {
	o.Log = logOr(o.Log)
	return &Tracker{o: o}
}

// TrackResult says what became of a task state change.
type TrackResult struct {
	Run     string     `json:"run,omitempty"`
	Task    string     `json:"task"`
	Applied bool       `json:"applied"`
	Status  run.Status `json:"status,omitempty"`
	// Ignored says why an event that belongs to no run of ours was dropped.
	Ignored string `json:"ignored,omitempty"`
}

// Handle applies an ECS Task State Change to its run: dropped when the
// task is not one Longshore started in its cluster, or when it is stale or
// a duplicate (the run's task version); otherwise the run moves on, and a
// finished run is retried or reported. Events come at least once and in
// any order. A malformed event is a request error; a failure to record is
// an error, so that EventBridge delivers the event again.
func (t *Tracker) Handle(ctx context.Context, payload json.RawMessage) (TrackResult, error) {
	ev, err := ecs.ParseTaskStateChange(payload)
	if err != nil {
		return TrackResult{}, invokeError(badRequest("tracker: " + err.Error()))
	}
	res := TrackResult{Task: ev.Detail.TaskARN}
	if t.o.Cluster != "" && ev.Detail.ClusterARN != t.o.Cluster {
		res.Ignored = fmt.Sprintf("task of cluster %s, not Longshore's %s", ev.Detail.ClusterARN, t.o.Cluster)
		return res, nil
	}
	ts := ev.TaskState(deploy.EssentialContainer)
	switch {
	case ts.RunID == "":
		res.Ignored = fmt.Sprintf("task started by %q, not by Longshore", ev.Detail.StartedBy)
		return res, nil
	case !run.ValidID(ts.RunID):
		res.Ignored = fmt.Sprintf("startedBy %q does not name a run id", ev.Detail.StartedBy)
		return res, nil
	}
	obs, err := t.o.Service.Observe(ctx, ts)
	res.Run, res.Applied, res.Status, res.Ignored = ts.RunID, obs.Applied, obs.Run.Status, obs.Ignored
	if err != nil {
		return res, invokeError(fmt.Errorf("track task %s of run %s: %w", ev.Detail.TaskARN, ts.RunID, err))
	}
	t.o.Log.Info("task state change", "run", ts.RunID, "task", ev.Detail.TaskARN, "lastStatus", ev.Detail.LastStatus,
		"version", ev.Detail.Version, "applied", obs.Applied, "status", obs.Run.Status)
	return res, nil
}

// ReconcileService repairs what events alone cannot (dispatch.Service).
type ReconcileService interface {
	Reconcile(ctx context.Context, opts dispatch.ReconcileOptions) (dispatch.Reconciled, error)
}

// DefaultQuiet is how long a started run may go without a task event before
// the reconciler asks ECS about its task. ECS sends a task's changes within
// seconds; a long-running task sends none while it runs, so each is
// described about once per Quiet.
const DefaultQuiet = 10 * time.Minute

// Reconciler is the reconciler function's handler.
type Reconciler struct {
	svc       ReconcileService
	quiet     time.Duration
	log       *slog.Logger
	schedules ScheduleSync
}

// ScheduleSync keeps the jobs' schedules enabled or disabled as their pause
// states say (schedules.Sync), and returns how many it changed.
type ScheduleSync interface {
	Run(ctx context.Context) (int, error)
}

// WithSchedules has every sweep also bring the jobs' schedules in line with
// their pause states.
func (r *Reconciler) WithSchedules(s ScheduleSync) *Reconciler {
	r.schedules = s
	return r
}

// NewReconciler returns the reconciler's handler; quiet is DefaultQuiet when zero.
func NewReconciler(svc ReconcileService, quiet time.Duration, log *slog.Logger) *Reconciler {
	if quiet <= 0 {
		quiet = DefaultQuiet
	}
	return &Reconciler{svc: svc, quiet: quiet, log: logOr(log)}
}

// ReconcileResult counts what a sweep did.
type ReconcileResult struct {
	Started  int `json:"started"`
	TimedOut int `json:"timedOut"`
	Repaired int `json:"repaired"`
	Lost     int `json:"lost"`
	Settled  int `json:"settled"`
	// SchedulesSwitched counts the schedules enabled or disabled because
	// their job was resumed or paused.
	SchedulesSwitched int `json:"schedulesSwitched"`
}

// Handle sweeps: timed-out tasks are stopped, quiet runs are described and
// repaired (a task ECS no longer knows makes its run lost), due runs are
// started and unreported outcomes reported. The event (a schedule) is not
// read. Errors of some runs do not stop the others; they are returned
// together.
func (r *Reconciler) Handle(ctx context.Context, _ json.RawMessage) (ReconcileResult, error) {
	got, err := r.svc.Reconcile(ctx, dispatch.ReconcileOptions{Quiet: r.quiet})
	res := ReconcileResult{Started: got.Started, TimedOut: got.TimedOut, Repaired: got.Repaired, Lost: got.Lost, Settled: got.Settled}
	if r.schedules != nil {
		n, serr := r.schedules.Run(ctx)
		res.SchedulesSwitched = n
		err = errors.Join(err, serr)
	}
	r.log.Info("reconciled", "started", got.Started, "timedOut", got.TimedOut, "repaired", got.Repaired, "lost", got.Lost, "settled", got.Settled,
		"schedulesSwitched", res.SchedulesSwitched)
	if err != nil {
		return res, invokeError(fmt.Errorf("reconcile: %w", err))
	}
	return res, nil
}
