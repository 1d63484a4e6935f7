package engine

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/longshore/longshore/internal/dispatch"
	"github.com/longshore/longshore/internal/dispatch/runnertest"
	"github.com/longshore/longshore/internal/job"
	"github.com/longshore/longshore/internal/local/process"
	"github.com/longshore/longshore/internal/local/task"
)

func spec(image job.Image, command ...string) *job.Spec {
	return &job.Spec{Name: "report", Dir: "report", Path: "jobs/report/job.yaml", Image: image, Local: job.Local{Command: command}}
}

func TestChoose(t *testing.T) {
	built := job.Image{Build: "."}
	here := job.Image{URI: "registry.example.com/here:1"}
	away := job.Image{URI: "registry.example.com/away:1"}
	engine := machine{engine: true, hasImage: func(ref string) (bool, error) { return ref == here.URI, nil }}
	noEngine := machine{engineErr: errors.New("no container engine answers (tried unix:///var/run/docker.sock)")}
	tests := []struct {
		name  string
		spec  *job.Spec
		mode  string
		m     machine
		kind  string
		words []string
	}{
		{"a job with a build folder runs in a container when an engine answers", spec(built, "./report"), RunnerAuto, engine,
			kindContainer, []string{"container: image built from jobs/report"}},
		{"a job whose image is here runs in a container", spec(here, "./report"), RunnerAuto, engine,
			kindContainer, []string{"container: registry.example.com/here:1"}},
		{"a job whose image is not here runs as a process when it can", spec(away, "./report"), RunnerAuto, engine,
			kindProcess, []string{"process: ./report", "its image is not on this machine; --runner container would pull it"}},
		{"a job whose image is not here and that has no command is pulled", spec(away), RunnerAuto, engine,
			kindContainer, []string{"container: registry.example.com/away:1", "pulled when a run starts"}},
		{"without an engine a job runs as a process", spec(built, "./report"), RunnerAuto, noEngine,
			kindProcess, []string{"process: ./report"}},
		{"without an engine a job with only an image cannot run, and says why", spec(built), RunnerAuto, noEngine,
			"", []string{"none: it has an image but no container engine answers (tried unix:///var/run/docker.sock)", "add local.command to jobs/report/job.yaml"}},
		{"a job with neither an image nor a command cannot run anywhere", spec(job.Image{}), RunnerAuto, engine,
			"", []string{"none: it has neither an image nor a local.command", "jobs/report/job.yaml"}},
		{"--runner process runs a job with a command as a process", spec(built, "./report"), RunnerProcess, engine,
			kindProcess, []string{"process: ./report"}},
		{"--runner process refuses a job without a command", spec(built), RunnerProcess, engine,
			"", []string{"none: it has no local.command, and --runner process runs every job as a process"}},
		{"--runner container runs a job with a command in a container", spec(built, "./report"), RunnerContainer, engine,
			kindContainer, []string{"container: image built from jobs/report"}},
		{"--runner container pulls an image that is not here", spec(away, "./report"), RunnerContainer, engine,
			kindContainer, []string{"pulled when a run starts"}},
		{"--runner container refuses a job without an image", spec(job.Image{}, "./report"), RunnerContainer, engine,
			"", []string{"none: it has no image, and --runner container runs every job in a container"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := choose(tt.spec, tt.mode, tt.m)
			if c.kind != tt.kind {
				t.Errorf("kind = %q, want %q (%s)", c.kind, tt.kind, c.words)
			}
			for _, w := range tt.words {
				if !strings.Contains(c.words, w) {
					t.Errorf("words %q do not say %q", c.words, w)
				}
			}
			if c.kind == "" && !strings.HasPrefix(c.refusal, "job report cannot run here: ") {
				t.Errorf("refusal %q does not name the job", c.refusal)
			}
		})
	}
}

func TestRunnersRouteByJobAndByRef(t *testing.T) {
	jobs, data := t.TempDir(), t.TempDir()
	runnertest.WriteJob(t, jobs)
	rec := runnertest.NewRecorder()
	procs, err := process.New(process.Options{Config: task.Config{JobsDir: jobs, DataDir: data, Observe: rec.Observe}})
	if err != nil {
		t.Fatal(err)
	}
	m := &runners{process: procs, choices: map[string]choice{
		"testjob": {kind: kindProcess},
		"boxed":   {kind: kindContainer},
		"nowhere": {refusal: "job nowhere cannot run here: it has neither an image nor a local.command"},
	}}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := m.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	ctx := context.Background()

	tk := runnertest.Task(1, runnertest.Job(map[string]string{"RUNNERTEST_EXIT": "5"}))
	ref, err := m.Start(ctx, tk)
	if err != nil || !strings.HasPrefix(ref, "proc:") {
		t.Fatalf("Start of a process job = %q, %v", ref, err)
	}
	rec.Ended(t, tk.Run.ID)
	if ts, err := m.Describe(ctx, ref); err != nil || runnertest.ExitCode(ts) == nil || *runnertest.ExitCode(ts) != 5 {
		t.Errorf("Describe(%s) = %+v, %v; want its exit code 5", ref, ts, err)
	}

	for _, name := range []string{"boxed", "nowhere"} {
		s := runnertest.Job(nil)
		s.Name = name
		_, err := m.Start(ctx, runnertest.Task(2, s))
		var se *dispatch.StartError
		if !errors.As(err, &se) || se.Transient || !strings.Contains(err.Error(), "job "+name) {
			t.Errorf("Start of %s = %v; want a non-transient StartError naming it", name, err)
		}
	}
	containerRef := "ctr:" + strings.Repeat("a", 64) + ":" + runnertest.RunID(3)
	if _, err := m.Describe(ctx, containerRef); !errors.Is(err, dispatch.ErrTaskNotFound) {
		t.Errorf("Describe of a container without an engine = %v, want ErrTaskNotFound", err)
	}
	if err := m.Stop(ctx, containerRef, "why"); err != nil {
		t.Errorf("Stop of a container without an engine = %v, want nil", err)
	}
}

func TestCheckRunner(t *testing.T) {
	tests := []struct {
		name    string
		runner  string
		network string
		want    string
	}{
		{"auto with the host's network", RunnerAuto, "host", ""},
		{"containers without a network", RunnerContainer, "none", ""},
		{"an unknown runner", "docker", "host", `--runner "docker": use auto, process or container`},
		{"an unknown network", RunnerAuto, "bridge", `--network "bridge": use host or none`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ""
			if err := checkRunner(Config{Runner: tt.runner, Network: tt.network}); err != nil {
				got = err.Error()
			}
			if got != tt.want {
				t.Errorf("checkRunner = %q, want %q", got, tt.want)
			}
		})
	}
}
