package container

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"github.com/longshore/longshore/internal/dispatch"
	"github.com/longshore/longshore/internal/dispatch/runnertest"
	"github.com/longshore/longshore/internal/job"
	"github.com/longshore/longshore/internal/local/container/enginetest"
	"github.com/longshore/longshore/internal/local/task"
	"github.com/longshore/longshore/internal/run"
)

// fixture is a jobs folder with the test program's job, a data folder and
// the observations of the runners made over them.
type fixture struct {
	t          *testing.T
	jobs, data string
	rec        *runnertest.Recorder
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{t: t, jobs: t.TempDir(), data: t.TempDir(), rec: runnertest.NewRecorder()}
	runnertest.WriteJob(t, f.jobs)
	return f
}

// runner returns a Runner over the fixture, shut down at the end of the test.
func (f *fixture) runner(change ...func(*Options)) *Runner {
	f.t.Helper()
	o := Options{Engine: engine(f.t), Config: task.Config{JobsDir: f.jobs, DataDir: f.data, Grace: runnertest.Grace, Observe: f.rec.Observe}}
	for _, c := range change {
		c(&o)
	}
	r, err := New(o)
	if err != nil {
		f.t.Fatal(err)
	}
	runnertest.ShutdownAtEnd(f.t, r.Shutdown)
	return r
}

func (f *fixture) start(r *Runner, tk dispatch.Task) string {
	f.t.Helper()
	ref, err := r.Start(context.Background(), tk)
	if err != nil {
		f.t.Fatalf("start run %s: %v", tk.Run.ID, err)
	}
	return ref
}

func (f *fixture) log(runID, name string) string {
	f.t.Helper()
	return runnertest.ReadLog(f.t, f.data, runID, name)
}

// noContainerLeft fails the test if a container of the fixture's runners remains.
func (f *fixture) noContainerLeft() {
	f.t.Helper()
	left, err := containersOf(context.Background(), engine(f.t), f.data)
	if err != nil || len(left) > 0 {
		f.t.Errorf("containers left: %q, %v", left, err)
	}
}

// containerOf reads the container id out of a task ref.
func containerOf(t *testing.T, ref string) string {
	t.Helper()
	id, ok := parseRef(ref)
	if !ok {
		t.Fatalf("ref %q does not parse", ref)
	}
	return id.containerID
}

func TestLimitsAreSeenFromInsideTheContainer(t *testing.T) {
	tests := []struct {
		name        string
		cpu, memory int
		want        string
	}{
		{"a quarter of a CPU and 512 MiB", 256, 512, "cpu-quota=25000/100000\nmemory-limit=536870912\n"},
		{"one CPU and 2 GiB", 1024, 2048, "cpu-quota=100000/100000\nmemory-limit=2147483648\n"},
		{"more CPUs than the machine has: all of them", 16384, 32768,
			fmt.Sprintf("cpu-quota=%d/100000\nmemory-limit=34359738368\n", runtime.NumCPU()*100000)},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			r := f.runner()
			spec := runnertest.Job(map[string]string{"RUNNERTEST_CGROUP": "1"})
			spec.CPU, spec.Memory = tt.cpu, tt.memory
			tk := runnertest.Task(i+1, spec)
			f.start(r, tk)
			f.rec.Ended(t, tk.Run.ID)
			if got := f.log(tk.Run.ID, task.StdoutFile); got != tt.want {
				t.Errorf("the container sees %q, want %q", got, tt.want)
			}
		})
	}
}

func TestAContainerPastItsMemoryLimitIsReportedOutOfMemory(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	r := f.runner()
	spec := runnertest.Job(map[string]string{"RUNNERTEST_ALLOCATE_MIB": "700"})
	spec.Memory = 512
	tk := runnertest.Task(1, spec)
	f.start(r, tk)
	ts := f.rec.Ended(t, tk.Run.ID)
	if code := runnertest.ExitCode(ts); code == nil || *code != run.OOMExitCode {
		t.Fatalf("exit code = %s, want 137", runnertest.ShowCode(code))
	}
	o := run.Classify(ts, run.StopNone)
	if o.Status != run.StatusFailed || o.Cause != run.CauseExit || !strings.HasPrefix(o.Reason, "out of memory: ") || !strings.Contains(o.Reason, "512 MiB") {
		t.Errorf("classified as %+v; want failed, out of memory, naming the limit", o)
	}
	if strings.Contains(f.log(tk.Run.ID, task.StdoutFile), "allocated") {
		t.Error("the program allocated past its limit")
	}
}

