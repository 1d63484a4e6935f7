// Package runnertest is the contract every local dispatch.TaskRunner passes:
// the process runner and the container runner run the same suite, so that a
// job behaves the same whichever runs it.
//
// The suite runs one program, testjob (see its doc), that behaves as its
// environment says: exit with a code, print its environment or arguments,
// wait for a signal, ignore SIGTERM. Program builds it once, static, and
// WriteJob puts it in a job folder with a Containerfile, so one job spec
// (Job) serves every runner: its local.command runs the program as a
// process, its image.build puts it in a FROM scratch image as the
// entrypoint.
//
// What the suite holds a runner to:
//   - A task's exit code is reported as the program's, in a stopped
//     observation with run.StopCodeEssentialExited, after a running one.
//   - The task's environment is the task's variables (LONGSHORE_* and the
//     job's) and the job's secrets resolved; no file the runner writes under
//     its data folder holds a secret's value.
//   - A command override reaches the program as its arguments.
//   - Output goes to DataDir/runs/<run id>/stdout.log and stderr.log while
//     the task runs, capped with one truncation line.
//   - Start is idempotent per run id, in one runner and across runners over
//     the same data folder.
//   - Stop ends the task with run.StopCodeUserInitiated and the reason given
//     (SIGTERM; SIGKILL after the grace period); a second Stop, a Stop of a
//     stopped task or of an unknown ref does nothing.
//   - Describe says running, then stopped with the exit code; ErrTaskNotFound
//     for refs it never made.
//   - A task that cannot start is a *dispatch.StartError, reported by no
//     observation.
//   - Shutdown stops every task, reports them with run.StopCodeHostRestarted
//     and leaves nothing behind; later Starts fail with a transient StartError.
package runnertest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/longshore/longshore/internal/dispatch"
	"github.com/longshore/longshore/internal/job"
	"github.com/longshore/longshore/internal/run"
)

// Patience bounds every wait of the suite: it is reached only when
// something is broken, never in a passing run.
const Patience = 60 * time.Second

// Grace is the grace period the suite asks runners for.
const Grace = 500 * time.Millisecond

// Secrets resolves a job's secret references (as task.Secrets).
type Secrets interface {
	Resolve(envName, ref string) (string, error)
}

// Config is what the suite asks a factory to build a runner over.
type Config struct {
	// JobsDir holds the suite's job folder (see WriteJob).
	JobsDir string
	// DataDir is the runner's data folder; a second runner may be asked
	// for over the same one.
	DataDir string
	Grace   time.Duration
	// MaxLogBytes caps each output stream (0: the runner's default).
	MaxLogBytes int64
	Secrets     Secrets
	Observe     func(ctx context.Context, ts run.TaskState)
	// Marker ("NAME=value") is in the environment of every task the suite
	// starts in this test: Leftovers may look for it.
	Marker string
}

// Subject is a runner under test.
type Subject struct {
	Runner dispatch.TaskRunner
	// Shutdown stops every task of the runner and waits for their reports.
	Shutdown func(ctx context.Context) error
	// Leftovers describes what of the tasks started with this Config's
	// Marker is still on the machine (processes, containers): nothing
	// once Shutdown has returned.
	Leftovers func(ctx context.Context) ([]string, error)
}

// Factory makes a runner for one test. It shuts the runner down when the
// test ends (t.Cleanup); the suite may shut it down earlier itself.
type Factory func(t *testing.T, c Config) Subject

// Suite's secret.
const (
	secretRef   = "ssm:/runnertest/db-password"
	secretValue = "s3cr3t-Value-4c1e"
)

type mapSecrets map[string]string

func (m mapSecrets) Resolve(envName, ref string) (string, error) {
	if v, ok := m[ref]; ok {
		return v, nil
	}
	return "", fmt.Errorf("no value for %s (%s)", envName, ref)
}

