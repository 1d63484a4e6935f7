// Package process is a dispatch.TaskRunner that runs a job's local.command
// as a process on this machine, for `longshore local`: a task.Supervisor
// over processes (its records, logs, stops, shutdown and recovery are the
// Supervisor's; see package task).
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
//   - Output goes to DataDir/runs/<run id>/stdout.log and stderr.log as the
//     Supervisor writes every task's. The start is recorded (task.json)
//     once the process has started, before Start returns, the end
//     (exit.json) before it is reported: in Options.Records when set, else
//     as files in the run's folder.
//   - A task ref is "proc:<pid>:<start ticks>:<run id>", the start ticks
//     being field 22 of /proc/<pid>/stat: a reused pid is never taken for
//     the task.
//   - If the engine dies, the kernel kills each direct child (Pdeathsig);
//     other members of its group live on until the next engine's Describe,
//     Stop or Start of the task kills them and reports the task stopped with
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
	"os"
	"sync"
	"syscall"

	"github.com/longshore/longshore/internal/dispatch"
	"github.com/longshore/longshore/internal/local/task"
)

var _ dispatch.TaskRunner = (*Runner)(nil)

// Options configure a Runner.
type Options struct {
	task.Config
	// BaseEnv ("NAME=value") is given to every process before the task's
	// own variables; DefaultBaseEnv(os.Getenv) when nil.
	BaseEnv []string
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
	*task.Supervisor
}

// backend starts, watches and kills processes for the Supervisor.
type backend struct {
	jobsDir string
	baseEnv []string
	secrets task.Secrets
	boot    string // the machine's boot id: a pid and a start time name a process within one boot
	// found are the programs found in PATH before (see find).
	found sync.Map // pathKey -> string
}

var _ task.Backend = (*backend)(nil)

// New returns a Runner over o. It creates DataDir/runs.
func New(o Options) (*Runner, error) {
	b := &backend{baseEnv: o.BaseEnv, secrets: o.Secrets, boot: bootID()}
	if b.baseEnv == nil {
		b.baseEnv = DefaultBaseEnv(os.Getenv)
	}
	c, err := o.Config.Resolve()
	if err != nil {
		return nil, fmt.Errorf("process runner: %w", err)
	}
	b.jobsDir = c.JobsDir
	s, err := task.New(b, c)
	if err != nil {
		return nil, err
	}
	return &Runner{Supervisor: s}, nil
}

func (b *backend) Kind() string { return "process" }

func (b *backend) Parse(ref string) (string, bool) {
	id, ok := parseRef(ref)
	return id.runID, ok
}

// Leftovers lists nothing: a process carries no mark of the engine that
// started it; an earlier engine's are found through their runs' records.
func (b *backend) Leftovers(context.Context) ([]task.Handle, error) { return nil, nil }

// Find kills what is left of a task an earlier engine started (see
// killOrphan): a process is never taken over, since its output went to
// the pipes of the engine that died.
func (b *backend) Find(_ context.Context, rec task.Started) (task.Found, error) {
	var own procRecord
	if err := rec.Decode(&own); err != nil {
		return task.Found{}, err
	}
	b.killOrphan(own)
	return task.Found{State: task.Lost}, nil
}

// killOrphan kills what is left of a task an earlier engine started: its
// process group, when the process itself still holds its pid (alive, or a
// zombie nobody reaped: same pid, same start time), or when its pid is
// free but members of its group remain (a group id cannot be reused while
// the group has members).
func (b *backend) killOrphan(rec procRecord) {
	if rec.BootID != "" && b.boot != "" && rec.BootID != b.boot {
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
