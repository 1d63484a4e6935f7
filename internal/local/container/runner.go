// Package container is a dispatch.TaskRunner that runs each task as a
// container on a Docker Engine API — Docker, or Podman's compatible
// service — for `longshore local`: a task.Supervisor over containers (its
// records, logs, stops, shutdown and take-overs are the Supervisor's; see
// package task).
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
//     as the container writes it, demultiplexed, as the Supervisor writes
//     every task's. The start is recorded in task.json before the container
//     starts, the end in exit.json before it is reported; then the
//     container is removed.
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
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"github.com/longshore/longshore/internal/dispatch"
	"github.com/longshore/longshore/internal/job"
	"github.com/longshore/longshore/internal/local/keyed"
	"github.com/longshore/longshore/internal/local/task"
)

var _ dispatch.TaskRunner = (*Runner)(nil)

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

const (
	// logsDrain bounds the wait for the engine to end the log stream of an
	// exited container (Podman's sometimes never ends); what is left is
	// then read in one go.
	logsDrain = 2 * time.Second
	// callTimeout bounds one short call to the engine (create, start,
	// kill, inspect, remove).
	callTimeout = 30 * time.Second
	// retryEvery spaces the attempts to wait for a container again when
	// the engine's answer broke off.
	retryEvery = 250 * time.Millisecond
)

// Options configure a Runner.
type Options struct {
	task.Config
	// Engine is the container engine to run on (see Find).
	Engine *Engine
	// Network is NetworkNone (the default) or NetworkHost.
	Network string
}

// Runner runs tasks as containers. Its methods are safe for concurrent use.
type Runner struct {
	*task.Supervisor
	b *backend
}

// backend creates, watches and kills containers for the Supervisor.
type backend struct {
	api api
	// podman, when the engine is Podman, waits for containers through its
	// own API.
	podman  *libpod
	jobsDir string
	owner   string
	network string
	grace   time.Duration
	secrets task.Secrets

	images keyed.Mutex // one build or pull of an image at a time

	cpusOnce sync.Once
	cpus     int // of the engine's machine; 0 when unknown
}

var _ task.Backend = (*backend)(nil)

// New returns a Runner over o. It creates DataDir/runs.
func New(o Options) (*Runner, error) {
	if o.Engine == nil {
		return nil, errors.New("container runner: a container engine is required")
	}
	c, err := o.Config.Resolve()
	if err != nil {
		return nil, fmt.Errorf("container runner: %w", err)
	}
	switch o.Network {
	case "":
		o.Network = NetworkNone
	case NetworkNone, NetworkHost:
	default:
		return nil, fmt.Errorf("container runner: network %q: use %s or %s", o.Network, NetworkNone, NetworkHost)
	}
	b := &backend{api: o.Engine.c, podman: o.Engine.podman, jobsDir: c.JobsDir, owner: Owner(c.DataDir), network: o.Network, grace: c.Grace, secrets: c.Secrets}
	s, err := task.New(b, c)
	if err != nil {
		return nil, err
	}
	return &Runner{Supervisor: s, b: b}, nil
}

// Owner is the value of the longshore.owner label of the containers a
// runner over dataDir (an absolute path) creates: one engine's containers
// are told apart from another's on the same machine.
func Owner(dataDir string) string {
	sum := sha256.Sum256([]byte(filepath.Clean(dataDir)))
	return hex.EncodeToString(sum[:8])
}

// containerName is the name of a run's container: one per run and engine.
func (b *backend) containerName(runID string) string {
	return "longshore-" + b.owner + "-" + runID
}

func (b *backend) Kind() string { return "container" }

func (b *backend) Parse(ref string) (string, bool) {
	id, ok := parseRef(ref)
	return id.runID, ok
}

// plan is a container ready to be created.
type plan struct {
	image     string
	config    *container.Config
	host      *container.HostConfig
	memoryMiB int
}

