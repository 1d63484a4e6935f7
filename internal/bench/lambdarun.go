package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// lambdaProc is a function's real bootstrap (built for this machine) under
// a fake Lambda Runtime API that hands it one invocation at a time.
type lambdaProc struct {
	cmd    *exec.Cmd
	srv    *http.Server
	exited chan struct{}
	stderr *lockedBuf

	// ready receives when the bootstrap asks for its next invocation.
	ready  chan struct{}
	next   chan []byte
	result chan invokeResult
	seq    int
}

type invokeResult struct {
	body []byte
	err  string // the function's error, when it answered one
}

type lockedBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startLambda starts bin with env and waits until it asks for its first
// invocation (its init is done).
func startLambda(ctx context.Context, bin string, env []string) (*lambdaProc, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &lambdaProc{ready: make(chan struct{}, 1), next: make(chan []byte), result: make(chan invokeResult, 1),
		exited: make(chan struct{}), stderr: &lockedBuf{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /2018-06-01/runtime/invocation/next", func(w http.ResponseWriter, r *http.Request) {
		p.ready <- struct{}{}
		select {
		case payload := <-p.next:
			p.seq++
			w.Header().Set("Lambda-Runtime-Aws-Request-Id", fmt.Sprintf("bench-%d", p.seq))
			w.Header().Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(time.Now().Add(60*time.Second).UnixMilli(), 10))
			w.Header().Set("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:"+benchRegion+":"+benchAccount+":function:bench")
			w.Write(payload)
		case <-r.Context().Done():
		}
	})
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/response", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		p.result <- invokeResult{body: b}
		w.WriteHeader(http.StatusAccepted)
	})
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/error", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		p.result <- invokeResult{err: string(b)}
		w.WriteHeader(http.StatusAccepted)
	})
	mux.HandleFunc("POST /2018-06-01/runtime/init/error", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		p.result <- invokeResult{err: "init: " + string(b)}
		w.WriteHeader(http.StatusAccepted)
	})
	p.srv = &http.Server{Handler: mux}
	go p.srv.Serve(l)
	p.cmd = exec.CommandContext(ctx, bin)
	p.cmd.Env = append(env, "AWS_LAMBDA_RUNTIME_API="+l.Addr().String())
	p.cmd.Stderr = p.stderr
	p.cmd.Stdout = p.stderr
	if err := p.cmd.Start(); err != nil {
		p.srv.Close()
		return nil, err
	}
	go func() { p.cmd.Wait(); close(p.exited) }()
	select {
	case <-p.ready:
		return p, nil
	case r := <-p.result:
		p.stop()
		return nil, fmt.Errorf("%s: %s", filepath.Base(bin), r.err)
	case <-p.exited:
		p.stop()
		return nil, fmt.Errorf("%s exited during init: %s", filepath.Base(bin), p.stderr.String())
	case <-time.After(30 * time.Second):
		p.stop()
		return nil, fmt.Errorf("%s: not ready within 30s", filepath.Base(bin))
	}
}

// invoke hands the function one event and waits for its answer and for its
// next request (so that what it does after answering counts too); it
// returns the CPU time the process used meanwhile.
func (p *lambdaProc) invoke(payload []byte) ([]byte, time.Duration, error) {
	before := cpuTime(p.cmd.Process.Pid)
	select {
	case p.next <- payload:
	case <-p.exited:
		return nil, 0, fmt.Errorf("the function exited: %s", p.stderr.String())
	}
	var res invokeResult
	select {
	case res = <-p.result:
	case <-p.exited:
		return nil, 0, fmt.Errorf("the function exited: %s", p.stderr.String())
	case <-time.After(60 * time.Second):
		return nil, 0, fmt.Errorf("no answer within 60s")
	}
	select {
	case <-p.ready:
	case <-p.exited:
		return nil, 0, fmt.Errorf("the function exited: %s", p.stderr.String())
	case <-time.After(10 * time.Second):
		return nil, 0, fmt.Errorf("the function did not ask for its next event")
	}
	cpu := cpuTime(p.cmd.Process.Pid) - before
	if res.err != "" {
		return nil, cpu, fmt.Errorf("the function answered an error: %s", res.err)
	}
	return res.body, cpu, nil
}

// peakKiB is the process's peak resident memory so far (VmHWM).
func (p *lambdaProc) peakKiB() int64 { return statusKiB(p.cmd.Process.Pid, "VmHWM:") }

// stop kills the process and returns what it wrote to stdout and stderr:
// what Lambda sends to its log group.
func (p *lambdaProc) stop() string {
	if p.cmd.Process != nil {
		p.cmd.Process.Kill()
		<-p.exited
	}
	p.srv.Close()
	return p.stderr.String()
}

// cpuTime is the time all threads of process pid have spent on a CPU
// (/proc/<pid>/task/*/schedstat, in nanoseconds).
func cpuTime(pid int) time.Duration {
	dirs, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/schedstat", pid))
	var total int64
	for _, f := range dirs {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		fields := strings.Fields(string(b))
		if len(fields) > 0 {
			n, _ := strconv.ParseInt(fields[0], 10, 64)
			total += n
		}
	}
	return time.Duration(total)
}
