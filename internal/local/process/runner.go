// Package process is a dispatch.TaskRunner that runs a job's local.command
// as a process on this machine, for `longshore local`.
//
// What a caller should know:
//
//   - The program is the job's local.command; the run's command override
//     (dispatch.Task.Command, `longshore run hello -- a b`) is appended to it
//     as extra arguments, since it was written for the container's command.
//     A bare program name is looked up in the task's own PATH (relative PATH
//     entries are skipped); a name with a '/' is relative to the working
//     folder, which is the job's folder, or local.dir inside it.
//   - The environment is Options.BaseEnv, then the task's variables
//     (dispatch.Task.Env, LONGSHORE_* included), then the job's secrets
//     resolved through Options.Secrets; a later one wins. Nothing else of
//     the engine's environment reaches the process. stdin is /dev/null.
//   - Each process leads its own process group. Stop sends SIGTERM to the
//     group and SIGKILL after the grace period. When the process exits, on
//     its own or not, what is left of its group is killed at once (as ECS
//     stops a task whose essential container exited). A process that leaves
//     the group (setsid) is not followed, and its hold on the output pipes
//     delays the report of the end by at most two seconds.
//   - Output goes to DataDir/runs/<run id>/stdout.log and stderr.log (mode
//     0600) as it is written, capped per stream, so they can be followed
//     while the task runs; a stream's file is created at its first byte,
//     and a second Start of the run never truncates them. The start is
//     recorded (task.json) before Start returns, the end (exit.json)
//     before it is reported: in Options.Records when set, else as files
//     in the run's folder.
//   - A task ref is "proc:<pid>:<start ticks>:<run id>", the start ticks
//     being field 22 of /proc/<pid>/stat: a reused pid is never taken for
//     the task.
//   - If the engine dies, the kernel kills each direct child (Pdeathsig);
//     other members of its group live on until the next engine's Describe
//     (or Stop) of the task kills them and reports the task stopped with
//     run.StopCodeHostRestarted. Pdeathsig follows the OS thread that
//     started the child: never call Start from a goroutine locked to its
//     thread (runtime.LockOSThread) that may end first.
//   - Shutdown stops every process and reports them with
//     run.StopCodeHostRestarted (retried under the job's policy), except
//     those already being stopped through Stop.
package process

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/longshore/longshore/internal/dispatch"
	"github.com/longshore/longshore/internal/local/keyed"
	"github.com/longshore/longshore/internal/run"
)

var _ dispatch.TaskRunner = (*Runner)(nil)

// Defaults of Options.
const (
	DefaultGrace       = 10 * time.Second
	DefaultMaxLogBytes = 256 << 20
)

// drainTimeout bounds how long the output of an exited process is waited
// for when something outside its group still holds its pipes.
const drainTimeout = 2 * time.Second

// Versions of the two observations of a task.
const (
	versionRunning = 1
	versionStopped = 2
)

// hostRestartedReason is the stopped reason of a task that outlived (or
// was stopped with) the engine that supervised it.
const hostRestartedReason = "the engine stopped while the task was running"

// Secrets resolves a job's secret references; *secret.Source is one.
type Secrets interface {
	// Resolve returns the value for the job's variable envName whose
	// reference is ref. Its error must not hold a value.
	Resolve(envName, ref string) (string, error)
}

// Options configure a Runner.
type Options struct {
	// JobsDir is the jobs folder; a job's folder is JobsDir/<spec.Dir>.
	JobsDir string
	// DataDir holds each run's folder: DataDir/runs/<run id>/ with
	// stdout.log and stderr.log, and task.json and exit.json unless
	// Records keeps them.
	DataDir string
	// Records, when set, keeps the records of each task's start and end
	// instead of files (a file costs more than a row of a database).
	Records Records
	// Secrets resolves the jobs' secrets; a job with secrets cannot start
	// without it.
	Secrets Secrets
	// Observe is called with each phase change of a task: running right
	// after the start (Version 1), stopped at its end (Version 2). Calls
	// for one task come in order, from a goroutine of their own: a slow
	// Observe delays nothing but the next report of the same task.
	Observe func(ctx context.Context, ts run.TaskState)
	// Grace is the time between SIGTERM and SIGKILL; DefaultGrace when zero.
	Grace time.Duration
	// Now tells the time of the observations; time.Now when nil.
	Now func() time.Time
	// BaseEnv ("NAME=value") is given to every process before the task's
	// own variables; DefaultBaseEnv(os.Getenv) when nil.
	BaseEnv []string
	// MaxLogBytes caps each output stream; what comes after is dropped
	// and a single "[longshore: output truncated after N bytes]" line
	// written. DefaultMaxLogBytes when zero or less.
	MaxLogBytes int64
}

