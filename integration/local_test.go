package integration

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// engine is a running `longshore local`.
type engine struct {
	t      *testing.T
	cmd    *exec.Cmd
	api    string
	s3     string
	sqs    string
	data   string
	jobs   string
	mu     sync.Mutex
	out    strings.Builder
	exited chan struct{}
}

var endpointRe = regexp.MustCompile(`(runs API and Lambda invoke|S3 endpoint|SQS endpoint):\s+(http://\S+)`)

// startEngine starts the binary on free ports with the jobs folder and data
// folder given, and waits until it says where it listens.
func startEngine(t *testing.T, jobs, data string, extra ...string) *engine {
	t.Helper()
	return startEngineAs(t, longshore, "..", nil, jobs, data, extra...)
}

// startEngineAs starts the engine as startEngine does, from the binary bin
// in the folder dir, with env added to the test's environment.
func startEngineAs(t *testing.T, bin, dir string, env []string, jobs, data string, extra ...string) *engine {
	t.Helper()
	args := append([]string{"local", "--jobs", jobs, "--data", data, "--addr", "127.0.0.1:0",
		"--s3-addr", "127.0.0.1:0", "--sqs-addr", "127.0.0.1:0", "--grace", "2s"}, extra...)
	e := &engine{t: t, cmd: exec.Command(bin, args...), data: data, jobs: jobs, exited: make(chan struct{})}
	e.cmd.Dir = dir
	e.cmd.Env = append(os.Environ(), env...)
	stdout, _ := e.cmd.StdoutPipe()
	stderr, _ := e.cmd.StderrPipe()
	if err := e.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	found := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			e.mu.Lock()
			e.out.WriteString(line + "\n")
			if m := endpointRe.FindStringSubmatch(line); m != nil {
				switch m[1] {
				case "S3 endpoint":
					e.s3 = m[2]
				case "SQS endpoint":
					e.sqs = m[2]
				default:
					e.api = m[2]
				}
				if e.api != "" && e.s3 != "" && e.sqs != "" {
					close(found)
				}
			}
			e.mu.Unlock()
		}
	}()
	go func() {
		io.Copy(&lockedWriter{e}, stderr)
		e.cmd.Wait()
		close(e.exited)
	}()
	t.Cleanup(func() { e.stop(syscall.SIGKILL) })
	select {
	case <-found:
	case <-e.exited:
		t.Fatalf("longshore local exited:\n%s", e.output())
	case <-time.After(60 * time.Second):
		t.Fatalf("longshore local did not say where it listens:\n%s", e.output())
	}
	return e
}

type lockedWriter struct{ e *engine }

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.e.mu.Lock()
	defer w.e.mu.Unlock()
	return w.e.out.Write(p)
}

func (e *engine) output() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.out.String()
}

// stop signals the engine and waits for it to exit.
func (e *engine) stop(sig syscall.Signal) {
	select {
	case <-e.exited:
		return
	default:
	}
	e.cmd.Process.Signal(sig)
	select {
	case <-e.exited:
	case <-time.After(30 * time.Second):
		e.cmd.Process.Kill()
		<-e.exited
		e.t.Errorf("longshore local did not exit on %s:\n%s", sig, e.output())
	}
}

// cli runs the binary against this engine.
func (e *engine) cli(args ...string) result {
	e.t.Helper()
	return cliEnv(e.t, []string{"LONGSHORE_ENDPOINT=" + e.api}, args...)
}

func cliEnv(t *testing.T, env []string, args ...string) result {
	t.Helper()
	return cliIn(t, "", env, args...)
}

// runJSON is the part of `runs get --json` the tests read.
type runJSON struct {
	ID       string  `json:"id"`
	Job      string  `json:"job"`
	Status   string  `json:"status"`
	Cause    *string `json:"cause"`
	ExitCode *int    `json:"exitCode"`
	Reason   string  `json:"reason"`
	Attempt  int     `json:"attempt"`
	Trigger  struct {
		Kind      string `json:"kind"`
		Bucket    string `json:"bucket"`
		Key       string `json:"key"`
		MessageID string `json:"messageId"`
		Body      string `json:"body"`
	} `json:"trigger"`
	NextRunID string `json:"nextRunId"`
}

func (e *engine) get(id string) runJSON {
	e.t.Helper()
	got := e.cli("runs", "get", id, "--json")
	var r runJSON
	if got.code != 0 || json.Unmarshal([]byte(got.stdout), &r) != nil {
		e.t.Fatalf("runs get %s = %d %q %q", id, got.code, got.stdout, got.stderr)
	}
	return r
}