func TestAStopLongshoreAsksForIsNotTakenForOutOfMemory(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	r := f.runner()
	tk := runnertest.Task(1, runnertest.Job(map[string]string{"RUNNERTEST_WAIT": "1", "RUNNERTEST_IGNORE_TERM": "1"}))
	ref := f.start(r, tk)
	runnertest.WaitForLog(t, f.data, tk.Run.ID, task.StdoutFile, "ready\n")
	if err := r.Stop(context.Background(), ref, "stopped after the job's timeout"); err != nil {
		t.Fatal(err)
	}
	ts := f.rec.Ended(t, tk.Run.ID)
	if code := runnertest.ExitCode(ts); code == nil || *code != 137 {
		t.Fatalf("exit code = %s, want 137 (killed after the grace period)", runnertest.ShowCode(code))
	}
	if o := run.Classify(ts, run.StopTimeout); o.Status != run.StatusTimedOut {
		t.Errorf("classified as %+v, want timed_out", o)
	}
	if ts.Containers[0].Reason != "" {
		t.Errorf("container reason = %q, want none", ts.Containers[0].Reason)
	}
}

func TestTheCommand(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		job      []string
		override []string
		want     string
	}{
		{"without one the image's own runs", nil, nil, "args:\n"},
		{"the job's replaces the image's CMD and keeps its ENTRYPOINT", []string{"from-job"}, nil, "args:[from-job]\n"},
		{"the run's override replaces the job's", []string{"from-job"}, []string{"from", "run"}, "args:[from][run]\n"},
	}
	f := newFixture(t)
	r := f.runner()
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := runnertest.Job(map[string]string{"RUNNERTEST_ARGS": "1"})
			spec.Command = tt.job
			tk := runnertest.Task(i+1, spec)
			tk.Command = tt.override
			f.start(r, tk)
			f.rec.Ended(t, tk.Run.ID)
			if got := f.log(tk.Run.ID, task.StdoutFile); got != tt.want {
				t.Errorf("stdout.log = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestTheNetworkIsNoneOrTheHosts(t *testing.T) {
	tests := []struct {
		network string
		host    bool
	}{
		{NetworkNone, false},
		{NetworkHost, true},
	}
	for i, tt := range tests {
		t.Run("network "+tt.network, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			r := f.runner(func(o *Options) { o.Network = tt.network })
			tk := runnertest.Task(i+1, runnertest.Job(map[string]string{"RUNNERTEST_NET": "1"}))
			f.start(r, tk)
			f.rec.Ended(t, tk.Run.ID)
			got := strings.TrimSpace(f.log(tk.Run.ID, task.StdoutFile))
			if onlyLoopback := got == "interfaces=lo"; onlyLoopback == tt.host {
				t.Errorf("with network %s the container sees %s", tt.network, got)
			}
		})
	}
}

// countingAPI counts the builds and pulls asked of the engine.
type countingAPI struct {
	api
	builds, pulls atomic.Int32
}

func (c *countingAPI) ImageBuild(ctx context.Context, r io.Reader, o client.ImageBuildOptions) (client.ImageBuildResult, error) {
	c.builds.Add(1)
	return c.api.ImageBuild(ctx, r, o)
}

func (c *countingAPI) ImagePull(ctx context.Context, ref string, o client.ImagePullOptions) (client.ImagePullResponse, error) {
	c.pulls.Add(1)
	return c.api.ImagePull(ctx, ref, o)
}