// baseEnvNames are the host variables DefaultBaseEnv passes on: enough for
// a shell, and for `go run .`.
var baseEnvNames = []string{"PATH", "HOME", "USER", "LANG", "TMPDIR", "GOPATH", "GOCACHE", "GOMODCACHE", "GOFLAGS"}

// defaultPath is the PATH a process gets when the host has none.
const defaultPath = "/usr/local/bin:/usr/bin:/bin"

// DefaultBaseEnv returns the host variables every process gets by default:
// PATH, HOME, USER, LANG, TMPDIR, GOPATH, GOCACHE, GOMODCACHE and GOFLAGS,
// those that are set (PATH is always set).
func DefaultBaseEnv(getenv func(string) string) []string {
	var env []string
	for _, name := range baseEnvNames {
		v := getenv(name)
		if v == "" && name == "PATH" {
			v = defaultPath
		}
		if v != "" {
			env = append(env, name+"="+v)
		}
	}
	return env
}

// Runner runs tasks as processes. Its methods are safe for concurrent use.
type Runner struct {
	o      Options
	boot   string
	ctx    context.Context // given to Observe; cancelled when Shutdown gives up on a report
	cancel context.CancelFunc

	// starting serialises, per run, Start and the recovery of orphans, so
	// that one run never gets two processes; runs start side by side.
	starting keyed.Mutex
	mu       sync.Mutex
	tasks    map[string]*task // by run id, from the start until exit.json is written
	closed   bool

	procs   sync.WaitGroup // supervisors
	reports sync.WaitGroup // reporters
}

// task is one started process.
type task struct {
	ref     string
	runID   string
	pid     int
	cmd     *exec.Cmd
	reports chan run.TaskState // at most two: running, stopped

	// Guarded by Runner.mu.
	state    run.TaskState
	exited   bool   // the process has exited: its group may no longer be ours
	stopCode string // set by the first Stop (or Shutdown)
	stopWhy  string
	kill     *time.Timer
}

// New returns a Runner over o. It creates DataDir/runs.
func New(o Options) (*Runner, error) {
	if o.JobsDir == "" || o.DataDir == "" {
		return nil, errors.New("process runner: the jobs folder and the data folder are required")
	}
	var err error
	if o.JobsDir, err = filepath.Abs(o.JobsDir); err != nil {
		return nil, fmt.Errorf("process runner: jobs folder: %w", err)
	}
	if o.DataDir, err = filepath.Abs(o.DataDir); err != nil {
		return nil, fmt.Errorf("process runner: data folder: %w", err)
	}
	if err := os.MkdirAll(filepath.Join(o.DataDir, "runs"), 0o700); err != nil {
		return nil, fmt.Errorf("process runner: create runs folder: %w", err)
	}
	if o.Grace <= 0 {
		o.Grace = DefaultGrace
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.BaseEnv == nil {
		o.BaseEnv = DefaultBaseEnv(os.Getenv)
	}
	if o.MaxLogBytes <= 0 {
		o.MaxLogBytes = DefaultMaxLogBytes
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Runner{o: o, boot: bootID(), ctx: ctx, cancel: cancel, tasks: map[string]*task{}}, nil
}

// RunDir is the folder of a run's logs and records.
func (r *Runner) RunDir(runID string) string {
	return filepath.Join(r.o.DataDir, "runs", runID)
}

// Start starts the run's process and returns its ref. A second Start for
// the same run, by this Runner or after an engine restart, returns the
// first task's ref and starts nothing. A *dispatch.StartError says why a
// task cannot start: non-transient for a job without local.command, a
// missing secret, working folder or program, or a program that cannot be
// executed.
func (r *Runner) Start(ctx context.Context, t dispatch.Task) (string, error) {
	id := t.Run.ID
	if !run.ValidID(id) {
		return "", &dispatch.StartError{Reason: fmt.Sprintf("%q is not a run id", id)}
	}
	if t.Job == nil {
		return "", &dispatch.StartError{Reason: "run " + id + " has no job"}
	}
	if err := ctx.Err(); err != nil {
		return "", &dispatch.StartError{Transient: true, Reason: "start run " + id, Err: err}
	}
	defer r.starting.Lock(id)()
	r.mu.Lock()
	tk, closed := r.tasks[id], r.closed
	r.mu.Unlock()
	if tk != nil {
		return tk.ref, nil
	}
	var rec taskRecord
	switch err := r.readRecord(ctx, id, TaskFile, &rec); {
	case err == nil:
		return rec.Ref, nil
	case !isNotExist(err):
		return "", &dispatch.StartError{Transient: true, Reason: "look for an earlier start of run " + id, Err: err}
	}
	if closed {
		return "", &dispatch.StartError{Transient: true, Reason: "the process runner is shut down"}
	}
	p, err := r.plan(t)
	if err != nil {
		return "", err
	}
	return r.launch(ctx, id, t.Job.Name, p)
}

// plan is a process ready to start.
type plan struct {
	path string   // the program, absolute
	args []string // argv, argv[0] as written in the job
	dir  string
	env  []string
}

// plan works out the program, its folder and its environment.
func (r *Runner) plan(t dispatch.Task) (plan, error) {
	spec := t.Job
	where := spec.Path
	if where == "" {
		where = "its job.yaml"
	}
	if len(spec.Local.Command) == 0 || spec.Local.Command[0] == "" {
		return plan{}, &dispatch.StartError{Reason: fmt.Sprintf(
			"job %s has no local.command: add one to %s to run it as a process on this machine", spec.Name, where)}
	}
	args := slices.Concat(spec.Local.Command, t.Command)

	jobDir := filepath.Join(r.o.JobsDir, filepath.FromSlash(spec.Dir))
	dir := filepath.Join(jobDir, filepath.FromSlash(spec.Local.Dir))
	if rel, err := filepath.Rel(jobDir, dir); err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return plan{}, &dispatch.StartError{Reason: fmt.Sprintf("job %s: local.dir %q leaves the job's folder", spec.Name, spec.Local.Dir)}
	}
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return plan{}, &dispatch.StartError{Reason: fmt.Sprintf("job %s: working folder %s does not exist", spec.Name, dir)}
	}

	env, err := r.environment(t)
	if err != nil {
		return plan{}, err
	}
	path, err := lookPath(args[0], dir, lookupEnv(env, "PATH"))
	if err != nil {
		return plan{}, &dispatch.StartError{Reason: "job " + spec.Name, Err: err}
	}
	return plan{path: path, args: args, dir: dir, env: env}, nil
}

