// Package container is a dispatch.TaskRunner that runs each task as a
// container on a Docker Engine API — Docker, or Podman's compatible
// service — for `longshore local`.
//
// What a caller should know:
//
//   - The image: image.build is built from the job's build folder (sent as a
//     tar context, its Containerfile or Dockerfile honoured) and tagged
//     longshore/<job>:<hash of the folder's content>, so an unchanged folder
//     is built once; image.uri is used as found on this machine, and pulled
//     only when it is not. A build or pull that fails is a run that never
//     started: a non-transient *dispatch.StartError quoting the end of the
//     build's log or the pull's error.
//   - The container: NanoCpus = cpu/1024 CPUs (at most the CPUs of the
//     engine's machine) and Memory = memory MiB (swap included: none beyond
//     it), as on Fargate; the environment is the
//     task's variables (LONGSHORE_* included) and the job's secrets resolved
//     through Options.Secrets, given at create time and never written into
//     an image, a log or a file of the runner (the engine keeps them in the
//     container's configuration while it exists, as any engine does);
//     labels longshore.run, longshore.job, longshore.attempt and
//     longshore.owner (the data folder's); network none or host
//     (Options.Network); a stop timeout of the grace period.
//   - The command: the run's override (dispatch.Task.Command), else the
//     job's command, replaces the image's CMD; its ENTRYPOINT stays, as with
//     ECS's command override.
//   - Exit codes: the container's. 137 with a memory limit, unless
//     Longshore stopped the container itself, is reported as out of memory
//     (a container reason of "OutOfMemoryError: ...", so run.Classify says
//     so): engines such as Podman do not report OOM kills reliably.
//   - Stop sends SIGTERM, then SIGKILL after the grace period, and reports
//     run.StopCodeUserInitiated with the reason given.
//   - Output streams into DataDir/runs/<run id>/stdout.log and stderr.log
//     (mode 0600) as the container writes it, demultiplexed and capped per
//     stream as the process runner does. The start is recorded in
//     task.json before the container starts, the end in exit.json before
//     it is reported; then the container is removed.
//   - A task ref is "ctr:<container id>:<run id>".
//   - If the engine dies, its containers live on. The next engine over the
//     same data folder finds them (Recover, or Describe, Stop or Start of
//     their runs): one still running is followed to its end and reported
//     with its real exit code (its log resumed where it stopped), one that
//     ended meanwhile is reported with its exit code, one whose run has
//     finished is stopped; one that is gone is reported with
//     run.StopCodeHostRestarted and no exit code.
//   - Shutdown stops every container (SIGTERM, SIGKILL after the grace
//     period), reports them with run.StopCodeHostRestarted (except those
//     already being stopped through Stop), removes them, and leaves none
//     behind.
package container

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"github.com/longshore/longshore/internal/dispatch"
	"github.com/longshore/longshore/internal/job"
	"github.com/longshore/longshore/internal/local/keyed"
	"github.com/longshore/longshore/internal/run"

	"github.com/longshore/longshore/internal/local/jsonfile"
)

var _ dispatch.TaskRunner = (*Runner)(nil)

// Defaults of Options.
const (
	DefaultGrace       = 10 * time.Second
	DefaultMaxLogBytes = 256 << 20
)

// Networks a container may have.
const (
	// NetworkNone: no network at all but a loopback device.
	NetworkNone = "none"
	// NetworkHost: the machine's own network, so a job reaches the local
	// engine's S3, SQS and runs endpoints on 127.0.0.1.
	NetworkHost = "host"
)

// Labels on every container the runner creates (labelJob on its images too).
const (
	labelRun     = "longshore.run"
	labelJob     = "longshore.job"
	labelAttempt = "longshore.attempt"
	labelOwner   = "longshore.owner"
)

// LabelTagPrefix starts the labels that carry a job's tags (job.yaml tags),
// as its tasks carry them on AWS: tag team=reports is label
// longshore.tag.team=reports.
const LabelTagPrefix = "longshore.tag."

