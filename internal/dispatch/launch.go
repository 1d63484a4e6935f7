package dispatch

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/longshore/longshore/internal/job"
	"github.com/longshore/longshore/internal/run"
)

// Request asks for a run of a job.
type Request struct {
	Job     string
	Trigger run.Trigger
	// Key is the caller's idempotency key for invoke triggers; the key of
	// other triggers comes from the trigger itself.
	Key string
	// Env adds to and overrides the job's environment.
	Env map[string]string
	// Command replaces the job's command.
	Command  []string
	Callback *run.Callback
}

// Launched is the answer to a Request.
type Launched struct {
	Run run.Run
	// Duplicate is true when the trigger had already made this run.
	Duplicate bool
	// Paused is true when the job is paused and the trigger was dropped
	// unrecorded (a schedule): Run is then zero. Other triggers of a paused
	// job get a cancelled run saying so.
	Paused bool
}

// Launch turns a trigger into a run and starts its task. The same trigger
// twice makes one run: the second call returns the first run with
// Duplicate set, and resumes it if the first call stopped before the task
// was started. A job whose concurrency forbids a second run gets a
// cancelled run saying why; with replace, the active runs are stopped.
//
// A *RequestError means the request can never succeed as it is; a
// transient *StartError means the run is stored, still queued, and the
// trigger should be delivered again later.
func (s *Service) Launch(ctx context.Context, req Request) (Launched, error) {
	c, err := s.create(ctx, req)
	if err != nil {
		return Launched{}, err
	}
	return s.launchCreated(ctx, c)
}

// created is a run stored for a request, not started yet.
type created struct {
	spec *job.Spec
	run  run.Run
	// duplicate: the trigger had already made the run.
	duplicate bool
	// ignored: the job is paused and the trigger is dropped unrecorded.
	ignored bool
}

// create checks a request and stores its run (or finds the run the same
// trigger made before).
func (s *Service) create(ctx context.Context, req Request) (created, error) {
	c, err := s.prepare(ctx, req)
	if err != nil || c.ignored {
		return c, err
	}
	if err := s.keepBody(ctx, &c.run); err != nil {
		return created{}, err
	}
	stored, isNew, err := s.d.Store.Create(ctx, c.run)
	return s.stored(c, stored, isNew, err)
}

// keepBody keeps a trigger body larger than run.MaxInlineBody apart, in the
// BodyStore, and leaves the run its URI: a run record stays small (DynamoDB
// takes 400 KB) and a task's environment within ECS's 8 KiB, for a message
// of any size SQS delivers (1 MiB).
func (s *Service) keepBody(ctx context.Context, r *run.Run) error {
	t := &r.Trigger
	if len(t.Body) <= run.MaxInlineBody || s.d.Bodies == nil {
		return nil
	}
	uri, err := s.d.Bodies.PutBody(ctx, r.Job, r.ID, []byte(t.Body))
	if err != nil {
		return fmt.Errorf("keep the %d-byte body of run %s: %w", len(t.Body), r.ID, err)
	}
	t.BodyURI, t.BodySize, t.Body = uri, len(t.Body), ""
	return nil
}

// prepare checks a request and makes its run, not stored yet.
func (s *Service) prepare(ctx context.Context, req Request) (created, error) {
	spec, err := s.spec(req.Job)
	if err != nil {
		return created{}, err
	}
	if err := checkOverrides(spec, req); err != nil {
		return created{}, err
	}
	callerKey := req.Key
	if req.Trigger.Kind == run.TriggerInvoke && callerKey == "" {
		// Without a key from the caller, every invoke is a new run.
		if callerKey, err = s.d.NewID(); err != nil {
			return created{}, fmt.Errorf("new run id: %w", err)
		}
	}
	key, err := run.IdempotencyKey(spec.Name, req.Trigger, callerKey)
	if err != nil {
		return created{}, &RequestError{Msg: err.Error()}
	}
	now := s.d.Now()
	r := run.Run{
		ID: run.KeyID(key), Job: spec.Name, Trigger: req.Trigger, Key: key, Attempt: 1,
		Status: run.StatusQueued, Env: req.Env, Command: req.Command, Callback: req.Callback,
		CreatedAt: now, UpdatedAt: now,
	}
	if !s.admitted(spec) {
		// Nothing to admit: the run is stored as starting, and its task is
		// recorded by the task's first observation rather than by a second
		// write here. Should the launch stop before the task is started, the
		// run is resumed like any run starting without a task.
		r.Status = run.StatusStarting
	}
	st, err := s.pauseState(ctx, spec)
	if err != nil {
		return created{}, err
	}
	switch Decide(st, req.Trigger.Kind) {
	case PauseIgnore:
		return created{spec: spec, run: r, ignored: true}, nil
	case PauseRecord:
		r.Status, r.Reason, r.StoppedAt = run.StatusCancelled, PausedReason(st), timePtr(now)
	}
	return created{spec: spec, run: r}, nil
}