// environment is BaseEnv, then the task's variables, then the job's
// secrets; a later one replaces an earlier one of the same name.
func (r *Runner) environment(t dispatch.Task) ([]string, error) {
	var names []string
	values := map[string]string{}
	set := func(name, value string) {
		if _, ok := values[name]; !ok {
			names = append(names, name)
		}
		values[name] = value
	}
	for _, kv := range r.o.BaseEnv {
		if name, value, ok := strings.Cut(kv, "="); ok && name != "" {
			set(name, value)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(t.Env)) {
		set(name, t.Env[name])
	}
	for _, name := range slices.Sorted(maps.Keys(t.Job.Secrets)) {
		ref := t.Job.Secrets[name]
		if r.o.Secrets == nil {
			return nil, &dispatch.StartError{Reason: fmt.Sprintf("job %s: secret %s (%s): no secrets source is configured", t.Job.Name, name, ref)}
		}
		v, err := r.o.Secrets.Resolve(name, ref)
		if err != nil {
			return nil, &dispatch.StartError{Reason: fmt.Sprintf("job %s cannot read secret %s", t.Job.Name, name), Err: err}
		}
		set(name, v)
	}
	env := make([]string, len(names))
	for i, name := range names {
		env[i] = name + "=" + values[name]
	}
	return env, nil
}

func lookupEnv(env []string, name string) string {
	for _, kv := range slices.Backward(env) {
		if v, ok := strings.CutPrefix(kv, name+"="); ok {
			return v
		}
	}
	return ""
}

// lookPath finds the program: a name with a '/' relative to dir, a bare
// name in the absolute entries of pathList.
func lookPath(prog, dir, pathList string) (string, error) {
	if strings.Contains(prog, "/") {
		p := prog
		if !filepath.IsAbs(p) {
			p = filepath.Join(dir, p)
		}
		if err := executable(p); err != nil {
			return "", err
		}
		return p, nil
	}
	var denied error
	for _, d := range filepath.SplitList(pathList) {
		if !filepath.IsAbs(d) {
			continue
		}
		p := filepath.Join(d, prog)
		err := executable(p)
		if err == nil {
			return p, nil
		}
		if denied == nil && errors.Is(err, fs.ErrPermission) {
			denied = err
		}
	}
	if denied != nil {
		return "", denied
	}
	return "", fmt.Errorf("program %q not found in PATH (%s)", prog, pathList)
}

// executable checks that p is a file with an execute bit.
func executable(p string) error {
	st, err := os.Stat(p)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("program %s does not exist", p)
	case err != nil:
		return fmt.Errorf("program %s: %w", p, err)
	case st.IsDir():
		return fmt.Errorf("program %s is a folder", p)
	case st.Mode().Perm()&0o111 == 0:
		return fmt.Errorf("program %s is not executable (chmod +x it): %w", p, fs.ErrPermission)
	}
	return nil
}

