package task

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"syscall"
	"time"

	"github.com/longshore/longshore/internal/dispatch"
	"github.com/longshore/longshore/internal/local/keyed"
	"github.com/longshore/longshore/internal/run"
)

var _ dispatch.TaskRunner = (*Supervisor)(nil)

// drainTimeout bounds the wait for the tasks a timed-out Shutdown killed.
const drainTimeout = 5 * time.Second

// Supervisor runs tasks through a Backend. Its methods are safe for
// concurrent use.
type Supervisor struct {
	b   Backend
	c   Config
	rec records

	ctx    context.Context // given to Observe; cancelled when Shutdown gives up on a report
	cancel context.CancelFunc
	// closing ends when Shutdown begins: starts under way give up.
	closing     context.Context
	closeStarts context.CancelFunc
	// abandon ends when Shutdown gives up waiting for tasks: the waits
	// still under way end.
	abandon    context.Context
	abandonAll context.CancelFunc

	runs keyed.Mutex // serialises the starts and take-overs of one run

	mu       sync.Mutex
	tasks    map[string]*task // by run id, from the start until its end is recorded
	closed   bool
	starting sync.WaitGroup // Starts and take-overs under way
	procs    sync.WaitGroup // supervisors, and the stops they send
	reports  sync.WaitGroup // reporters
}

// task is one task the Supervisor follows.
type task struct {
	h       Handle
	ref     string
	runID   string
	started time.Time
	out     Output
	reports chan run.TaskState // at most two: running, stopped

	// Guarded by Supervisor.mu.
	state  run.TaskState
	exited bool
	stop   stopRequest // set by the first Stop (or Shutdown)
	kill   *time.Timer
}

// New returns a Supervisor of b's tasks over c (see Config.Resolve).
func New(b Backend, c Config) (*Supervisor, error) {
	c, err := c.Resolve()
	if err != nil {
		return nil, fmt.Errorf("%s runner: %w", b.Kind(), err)
	}
	s := &Supervisor{b: b, c: c, rec: records{dataDir: c.DataDir, store: c.Records}, tasks: map[string]*task{}}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.closing, s.closeStarts = context.WithCancel(context.Background())
	s.abandon, s.abandonAll = context.WithCancel(context.Background())
	return s, nil
}

// RunDir is the folder of a run's logs and records.
func (s *Supervisor) RunDir(runID string) string { return s.rec.runDir(runID) }

// shutDown is the error of a Start refused after Shutdown.
func (s *Supervisor) shutDown() error {
	return &dispatch.StartError{Transient: true, Reason: "the " + s.b.Kind() + " runner is shut down"}
}

// enter counts a start or a take-over under way, unless Shutdown began.
func (s *Supervisor) enter() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.starting.Add(1)
	return true
}

// tracked returns the task the Supervisor follows for a run, or nil.
func (s *Supervisor) tracked(runID string) *task {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tasks[runID]
}

// Start starts the run's task and returns its ref. A second Start for the
// same run, by this Supervisor or after an engine restart, returns the
// first task's ref and starts nothing (it takes over what is left of the
// task). A *dispatch.StartError says why a task cannot start: the
// backend's, or a transient one when the runner is shut down or its
// records cannot be read or written.
func (s *Supervisor) Start(ctx context.Context, t dispatch.Task) (string, error) {
	id := t.Run.ID
	if !run.ValidID(id) {
		return "", &dispatch.StartError{Reason: fmt.Sprintf("%q is not a run id", id)}
	}
	if t.Job == nil {
		return "", &dispatch.StartError{Reason: "run " + id + " has no job"}
	}
	if !s.enter() {
		return "", s.shutDown()
	}
	defer s.starting.Done()

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(s.closing, cancel)()
	if err := ctx.Err(); err != nil {
		return "", &dispatch.StartError{Transient: true, Reason: "start run " + id, Err: err}
	}

	defer s.runs.Lock(id)()
	if tk := s.tracked(id); tk != nil {
		return tk.ref, nil
	}
	var rec Started
	switch err := s.rec.read(ctx, id, TaskFile, &rec); {
	case err == nil:
		// Started before, by this engine or an earlier one: take over
		// what is left of it, if anything.
		if _, err := s.recoverLocked(ctx, rec.Ref, id, false); err != nil && !errors.Is(err, dispatch.ErrTaskNotFound) {
			return "", &dispatch.StartError{Transient: true, Reason: "take over the " + s.b.Kind() + " of run " + id, Err: err}
		}
		return rec.Ref, nil
	case !isNotExist(err):
		return "", &dispatch.StartError{Transient: true, Reason: "look for an earlier start of run " + id, Err: err}
	}
	return s.launch(ctx, t)
}