func TestImagesAreBuiltOncePerContent(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	// A folder of its own, so that no other test has built its image yet.
	if err := os.WriteFile(filepath.Join(f.jobs, runnertest.ProgramName, "marker"), []byte(f.data), 0o644); err != nil {
		t.Fatal(err)
	}
	r := f.runner()
	counter := &countingAPI{api: r.b.api}
	r.b.api = counter
	spec := runnertest.Job(nil)
	spec.Name = "buildcount" // its images are its own, and removed at the end
	for n := 1; n <= 3; n++ {
		tk := runnertest.Task(n, spec)
		f.start(r, tk)
		f.rec.Ended(t, tk.Run.ID)
	}
	if n := counter.builds.Load(); n != 1 {
		t.Errorf("%d builds for three runs of one folder, want 1", n)
	}
	// A changed folder is a new image.
	if err := os.WriteFile(filepath.Join(f.jobs, runnertest.ProgramName, "marker"), []byte("changed "+f.data), 0o644); err != nil {
		t.Fatal(err)
	}
	tk := runnertest.Task(4, spec)
	f.start(r, tk)
	f.rec.Ended(t, tk.Run.ID)
	if n := counter.builds.Load(); n != 2 {
		t.Errorf("%d builds after the folder changed, want 2", n)
	}
	t.Cleanup(func() { removeImagesOf(t, spec) })
}

// removeImagesOf removes the images built for spec's job.
func removeImagesOf(t *testing.T, spec *job.Spec) {
	e := engine(t)
	res, err := e.c.ImageList(context.Background(), client.ImageListOptions{
		Filters: make(client.Filters).Add("label", labelJob+"="+spec.Name),
	})
	if err != nil {
		return
	}
	for _, img := range res.Items {
		for _, tag := range img.RepoTags {
			_, _ = e.c.ImageRemove(context.Background(), tag, client.ImageRemoveOptions{})
		}
	}
}

func TestAnImageThatCannotBeHadIsARunThatNeverStarted(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	broken := filepath.Join(f.jobs, "broken")
	if err := os.MkdirAll(broken, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(broken, "Containerfile"), []byte("FROM scratch\nCOPY missing-binary /missing-binary\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		image job.Image
		dir   string
		want  []string
		words string // what run.ClassifyStartFailure makes of it
	}{
		{"a build that fails quotes the end of its log", job.Image{Build: "."}, "broken",
			[]string{"job broken: the image build from " + broken + " failed", "missing-binary", "last lines of the build log:\nSTEP 1/"},
			"never started: job broken: the image build"},
		{"an image that is not here and cannot be pulled", job.Image{URI: "registry.invalid/longshore/absent:1"}, "broken",
			[]string{"CannotPullContainerError", "registry.invalid/longshore/absent:1 is not on this machine and could not be pulled"},
			"never started: image could not be pulled: job broken"},
		{"a build folder without a Containerfile", job.Image{Build: "nowhere"}, "broken",
			[]string{"has no Containerfile or Dockerfile"}, "never started: job broken"},
	}
	r := f.runner()
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := &job.Spec{Name: "broken", Dir: tt.dir, Image: tt.image, CPU: 256, Memory: 512}
			tk := runnertest.Task(i+1, spec)
			ref, err := r.Start(context.Background(), tk)
			var se *dispatch.StartError
			if !errors.As(err, &se) || se.Transient {
				t.Fatalf("Start = %q, %v; want a non-transient StartError", ref, err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not say %q:\n%s", w, err)
				}
			}
			if o := run.ClassifyStartFailure(err.Error()); o.Cause != run.CauseStart || !strings.HasPrefix(o.Reason, tt.words) {
				t.Errorf("classified as %q, want it to start %q", o.Reason, tt.words)
			}
			f.rec.None(t, tk.Run.ID)
		})
	}
	f.noContainerLeft()
}

func TestAnImageURIPresentHereIsUsedWithoutAPull(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	r := f.runner()
	counter := &countingAPI{api: r.b.api}
	r.b.api = counter
	built := runnertest.Task(1, runnertest.Job(nil))
	f.start(r, built)
	f.rec.Ended(t, built.Run.ID)
	tag, err := r.b.image(context.Background(), built.Job)
	if err != nil {
		t.Fatal(err)
	}
	spec := runnertest.Job(map[string]string{"RUNNERTEST_EXIT": "4"})
	spec.Image = job.Image{URI: tag}
	tk := runnertest.Task(2, spec)
	f.start(r, tk)
	if code := runnertest.ExitCode(f.rec.Ended(t, tk.Run.ID)); code == nil || *code != 4 {
		t.Errorf("exit code = %s, want 4", runnertest.ShowCode(code))
	}
	if n := counter.pulls.Load(); n != 0 {
		t.Errorf("%d pulls of an image that is here", n)
	}
}