// stored completes a prepared run with the store's answer to its create.
func (s *Service) stored(c created, r run.Run, isNew bool, err error) (created, error) {
	if err != nil {
		return created{}, fmt.Errorf("create run of %s: %w", c.spec.Name, err)
	}
	if !isNew {
		s.d.Log.Info("duplicate trigger", "run", r.ID, "job", c.spec.Name, "key", r.Key)
	}
	return created{spec: c.spec, run: r, duplicate: !isNew}, nil
}

// BatchStore is a RunStore that can also create many runs in one go (the
// local store: one transaction). It answers for each run as Create would.
type BatchStore interface {
	CreateAll(ctx context.Context, runs []run.Run) (stored []run.Run, created []bool, errs []error)
}

// launchCreated starts the task of a run create stored.
func (s *Service) launchCreated(ctx context.Context, c created) (Launched, error) {
	if c.ignored {
		s.d.Log.Info("trigger dropped: job paused", "job", c.spec.Name, "trigger", c.run.Trigger.Kind)
		return Launched{Paused: true}, nil
	}
	if !c.duplicate && c.run.Status.Terminal() {
		// Recorded without starting (the job is paused): reported like any
		// run that ended, so a waiting caller hears of it.
		r, err := s.settle(ctx, c.run)
		return Launched{Run: r}, err
	}
	if c.duplicate {
		var err error
		if resumable(c.run) {
			c.run, err = s.start(ctx, c.spec, c.run, true)
		}
		return Launched{Run: c.run, Duplicate: true}, err
	}
	r, err := s.start(ctx, c.spec, c.run, false)
	return Launched{Run: r}, err
}

// LaunchAll launches triggers due together, such as the schedules of one
// minute: every run is stored first (in one go when the store is a
// BatchStore, else concurrently), so that each trigger is recorded within
// moments of its time, and the tasks are then started, parallel at a time
// (at least one). Each request gets the answer Launch would have
// given it alone, in order.
func (s *Service) LaunchAll(ctx context.Context, reqs []Request, parallel int) ([]Launched, []error) {
	out := make([]Launched, len(reqs))
	errs := make([]error, len(reqs))
	made := make([]created, len(reqs))
	if batch, ok := s.d.Store.(BatchStore); ok {
		var todo []int
		var runs []run.Run
		for i, req := range reqs {
			if made[i], errs[i] = s.prepare(ctx, req); errs[i] == nil && !made[i].ignored {
				errs[i] = s.keepBody(ctx, &made[i].run)
			}
			if errs[i] == nil && !made[i].ignored {
				todo = append(todo, i)
				runs = append(runs, made[i].run)
			}
		}
		stored, isNew, cerrs := batch.CreateAll(ctx, runs)
		for j, i := range todo {
			made[i], errs[i] = s.stored(made[i], stored[j], isNew[j], cerrs[j])
		}
	} else {
		each(len(reqs), createParallel, func(i int) {
			made[i], errs[i] = s.create(ctx, reqs[i])
		})
	}
	each(len(reqs), max(parallel, 1), func(i int) {
		if errs[i] == nil {
			out[i], errs[i] = s.launchCreated(ctx, made[i])
		}
	})
	return out, errs
}

// createParallel bounds the creates of a LaunchAll under way at once.
const createParallel = 64

// each calls fn(i) for i in [0, n), up to parallel at a time.
func each(n, parallel int, fn func(i int)) {
	work := make(chan int)
	var wg sync.WaitGroup
	for range min(parallel, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				fn(i)
			}
		}()
	}
	for i := range n {
		work <- i
	}
	close(work)
	wg.Wait()
}