// launch creates the run's task, records its start, starts it and
// follows it.
func (s *Supervisor) launch(ctx context.Context, t dispatch.Task) (string, error) {
	id := t.Run.ID
	h, err := s.b.Create(ctx, t)
	if err != nil {
		return "", err
	}
	abandon := func(err error) (string, error) {
		h.Remove()
		s.rec.remove(context.WithoutCancel(ctx), id, TaskFile)
		return "", err
	}
	started := s.c.Now()
	rec, err := newStarted(h, id, started)
	if err == nil {
		err = s.rec.write(context.WithoutCancel(ctx), id, TaskFile, rec)
	}
	if err != nil {
		return abandon(&dispatch.StartError{Transient: true, Reason: "record the start of run " + id, Err: err})
	}
	if err := h.Start(ctx); err != nil {
		return abandon(err)
	}
	dir := s.RunDir(id)
	tk := &task{h: h, ref: h.Ref(), runID: id, started: started, reports: make(chan run.TaskState, 2),
		out: Output{Stdout: newLog(dir, StdoutFile, s.c.MaxLogBytes), Stderr: newLog(dir, StderrFile, s.c.MaxLogBytes)}}
	tk.state = run.TaskState{TaskRef: tk.ref, RunID: id, Version: VersionRunning, Phase: run.PhaseRunning,
		Essential: run.DefaultEssential, StartedAt: &started}
	s.follow(tk, true)
	return tk.ref, nil
}

// follow makes tk one of the Supervisor's tasks, and starts its reporter
// and its supervisor. The running observation is reported when announce
// is set (a task this Supervisor started), not for one it takes over.
func (s *Supervisor) follow(tk *task, announce bool) {
	s.mu.Lock()
	s.tasks[tk.runID] = tk
	s.mu.Unlock()
	s.procs.Add(1)
	s.reports.Add(1)
	if announce {
		tk.reports <- tk.state.Clone()
	}
	go s.report(tk)
	go s.supervise(tk)
}

// report delivers a task's observations to Observe, in order.
func (s *Supervisor) report(tk *task) {
	defer s.reports.Done()
	for ts := range tk.reports {
		if s.c.Observe != nil {
			s.c.Observe(s.ctx, ts)
		}
	}
}

// supervise waits for the end of a followed task, records it and reports it.
func (s *Supervisor) supervise(tk *task) {
	defer s.procs.Done()
	e, err := s.finish(tk)
	state := e.state()
	s.mu.Lock()
	tk.state = state
	if err == nil {
		// Describe and Start read the run's records from now on.
		delete(s.tasks, tk.runID)
	}
	s.mu.Unlock()
	tk.reports <- state.Clone()
	close(tk.reports)
}

// finish waits for the end of a task, copying its output, records the end
// and then removes the task: without a record, the task keeps what it
// can of its end for the next engine.
func (s *Supervisor) finish(tk *task) (end, error) {
	ex, err := tk.h.Wait(s.abandon, tk.out)
	s.mu.Lock()
	tk.exited = true
	if tk.kill != nil {
		tk.kill.Stop()
	}
	stop := tk.stop
	s.mu.Unlock()
	tk.h.Drain()
	_ = tk.out.Close()

	v := decide(s.b.Kind(), ex, stop)
	if err != nil {
		v = abandoned
	}
	e := v.end(tk.ref, tk.runID, tk.started, s.c.Now())
	if err := s.rec.write(context.Background(), tk.runID, ExitFile, e); err != nil {
		return e, fmt.Errorf("record the end of run %s: %w", tk.runID, err)
	}
	tk.h.Remove()
	return e, nil
}

