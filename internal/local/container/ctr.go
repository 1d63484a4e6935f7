package container

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"syscall"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"github.com/longshore/longshore/internal/dispatch"
	"github.com/longshore/longshore/internal/local/task"
	"github.com/longshore/longshore/internal/run"
)

// ctr is one container of a run.
type ctr struct {
	b         *backend
	id        string
	ref       string
	runID     string
	job       string // the job's name; "" for a container found after a restart
	name      string
	image     string
	memoryMiB int

	// Set by Wait, for Drain.
	out      task.Output
	logsDone chan bool
	stopLogs context.CancelFunc
	state    *container.State // nil when the container is gone
}

var _ task.Handle = (*ctr)(nil)

// ctrRecord is what the start record of a task (task.json) keeps of its
// container, written before the container is started.
type ctrRecord struct {
	ContainerID string `json:"containerId"`
	Name        string `json:"name"`
	Image       string `json:"image"`
	MemoryMiB   int    `json:"memoryMiB,omitempty"`
}

func (c *ctr) Ref() string { return c.ref }

func (c *ctr) Record() any {
	return ctrRecord{ContainerID: c.id, Name: c.name, Image: c.image, MemoryMiB: c.memoryMiB}
}

// Start starts the container. The engine's refusal is a run that never
// started; no answer from it, a start to try again.
func (c *ctr) Start(ctx context.Context) error {
	_, err := c.b.api.ContainerStart(ctx, c.id, client.ContainerStartOptions{})
	switch {
	case err == nil:
		return nil
	case client.IsErrConnectionFailed(err) || ctx.Err() != nil:
		return engineFailure("start the container of run "+c.runID, err)
	}
	what := "job " + c.job
	if c.job == "" {
		what = "container " + c.id
	}
	return &dispatch.StartError{Reason: fmt.Sprintf("CannotStartContainerError: %s: %s", what, strings.TrimSpace(err.Error()))}
}

// Wait streams the container's output into out and waits until it is no
// longer running, asking the engine again when its answer breaks off.
func (c *ctr) Wait(ctx context.Context, out task.Output) (task.Exit, error) {
	logsCtx, stopLogs := context.WithCancel(ctx)
	c.out, c.stopLogs, c.logsDone = out, stopLogs, make(chan bool, 1)
	go func() { c.logsDone <- c.streamLogs(logsCtx, true) }()
	for {
		if c.b.podman == nil || c.b.podman.wait(ctx, c.id) != nil {
			w := c.b.api.ContainerWait(ctx, c.id, client.ContainerWaitOptions{Condition: container.WaitConditionNotRunning})
			select {
			case <-w.Result:
			case <-w.Error:
			}
		}
		ictx, cancel := context.WithTimeout(ctx, callTimeout)
		res, err := c.b.api.ContainerInspect(ictx, c.id, client.ContainerInspectOptions{})
		cancel()
		switch {
		case cerrdefs.IsNotFound(err):
			return task.Exit{StopCode: run.StopCodeUserInitiated, Reason: "the container was removed outside Longshore"}, nil
		case err == nil && res.Container.State != nil && !running(res.Container.State):
			c.state = res.Container.State
			return c.exit(), nil
		}
		select {
		case <-ctx.Done():
			return task.Exit{}, ctx.Err()
		case <-time.After(retryEvery):
		}
	}
}

// exit is how the container ended, from its final state.
func (c *ctr) exit() task.Exit {
	st := c.state
	if st.Status == container.StateCreated {
		// It never ran: the engine could not start it.
		return task.Exit{NeverRan: true, StopCode: run.StopCodeFailedToStart,
			Reason: "CannotStartContainerError: " + strings.TrimSpace(st.Error)}
	}
	code := st.ExitCode
	return task.Exit{Code: &code, StopCode: run.StopCodeEssentialExited, Reason: fmt.Sprintf("the container exited with code %d", code),
		MemoryMiB: c.memoryMiB, OOMKilled: st.OOMKilled}
}

// Drain completes the output once the container has stopped: it reads the
// whole output once more, which writes only what the followed stream had
// not. Podman may end a followed stream before the last lines the
// container wrote have reached it (seen under load: a run's last line
// missing), and may end it only about 400 ms after the container, or
// never, so neither the stream's own end is trusted nor waited for: once
// the container's final state is known the stream is closed at once. A
// container whose end is not known gets its stream a moment to end.
func (c *ctr) Drain() {
	if c.state != nil {
		c.stopLogs()
		<-c.logsDone
		ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
		c.streamLogs(ctx, false)
		cancel()
		return
	}
	select {
	case <-c.logsDone:
	case <-time.After(logsDrain):
		c.stopLogs()
		<-c.logsDone
	}
	c.stopLogs()
	if c.state != nil {
		ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
		c.streamLogs(ctx, false)
		cancel()
	}
}

// streamLogs copies the container's output into its logs, following it
// until the container stops when follow is set. Each attempt reads the
// stream from its start and skips what earlier ones wrote. It returns true
// when the engine ended the stream: everything has been read.
func (c *ctr) streamLogs(ctx context.Context, follow bool) bool {
	for {
		rc, err := c.b.api.ContainerLogs(ctx, c.id, client.ContainerLogsOptions{ShowStdout: true, ShowStderr: true, Follow: follow})
		if err == nil {
			c.out.Rewind()
			_, err = stdcopy.StdCopy(c.out.Stdout, c.out.Stderr, rc)
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

// signalNames are the engine's words for the signals a stop sends; others
// go by number.
var signalNames = map[syscall.Signal]string{syscall.SIGTERM: "SIGTERM", syscall.SIGKILL: "SIGKILL"}

// Kill sends sig to the container's main process.
func (c *ctr) Kill(sig syscall.Signal) {
	name, ok := signalNames[sig]
	if !ok {
		name = strconv.Itoa(int(sig))
	}
	c.b.signal(c.id, name)
}

// Remove removes the container, running or not.
func (c *ctr) Remove() { c.b.remove(c.id) }

// running reports whether a container's state is one that goes on.
func running(st *container.State) bool {
	switch st.Status {
	case container.StateRunning, container.StatePaused, container.StateRestarting:
		return true
	}
	return st.Running
}