// resumable reports whether a stored run was left before its task was
// surely started: queued, or starting with no task recorded.
func resumable(r run.Run) bool {
	return r.Status == run.StatusQueued || (r.Status == run.StatusStarting && r.TaskRef == "")
}

// start admits a queued run under its job's concurrency policy and starts
// its task. A run with a NotBefore in the future is left queued.
//
// A run created as starting by this launch (resumed false) has its task
// started and not written again: the task's first observation records it.
// Any other run — queued, or found starting without a task by a repeated
// trigger or the reconciler — may already have a task: the runner is asked
// to find it before starting one, and the task is recorded.
func (s *Service) start(ctx context.Context, spec *job.Spec, r run.Run, resumed bool) (run.Run, error) {
	r, _, err := s.startRun(ctx, spec, r, resumed)
	return r, err
}

// startRun is start, saying also what admission made of a queued run.
func (s *Service) startRun(ctx context.Context, spec *job.Spec, r run.Run, resumed bool) (run.Run, admission, error) {
	if r.Status == run.StatusQueued {
		if r.NotBefore != nil && s.d.Now().Before(*r.NotBefore) {
			return r, admitStart, nil
		}
		if r.PreviousRunID != "" {
			wanted, err := s.attemptWanted(ctx, &r)
			if err != nil || !wanted {
				return r, admitStart, err
			}
		}
		adm, err := s.admit(ctx, spec, &r)
		if err != nil || adm != admitStart {
			return r, adm, err
		}
		resumed = true // a queued run's task is recorded by the write below
	}
	r, err := s.startTask(ctx, spec, r, resumed)
	return r, admitStart, err
}

// startTask starts the task of a run admitted to start, and records it.
func (s *Service) startTask(ctx context.Context, spec *job.Spec, r run.Run, resumed bool) (run.Run, error) {
	if !resumable(r) {
		return r, nil // started meanwhile
	}
	// The task is started from the queued run and recorded in one write:
	// should this stop in between, the run is still queued (or starting
	// without a task), and starting it again finds the same task, since
	// Start is idempotent per run.
	ref, err := s.d.Runner.Start(ctx, Task{Run: r, Job: spec, Env: Environment(spec, r), Command: r.Command, Resume: resumed})
	if err != nil {
		return s.startFailed(ctx, spec, r, resumed, err)
	}
	if !resumed {
		s.d.Log.Info("run started", "run", r.ID, "job", r.Job, "attempt", r.Attempt, "task", ref)
		return r, nil
	}
	r, err = s.mutateFrom(ctx, r, func(r *run.Run) (bool, error) {
		if r.TaskRef != "" || r.Status.Terminal() {
			return false, nil
		}
		r.TaskRef = ref
		if r.Status == run.StatusQueued {
			r.Status = run.StatusStarting
		}
		if strings.HasPrefix(r.Reason, run.WaitingPrefix) {
			r.Reason = ""
		}
		return true, nil
	})
	if err != nil {
		return r, err
	}
	s.d.Log.Info("run started", "run", r.ID, "job", r.Job, "attempt", r.Attempt, "task", ref)
	switch {
	case r.Status.Terminal() && r.TaskRef != ref:
		// The run was cancelled while its task was starting.
		if err := s.d.Runner.Stop(ctx, ref, "the run was cancelled while its task started"); err != nil {
			return r, fmt.Errorf("stop task %s of run %s: %w", ref, r.ID, err)
		}
	case r.StopReq != run.StopNone && !r.Status.Terminal():
		// A stop was asked for while the task was being started.
		if err := s.d.Runner.Stop(ctx, ref, stopWords(r.StopReq)); err != nil {
			return r, fmt.Errorf("stop task %s of run %s: %w", ref, r.ID, err)
		}
	}
	return r, nil
}