// Stop asks the task to stop: SIGTERM, then SIGKILL after the grace period
// if it is still running. It is reported stopped with
// run.StopCodeUserInitiated and reason. Stopping a task twice, a stopped
// task or an unknown one does nothing. A task an earlier engine left is
// taken over first (see Describe).
func (s *Supervisor) Stop(ctx context.Context, ref, reason string) error {
	runID, ok := s.b.Parse(ref)
	if !ok {
		return nil
	}
	if s.stopTracked(ref, runID, run.StopCodeUserInitiated, reason) {
		return nil
	}
	_, err := s.recover(ctx, ref, runID)
	if errors.Is(err, dispatch.ErrTaskNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("stop task %s: %w", ref, err)
	}
	s.stopTracked(ref, runID, run.StopCodeUserInitiated, reason)
	return nil
}

// stopTracked stops the task ref if the Supervisor follows it.
func (s *Supervisor) stopTracked(ref, runID, code, why string) bool {
	tk := s.tracked(runID)
	if tk == nil || tk.ref != ref {
		return false
	}
	s.stop(tk, code, why)
	return true
}

// stop starts the stop of a task, once. The stop is recorded before stop
// returns and before the task is signalled, so that an engine that takes
// the task over finishes it.
func (s *Supervisor) stop(tk *task, code, why string) {
	s.mu.Lock()
	if tk.exited || tk.stop.Code != "" {
		s.mu.Unlock()
		return
	}
	tk.stop = stopRequest{Code: code, Reason: why}
	stop := tk.stop
	tk.kill = time.AfterFunc(s.c.Grace, func() {
		s.mu.Lock()
		exited := tk.exited
		s.mu.Unlock()
		if !exited {
			tk.h.Kill(syscall.SIGKILL)
		}
	})
	s.procs.Add(1) // the supervisor of tk holds procs: it cannot be at zero
	s.mu.Unlock()
	_ = s.rec.write(context.Background(), tk.runID, StopFile, stop)
	go func() {
		defer s.procs.Done()
		tk.h.Kill(syscall.SIGTERM)
	}()
}

// Describe observes the task now: running or stopped for a task this
// Supervisor follows; the recorded end otherwise. A task an earlier engine
// started and nobody recorded the end of is looked for now (Backend.Find):
// still running, it is taken over (followed to its end, which is reported
// through Observe) and reported running; ended, its end is recorded and
// reported; lost, it is reported stopped with run.StopCodeHostRestarted and
// no exit code. ErrTaskNotFound when the ref is not one of this backend's
// or its run has no started task.
func (s *Supervisor) Describe(ctx context.Context, ref string) (run.TaskState, error) {
	runID, ok := s.b.Parse(ref)
	if !ok {
		return run.TaskState{}, dispatch.ErrTaskNotFound
	}
	s.mu.Lock()
	tk := s.tasks[runID]
	if tk != nil && tk.ref == ref {
		ts := tk.state.Clone()
		s.mu.Unlock()
		return ts, nil
	}
	s.mu.Unlock()
	return s.recover(ctx, ref, runID)
}

// Shutdown stops every task (SIGTERM, SIGKILL after the grace period, or
// at once when ctx ends first), waits for their ends and reports, and
// removes them. Tasks it stops are reported with run.StopCodeHostRestarted.
// Later Starts fail with a transient StartError; starts under way give up.
// It returns ctx's error when Observe calls were still running as ctx
// ended (their context is then cancelled).
func (s *Supervisor) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.closeStarts()
	s.starting.Wait()
	s.mu.Lock()
	running := make([]*task, 0, len(s.tasks))
	for _, tk := range s.tasks {
		running = append(running, tk)
	}
	s.mu.Unlock()
	for _, tk := range running {
		s.stop(tk, run.StopCodeHostRestarted, hostRestartedReason)
	}

	procsDone := make(chan struct{})
	go func() { s.procs.Wait(); close(procsDone) }()
	select {
	case <-procsDone:
	case <-ctx.Done():
		s.mu.Lock()
		var left []Handle
		for _, tk := range s.tasks {
			if !tk.exited {
				left = append(left, tk.h)
			}
		}
		s.mu.Unlock()
		for _, h := range left {
			h.Kill(syscall.SIGKILL)
		}
		select {
		case <-procsDone:
		case <-time.After(drainTimeout):
			s.abandonAll()
			<-procsDone
		}
	}

	reportsDone := make(chan struct{})
	go func() { s.reports.Wait(); close(reportsDone) }()
	select {
	case <-reportsDone:
		s.cancel()
		return nil
	case <-ctx.Done():
		s.cancel()
		return fmt.Errorf("shut down the %s runner: reports still running: %w", s.b.Kind(), ctx.Err())
	}
}
