package process

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/longshore/longshore/internal/dispatch"
	"github.com/longshore/longshore/internal/local/task"
)

// plan is a process ready to start.
type plan struct {
	path string   // the program, absolute
	args []string // argv, argv[0] as written in the job
	dir  string
	env  []string
}

// Create starts the run's process: a *dispatch.StartError says why it
// cannot, non-transient for a job without local.command, a missing secret,
// working folder or program, or a program that cannot be executed.
func (b *backend) Create(_ context.Context, t dispatch.Task) (task.Handle, error) {
	p, err := b.plan(t)
	if err != nil {
		return nil, err
	}
	c, err := b.launch(t, p)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// plan works out the program, its folder and its environment.
func (b *backend) plan(t dispatch.Task) (plan, error) {
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

	jobDir := filepath.Join(b.jobsDir, filepath.FromSlash(spec.Dir))
	dir := filepath.Join(jobDir, filepath.FromSlash(spec.Local.Dir))
	if rel, err := filepath.Rel(jobDir, dir); err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return plan{}, &dispatch.StartError{Reason: fmt.Sprintf("job %s: local.dir %q leaves the job's folder", spec.Name, spec.Local.Dir)}
	}
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return plan{}, &dispatch.StartError{Reason: fmt.Sprintf("job %s: working folder %s does not exist", spec.Name, dir)}
	}

	env, err := task.Environment(b.baseEnv, t, b.secrets)
	if err != nil {
		return plan{}, err
	}
	path, err := b.find(args[0], dir, lookupEnv(env, "PATH"))
	if err != nil {
		return plan{}, &dispatch.StartError{Reason: "job " + spec.Name, Err: err}
	}
	return plan{path: path, args: args, dir: dir, env: env}, nil
}

func lookupEnv(env []string, name string) string {
	for _, kv := range slices.Backward(env) {
		if v, ok := strings.CutPrefix(kv, name+"="); ok {
			return v
		}
	}
	return ""
}

// pathKey names one search of a program: the same program, folder and
// PATH find the same file while it is there.
type pathKey struct{ prog, dir, pathList string }

// find is lookPath, remembering what it found: a job's runs start the same
// program, and the file found before is checked with one stat rather than
// a stat of every PATH entry before it, as a shell's hash of commands
// does. A file no longer there is looked for again.
func (b *backend) find(prog, dir, pathList string) (string, error) {
	key := pathKey{prog, dir, pathList}
	if p, ok := b.found.Load(key); ok {
		if executable(p.(string)) == nil {
			return p.(string), nil
		}
		b.found.Delete(key)
	}
	p, err := lookPath(prog, dir, pathList)
	if err == nil {
		b.found.Store(key, p)
	}
	return p, err
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

// launch starts the planned process, its output on two pipes.
func (b *backend) launch(t dispatch.Task, p plan) (*child, error) {
	var files []*os.File // closed on failure
	closeAll := func() {
		for _, f := range files {
			_ = f.Close()
		}
	}
	fail := func(reason string, err error) (*child, error) {
		closeAll()
		return nil, &dispatch.StartError{Transient: true, Reason: reason, Err: err}
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
		return nil, execFailure(t.Job.Name, p.path, startErr)
	}
	pid := cmd.Process.Pid
	// The child is not reaped yet: its /proc entry is surely its own.
	st, err := readStat(pid)
	if err != nil {
		killGroup(pid, syscall.SIGKILL)
		_ = cmd.Wait()
		return fail("read the start time of process "+fmt.Sprint(pid), err)
	}
	return &child{ref: formatRef(pid, st.start, t.Run.ID), pid: pid, ticks: st.start, boot: b.boot,
		cmd: cmd, outR: outR, errR: errR}, nil
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