// Environment of the engine that TestMain plays in a child process.
const (
	childVar     = "LONGSHORE_CONTAINER_TEST_ENGINE"
	childHostVar = "LONGSHORE_CONTAINER_TEST_HOST"
	childJobsVar = "LONGSHORE_CONTAINER_TEST_JOBS"
	childDataVar = "LONGSHORE_CONTAINER_TEST_DATA"
	childStopVar = "LONGSHORE_CONTAINER_TEST_STOP"
)

// childStopReason is the reason of the stop the child engine asks for.
const childStopReason = "stopped on request by alice"

// childEngine starts one waiting task (it exits 7 on SIGUSR1), prints its
// ref once it is ready, and waits to be killed. With childStopVar set, the
// task ignores SIGTERM and the engine asks for its stop before it prints
// the ref (its grace period is long: the stop is under way when it dies).
func childEngine() int {
	fail := func(err error) int { fmt.Fprintln(os.Stderr, err); return 1 }
	e, err := Connect(context.Background(), os.Getenv(childHostVar))
	if err != nil {
		return fail(err)
	}
	r, err := New(Options{Engine: e, Config: task.Config{JobsDir: os.Getenv(childJobsVar), DataDir: os.Getenv(childDataVar)}})
	if err != nil {
		return fail(err)
	}
	env := map[string]string{"RUNNERTEST_WAIT": "1", "RUNNERTEST_EXIT": "7"}
	stop := os.Getenv(childStopVar) != ""
	if stop {
		env["RUNNERTEST_IGNORE_TERM"] = "1"
	}
	tk := runnertest.Task(1, runnertest.Job(env))
	ref, err := r.Start(context.Background(), tk)
	if err != nil {
		return fail(err)
	}
	for deadline := time.Now().Add(runnertest.Patience); ; time.Sleep(10 * time.Millisecond) {
		b, _ := os.ReadFile(filepath.Join(r.RunDir(tk.Run.ID), task.StdoutFile))
		if string(b) == "ready\n" {
			break
		}
		if time.Now().After(deadline) {
			return fail(errors.New("the task never said it was ready"))
		}
	}
	if stop {
		if err := r.Stop(context.Background(), ref, childStopReason); err != nil {
			return fail(err)
		}
	}
	fmt.Println(ref)
	_, _ = bufio.NewReader(os.Stdin).ReadByte() // until killed
	return 0
}

// crashedEngine runs an engine in a child process that starts a waiting
// task, and kills it (kill -9) once the task is ready. It returns the
// task's ref; the container lives on.
func crashedEngine(t *testing.T, f *fixture, stopping bool) string {
	t.Helper()
	env := []string{childVar + "=1", childHostVar + "=" + enginetest.Host(t), childJobsVar + "=" + f.jobs, childDataVar + "=" + f.data}
	if stopping {
		env = append(env, childStopVar+"=1")
	}
	ref, crash := runnertest.StartEngine(t, env...)
	crash()
	t.Cleanup(func() { removeContainer(t, containerOf(t, ref)) })
	return ref
}

// removeContainer removes a container behind the runners' backs.
func removeContainer(t *testing.T, containerID string) {
	_, _ = engine(t).c.ContainerRemove(context.Background(), containerID, client.ContainerRemoveOptions{Force: true})
}

// signalAndWait sends SIGUSR1 to a container (the test program exits 7)
// and waits for it to exit, as if no engine watched.
func signalAndWait(t *testing.T, containerID string) {
	t.Helper()
	c := engine(t).c
	ctx, cancel := context.WithTimeout(context.Background(), runnertest.Patience)
	defer cancel()
	if _, err := c.ContainerKill(ctx, containerID, client.ContainerKillOptions{Signal: "SIGUSR1"}); err != nil {
		t.Fatal(err)
	}
	w := c.ContainerWait(ctx, containerID, client.ContainerWaitOptions{Condition: container.WaitConditionNotRunning})
	select {
	case <-w.Result:
	case err := <-w.Error:
		t.Fatal(err)
	}
}