func (e *engine) list(args ...string) []runJSON {
	e.t.Helper()
	got := e.cli(append([]string{"runs", "--json", "--limit", "1000"}, args...)...)
	var rs []runJSON
	if got.code != 0 || json.Unmarshal([]byte(got.stdout), &rs) != nil {
		e.t.Fatalf("runs --json = %d %q %q", got.code, got.stdout, got.stderr)
	}
	return rs
}

// eventually polls cond until it holds or the deadline passes. The engine
// runs real processes, so the test waits for them, bounded.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (e *engine) finished(id string) runJSON {
	e.t.Helper()
	var r runJSON
	eventually(e.t, "run "+id+" finishes", func() bool {
		r = e.get(id)
		return isTerminal(r.Status) && r.NextRunID == ""
	})
	return r
}

func isTerminal(s string) bool {
	switch s {
	case "succeeded", "failed", "timed_out", "cancelled":
		return true
	}
	return false
}

func awsConfig() aws.Config {
	return aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("local", "local", "")}
}

// testJobs writes a small catalog of shell jobs.
func testJobs(t *testing.T) string {
	dir := t.TempDir()
	write(t, dir, "echo/job.yaml", "local:\n  command: [sh, -c, 'echo \"trigger=$LONGSHORE_TRIGGER key=$LONGSHORE_S3_KEY body=$LONGSHORE_SQS_BODY\"; exit ${EXIT_CODE:-0}']\ntriggers:\n  - invoke\n  - s3: {prefix: incoming/, suffix: .csv}\n  - sqs: {queue: work}\n")
	write(t, dir, "tick/job.yaml", "local:\n  command: [sh, -c, 'echo tick at $LONGSHORE_SCHEDULED_TIME']\ntriggers:\n  - schedule: rate(1 minute)\n")
	write(t, dir, "sleeper/job.yaml", "local:\n  command: [sh, -c, 'echo $$ > pid; sleep 300']\ntimeout: 1h\n")
	write(t, dir, "slow/job.yaml", "local:\n  command: [sleep, '30']\ntimeout: 1s\n")
	write(t, dir, "flaky/job.yaml", "local:\n  command: [sh, -c, 'echo attempt $LONGSHORE_ATTEMPT; exit 75']\nretries: {attempts: 2, exitCodes: [75], backoff: 0s}\n")
	write(t, dir, "chatty/job.yaml", "local:\n  command: [sh, -c, 'echo one; sleep 0.3; echo two >&2; sleep 0.3; echo three']\n")
	return dir
}

func TestTheExampleHelloExitsWithItsExitCode(t *testing.T) {
	e := startEngine(t, "jobs", t.TempDir())
	got := e.cli("run", "hello", "--env", "EXIT_CODE=3", "--wait")
	if got.code != 3 {
		t.Fatalf("run hello --wait = exit %d\nstdout %s\nstderr %s\nengine:\n%s", got.code, got.stdout, got.stderr, e.output())
	}
	id := strings.TrimSpace(strings.SplitN(got.stdout, "\n", 2)[0])
	if !strings.Contains(got.stdout, "LONGSHORE_RUN_ID="+id) || !strings.Contains(got.stdout, "hello: exiting with 3") {
		t.Errorf("the output's tail does not show the run's environment:\n%s", got.stdout)
	}
	raw := e.cli("runs", "get", id, "--json").stdout
	for _, want := range []string{`"status": "failed"`, `"cause": "exit"`, `"exitCode": 3`} {
		if !strings.Contains(raw, want) {
			t.Errorf("runs get --json lacks %s:\n%s", want, raw)
		}
	}
}