// launch starts the planned process, records it and starts its supervisor.
func (r *Runner) launch(ctx context.Context, id, jobName string, p plan) (string, error) {
	var files []*os.File // closed on failure
	closeAll := func() {
		for _, f := range files {
			_ = f.Close()
		}
	}
	fail := func(reason string, err error) (string, error) {
		closeAll()
		return "", &dispatch.StartError{Transient: true, Reason: reason, Err: err}
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		return fail("create an output pipe", err)
	}
	files = append(files, outR, outW)
	errR, errW, err := os.Pipe()
	if err != nil {
		return fail("create an output pipe", err)
	}
	files = append(files, errR, errW)

	cmd := &exec.Cmd{
		Path: p.path, Args: p.args, Dir: p.dir, Env: p.env,
		Stdout: outW, Stderr: errW, // *os.File: handed to the child as is, no copying goroutine
		SysProcAttr: &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL},
	}
	startErr := cmd.Start()
	_ = outW.Close()
	_ = errW.Close()
	files = []*os.File{outR, errR}
	if startErr != nil {
		closeAll()
		return "", execFailure(jobName, p.path, startErr)
	}
	pid := cmd.Process.Pid
	abandon := func(reason string, err error) (string, error) {
		killGroup(pid, syscall.SIGKILL)
		_ = cmd.Wait()
		return fail(reason, err)
	}
	// The child is not reaped yet: its /proc entry is surely its own.
	st, err := readStat(pid)
	if err != nil {
		return abandon("read the start time of process "+fmt.Sprint(pid), err)
	}
	ref := formatRef(pid, st.start, id)
	started := r.o.Now()
	rec := taskRecord{Ref: ref, RunID: id, PID: pid, Ticks: st.start, BootID: r.boot, StartedAt: started}
	if err := r.writeRecord(context.WithoutCancel(ctx), id, TaskFile, rec); err != nil {
		return abandon("record the start of run "+id, err)
	}

	tk := &task{ref: ref, runID: id, pid: pid, cmd: cmd, reports: make(chan run.TaskState, 2)}
	tk.state = run.TaskState{TaskRef: ref, RunID: id, Version: versionRunning, Phase: run.PhaseRunning, StartedAt: &started}
	r.mu.Lock()
	if r.closed {
		// Shutdown began while this one started: it waits for the tasks
		// it found only. The record stays: the next engine reports the
		// run stopped with the host.
		r.mu.Unlock()
		return abandon("start run "+id, errors.New("the process runner is shut down"))
	}
	r.tasks[id] = tk
	r.procs.Add(1)
	r.reports.Add(1)
	r.mu.Unlock()
	tk.reports <- tk.state.Clone()
	go r.report(tk)
	dir := r.RunDir(id)
	go r.supervise(tk, started, outR, errR, &logFile{dir: dir, name: StdoutFile}, &logFile{dir: dir, name: StderrFile})
	return ref, nil
}

// execFailure turns an error of exec into a StartError: transient when the
// machine is short of resources, else not.
func execFailure(jobName, path string, err error) *dispatch.StartError {
	reason := fmt.Sprintf("job %s: start %s", jobName, path)
	for _, e := range []error{syscall.EAGAIN, syscall.ENOMEM, syscall.EMFILE, syscall.ENFILE, syscall.ETXTBSY} {
		if errors.Is(err, e) {
			return &dispatch.StartError{Transient: true, Reason: reason, Err: err}
		}
	}
	if errors.Is(err, fs.ErrNotExist) {
		if _, serr := os.Stat(path); serr == nil {
			reason += " (the interpreter on its #! line does not exist)"
		}
	}
	return &dispatch.StartError{Reason: reason, Err: err}
}

// report delivers a task's observations to Observe, in order.
func (r *Runner) report(tk *task) {
	defer r.reports.Done()
	for ts := range tk.reports {
		if r.o.Observe != nil {
			r.o.Observe(r.ctx, ts)
		}
	}
}