func TestAfterAnEngineCrashTheNextOneFindsItsContainers(t *testing.T) {
	tests := []struct {
		name string
		// stopping: the engine had asked for the task's stop when it died.
		stopping bool
		// meanwhile happens while no engine runs.
		meanwhile func(t *testing.T, containerID string)
		// recover is how the next engine comes across the task.
		recover  func(t *testing.T, fx *fixture, r *Runner, ref string) run.TaskState
		wantCode *int
		wantStop string
		wantWhy  string
		wantLog  string
		// logPrefix: the log starts with wantLog (signals may come twice).
		logPrefix bool
	}{
		{
			name: "a container still running is followed to its end and its real exit code reported",
			recover: func(t *testing.T, fx *fixture, r *Runner, ref string) run.TaskState {
				if err := r.Recover(context.Background(), func(string) bool { return true }); err != nil {
					t.Fatal(err)
				}
				if ts, err := r.Describe(context.Background(), ref); err != nil || ts.Phase != run.PhaseRunning {
					t.Fatalf("Describe after Recover = %+v, %v; want running", ts, err)
				}
				signalAndWait(t, containerOf(t, ref))
				return fx.rec.Next(t, runnertest.RunID(1))
			},
			wantCode: ptr(7), wantStop: run.StopCodeEssentialExited, wantLog: "ready\ngot SIGUSR1\n",
		},
		{
			name:      "a container that ended meanwhile is reported with its exit code",
			meanwhile: signalAndWait,
			recover: func(t *testing.T, fx *fixture, r *Runner, ref string) run.TaskState {
				ts, err := r.Describe(context.Background(), ref)
				if err != nil {
					t.Fatal(err)
				}
				return ts
			},
			wantCode: ptr(7), wantStop: run.StopCodeEssentialExited, wantLog: "ready\ngot SIGUSR1\n",
		},
		{
			name: "a container whose run has finished is stopped",
			recover: func(t *testing.T, fx *fixture, r *Runner, ref string) run.TaskState {
				if err := r.Recover(context.Background(), func(string) bool { return false }); err != nil {
					t.Fatal(err)
				}
				return fx.rec.Next(t, runnertest.RunID(1))
			},
			wantCode: ptr(143), wantStop: run.StopCodeUserInitiated, wantLog: "ready\nterminated\n",
			wantWhy: "its run had already ended when the engine started again",
		},
		{
			name:     "a stop under way is finished, with the reason it was asked for",
			stopping: true,
			recover: func(t *testing.T, fx *fixture, r *Runner, ref string) run.TaskState {
				if err := r.Recover(context.Background(), func(string) bool { return true }); err != nil {
					t.Fatal(err)
				}
				return fx.rec.Next(t, runnertest.RunID(1))
			},
			wantCode: ptr(137), wantStop: run.StopCodeUserInitiated, wantWhy: childStopReason,
			wantLog: "ready\nignoring SIGTERM\n", logPrefix: true,
		},
		{
			name:      "a container removed meanwhile is reported lost with the engine",
			meanwhile: removeContainer,
			recover: func(t *testing.T, fx *fixture, r *Runner, ref string) run.TaskState {
				ts, err := r.Describe(context.Background(), ref)
				if err != nil {
					t.Fatal(err)
				}
				return ts
			},
			wantStop: run.StopCodeHostRestarted, wantLog: "ready\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fx := newFixture(t)
			ref := crashedEngine(t, fx, tt.stopping)
			if tt.meanwhile != nil {
				tt.meanwhile(t, containerOf(t, ref))
			}
			r := fx.runner()
			ts := tt.recover(t, fx, r, ref)
			if ts.Phase != run.PhaseStopped || ts.TaskRef != ref || ts.StopCode != tt.wantStop {
				t.Errorf("end = %s %s %q of %s, want stopped %s of %s", ts.Phase, ts.StopCode, ts.StoppedReason, ts.TaskRef, tt.wantStop, ref)
			}
			if tt.wantWhy != "" && ts.StoppedReason != tt.wantWhy {
				t.Errorf("stopped reason = %q, want %q", ts.StoppedReason, tt.wantWhy)
			}
			if got := runnertest.ExitCode(ts); runnertest.ShowCode(got) != runnertest.ShowCode(tt.wantCode) {
				t.Errorf("exit code = %s, want %s", runnertest.ShowCode(got), runnertest.ShowCode(tt.wantCode))
			}
			if got := fx.log(ts.RunID, task.StdoutFile); got != tt.wantLog && !(tt.logPrefix && strings.HasPrefix(got, tt.wantLog)) {
				t.Errorf("stdout.log = %q, want %q: the log was not resumed where the first engine left it", got, tt.wantLog)
			}
			// Recorded: the next look says the same, and nothing is left.
			if again, err := r.Describe(context.Background(), ref); err != nil || again.StopCode != tt.wantStop {
				t.Errorf("second Describe = %+v, %v", again, err)
			}
			fx.noContainerLeft()
		})
	}
}