// Create builds or finds the job's image and creates the run's container,
// not started. A *dispatch.StartError says why it cannot: non-transient
// for a job without an image, a missing secret, an image that cannot be
// built or pulled, or a container the engine refuses; transient when the
// engine does not answer or the start is called off.
func (b *backend) Create(ctx context.Context, t dispatch.Task) (task.Handle, error) {
	p, err := b.plan(ctx, t)
	if err != nil {
		return nil, err
	}
	id, err := b.create(ctx, t.Run.ID, p)
	if err != nil {
		return nil, err
	}
	return &ctr{b: b, id: id, ref: formatRef(id, t.Run.ID), runID: t.Run.ID, job: t.Job.Name,
		name: b.containerName(t.Run.ID), image: p.image, memoryMiB: p.memoryMiB}, nil
}

// plan resolves the task's environment and image and writes its
// container's configuration.
func (b *backend) plan(ctx context.Context, t dispatch.Task) (plan, error) {
	spec := t.Job
	env, err := task.Environment(nil, t, b.secrets)
	if err != nil {
		return plan{}, err
	}
	slices.SortFunc(env, func(x, y string) int { return strings.Compare(envName(x), envName(y)) })
	img, err := b.image(ctx, spec)
	if err != nil {
		return plan{}, err
	}
	cmd := t.Command
	if len(cmd) == 0 {
		cmd = spec.Command
	}
	stopTimeout := int(math.Ceil(b.grace.Seconds()))
	cfg := &container.Config{
		Image: img, Env: env, Cmd: slices.Clone(cmd),
		Labels:     labels(t, spec, b.owner),
		StopSignal: "SIGTERM", StopTimeout: &stopTimeout,
	}
	memory := int64(spec.Memory) << 20
	host := &container.HostConfig{
		NetworkMode: container.NetworkMode(b.network),
		Resources: container.Resources{
			NanoCPUs: b.nanoCPUs(spec.CPU),
			Memory:   memory, MemorySwap: memory,
		},
	}
	return plan{image: img, config: cfg, host: host, memoryMiB: spec.Memory}, nil
}

// envName is the name of a "NAME=value" variable.
func envName(kv string) string {
	name, _, _ := strings.Cut(kv, "=")
	return name
}

// nanoCPUs maps Fargate CPU units to the engine's NanoCpus (1024 units are
// one CPU), at most the CPUs of the engine's machine: Docker refuses more.
func (b *backend) nanoCPUs(units int) int64 {
	b.cpusOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
		defer cancel()
		if res, err := b.api.Info(ctx, client.InfoOptions{}); err == nil {
			b.cpus = res.Info.NCPU
		}
	})
	n := int64(units) * 1_000_000_000 / 1024
	if b.cpus > 0 {
		n = min(n, int64(b.cpus)*1_000_000_000)
	}
	return n
}

// create creates the run's container. A container of the same name left
// by a start that was interrupted before it recorded it is removed first.
func (b *backend) create(ctx context.Context, runID string, p plan) (string, error) {
	opts := client.ContainerCreateOptions{Name: b.containerName(runID), Config: p.config, HostConfig: p.host}
	res, err := b.api.ContainerCreate(ctx, opts)
	if err != nil && (cerrdefs.IsConflict(err) || strings.Contains(err.Error(), "already in use")) {
		b.remove(opts.Name)
		res, err = b.api.ContainerCreate(ctx, opts)
	}
	switch {
	case err == nil && !validContainerID(res.ID):
		b.remove(res.ID)
		return "", &dispatch.StartError{Transient: true, Reason: fmt.Sprintf("the engine named the container of run %s %q", runID, res.ID)}
	case err == nil:
		return res.ID, nil
	case client.IsErrConnectionFailed(err) || ctx.Err() != nil:
		return "", engineFailure("create the container of run "+runID, err)
	}
	return "", &dispatch.StartError{Reason: fmt.Sprintf("CannotCreateContainerError: run %s: %s", runID, strings.TrimSpace(err.Error()))}
}

// remove removes a container and its anonymous volumes; one that is gone
// is no error.
func (b *backend) remove(containerID string) {
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	_, _ = b.api.ContainerRemove(ctx, containerID, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true})
}

// signal sends sig to the container's main process; a container that has
// exited or is gone is no error.
func (b *backend) signal(containerID, sig string) {
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	_, _ = b.api.ContainerKill(ctx, containerID, client.ContainerKillOptions{Signal: sig})
}