// labels are a run's container labels: the job's tags, then Longshore's own.
func labels(t dispatch.Task, spec *job.Spec, owner string) map[string]string {
	out := make(map[string]string, len(spec.Tags)+4)
	for k, v := range spec.Tags {
		out[LabelTagPrefix+k] = v
	}
	out[labelRun] = t.Run.ID
	out[labelJob] = spec.Name
	out[labelAttempt] = strconv.Itoa(t.Run.Attempt)
	out[labelOwner] = owner
	return out
}

// Versions of the two observations of a task.
const (
	versionRunning = 1
	versionStopped = 2
)

// hostRestartedReason is the stopped reason of a task stopped because the
// runner shut down, or lost while no engine watched it.
const hostRestartedReason = "the engine stopped while the task was running"

const (
	// logsDrain bounds the wait for the engine to end the log stream of an
	// exited container (Podman's sometimes never ends); what is left is
	// then read in one go.
	logsDrain = 2 * time.Second
	// drainTimeout bounds the wait for the containers a timed-out Shutdown
	// killed.
	drainTimeout = 5 * time.Second
	// callTimeout bounds one short call to the engine (create, start,
	// kill, inspect, remove).
	callTimeout = 30 * time.Second
	// retryEvery spaces the attempts to wait for a container again when
	// the engine's answer broke off.
	retryEvery = 250 * time.Millisecond
)

// Secrets resolves a job's secret references; *secret.Source is one.
type Secrets interface {
	// Resolve returns the value for the job's variable envName whose
	// reference is ref. Its error must not hold a value.
	Resolve(envName, ref string) (string, error)
}

// Options configure a Runner.
type Options struct {
	// Engine is the container engine to run on (see Find).
	Engine *Engine
	// JobsDir is the jobs folder; a job's folder is JobsDir/<spec.Dir>.
	JobsDir string
	// DataDir holds each run's folder: DataDir/runs/<run id>/ with
	// stdout.log, stderr.log, task.json, exit.json and stop.json.
	DataDir string
	// Secrets resolves the jobs' secrets; a job with secrets cannot start
	// without it.
	Secrets Secrets
	// Observe is called with each phase change of a task it started:
	// running right after the start (Version 1), stopped at its end
	// (Version 2); and with the end of a task it took over from an earlier
	// engine. Calls for one task come in order, from a goroutine of their
	// own.
	Observe func(ctx context.Context, ts run.TaskState)
	// Grace is the time between SIGTERM and SIGKILL; DefaultGrace when zero.
	Grace time.Duration
	// Now tells the time of the observations; time.Now when nil.
	Now func() time.Time
	// MaxLogBytes caps each output stream; what comes after is dropped and
	// a single "[longshore: output truncated after N bytes]" line written.
	// DefaultMaxLogBytes when zero or less.
	MaxLogBytes int64
	// Network is NetworkNone (the default) or NetworkHost.
	Network string
}

// Runner runs tasks as containers. Its methods are safe for concurrent use.
type Runner struct {
	o     Options
	api   api
	owner string

	ctx    context.Context // given to Observe; cancelled when Shutdown gives up on a report
	cancel context.CancelFunc
	// closing ends when Shutdown begins: starts under way give up.
	closing     context.Context
	closeStarts context.CancelFunc
	// abandon ends when Shutdown gives up waiting for containers: the
	// waits and log streams still open end.
	abandon    context.Context
	abandonAll context.CancelFunc

	runs   keyed.Mutex // serialises the starts and take-overs of one run
	images keyed.Mutex // one build or pull of an image at a time

	cpusOnce sync.Once
	cpus     int // of the engine's machine; 0 when unknown

	mu       sync.Mutex
	tasks    map[string]*task // by run id, from the start until exit.json is written
	closed   bool
	starting sync.WaitGroup // Starts under way
	procs    sync.WaitGroup // supervisors
	reports  sync.WaitGroup // reporters
}

// task is one container the runner follows.
type task struct {
	ref         string
	runID       string
	containerID string
	memoryMiB   int
	started     time.Time
	stdout      *streamLog
	stderr      *streamLog
	reports     chan run.TaskState // at most two: running, stopped

	// Guarded by Runner.mu.
	state    run.TaskState
	exited   bool
	stopCode string // set by the first Stop (or Shutdown)
	stopWhy  string
	kill     *time.Timer
}

