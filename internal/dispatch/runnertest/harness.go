package runnertest

import (
	"context"
	"crypto/rand"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/longshore/longshore/internal/dispatch"
	"github.com/longshore/longshore/internal/job"
	"github.com/longshore/longshore/internal/run"
)

// harness is one test's runner, job folder and observations.
type harness struct {
	t   *testing.T
	cfg Config
	s   Subject
	rec *Recorder
}

func newHarness(t *testing.T, jobs string, newRunner Factory, change ...func(*Config)) *harness {
	t.Helper()
	rec := NewRecorder()
	cfg := Config{
		JobsDir: jobs, DataDir: t.TempDir(), Grace: Grace, Secrets: mapSecrets{secretRef: secretValue},
		Observe: rec.Observe, Marker: "RUNNERTEST_MARKER=" + rand.Text(),
	}
	for _, c := range change {
		c(&cfg)
	}
	return &harness{t: t, cfg: cfg, s: newRunner(t, cfg), rec: rec}
}

// Job returns the suite's job: the test program, as local.command and as
// the entrypoint of an image built from its folder, with env.
func Job(env map[string]string) *job.Spec {
	return &job.Spec{
		Name: ProgramName, Dir: ProgramName, Path: "jobs/" + ProgramName + "/job.yaml",
		Image: job.Image{Build: "."}, CPU: 256, Memory: 512,
		Environment: maps.Clone(env), Timeout: job.Duration(time.Hour),
		Local: job.Local{Command: []string{"./" + ProgramName}},
	}
}

// RunID returns a valid run id numbered n.
func RunID(n int) string { return fmt.Sprintf("r-%016d", n) }

// Task returns the task of run n of spec, with Longshore's environment.
func Task(n int, spec *job.Spec) dispatch.Task {
	r := run.Run{ID: RunID(n), Job: spec.Name, Attempt: 1, Trigger: run.Trigger{Kind: run.TriggerInvoke}}
	return dispatch.Task{Run: r, Job: spec, Env: dispatch.Environment(spec, r)}
}

// task is run n of the suite's job with env and the test's marker.
func (h *harness) task(n int, env map[string]string) dispatch.Task {
	spec := Job(env)
	name, value, _ := strings.Cut(h.cfg.Marker, "=")
	if spec.Environment == nil {
		spec.Environment = map[string]string{}
	}
	spec.Environment[name] = value
	return Task(n, spec)
}

func (h *harness) start(tk dispatch.Task) string {
	h.t.Helper()
	ref, err := h.s.Runner.Start(context.Background(), tk)
	if err != nil {
		h.t.Fatalf("start run %s: %v", tk.Run.ID, err)
	}
	return ref
}

func (h *harness) stop(ref, reason string) {
	h.t.Helper()
	if err := h.s.Runner.Stop(context.Background(), ref, reason); err != nil {
		h.t.Errorf("Stop(%s, %q): %v", ref, reason, err)
	}
}

func (h *harness) next(runID string) run.TaskState {
	h.t.Helper()
	return h.rec.Next(h.t, runID)
}

func (h *harness) none(runID string) {
	h.t.Helper()
	h.rec.None(h.t, runID)
}

func (h *harness) ended(runID string) run.TaskState {
	h.t.Helper()
	return h.rec.Ended(h.t, runID)
}

func (h *harness) log(runID, name string) string {
	h.t.Helper()
	return ReadLog(h.t, h.cfg.DataDir, runID, name)
}

func (h *harness) waitForLog(runID, want string) {
	h.t.Helper()
	WaitForLog(h.t, h.cfg.DataDir, runID, "stdout.log", want)
}

// noSecretIn checks that no file under dir holds the suite's secret value.
func (h *harness) noSecretIn(dir string) {
	h.t.Helper()
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err == nil && strings.Contains(string(b), secretValue) {
			h.t.Errorf("%s holds the secret's value", p)
		}
		return err
	})
	if err != nil {
		h.t.Fatal(err)
	}
}