// attemptWanted reports whether a retry attempt is the one its previous run
// settled on. An attempt is created just before the previous run's final
// write; should that write lose a race (the run ended otherwise meanwhile),
// the attempt is left unlinked: once the previous run is settled without
// it, the attempt is cancelled unreported (its caller was told the previous
// run's outcome). Until then it waits.
func (s *Service) attemptWanted(ctx context.Context, r *run.Run) (bool, error) {
	prev, err := s.d.Store.Get(ctx, r.PreviousRunID)
	switch {
	case errors.Is(err, ErrNotFound):
		return true, nil // expired: nothing says otherwise
	case err != nil:
		return false, err
	case prev.NextRunID == r.ID:
		return true, nil
	case !prev.Status.Terminal() || (prev.NextRunID == "" && !prev.Notified):
		return false, nil // not settled yet
	}
	dropped, err := s.mutate(ctx, r.ID, func(x *run.Run) (bool, error) {
		if x.Status != run.StatusQueued {
			return false, nil
		}
		next, err := run.Finish(*x, run.Outcome{Status: run.StatusCancelled,
			Reason: fmt.Sprintf("not run: attempt %d ended %s without this retry", x.Attempt-1, prev.Status)}, s.d.Now())
		if err != nil {
			return false, err
		}
		next.Notified = true
		*x = next
		return true, nil
	})
	*r = dropped
	s.d.Log.Info("retry dropped", "run", r.ID, "previous", prev.ID, "status", prev.Status)
	return false, err
}

// startFailed records a task that could not be started: a transient
// failure of a fresh start leaves the run queued for the trigger's next
// delivery (a resumed run stays as it was); any other fails the run with
// cause start.
func (s *Service) startFailed(ctx context.Context, spec *job.Spec, r run.Run, resumed bool, startErr error) (run.Run, error) {
	if errors.Is(startErr, ErrTaskNotFound) {
		if r.Status == run.StatusQueued {
			return s.finish(ctx, r.ID, run.Outcome{Status: run.StatusFailed, Cause: run.CauseStart,
				Reason: fmt.Sprintf("never started: %v, too long after it was due to start it now", startErr)})
		}
		return s.finish(ctx, r.ID, run.Outcome{Status: run.StatusFailed, Cause: run.CauseLost,
			Reason: fmt.Sprintf("lost: %v; its outcome is unknown", startErr)})
	}
	var se *StartError
	if !errors.As(startErr, &se) {
		se = &StartError{Transient: true, Reason: "start task", Err: startErr}
	}
	if se.Transient && (r.Status == run.StatusQueued || resumed) {
		// A resumed run may have a task already: it stays starting, for
		// the next delivery of its trigger or the reconciler to find it,
		// and a stop to find and stop it.
		return r, fmt.Errorf("start run %s of %s: %w", r.ID, r.Job, se)
	}
	if se.Transient {
		back, err := s.mutate(ctx, r.ID, func(r *run.Run) (bool, error) {
			if r.Status != run.StatusStarting || r.TaskRef != "" {
				return false, nil
			}
			r.Status = run.StatusQueued
			return true, nil
		})
		if err != nil {
			return back, err
		}
		return back, fmt.Errorf("start run %s of %s: %w", r.ID, r.Job, se)
	}
	o := run.ClassifyStartFailure(se.Error())
	o.Transient = false
	failed, err := s.finish(ctx, r.ID, o)
	if err != nil {
		return failed, err
	}
	return failed, nil
}

// finish ends a run with an outcome decided here (not from a task event)
// and settles it: retry or notify.
//
// Unlike a task's end, an outcome decided here is written before it is
// reported: it may race a task's end, and only the outcome stored is told.
func (s *Service) finish(ctx context.Context, id string, o run.Outcome) (run.Run, error) {
	r, err := s.mutate(ctx, id, func(r *run.Run) (bool, error) {
		if r.Status.Terminal() {
			return false, nil
		}
		next, err := run.Finish(*r, o, s.d.Now())
		if err != nil {
			return false, err
		}
		*r = next
		return true, nil
	})
	if err != nil {
		return r, err
	}
	freeErr := s.free(ctx, r)
	r, err = s.settle(ctx, r)
	return r, errors.Join(freeErr, err)
}