// New returns a Runner over o. It creates DataDir/runs.
func New(o Options) (*Runner, error) {
	if o.Engine == nil {
		return nil, errors.New("container runner: a container engine is required")
	}
	if o.JobsDir == "" || o.DataDir == "" {
		return nil, errors.New("container runner: the jobs folder and the data folder are required")
	}
	var err error
	if o.JobsDir, err = filepath.Abs(o.JobsDir); err != nil {
		return nil, fmt.Errorf("container runner: jobs folder: %w", err)
	}
	if o.DataDir, err = filepath.Abs(o.DataDir); err != nil {
		return nil, fmt.Errorf("container runner: data folder: %w", err)
	}
	if err := os.MkdirAll(filepath.Join(o.DataDir, "runs"), 0o700); err != nil {
		return nil, fmt.Errorf("container runner: create runs folder: %w", err)
	}
	switch o.Network {
	case "":
		o.Network = NetworkNone
	case NetworkNone, NetworkHost:
	default:
		return nil, fmt.Errorf("container runner: network %q: use %s or %s", o.Network, NetworkNone, NetworkHost)
	}
	if o.Grace <= 0 {
		o.Grace = DefaultGrace
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.MaxLogBytes <= 0 {
		o.MaxLogBytes = DefaultMaxLogBytes
	}
	r := &Runner{o: o, api: o.Engine.c, owner: Owner(o.DataDir), tasks: map[string]*task{}}
	r.ctx, r.cancel = context.WithCancel(context.Background())
	r.closing, r.closeStarts = context.WithCancel(context.Background())
	r.abandon, r.abandonAll = context.WithCancel(context.Background())
	return r, nil
}

// Owner is the value of the longshore.owner label of the containers a
// runner over dataDir (an absolute path) creates: one engine's containers
// are told apart from another's on the same machine.
func Owner(dataDir string) string {
	sum := sha256.Sum256([]byte(filepath.Clean(dataDir)))
	return hex.EncodeToString(sum[:8])
}

// RunDir is the folder of a run's logs and records.
func (r *Runner) RunDir(runID string) string {
	return filepath.Join(r.o.DataDir, "runs", runID)
}

// containerName is the name of a run's container: one per run and engine.
func (r *Runner) containerName(runID string) string {
	return "longshore-" + r.owner + "-" + runID
}

// Start starts the run's container and returns its ref. A second Start for
// the same run, by this Runner or after an engine restart, returns the
// first task's ref and starts nothing (it takes over a container an
// earlier engine left). A *dispatch.StartError says why a task cannot
// start: non-transient for a job without an image, a missing secret, an
// image that cannot be built or pulled, or a container the engine refuses;
// transient when the engine does not answer or the runner is shut down.
func (r *Runner) Start(ctx context.Context, t dispatch.Task) (string, error) {
	id := t.Run.ID
	if !run.ValidID(id) {
		return "", &dispatch.StartError{Reason: fmt.Sprintf("%q is not a run id", id)}
	}
	if t.Job == nil {
		return "", &dispatch.StartError{Reason: "run " + id + " has no job"}
	}
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return "", &dispatch.StartError{Transient: true, Reason: "the container runner is shut down"}
	}
	r.starting.Add(1)
	r.mu.Unlock()
	defer r.starting.Done()

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(r.closing, cancel)()
	if err := ctx.Err(); err != nil {
		return "", &dispatch.StartError{Transient: true, Reason: "start run " + id, Err: err}
	}

	unlock := r.runs.Lock(id)
	defer unlock()
	r.mu.Lock()
	tk := r.tasks[id]
	r.mu.Unlock()
	if tk != nil {
		return tk.ref, nil
	}
	var rec taskRecord
	switch err := jsonfile.Read(r.RunDir(id), TaskFile, &rec); {
	case err == nil:
		// Started before, by this engine or an earlier one: take over
		// what is left of it, if anything.
		if _, err := r.recoverLocked(ctx, taskID{containerID: rec.ContainerID, runID: id, source: rec.Ref}, false); err != nil &&
			!errors.Is(err, dispatch.ErrTaskNotFound) {
			return "", &dispatch.StartError{Transient: true, Reason: "take over the container of run " + id, Err: err}
		}
		return rec.Ref, nil
	case !errors.Is(err, fs.ErrNotExist):
		return "", &dispatch.StartError{Transient: true, Reason: "look for an earlier start of run " + id, Err: err}
	}
	p, err := r.plan(ctx, t)
	if err != nil {
		return "", err
	}
	return r.launch(ctx, t, p)
}