// Run runs the contract against the runners newRunner makes. Its tests run
// in parallel with one another.
func Run(t *testing.T, newRunner Factory) {
	jobs := t.TempDir()
	WriteJob(t, jobs)

	t.Run("a task's exit code is the program's", func(t *testing.T) {
		tests := []struct {
			name string
			code int
		}{
			{"a program that exits 0 reports 0", 0},
			{"a program that exits 3 reports 3", 3},
			{"a program that exits 255 reports 255", 255},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				h := newHarness(t, jobs, newRunner)
				tk := h.task(1, map[string]string{"RUNNERTEST_EXIT": strconv.Itoa(tt.code)})
				ref := h.start(tk)
				ts := h.ended(tk.Run.ID)
				if ts.TaskRef != ref || ts.RunID != tk.Run.ID {
					t.Errorf("observed task %s of run %s, want %s of %s", ts.TaskRef, ts.RunID, ref, tk.Run.ID)
				}
				if got := ExitCode(ts); got == nil || *got != tt.code {
					t.Errorf("exit code = %s, want %d", ShowCode(got), tt.code)
				}
				if ts.StopCode != run.StopCodeEssentialExited || ts.StartedAt == nil || ts.StoppedAt == nil {
					t.Errorf("stopped observation = %+v, want %s with its times", ts, run.StopCodeEssentialExited)
				}
				want := run.StatusSucceeded
				if tt.code != 0 {
					want = run.StatusFailed
				}
				if o := run.Classify(ts, run.StopNone); o.Status != want || (tt.code != 0 && o.Cause != run.CauseExit) {
					t.Errorf("classified as %+v, want %s", o, want)
				}
				got, err := h.s.Runner.Describe(context.Background(), ref)
				if err != nil || got.Phase != run.PhaseStopped || ExitCode(got) == nil || *ExitCode(got) != tt.code {
					t.Errorf("Describe after the end = %+v, %v; want stopped with %d", got, err, tt.code)
				}
			})
		}
	})

	t.Run("observations come running then stopped, once each", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, jobs, newRunner)
		tk := h.task(1, nil)
		ref := h.start(tk)
		first := h.next(tk.Run.ID)
		if first.Phase != run.PhaseRunning || first.TaskRef != ref || first.RunID != tk.Run.ID || first.StartedAt == nil {
			t.Errorf("first observation = %+v, want running, with its ref, run and start time", first)
		}
		second := h.next(tk.Run.ID)
		if second.Phase != run.PhaseStopped || second.Version <= first.Version {
			t.Errorf("second observation = %s v%d after v%d, want stopped with a higher version", second.Phase, second.Version, first.Version)
		}
		h.none(tk.Run.ID)
	})

	t.Run("the task gets Longshore's variables, the job's and its secrets, and no log holds a secret", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, jobs, newRunner)
		tk := h.task(1, map[string]string{
			"RUNNERTEST_ENV": "1", "RUNNERTEST_HASH": "DB_PASSWORD", "RUNNERTEST_STDERR": "to stderr",
			"GREETING": "hello there",
		})
		tk.Job.Secrets = map[string]string{"DB_PASSWORD": secretRef}
		h.start(tk)
		if code := ExitCode(h.ended(tk.Run.ID)); code == nil || *code != 0 {
			t.Fatalf("exit code = %s, want 0", ShowCode(code))
		}
		sum := sha256.Sum256([]byte(secretValue))
		out := h.log(tk.Run.ID, "stdout.log")
		for _, want := range []string{
			"LONGSHORE_RUN_ID=" + tk.Run.ID, "LONGSHORE_JOB=" + ProgramName, "LONGSHORE_ATTEMPT=1", "LONGSHORE_TRIGGER=invoke",
			"GREETING=hello there", "DB_PASSWORD=sha256:" + hex.EncodeToString(sum[:]),
		} {
			if !strings.Contains(out, want+"\n") {
				t.Errorf("the task's environment lacks %s:\n%s", want, out)
			}
		}
		if got := h.log(tk.Run.ID, "stderr.log"); got != "to stderr\n" {
			t.Errorf("stderr.log = %q, want %q", got, "to stderr\n")
		}
		h.noSecretIn(h.cfg.DataDir)
	})

	t.Run("a command override reaches the program as its arguments", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, jobs, newRunner)
		tk := h.task(1, map[string]string{"RUNNERTEST_ARGS": "1"})
		tk.Command = []string{"a", "b c", "--flag=x"}
		h.start(tk)
		h.ended(tk.Run.ID)
		if got := h.log(tk.Run.ID, "stdout.log"); got != "args:[a][b c][--flag=x]\n" {
			t.Errorf("stdout.log = %q, want the three arguments", got)
		}
	})

	t.Run("output is written while the task runs, and capped with one line", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, jobs, newRunner, func(c *Config) { c.MaxLogBytes = 1000 })
		tk := h.task(1, map[string]string{"RUNNERTEST_OUTPUT": "5000", "RUNNERTEST_WAIT": "1"})
		ref := h.start(tk)
		h.waitForLog(tk.Run.ID, "truncated after 1000 bytes]\n")
		if ts, err := h.s.Runner.Describe(context.Background(), ref); err != nil || ts.Phase != run.PhaseRunning {
			t.Errorf("Describe while it waits = %+v, %v; want running", ts, err)
		}
		h.stop(ref, "enough")
		h.ended(tk.Run.ID)
		want := strings.Repeat("x", 1000) + "\n[longshore: output truncated after 1000 bytes]\n"
		for _, name := range []string{"stdout.log", "stderr.log"} {
			if got := h.log(tk.Run.ID, name); got != want {
				t.Errorf("%s: %d bytes ending %q; want the cap then one truncation line", name, len(got), got[max(0, len(got)-60):])
			}
		}
	})

	t.Run("a second Start of a run returns its first task and starts nothing", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, jobs, newRunner)
		tk := h.task(1, map[string]string{"RUNNERTEST_WAIT": "1"})
		first := h.start(tk)
		if second := h.start(tk); second != first {
			t.Errorf("second Start = %s, want %s", second, first)
		}
		h.waitForLog(tk.Run.ID, "ready\n")
		h.stop(first, "done")
		h.ended(tk.Run.ID)
		if third := h.start(tk); third != first {
			t.Errorf("Start after the end = %s, want %s", third, first)
		}
		again := newRunner(t, h.cfg) // a restarted engine over the same data folder
		fourth, err := again.Runner.Start(context.Background(), tk)
		if err != nil || fourth != first {
			t.Errorf("Start by a new runner = %s, %v; want %s", fourth, err, first)
		}
		h.none(tk.Run.ID)
		if got := h.log(tk.Run.ID, "stdout.log"); got != "ready\nterminated\n" {
			t.Errorf("stdout.log = %q: the task ran more than once, or its log was truncated", got)
		}
	})

	t.Run("Stop ends a task", func(t *testing.T) {
		tests := []struct {
			name   string
			ignore bool
			want   int
		}{
			{"a program that obeys SIGTERM stops with 143", false, 143},
			{"a program that ignores SIGTERM is killed after the grace period", true, 137},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				h := newHarness(t, jobs, newRunner)
				env := map[string]string{"RUNNERTEST_WAIT": "1"}
				if tt.ignore {
					env["RUNNERTEST_IGNORE_TERM"] = "1"
				}
				tk := h.task(1, env)
				ref := h.start(tk)
				h.waitForLog(tk.Run.ID, "ready\n")
				began := time.Now()
				h.stop(ref, "stopped on request by alice")
				h.stop(ref, "a second stop")
				ts := h.ended(tk.Run.ID)
				if ts.StopCode != run.StopCodeUserInitiated || ts.StoppedReason != "stopped on request by alice" {
					t.Errorf("stop = %s %q, want %s with the first reason", ts.StopCode, ts.StoppedReason, run.StopCodeUserInitiated)
				}
				if got := ExitCode(ts); got == nil || *got != tt.want {
					t.Errorf("exit code = %s, want %d", ShowCode(got), tt.want)
				}
				if tt.ignore && time.Since(began) < h.cfg.Grace {
					t.Errorf("killed after %v, before the grace period of %v", time.Since(began), h.cfg.Grace)
				}
				if o := run.Classify(ts, run.StopCancel); o.Status != run.StatusCancelled {
					t.Errorf("a stop Longshore asked for is classified %+v", o)
				}
				h.stop(ref, "after the end")
				h.none(tk.Run.ID)
			})
		}
	})

	t.Run("Stop of a ref the runner never made does nothing", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, jobs, newRunner)
		for _, ref := range []string{"", "garbage", "arn:aws:ecs:us-east-1:111122223333:task/longshore/abc"} {
			if err := h.s.Runner.Stop(context.Background(), ref, "why"); err != nil {
				t.Errorf("Stop(%q) = %v, want nil", ref, err)
			}
		}
	})

	t.Run("Describe tells running, stopped and unknown tasks apart", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, jobs, newRunner)
		tk := h.task(1, map[string]string{"RUNNERTEST_WAIT": "1"})
		ref := h.start(tk)
		h.waitForLog(tk.Run.ID, "ready\n")
		ts, err := h.s.Runner.Describe(context.Background(), ref)
		if err != nil || ts.Phase != run.PhaseRunning || ts.TaskRef != ref || ts.RunID != tk.Run.ID || ts.StartedAt == nil {
			t.Errorf("Describe of a running task = %+v, %v", ts, err)
		}
		h.stop(ref, "done")
		h.ended(tk.Run.ID)
		ts, err = h.s.Runner.Describe(context.Background(), ref)
		if err != nil || ts.Phase != run.PhaseStopped || ExitCode(ts) == nil || *ExitCode(ts) != 143 || ts.StopCode != run.StopCodeUserInitiated {
			t.Errorf("Describe of a stopped task = %+v, %v", ts, err)
		}
		for _, other := range []string{"", "garbage", "arn:aws:ecs:us-east-1:111122223333:task/longshore/abc", ref + "x", ref + ":1"} {
			if ts, err := h.s.Runner.Describe(context.Background(), other); !errors.Is(err, dispatch.ErrTaskNotFound) {
				t.Errorf("Describe(%q) = %+v, %v; want ErrTaskNotFound", other, ts, err)
			}
		}
	})

	t.Run("a task that cannot start is a StartError and is never observed", func(t *testing.T) {
		tests := []struct {
			name   string
			change func(*job.Spec)
			want   string
		}{
			{"a secret without a value", func(s *job.Spec) { s.Secrets = map[string]string{"API_TOKEN": "ssm:/runnertest/missing"} }, "API_TOKEN"},
			{"a job with neither an image nor a local command", func(s *job.Spec) { s.Image = job.Image{}; s.Local = job.Local{} }, ProgramName},
		}
		for i, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				h := newHarness(t, jobs, newRunner)
				tk := h.task(i+1, nil)
				tk.Job.Secrets = map[string]string{"DB_PASSWORD": secretRef}
				tt.change(tk.Job)
				ref, err := h.s.Runner.Start(context.Background(), tk)
				var se *dispatch.StartError
				if !errors.As(err, &se) || se.Transient {
					t.Fatalf("Start = %q, %v; want a non-transient *dispatch.StartError", ref, err)
				}
				if !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), secretValue) {
					t.Errorf("error %q does not name %s, or holds a secret's value", err, tt.want)
				}
				if o := run.ClassifyStartFailure(err.Error()); o.Cause != run.CauseStart {
					t.Errorf("classified as %+v", o)
				}
				h.none(tk.Run.ID)
			})
		}
	})

	t.Run("Shutdown stops every task and leaves nothing behind", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, jobs, newRunner)
		finished := h.task(9, nil)
		finishedRef := h.start(finished)
		h.ended(finished.Run.ID)
		var waiting []dispatch.Task
		for i, ignore := range []bool{false, true} {
			env := map[string]string{"RUNNERTEST_WAIT": "1"}
			if ignore {
				env["RUNNERTEST_IGNORE_TERM"] = "1"
			}
			tk := h.task(i+1, env)
			h.start(tk)
			waiting = append(waiting, tk)
		}
		for _, tk := range waiting {
			h.waitForLog(tk.Run.ID, "ready\n")
		}
		ctx, cancel := context.WithTimeout(context.Background(), Patience)
		defer cancel()
		// Leftovers sees what runs, or its empty answer below proves nothing.
		if left, err := h.s.Leftovers(ctx); err != nil || len(left) < len(waiting) {
			t.Fatalf("before Shutdown, Leftovers = %q, %v; want the %d waiting tasks", left, err, len(waiting))
		}
		if err := h.s.Shutdown(ctx); err != nil {
			t.Fatalf("Shutdown: %v", err)
		}
		for _, tk := range waiting {
			ts := h.ended(tk.Run.ID)
			if ts.StopCode != run.StopCodeHostRestarted {
				t.Errorf("run %s stopped with %s %q, want %s", tk.Run.ID, ts.StopCode, ts.StoppedReason, run.StopCodeHostRestarted)
			}
		}
		left, err := h.s.Leftovers(ctx)
		if err != nil || len(left) > 0 {
			t.Errorf("after Shutdown: %q, %v; want nothing left", left, err)
		}
		if ts, err := h.s.Runner.Describe(ctx, finishedRef); err != nil || ts.StopCode != run.StopCodeEssentialExited {
			t.Errorf("Describe after Shutdown = %+v, %v", ts, err)
		}
		_, err = h.s.Runner.Start(ctx, h.task(10, nil))
		var se *dispatch.StartError
		if !errors.As(err, &se) || !se.Transient {
			t.Errorf("Start after Shutdown = %v, want a transient StartError", err)
		}
		if err := h.s.Shutdown(ctx); err != nil {
			t.Errorf("second Shutdown: %v", err)
		}
	})
}