// Environment is the environment a run's task receives: the job's
// variables, the run's overrides, then Longshore's own variables.
func Environment(spec *job.Spec, r run.Run) map[string]string {
	env := make(map[string]string, len(spec.Environment)+len(r.Env)+8)
	maps.Copy(env, spec.Environment)
	maps.Copy(env, r.Env)
	env["LONGSHORE_RUN_ID"] = r.ID
	env["LONGSHORE_JOB"] = r.Job
	env["LONGSHORE_ATTEMPT"] = strconv.Itoa(r.Attempt)
	env["LONGSHORE_TRIGGER"] = string(r.Trigger.Kind)
	t := r.Trigger
	switch t.Kind {
	case run.TriggerSchedule:
		if t.ScheduledTime != nil {
			env["LONGSHORE_SCHEDULED_TIME"] = t.ScheduledTime.UTC().Format(time.RFC3339)
		}
	case run.TriggerS3:
		env["LONGSHORE_S3_BUCKET"] = t.Bucket
		env["LONGSHORE_S3_KEY"] = t.Key
	case run.TriggerAfter:
		env["LONGSHORE_UPSTREAM_RUN_ID"] = t.UpstreamRunID
		env["LONGSHORE_UPSTREAM_JOB"] = t.UpstreamJob
		env["LONGSHORE_UPSTREAM_STATUS"] = string(t.UpstreamStatus)
		env["LONGSHORE_UPSTREAM_EXIT_CODE"] = ""
		if t.UpstreamExitCode != nil {
			env["LONGSHORE_UPSTREAM_EXIT_CODE"] = strconv.Itoa(*t.UpstreamExitCode)
		}
	case run.TriggerSQS:
		env["LONGSHORE_SQS_MESSAGE_ID"] = t.MessageID
		if t.BodyURI != "" {
			env["LONGSHORE_SQS_BODY_URI"] = t.BodyURI
		} else {
			env["LONGSHORE_SQS_BODY"] = t.Body
		}
	}
	return env
}

// StartDue starts the queued runs whose time has come — retries after
// their backoff, runs whose start was throttled or interrupted — oldest
// first. It stops at the first start the runner refuses as throttled: the
// rest wait for the next call rather than each asking again.
// It returns how many it started.
func (s *Service) StartDue(ctx context.Context) (int, error) {
	return s.startQueued(ctx, Query{})
}

// due lists the queued runs q selects whose NotBefore has passed, oldest
// first.
func (s *Service) due(ctx context.Context, q Query) ([]run.Run, error) {
	now := s.d.Now()
	q.Status = []run.Status{run.StatusQueued}
	var out []run.Run
	for {
		page, next, err := s.d.Store.List(ctx, q)
		if err != nil {
			return nil, fmt.Errorf("list queued runs: %w", err)
		}
		for _, r := range page {
			if r.NotBefore == nil || !now.Before(*r.NotBefore) {
				out = append(out, r)
			}
		}
		if next == "" {
			break
		}
		q.Cursor = next
	}
	// In the order the triggers arrived (the store lists newest first, and
	// may order runs created in the same instant otherwise).
	slices.SortStableFunc(out, run.ArrivalOrder)
	return out, nil
}

// Skip records a run that was due but is not run, already cancelled with
// the reason (a schedule missed while the engine was down), and reports it.
// Like Launch, the same trigger twice records one run.
//
// A paused job's schedules record nothing (their due times are neither run
// nor missed): a zero run is returned.
func (s *Service) Skip(ctx context.Context, req Request, reason string) (run.Run, error) {
	spec, err := s.spec(req.Job)
	if err != nil {
		return run.Run{}, err
	}
	if req.Trigger.Kind == run.TriggerSchedule {
		st, err := s.pauseState(ctx, spec)
		if err != nil {
			return run.Run{}, err
		}
		if st.Paused {
			return run.Run{}, nil
		}
	}
	key, err := run.IdempotencyKey(spec.Name, req.Trigger, req.Key)
	if err != nil {
		return run.Run{}, &RequestError{Msg: err.Error()}
	}
	now := s.d.Now()
	r := run.Run{
		ID: run.KeyID(key), Job: spec.Name, Trigger: req.Trigger, Key: key, Attempt: 1,
		Status: run.StatusCancelled, Reason: reason, Callback: req.Callback,
		CreatedAt: now, UpdatedAt: now, StoppedAt: timePtr(now),
	}
	stored, _, err := s.d.Store.Create(ctx, r)
	if err != nil {
		return run.Run{}, fmt.Errorf("record skipped run of %s: %w", spec.Name, err)
	}
	return s.settle(ctx, stored)
}

// Stored reports whether a Launch left its trigger safely recorded: it
// succeeded, or its run is stored and only the start must wait (a transient
// StartError: the run stays queued and starts when capacity allows). A
// trigger that is stored may be acknowledged.
func Stored(l Launched, err error) bool {
	if err == nil {
		return true
	}
	var se *StartError
	return errors.As(err, &se) && se.Transient && l.Run.ID != ""
}
