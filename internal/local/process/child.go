package process

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"

	"github.com/longshore/longshore/internal/local/task"
	"github.com/longshore/longshore/internal/run"
)

// drainTimeout bounds how long the output of an exited process is waited
// for when something outside its group still holds its pipes.
const drainTimeout = 2 * time.Second

// child is one started process, the leader of its process group.
type child struct {
	ref   string
	pid   int
	ticks uint64
	boot  string
	cmd   *exec.Cmd

	outR, errR *os.File
	copiers    sync.WaitGroup

	mu     sync.Mutex
	exited bool // the process has exited: its group may no longer be ours
}

var _ task.Handle = (*child)(nil)

func (c *child) Ref() string { return c.ref }

func (c *child) Record() any { return procRecord{PID: c.pid, Ticks: c.ticks, BootID: c.boot} }

// Start does nothing: the process runs from its creation.
func (c *child) Start(context.Context) error { return nil }

// Wait copies the process's output into out, waits for it to exit, kills
// what is left of its group and reaps it. A process always ends once
// killed: it is waited for whatever ctx says.
func (c *child) Wait(_ context.Context, out task.Output) (task.Exit, error) {
	c.copiers.Add(2)
	go func() { defer c.copiers.Done(); copyOutput(out.Stdout, c.outR) }()
	go func() { defer c.copiers.Done(); copyOutput(out.Stderr, c.errR) }()

	// Until the child is reaped its pid is reserved, and so is its group:
	// kill what is left of the group first.
	_ = waitExited(c.pid)
	c.mu.Lock()
	c.exited = true
	killGroup(c.pid, syscall.SIGKILL)
	c.mu.Unlock()
	_ = c.cmd.Wait()

	code, why := exitCode(c.cmd.ProcessState)
	return task.Exit{Code: &code, StopCode: run.StopCodeEssentialExited, Reason: why}, nil
}

// Drain waits for the output the process's group wrote: its pipes are
// closed once the group is gone, unless a process that left the group
// holds them, which is not waited for long.
func (c *child) Drain() {
	deadline := time.Now().Add(drainTimeout)
	_ = c.outR.SetReadDeadline(deadline)
	_ = c.errR.SetReadDeadline(deadline)
	c.copiers.Wait()
	_ = c.outR.Close()
	_ = c.errR.Close()
}

// Kill sends sig to the process group, unless the process has exited.
func (c *child) Kill(sig syscall.Signal) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.exited {
		killGroup(c.pid, sig)
	}
}

// Remove kills the group of a process that was never waited for, reaps it
// and closes its pipes; it does nothing once Wait has returned.
func (c *child) Remove() {
	c.mu.Lock()
	if c.exited {
		c.mu.Unlock()
		return
	}
	c.exited = true
	killGroup(c.pid, syscall.SIGKILL)
	c.mu.Unlock()
	_ = c.cmd.Wait()
	_ = c.outR.Close()
	_ = c.errR.Close()
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