// supervise copies the task's output, waits for its end, records it in
// exit.json and reports it.
func (r *Runner) supervise(tk *task, started time.Time, outR, errR *os.File, outLog, errLog *logFile) {
	defer r.procs.Done()
	var copiers sync.WaitGroup
	copiers.Add(2)
	go func() { defer copiers.Done(); copyCapped(outLog, outR, r.o.MaxLogBytes) }()
	go func() { defer copiers.Done(); copyCapped(errLog, errR, r.o.MaxLogBytes) }()

	// Until the child is reaped its pid is reserved, and so is its group:
	// kill what is left of the group first.
	_ = waitExited(tk.pid)
	r.mu.Lock()
	tk.exited = true
	if tk.kill != nil {
		tk.kill.Stop()
	}
	killGroup(tk.pid, syscall.SIGKILL)
	stopCode, stopWhy := tk.stopCode, tk.stopWhy
	r.mu.Unlock()
	_ = tk.cmd.Wait()

	// The group is gone, so its pipes are closed, unless a process that
	// left the group holds them: do not wait for that one for long.
	deadline := time.Now().Add(drainTimeout)
	_ = outR.SetReadDeadline(deadline)
	_ = errR.SetReadDeadline(deadline)
	copiers.Wait()
	_ = outR.Close()
	_ = errR.Close()
	_ = outLog.Close()
	_ = errLog.Close()

	code, why := exitCode(tk.cmd.ProcessState)
	if stopCode == "" {
		stopCode = run.StopCodeEssentialExited
		stopWhy = why
	}
	end := exitRecord{Ref: tk.ref, RunID: tk.runID, ExitCode: &code, StopCode: stopCode, StoppedReason: stopWhy,
		StartedAt: &started, StoppedAt: r.o.Now()}
	state := end.state()
	recorded := r.writeRecord(context.Background(), tk.runID, ExitFile, end) == nil

	r.mu.Lock()
	tk.state = state
	if recorded {
		// Describe and Start read the run's folder from now on.
		delete(r.tasks, tk.runID)
	}
	r.mu.Unlock()
	tk.reports <- state.Clone()
	close(tk.reports)
}

// exitCode is the process's exit code as a shell reports it: 128+N when
// signal N killed it; and the words for it.
func exitCode(ps *os.ProcessState) (int, string) {
	if ps == nil {
		return -1, "the process could not be waited for"
	}
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal()), "the process was killed by " + signalName(ws.Signal())
	}
	return ps.ExitCode(), fmt.Sprintf("the process exited with code %d", ps.ExitCode())
}

// Stop asks the task to stop: SIGTERM to its process group, SIGKILL after
// the grace period if it is still running. It is reported stopped with
// run.StopCodeUserInitiated and reason. Stopping a task twice, a stopped
// task or an unknown one does nothing. A task left running by an earlier
// engine is killed and recorded as Describe does.
func (r *Runner) Stop(ctx context.Context, ref, reason string) error {
	id, ok := parseRef(ref)
	if !ok {
		return nil
	}
	r.mu.Lock()
	tk := r.tasks[id.runID]
	if tk != nil && tk.ref == ref {
		r.stopLocked(tk, run.StopCodeUserInitiated, reason)
		r.mu.Unlock()
		return nil
	}
	r.mu.Unlock()
	_, err := r.recover(ctx, id)
	if errors.Is(err, dispatch.ErrTaskNotFound) {
		return nil
	}
	return err
}

// stopLocked starts the stop of a task, once; r.mu is held.
func (r *Runner) stopLocked(tk *task, code, why string) {
	if tk.exited || tk.stopCode != "" {
		return
	}
	tk.stopCode, tk.stopWhy = code, why
	killGroup(tk.pid, syscall.SIGTERM)
	tk.kill = time.AfterFunc(r.o.Grace, func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		if !tk.exited {
			killGroup(tk.pid, syscall.SIGKILL)
		}
	})
}

// Describe observes the task now: running or stopped for a process of
// this Runner; the recorded end from exit.json otherwise. A task started
// by an earlier engine with no recorded end is stopped now (what is left
// of its process group is killed) and reported stopped with
// run.StopCodeHostRestarted and no exit code; that end is recorded too.
// ErrTaskNotFound when the ref is not one of this runner's or its run has
// no started task.
func (r *Runner) Describe(ctx context.Context, ref string) (run.TaskState, error) {
	id, ok := parseRef(ref)
	if !ok {
		return run.TaskState{}, dispatch.ErrTaskNotFound
	}
	r.mu.Lock()
	tk := r.tasks[id.runID]
	if tk != nil && tk.ref == ref {
		ts := tk.state.Clone()
		r.mu.Unlock()
		return ts, nil
	}
	r.mu.Unlock()
	return r.recover(ctx, id)
}