func TestDescribeOfARefNeverStartedIsNotFound(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	r := f.runner()
	ref := f.start(r, runnertest.Task(1, runnertest.Job(nil)))
	f.rec.Ended(t, runnertest.RunID(1))
	other := formatRef(strings.Repeat("a", 64), runnertest.RunID(1))
	runnertest.DescribeNotFound(t, r, []runnertest.NamedRef{
		{Name: "a ref of a run never started", Ref: formatRef(containerOf(t, ref), runnertest.RunID(2))},
		{Name: "another container of a known run", Ref: other},
		{Name: "a ref with a short container id", Ref: "ctr:abc:" + runnertest.RunID(1)},
		{Name: "a ref with a bad run id", Ref: "ctr:" + containerOf(t, ref) + ":r-../../etc"},
		{Name: "a process runner's ref", Ref: "proc:100:1:" + runnertest.RunID(1)},
	})
}

func TestNewRefuses(t *testing.T) {
	e := engine(t)
	for _, o := range []Options{
		{Config: task.Config{JobsDir: "/jobs", DataDir: t.TempDir()}},
		{Engine: e, Config: task.Config{DataDir: t.TempDir()}},
		{Engine: e, Config: task.Config{JobsDir: "/jobs", DataDir: t.TempDir()}, Network: "bridge"},
	} {
		if _, err := New(o); err == nil {
			t.Errorf("New(%+v) succeeded", o)
		}
	}
}

func TestHosts(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want []string
	}{
		{"DOCKER_HOST alone when it is set", map[string]string{"DOCKER_HOST": "tcp://10.0.0.1:2375", "XDG_RUNTIME_DIR": "/run/user/1000"},
			[]string{"tcp://10.0.0.1:2375"}},
		{"Docker's socket, then Podman's for the user and for root", map[string]string{"XDG_RUNTIME_DIR": "/run/user/1000"},
			[]string{"unix:///var/run/docker.sock", "unix:///run/user/1000/podman/podman.sock", "unix:///run/podman/podman.sock"}},
		{"without a runtime folder, no user socket", nil, []string{"unix:///var/run/docker.sock", "unix:///run/podman/podman.sock"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Hosts(func(n string) string { return tt.env[n] })
			if strings.Join(got, " ") != strings.Join(tt.want, " ") {
				t.Errorf("Hosts = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestFindNamesWhatItTried(t *testing.T) {
	dir := t.TempDir()
	_, err := Find(context.Background(), func(n string) string {
		if n == "DOCKER_HOST" {
			return "unix://" + filepath.Join(dir, "nothing.sock")
		}
		return ""
	})
	if !errors.Is(err, ErrNoEngine) || !strings.Contains(err.Error(), filepath.Join(dir, "nothing.sock")) {
		t.Errorf("Find = %v; want ErrNoEngine naming the socket", err)
	}
}

func ptr[T any](v T) *T { return &v }