// plan is a container ready to be created.
type plan struct {
	image     string
	config    *container.Config
	host      *container.HostConfig
	memoryMiB int
}

// plan resolves the task's environment and image and writes its
// container's configuration.
func (r *Runner) plan(ctx context.Context, t dispatch.Task) (plan, error) {
	spec := t.Job
	env, err := r.environment(t)
	if err != nil {
		return plan{}, err
	}
	img, err := r.image(ctx, spec)
	if err != nil {
		return plan{}, err
	}
	cmd := t.Command
	if len(cmd) == 0 {
		cmd = spec.Command
	}
	stopTimeout := int(math.Ceil(r.o.Grace.Seconds()))
	cfg := &container.Config{
		Image: img, Env: env, Cmd: slices.Clone(cmd),
		Labels:     labels(t, spec, r.owner),
		StopSignal: "SIGTERM", StopTimeout: &stopTimeout,
	}
	memory := int64(spec.Memory) << 20
	host := &container.HostConfig{
		NetworkMode: container.NetworkMode(r.o.Network),
		Resources: container.Resources{
			NanoCPUs: r.nanoCPUs(spec.CPU),
			Memory:   memory, MemorySwap: memory,
		},
	}
	return plan{image: img, config: cfg, host: host, memoryMiB: spec.Memory}, nil
}

// nanoCPUs maps Fargate CPU units to the engine's NanoCpus (1024 units are
// one CPU), at most the CPUs of the engine's machine: Docker refuses more.
func (r *Runner) nanoCPUs(units int) int64 {
	r.cpusOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
		defer cancel()
		if res, err := r.api.Info(ctx, client.InfoOptions{}); err == nil {
			r.cpus = res.Info.NCPU
		}
	})
	n := int64(units) * 1_000_000_000 / 1024
	if r.cpus > 0 {
		n = min(n, int64(r.cpus)*1_000_000_000)
	}
	return n
}

// environment is the task's variables, then the job's secrets; a secret
// replaces a variable of the same name.
func (r *Runner) environment(t dispatch.Task) ([]string, error) {
	values := maps.Clone(t.Env)
	if values == nil {
		values = map[string]string{}
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
		values[name] = v
	}
	env := make([]string, 0, len(values))
	for _, name := range slices.Sorted(maps.Keys(values)) {
		env = append(env, name+"="+values[name])
	}
	return env, nil
}

// launch creates the container, records it, starts it and follows it.
func (r *Runner) launch(ctx context.Context, t dispatch.Task, p plan) (string, error) {
	id := t.Run.ID
	dir := r.RunDir(id)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", &dispatch.StartError{Transient: true, Reason: "create the folder of run " + id, Err: err}
	}
	containerID, err := r.create(ctx, id, p)
	if err != nil {
		return "", err
	}
	ref := formatRef(containerID, id)
	abandon := func(err error) (string, error) {
		r.remove(containerID)
		_ = os.Remove(filepath.Join(dir, TaskFile))
		return "", err
	}
	stdout, err := createLog(dir, StdoutFile, r.o.MaxLogBytes)
	if err != nil {
		return abandon(&dispatch.StartError{Transient: true, Reason: "start run " + id, Err: err})
	}
	stderr, err := createLog(dir, StderrFile, r.o.MaxLogBytes)
	if err != nil {
		_ = stdout.Close()
		return abandon(&dispatch.StartError{Transient: true, Reason: "start run " + id, Err: err})
	}
	closeLogs := func() { _ = stdout.Close(); _ = stderr.Close() }
	started := r.o.Now()
	rec := taskRecord{Ref: ref, RunID: id, ContainerID: containerID, Name: r.containerName(id), Image: p.image,
		MemoryMiB: p.memoryMiB, StartedAt: started}
	if err := jsonfile.Write(dir, TaskFile, rec); err != nil {
		closeLogs()
		return abandon(&dispatch.StartError{Transient: true, Reason: "record the start of run " + id, Err: err})
	}
	if _, err := r.api.ContainerStart(ctx, containerID, client.ContainerStartOptions{}); err != nil {
		closeLogs()
		if client.IsErrConnectionFailed(err) || ctx.Err() != nil {
			return abandon(engineFailure("start the container of run "+id, err))
		}
		return abandon(&dispatch.StartError{Reason: fmt.Sprintf("CannotStartContainerError: job %s: %s", t.Job.Name, strings.TrimSpace(err.Error()))})
	}
	tk := &task{ref: ref, runID: id, containerID: containerID, memoryMiB: p.memoryMiB, started: started,
		stdout: stdout, stderr: stderr, reports: make(chan run.TaskState, 2)}
	tk.state = run.TaskState{TaskRef: ref, RunID: id, Version: versionRunning, Phase: run.PhaseRunning,
		Essential: run.DefaultEssential, StartedAt: &started}
	r.follow(tk, true)
	return ref, nil
}