// recover finds a task that is not a live child of this Runner in its
// run's folder: its recorded end, or, for a task an earlier engine left
// running, a HostRestarted end after killing what is left of it.
func (r *Runner) recover(ctx context.Context, id taskID) (run.TaskState, error) {
	defer r.starting.Lock(id.runID)()
	r.mu.Lock()
	tk := r.tasks[id.runID]
	if tk != nil && tk.ref == id.source {
		ts := tk.state.Clone()
		r.mu.Unlock()
		return ts, nil
	}
	r.mu.Unlock()

	var end exitRecord
	switch err := r.readRecord(ctx, id.runID, ExitFile, &end); {
	case err == nil:
		if end.Ref != id.source {
			return run.TaskState{}, dispatch.ErrTaskNotFound
		}
		return end.state(), nil
	case !isNotExist(err):
		return run.TaskState{}, fmt.Errorf("describe task %s: %w", id.source, err)
	}
	var rec taskRecord
	switch err := r.readRecord(ctx, id.runID, TaskFile, &rec); {
	case isNotExist(err):
		return run.TaskState{}, dispatch.ErrTaskNotFound
	case err != nil:
		return run.TaskState{}, fmt.Errorf("describe task %s: %w", id.source, err)
	case rec.Ref != id.source:
		return run.TaskState{}, dispatch.ErrTaskNotFound
	}

	r.killOrphan(rec)
	started := rec.StartedAt
	end = exitRecord{Ref: rec.Ref, RunID: rec.RunID, StopCode: run.StopCodeHostRestarted,
		StoppedReason: hostRestartedReason, StartedAt: &started, StoppedAt: r.o.Now()}
	if err := r.writeRecord(context.WithoutCancel(ctx), id.runID, ExitFile, end); err != nil {
		return run.TaskState{}, fmt.Errorf("describe task %s: %w", id.source, err)
	}
	return end.state(), nil
}

// killOrphan kills what is left of a task an earlier engine started: its
// process group, when the process itself still holds its pid (alive, or a
// zombie nobody reaped: same pid, same start time), or when its pid is
// free but members of its group remain (a group id cannot be reused while
// the group has members).
func (r *Runner) killOrphan(rec taskRecord) {
	if rec.BootID != "" && r.boot != "" && rec.BootID != r.boot {
		return // the machine restarted: nothing of it survived
	}
	st, err := readStat(rec.PID)
	switch {
	case err == nil && st.start == rec.Ticks:
		killGroup(rec.PID, syscall.SIGKILL)
	case errors.Is(err, fs.ErrNotExist) && groupLeft(rec.PID, rec.Ticks):
		killGroup(rec.PID, syscall.SIGKILL)
	}
}

// Shutdown stops every running process (SIGTERM to its group, SIGKILL
// after the grace period, or at once when ctx ends first), waits for them
// all and for their reports, and returns. Tasks it stops are reported with
// run.StopCodeHostRestarted. Later Starts fail with a transient
// StartError. It returns ctx's error when Observe calls were still running
// as ctx ended (their context is then cancelled); no process is left
// running either way.
func (r *Runner) Shutdown(ctx context.Context) error {
	r.mu.Lock()
	r.closed = true
	for _, tk := range r.tasks {
		r.stopLocked(tk, run.StopCodeHostRestarted, hostRestartedReason)
	}
	r.mu.Unlock()

	procsDone := make(chan struct{})
	go func() { r.procs.Wait(); close(procsDone) }()
	select {
	case <-procsDone:
	case <-ctx.Done():
		r.mu.Lock()
		for _, tk := range r.tasks {
			if !tk.exited {
				killGroup(tk.pid, syscall.SIGKILL)
			}
		}
		r.mu.Unlock()
		<-procsDone // killed: each supervisor ends within drainTimeout
	}

	reportsDone := make(chan struct{})
	go func() { r.reports.Wait(); close(reportsDone) }()
	select {
	case <-reportsDone:
		r.cancel()
		return nil
	case <-ctx.Done():
		r.cancel()
		return fmt.Errorf("shut down the process runner: reports still running: %w", ctx.Err())
	}
}