func TestEveryTriggerStartsARunWithItsFacts(t *testing.T) {
	e := startEngine(t, testJobs(t), t.TempDir())
	ctx := context.Background()

	t.Run("an invoke through the Lambda API", func(t *testing.T) {
		client := lambda.NewFromConfig(awsConfig(), func(o *lambda.Options) { o.BaseEndpoint = aws.String(e.api) })
		out, err := client.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("launcher"),
			Payload: []byte(`{"job":"echo","env":{"EXIT_CODE":"4"},"waitSeconds":60}`)})
		if err != nil || out.FunctionError != nil {
			t.Fatalf("Invoke = %+v %s, %v", out, out.Payload, err)
		}
		var r runJSON
		json.Unmarshal(out.Payload, &r)
		if r.Status != "failed" || r.ExitCode == nil || *r.ExitCode != 4 || r.Trigger.Kind != "invoke" {
			t.Errorf("invoke answered %s", out.Payload)
		}
	})

	t.Run("an upload through the S3 API", func(t *testing.T) {
		client := s3.NewFromConfig(awsConfig(), func(o *s3.Options) { o.BaseEndpoint = aws.String(e.s3); o.UsePathStyle = true })
		key := "incoming/report 2026-11-22.csv"
		if _, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("uploads"), Key: aws.String(key), Body: strings.NewReader("a,b\n")}); err != nil {
			t.Fatalf("PutObject: %v", err)
		}
		if _, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("uploads"), Key: aws.String("incoming/skip.txt"), Body: strings.NewReader("x")}); err != nil {
			t.Fatalf("PutObject: %v", err)
		}
		var runs []runJSON
		eventually(t, "the upload makes a run", func() bool {
			runs = filter(e.list("--job", "echo"), func(r runJSON) bool { return r.Trigger.Kind == "s3" })
			return len(runs) > 0
		})
		r := e.finished(runs[0].ID)
		if len(runs) != 1 || r.Status != "succeeded" || r.Trigger.Bucket != "uploads" || r.Trigger.Key != key {
			t.Errorf("s3 runs = %+v, final %+v", runs, r)
		}
		got := e.cli("logs", r.ID)
		if !strings.Contains(got.stdout, "trigger=s3 key="+key) {
			t.Errorf("logs = %q", got.stdout)
		}
		obj, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("uploads"), Key: aws.String(key)})
		if err != nil {
			t.Fatalf("GetObject: %v", err)
		}
		body, _ := io.ReadAll(obj.Body)
		if string(body) != "a,b\n" {
			t.Errorf("object = %q", body)
		}
	})

	t.Run("messages through the SQS API", func(t *testing.T) {
		client := sqs.NewFromConfig(awsConfig(), func(o *sqs.Options) { o.BaseEndpoint = aws.String(e.sqs) })
		url, err := client.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String("work")})
		if err != nil {
			t.Fatalf("GetQueueUrl: %v", err)
		}
		one, err := client.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: url.QueueUrl, MessageBody: aws.String(`{"order":1}`)})
		if err != nil {
			t.Fatalf("SendMessage: %v", err)
		}
		batch, err := client.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: url.QueueUrl, Entries: []sqstypes.SendMessageBatchRequestEntry{
			{Id: aws.String("a"), MessageBody: aws.String("two")}, {Id: aws.String("b"), MessageBody: aws.String("three")}}})
		if err != nil || len(batch.Successful) != 2 {
			t.Fatalf("SendMessageBatch = %+v, %v", batch, err)
		}
		var runs []runJSON
		eventually(t, "three messages make three finished runs", func() bool {
			runs = filter(e.list("--job", "echo"), func(r runJSON) bool { return r.Trigger.Kind == "sqs" && isTerminal(r.Status) })
			return len(runs) == 3
		})
		ids := map[string]string{}
		for _, r := range runs {
			ids[r.Trigger.MessageID] = r.Trigger.Body
			if r.Status != "succeeded" {
				t.Errorf("run %s is %s: %s", r.ID, r.Status, r.Reason)
			}
		}
		if ids[*one.MessageId] != `{"order":1}` || ids[*batch.Successful[0].MessageId] != "two" {
			t.Errorf("runs by message: %v", ids)
		}
	})

	t.Run("the same --key twice is one run", func(t *testing.T) {
		a := e.cli("run", "echo", "--key", "once")
		b := e.cli("run", "echo", "--key", "once")
		if a.code != 0 || b.code != 0 || a.stdout != b.stdout || !strings.Contains(b.stderr, "had already started this run") {
			t.Errorf("runs %q and %q (%q)", a.stdout, b.stdout, b.stderr)
		}
	})
}

func TestARateScheduleFiresOnTheEnginesClock(t *testing.T) {
	// A 120x clock: a minute of schedules passes in half a second.
	e := startEngine(t, testJobs(t), t.TempDir(), "--time-scale", "120")
	var runs []runJSON
	eventually(t, "rate(1 minute) has fired twice", func() bool {
		runs = filter(e.list("--job", "tick"), func(r runJSON) bool { return r.Status == "succeeded" })
		return len(runs) >= 2
	})
	for _, r := range runs {
		if r.Trigger.Kind != "schedule" {
			t.Errorf("run %s was started by %s", r.ID, r.Trigger.Kind)
		}
		if got := e.cli("logs", r.ID).stdout; !regexp.MustCompile(`^tick at \d{4}-\d\d-\d\dT\d\d:\d\d:00Z\n$`).MatchString(got) {
			t.Errorf("logs of %s = %q", r.ID, got)
		}
	}
}