// create creates the run's container. A container of the same name left
// by a start that was interrupted before it recorded it is removed first.
func (r *Runner) create(ctx context.Context, runID string, p plan) (string, error) {
	opts := client.ContainerCreateOptions{Name: r.containerName(runID), Config: p.config, HostConfig: p.host}
	res, err := r.api.ContainerCreate(ctx, opts)
	if err != nil && (cerrdefs.IsConflict(err) || strings.Contains(err.Error(), "already in use")) {
		r.remove(opts.Name)
		res, err = r.api.ContainerCreate(ctx, opts)
	}
	switch {
	case err == nil && !validContainerID(res.ID):
		r.remove(res.ID)
		return "", &dispatch.StartError{Transient: true, Reason: fmt.Sprintf("the engine named the container of run %s %q", runID, res.ID)}
	case err == nil:
		return res.ID, nil
	case client.IsErrConnectionFailed(err) || ctx.Err() != nil:
		return "", engineFailure("create the container of run "+runID, err)
	}
	return "", &dispatch.StartError{Reason: fmt.Sprintf("CannotCreateContainerError: run %s: %s", runID, strings.TrimSpace(err.Error()))}
}

// follow makes tk one of the runner's tasks, and starts its reporter and
// its supervisor. The running observation is reported when announce is
// set (a task this runner started), not for one it takes over.
func (r *Runner) follow(tk *task, announce bool) {
	r.mu.Lock()
	r.tasks[tk.runID] = tk
	r.mu.Unlock()
	r.procs.Add(1)
	r.reports.Add(1)
	if announce {
		tk.reports <- tk.state.Clone()
	}
	go r.report(tk)
	go r.supervise(tk)
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

// exit is how a followed container ended.
type exit struct {
	state     *container.State // nil when the container is gone
	abandoned bool             // Shutdown gave up waiting
}

// supervise streams the container's output, waits for its end, records it
// in exit.json, removes the container and reports the end.
func (r *Runner) supervise(tk *task) {
	defer r.procs.Done()
	logsCtx, stopLogs := context.WithCancel(r.abandon)
	defer stopLogs()
	logsDone := make(chan bool, 1)
	go func() { logsDone <- r.streamLogs(logsCtx, tk, true) }()

	ex := r.waitForExit(tk)
	r.mu.Lock()
	tk.exited = true
	if tk.kill != nil {
		tk.kill.Stop()
	}
	stopCode, stopWhy := tk.stopCode, tk.stopWhy
	r.mu.Unlock()

	// The stream ends once the container has stopped: wait for it, not
	// for long, then read the whole output once more, which writes only
	// what the stream had not. Podman may end a followed stream before the
	// last lines the container wrote have reached it (seen under load: a
	// run's last line missing), so the stream's own end is not trusted.
	select {
	case <-logsDone:
	case <-time.After(logsDrain):
		stopLogs()
		<-logsDone
	}
	if ex.state != nil {
		ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
		r.streamLogs(ctx, tk, false)
		cancel()
	}
	_ = tk.stdout.Close()
	_ = tk.stderr.Close()

	end := r.endOf(tk, ex, stopCode, stopWhy)
	state := end.state()
	recorded := jsonfile.Write(r.RunDir(tk.runID), ExitFile, end) == nil
	if recorded {
		// Without exit.json the container keeps the exit code for the next engine.
		r.remove(tk.containerID)
	}
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

// waitForExit waits until the container is no longer running, asking the
// engine again when its answer breaks off, and returns its final state.
func (r *Runner) waitForExit(tk *task) exit {
	for {
		w := r.api.ContainerWait(r.abandon, tk.containerID, client.ContainerWaitOptions{Condition: container.WaitConditionNotRunning})
		select {
		case <-w.Result:
		case <-w.Error:
		}
		ctx, cancel := context.WithTimeout(r.abandon, callTimeout)
		res, err := r.api.ContainerInspect(ctx, tk.containerID, client.ContainerInspectOptions{})
		cancel()
		switch {
		case cerrdefs.IsNotFound(err):
			return exit{}
		case err == nil && res.Container.State != nil && !running(res.Container.State):
			return exit{state: res.Container.State}
		}
		select {
		case <-r.abandon.Done():
			return exit{abandoned: true}
		case <-time.After(retryEvery):
		}
	}
}

// running reports whether a container's state is one that goes on.
func running(st *container.State) bool {
	switch st.Status {
	case container.StateRunning, container.StatePaused, container.StateRestarting:
		return true
	}
	return st.Running
}

// streamLogs copies the container's output into its log files, following
// it until the container stops when follow is set. Each attempt reads the
// stream from its start and skips what earlier ones wrote. It returns true
// when the engine ended the stream: everything has been read.
func (r *Runner) streamLogs(ctx context.Context, tk *task, follow bool) bool {
	for {
		rc, err := r.api.ContainerLogs(ctx, tk.containerID, client.ContainerLogsOptions{ShowStdout: true, ShowStderr: true, Follow: follow})
		if err == nil {
			tk.stdout.rewind()
			tk.stderr.rewind()
			_, err = stdcopy.StdCopy(tk.stdout, tk.stderr, rc)
			_ = rc.Close()
			if err == nil {
				return true
			}
		}
		if !follow || ctx.Err() != nil || cerrdefs.IsNotFound(err) {
			return false
		}
		select {
		case <-ctx.Done():
			return false
		case <-time.After(retryEvery):
		}
	}
}

// endOf is the end record of a task that exited as ex says.
func (r *Runner) endOf(tk *task, ex exit, stopCode, stopWhy string) exitRecord {
	started := tk.started
	end := exitRecord{Ref: tk.ref, RunID: tk.runID, StopCode: stopCode, StoppedReason: stopWhy,
		StartedAt: &started, StoppedAt: r.o.Now()}
	st := ex.state
	switch {
	case ex.abandoned:
		end.StopCode, end.StoppedReason = run.StopCodeHostRestarted, hostRestartedReason
		return end
	case st == nil:
		if end.StopCode == "" {
			end.StopCode, end.StoppedReason = run.StopCodeUserInitiated, "the container was removed outside Longshore"
		}
		return end
	case st.Status == container.StateCreated:
		// It never ran: the engine could not start it.
		end.StopCode = run.StopCodeFailedToStart
		end.StoppedReason = "CannotStartContainerError: " + strings.TrimSpace(st.Error)
		return end
	}
	code := st.ExitCode
	end.ExitCode = &code
	if end.StopCode == "" {
		end.StopCode = run.StopCodeEssentialExited
		end.StoppedReason = fmt.Sprintf("the container exited with code %d", code)
	}
	if code == run.OOMExitCode && (st.OOMKilled || (stopCode == "" && tk.memoryMiB > 0)) {
		if st.OOMKilled {
			end.ContainerReason = fmt.Sprintf("OutOfMemoryError: the container went past its memory limit of %d MiB", tk.memoryMiB)
		} else {
			end.ContainerReason = fmt.Sprintf("OutOfMemoryError: killed (137) under a memory limit of %d MiB", tk.memoryMiB)
		}
	}
	return end
}

// remove removes a container and its anonymous volumes; one that is gone
// is no error.
func (r *Runner) remove(containerID string) {
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	_, _ = r.api.ContainerRemove(ctx, containerID, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true})
}

// signal sends sig to the container's main process; a container that has
// exited or is gone is no error.
func (r *Runner) signal(containerID, sig string) {
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	_, _ = r.api.ContainerKill(ctx, containerID, client.ContainerKillOptions{Signal: sig})
}

// Stop asks the task to stop: SIGTERM to the container's main process,
// SIGKILL after the grace period if it is still running. It is reported
// stopped with run.StopCodeUserInitiated and reason. Stopping a task
// twice, a stopped task or an unknown one does nothing. A container left
// running by an earlier engine is taken over and stopped.
func (r *Runner) Stop(ctx context.Context, ref, reason string) error {
	id, ok := parseRef(ref)
	if !ok {
		return nil
	}
	if r.stopTracked(id, run.StopCodeUserInitiated, reason) {
		return nil
	}
	_, err := r.recover(ctx, id)
	if errors.Is(err, dispatch.ErrTaskNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("stop task %s: %w", ref, err)
	}
	r.stopTracked(id, run.StopCodeUserInitiated, reason)
	return nil
}

// stopTracked stops the task id names if the runner follows it.
func (r *Runner) stopTracked(id taskID, code, why string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	tk := r.tasks[id.runID]
	if tk == nil || tk.ref != id.source {
		return false
	}
	r.stopLocked(tk, code, why)
	return true
}

// stopLocked starts the stop of a task, once; r.mu is held. The stop is
// recorded in stop.json first, so that an engine that takes the container
// over finishes it.
func (r *Runner) stopLocked(tk *task, code, why string) {
	if tk.exited || tk.stopCode != "" {
		return
	}
	tk.stopCode, tk.stopWhy = code, why
	_ = jsonfile.Write(r.RunDir(tk.runID), StopFile, stopRecord{StopCode: code, Reason: why})
	go r.signal(tk.containerID, "SIGTERM")
	tk.kill = time.AfterFunc(r.o.Grace, func() {
		r.mu.Lock()
		exited := tk.exited
		r.mu.Unlock()
		if !exited {
			r.signal(tk.containerID, "SIGKILL")
		}
	})
}

// Describe observes the task now: running or stopped for a container this
// Runner follows; the recorded end from exit.json otherwise. A container
// an earlier engine started and nobody recorded the end of is looked at
// now: still running, it is taken over (followed to its end, which is
// reported through Observe) and reported running; ended, its end is
// recorded and reported; gone, it is reported stopped with
// run.StopCodeHostRestarted and no exit code. ErrTaskNotFound when the
// ref is not one of this runner's or its run has no started task.
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

// Shutdown stops every container (SIGTERM, SIGKILL after the grace period,
// or at once when ctx ends first), waits for their ends and reports, and
// removes them. Tasks it stops are reported with run.StopCodeHostRestarted.
// Later Starts fail with a transient StartError; starts under way give up.
// It returns ctx's error when Observe calls were still running as ctx
// ended (their context is then cancelled).
func (r *Runner) Shutdown(ctx context.Context) error {
	r.mu.Lock()
	r.closed = true
	r.mu.Unlock()
	r.closeStarts()
	r.starting.Wait()
	r.mu.Lock()
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
		var left []string
		for _, tk := range r.tasks {
			if !tk.exited {
				left = append(left, tk.containerID)
			}
		}
		r.mu.Unlock()
		for _, id := range left {
			r.signal(id, "SIGKILL")
		}
		select {
		case <-procsDone:
		case <-time.After(drainTimeout):
			r.abandonAll()
			<-procsDone
		}
	}

	reportsDone := make(chan struct{})
	go func() { r.reports.Wait(); close(reportsDone) }()
	select {
	case <-reportsDone:
		r.cancel()
		return nil
	case <-ctx.Done():
		r.cancel()
		return fmt.Errorf("shut down the container runner: reports still running: %w", ctx.Err())
	}
}
