// Package bench measures Longshore side by side with a baseline in the same
// run, so that the figures are ratios that hold on a shared machine:
// `make bench` prints them as one table and keeps them in docs/benchmarks.md.
package bench

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"

	"github.com/longshore/longshore/internal/api"
)

// engine is a running `longshore local` started for a measurement.
type engine struct {
	cmd    *exec.Cmd
	api    string
	s3     string
	sqs    string
	data   string
	jobs   string
	exited chan struct{}
	stderr *os.File
}

var endpointRe = regexp.MustCompile(`(runs API and Lambda invoke|S3 endpoint|SQS endpoint):\s+(http://\S+)`)

// startEngine writes the job files (name -> job.yaml) to a jobs folder and
// starts bin on it with a fresh data folder on free loopback ports; stop
// removes both folders.
func startEngine(bin string, files map[string]string) (*engine, *api.Client, error) {
	jobs, err := writeJobs(files)
	if err != nil {
		return nil, nil, err
	}
	e, err := launchEngineIn(bin, jobs, "")
	if err != nil {
		os.RemoveAll(jobs)
		return nil, nil, err
	}
	e.jobs = jobs // removed by stop
	c, err := api.NewClient(e.api)
	if err != nil {
		e.stop()
		return nil, nil, err
	}
	return e, c, nil
}

// launchEngineIn starts bin on the jobs folder and the data folder data (a
// fresh one when empty); stop removes the data folder, not the jobs folder.
func launchEngineIn(bin, jobs, data string, extra ...string) (*engine, error) {
	if data == "" {
		var err error
		if data, err = os.MkdirTemp("", "longshore-bench-data-"); err != nil {
			return nil, err
		}
	}
	logf, err := os.CreateTemp("", "longshore-bench-engine-*.log")
	if err != nil {
		return nil, err
	}
	args := append([]string{"local", "--jobs", jobs, "--data", data, "--addr", "127.0.0.1:0",
		"--s3-addr", "127.0.0.1:0", "--sqs-addr", "127.0.0.1:0", "--runner", "process"}, extra...)
	e := &engine{cmd: exec.Command(bin, args...), data: data, exited: make(chan struct{}), stderr: logf}
	out, err := e.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	e.cmd.Stderr = logf
	if err := e.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	found := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(out)
		done := false
		for sc.Scan() {
			if m := endpointRe.FindStringSubmatch(sc.Text()); m != nil && !done {
				switch m[1] {
				case "S3 endpoint":
					e.s3 = m[2]
				case "SQS endpoint":
					e.sqs = m[2]
				default:
					e.api = m[2]
				}
				if e.api != "" && e.s3 != "" && e.sqs != "" {
					done = true
					close(found)
				}
			}
		}
	}()
	go func() { e.cmd.Wait(); close(e.exited) }()
	select {
	case <-found:
		return e, nil
	case <-e.exited:
		b, _ := os.ReadFile(logf.Name())
		return nil, fmt.Errorf("longshore local exited:\n%s", b)
	case <-time.After(2 * time.Minute):
		e.stop()
		return nil, fmt.Errorf("longshore local did not say where it listens")
	}
}

// pid is the engine's process id, for reading its memory.
func (e *engine) pid() int { return e.cmd.Process.Pid }

// stop ends the engine and removes its data.
func (e *engine) stop() {
	e.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-e.exited:
	case <-time.After(30 * time.Second):
		e.cmd.Process.Kill()
		<-e.exited
	}
	os.RemoveAll(e.data)
	os.RemoveAll(e.jobs)
	e.stderr.Close()
	os.Remove(e.stderr.Name())
}

// writeJobs writes a jobs folder of the given job files (name -> job.yaml).
func writeJobs(files map[string]string) (string, error) {
	dir, err := os.MkdirTemp("", "longshore-bench-jobs-")
	if err != nil {
		return "", err
	}
	for name, y := range files {
		if err := os.MkdirAll(filepath.Join(dir, name), 0o755); err != nil {
			return "", err
		}
		if err := os.WriteFile(filepath.Join(dir, name, "job.yaml"), []byte(y), 0o644); err != nil {
			return "", err
		}
	}
	return dir, nil
}

// rssKiB reads a process's resident memory from /proc.
func rssKiB(pid int) int64 { return statusKiB(pid, "VmRSS:") }

// statusKiB reads a kB field of /proc/<pid>/status (0 when it cannot).
func statusKiB(pid int, field string) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field); ok {
			var kb int64
			fmt.Sscan(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), &kb)
			return kb
		}
	}
	return 0
}