func TestAfterKill9NoRunStaysRunningAndNoProcessIsLeft(t *testing.T) {
	jobs, data := testJobs(t), t.TempDir()
	e := startEngine(t, jobs, data)
	id, pid := e.startSleeper()
	e.stop(syscall.SIGKILL)

	again := startEngine(t, jobs, data)
	r := again.finished(id)
	if r.Status != "failed" || r.Cause == nil || *r.Cause != "interrupted" || r.Reason == "" {
		t.Errorf("after kill -9 the run is %s/%v: %q", r.Status, r.Cause, r.Reason)
	}
	eventually(t, "the sleeper's process is gone", func() bool { return syscall.Kill(pid, 0) != nil })
}

func TestAStoppedEngineCancelsItsRunsAndLeavesNoProcess(t *testing.T) {
	jobs, data := testJobs(t), t.TempDir()
	e := startEngine(t, jobs, data)
	id, pid := e.startSleeper()
	e.stop(syscall.SIGTERM)
	if syscall.Kill(pid, 0) == nil {
		t.Errorf("process %d is still alive after the engine stopped", pid)
	}
	again := startEngine(t, jobs, data)
	if r := again.get(id); r.Status != "cancelled" || !strings.Contains(r.Reason, "shut down") {
		t.Errorf("after a clean stop the run is %s: %q", r.Status, r.Reason)
	}
}

func TestRunWaitExitsWithWhatHappened(t *testing.T) {
	e := startEngine(t, testJobs(t), t.TempDir())
	t.Run("a run past its timeout exits 124", func(t *testing.T) {
		got := e.cli("run", "slow", "--wait")
		id := strings.TrimSpace(got.stdout)
		if got.code != 124 || e.get(id).Status != "timed_out" {
			t.Errorf("run slow --wait = %d (%s), run %+v", got.code, got.stderr, e.get(id))
		}
	})
	t.Run("a retried run is followed to its last attempt", func(t *testing.T) {
		got := e.cli("run", "flaky", "--wait")
		if got.code != 75 || !strings.Contains(got.stderr, "(attempt 2): failed, exit code 75") || !strings.Contains(got.stdout, "attempt 2") {
			t.Errorf("run flaky --wait = %d\nstdout %s\nstderr %s", got.code, got.stdout, got.stderr)
		}
	})
}

func TestLogsFollowPrintsOutputAsItComesUntilTheRunEnds(t *testing.T) {
	e := startEngine(t, testJobs(t), t.TempDir())
	id := strings.TrimSpace(e.cli("run", "chatty").stdout)
	got := e.cli("logs", id, "--follow")
	if got.code != 0 || got.stdout != "one\nthree\n" || got.stderr != "two\n" {
		t.Errorf("logs --follow = %d %q %q", got.code, got.stdout, got.stderr)
	}
	if r := e.get(id); r.Status != "succeeded" {
		t.Errorf("logs --follow returned while the run is %s", r.Status)
	}
}

func TestTheCLISaysWhenNoEngineAnswers(t *testing.T) {
	got := cliEnv(t, []string{"LONGSHORE_ENDPOINT=http://127.0.0.1:1"}, "runs")
	if got.code != 1 || !strings.Contains(got.stderr, "no Longshore engine answers at http://127.0.0.1:1") || strings.Count(got.stderr, "\n") != 1 {
		t.Errorf("runs without an engine = %d %q", got.code, got.stderr)
	}
}

// startSleeper starts a run of the sleeper job and waits until it runs; it
// returns the run id and the pid of its process.
func (e *engine) startSleeper() (string, int) {
	e.t.Helper()
	id := strings.TrimSpace(e.cli("run", "sleeper").stdout)
	pidFile := filepath.Join(e.jobs, "sleeper", "pid")
	eventually(e.t, "the sleeper is running", func() bool {
		_, err := os.Stat(pidFile)
		return err == nil && e.get(id).Status == "running"
	})
	return id, readPid(e.t, pidFile)
}

func readPid(t *testing.T, path string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var pid int
	fmt.Sscan(string(b), &pid)
	return pid
}

func filter(rs []runJSON, keep func(runJSON) bool) []runJSON {
	var out []runJSON
	for _, r := range rs {
		if keep(r) {
			out = append(out, r)
		}
	}
	return out
}
