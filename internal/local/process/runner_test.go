package process

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/longshore/longshore/internal/dispatch"
	"github.com/longshore/longshore/internal/dispatch/runnertest"
	"github.com/longshore/longshore/internal/job"
	"github.com/longshore/longshore/internal/local/secret"
	"github.com/longshore/longshore/internal/local/task"
	"github.com/longshore/longshore/internal/run"

	"github.com/longshore/longshore/internal/local/jsonfile"
)

func TestExitCodes(t *testing.T) {
	tests := []struct {
		name   string
		script string
		want   int
		reason string
	}{
		{"a process that exits 0 reports 0", "exit 0", 0, "the process exited with code 0"},
		{"a process that exits 3 reports 3", "exit 3", 3, "the process exited with code 3"},
		{"a process killed by SIGKILL reports 137 as a shell would", "kill -KILL $$", 137, "the process was killed by SIGKILL"},
		{"a process killed by SIGTERM reports 143", "kill -TERM $$", 143, "the process was killed by SIGTERM"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			r := f.runner(t)
			ref := start(t, r, taskOf(i, shell(tt.script)))
			ts := ended(t, f.rec, runID(i))
			if ts.TaskRef != ref || ts.RunID != runID(i) {
				t.Errorf("observed task %s of run %s, want %s of %s", ts.TaskRef, ts.RunID, ref, runID(i))
			}
			if got := runnertest.ExitCode(ts); got == nil || *got != tt.want {
				t.Errorf("exit code = %s, want %d", runnertest.ShowCode(got), tt.want)
			}
			if ts.StopCode != run.StopCodeEssentialExited || ts.StoppedReason != tt.reason {
				t.Errorf("stop = %s %q, want %s %q", ts.StopCode, ts.StoppedReason, run.StopCodeEssentialExited, tt.reason)
			}
			if ts.StartedAt == nil || !ts.StartedAt.Equal(fixedNow) || ts.StoppedAt == nil || !ts.StoppedAt.Equal(fixedNow) {
				t.Errorf("times = %v, %v; want the runner's clock", ts.StartedAt, ts.StoppedAt)
			}
			// exit.json is written before the report.
			var end struct {
				Ref      string `json:"ref"`
				ExitCode *int   `json:"exitCode"`
				StopCode string `json:"stopCode"`
			}
			if err := jsonfile.Read(r.RunDir(runID(i)), task.ExitFile, &end); err != nil {
				t.Fatalf("exit.json: %v", err)
			}
			if end.Ref != ref || end.ExitCode == nil || *end.ExitCode != tt.want || end.StopCode != run.StopCodeEssentialExited {
				t.Errorf("exit.json = %+v, want exit code %d of %s", end, tt.want, ref)
			}
			got, err := r.Describe(context.Background(), ref)
			if err != nil || got.Phase != run.PhaseStopped || runnertest.ExitCode(got) == nil || *runnertest.ExitCode(got) != tt.want {
				t.Errorf("Describe = %+v, %v; want stopped with %d", got, err, tt.want)
			}
		})
	}
}

func TestTheRunningObservationComesFirst(t *testing.T) {
	f := newFixture(t)
	r := f.runner(t)
	ref := start(t, r, taskOf(1, shell("exit 0")))
	ts := f.rec.Next(t, runID(1))
	if ts.Phase != run.PhaseRunning || ts.Version != 1 || ts.TaskRef != ref || ts.StartedAt == nil || !ts.StartedAt.Equal(fixedNow) {
		t.Errorf("first observation = %+v, want running, version 1, started at the runner's clock", ts)
	}
	if ts := f.rec.Next(t, runID(1)); ts.Phase != run.PhaseStopped {
		t.Errorf("second observation = %s, want stopped", ts.Phase)
	}
	f.rec.None(t, runID(1))
}

func TestEnvironment(t *testing.T) {
	const password = "s3cr3t-Value-9f2d"
	t.Setenv("LONGSHORE_TEST_HOST_ONLY", "leak")
	f := newFixture(t)
	secretsFile := filepath.Join(t.TempDir(), "secrets.env")
	if err := os.WriteFile(secretsFile, []byte("ssm:/prod/db/password="+password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	src, err := secret.Load(secretsFile, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	r := f.runner(t, func(o *Options) { o.Secrets = src })
	spec := shell(`echo "run=$LONGSHORE_RUN_ID job=$LONGSHORE_JOB attempt=$LONGSHORE_ATTEMPT trigger=$LONGSHORE_TRIGGER"
echo "greeting=$GREETING"
[ "$DB_PASSWORD" = "` + password + `" ] && echo "password=right" || echo "password=wrong"
echo "host=${LONGSHORE_TEST_HOST_ONLY:-unset}"
echo "pwd=$(pwd)"
[ -t 0 ] && echo "stdin=tty" || echo "stdin=$(cat | wc -c)"
echo "to stderr" >&2`)
	spec.Environment = map[string]string{"GREETING": "hello there"}
	spec.Secrets = map[string]string{"DB_PASSWORD": "ssm:/prod/db/password"}
	spec.Local.Dir = "sub"
	start(t, r, taskOf(1, spec))
	if code := runnertest.ExitCode(ended(t, f.rec, runID(1))); code == nil || *code != 0 {
		t.Fatalf("exit code = %s, want 0", runnertest.ShowCode(code))
	}
	out := readLog(t, f, 1, task.StdoutFile)
	for _, want := range []string{
		"run=" + runID(1) + " job=hello attempt=1 trigger=invoke",
		"greeting=hello there",
		"password=right",
		"host=unset",
		"pwd=" + filepath.Join(f.jobs, "hello", "sub"),
		"stdin=0",
	} {
		if !strings.Contains(out, want+"\n") {
			t.Errorf("stdout.log does not say %q:\n%s", want, out)
		}
	}
	if got := readLog(t, f, 1, task.StderrFile); got != "to stderr\n" {
		t.Errorf("stderr.log = %q", got)
	}
	// The value reached the process, and no file the runner wrote holds it.
	err = filepath.WalkDir(f.data, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err == nil && strings.Contains(string(b), password) {
			t.Errorf("%s holds the secret's value", p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestTheRunsCommandOverrideIsAppendedAsArguments(t *testing.T) {
	f := newFixture(t)
	r := f.runner(t)
	tk := taskOf(1, shell(`printf '[%s]' "$@"`))
	tk.Command = []string{"a", "b c"}
	start(t, r, tk)
	ended(t, f.rec, runID(1))
	if got := readLog(t, f, 1, task.StdoutFile); got != "[a][b c]" {
		t.Errorf("arguments = %s, want [a][b c]", got)
	}
}

func TestStartRefuses(t *testing.T) {
	const password = "other-Value-77ab"
	f := newFixture(t)
	notExecutable := filepath.Join(f.jobs, "hello", "run.sh")
	if err := os.WriteFile(notExecutable, []byte("#!/bin/sh\nexit 0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	badInterpreter := filepath.Join(f.jobs, "hello", "bad.sh")
	if err := os.WriteFile(badInterpreter, []byte("#!/nonexistent/interpreter\nexit 0\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	src, err := secret.Load("", func(name string) string {
		if name == "LONGSHORE_SECRET_API_TOKEN" {
			return password
		}
		return ""
	})
	if err != nil {
		t.Fatal(err)
	}
	withSecrets := shell("exit 0")
	withSecrets.Secrets = map[string]string{"API_TOKEN": "ssm:/prod/api/token", "DB_PASSWORD": "ssm:/prod/db/password"}
	tests := []struct {
		name string
		spec *job.Spec
		want []string
	}{
		{"a job without local.command", &job.Spec{Name: "hello", Dir: "hello", Path: "jobs/hello/job.yaml"},
			[]string{"job hello has no local.command: add one to jobs/hello/job.yaml"}},
		{"a secret that is nowhere", withSecrets,
			[]string{"job hello cannot read secret DB_PASSWORD", "ssm:/prod/db/password", "LONGSHORE_SECRET_DB_PASSWORD is not set", "no secrets file was given"}},
		{"a program that is not in PATH", &job.Spec{Name: "hello", Dir: "hello", Local: job.Local{Command: []string{"no-such-program-here"}}},
			[]string{`program "no-such-program-here" not found in PATH`}},
		{"a program path that does not exist", &job.Spec{Name: "hello", Dir: "hello", Local: job.Local{Command: []string{"./missing.sh"}}},
			[]string{"program " + filepath.Join(f.jobs, "hello", "missing.sh") + " does not exist"}},
		{"a program without an execute bit", &job.Spec{Name: "hello", Dir: "hello", Local: job.Local{Command: []string{"./run.sh"}}},
			[]string{"program " + notExecutable + " is not executable"}},
		{"a script whose interpreter does not exist", &job.Spec{Name: "hello", Dir: "hello", Local: job.Local{Command: []string{"./bad.sh"}}},
			[]string{"start " + badInterpreter + " (the interpreter on its #! line does not exist)"}},
		{"a working folder that does not exist", &job.Spec{Name: "hello", Dir: "hello", Local: job.Local{Command: []string{"true"}, Dir: "nope"}},
			[]string{"working folder " + filepath.Join(f.jobs, "hello", "nope") + " does not exist"}},
		{"a working folder outside the job's", &job.Spec{Name: "hello", Dir: "hello", Local: job.Local{Command: []string{"true"}, Dir: "../.."}},
			[]string{`local.dir "../.." leaves the job's folder`}},
	}
	r := f.runner(t, func(o *Options) { o.Secrets = src })
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ref, err := r.Start(context.Background(), taskOf(i, tt.spec))
			var se *dispatch.StartError
			if !errors.As(err, &se) {
				t.Fatalf("Start = %q, %v; want a *dispatch.StartError", ref, err)
			}
			if se.Transient {
				t.Errorf("error %q is transient; want it not to be", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if strings.Contains(err.Error(), password) {
				t.Errorf("error %q holds a secret's value", err)
			}
			// It maps to "never started".
			if o := run.ClassifyStartFailure(err.Error()); o.Cause != run.CauseStart || !strings.HasPrefix(o.Reason, "never started: ") {
				t.Errorf("classified as %+v", o)
			}
			if _, err := r.Describe(context.Background(), formatRef(4242, 1, runID(i))); !errors.Is(err, dispatch.ErrTaskNotFound) {
				t.Errorf("Describe after a refused start = %v, want ErrTaskNotFound", err)
			}
			f.rec.None(t, runID(i))
		})
	}
}

func TestStartTwiceStartsOneProcess(t *testing.T) {
	f := newFixture(t)
	counter := filepath.Join(t.TempDir(), "starts")
	tk := taskOf(1, shell(`echo started >> "`+counter+`"`))
	r := f.runner(t)
	first := start(t, r, tk)
	second := start(t, r, tk)
	if first != second {
		t.Errorf("second Start = %s, want %s", second, first)
	}
	ended(t, f.rec, runID(1))
	third := start(t, r, tk) // after its end: from the run's folder
	// A new engine over the same data folder starts nothing either.
	again := f.runner(t)
	fourth := start(t, again, tk)
	if third != first || fourth != first {
		t.Errorf("later Starts = %s, %s; want %s", third, fourth, first)
	}
	f.rec.None(t, runID(1))
	if b, err := os.ReadFile(counter); err != nil || string(b) != "started\n" {
		t.Errorf("the job ran %q times (%v), want once", string(b), err)
	}
}

func TestStop(t *testing.T) {
	tests := []struct {
		name   string
		script string
		want   int
	}{
		{"a process that obeys SIGTERM stops with 143", `echo ready > "$READY"; exec sleep 30`, 143},
		{"a process that ignores SIGTERM is killed after the grace period", `trap '' TERM; echo ready > "$READY"; sleep 30; sleep 30`, 137},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			r := f.runner(t)
			ready := fifo(t)
			tk := taskOf(i, shell(tt.script))
			tk.Env["READY"] = ready
			ref := start(t, r, tk)
			readFIFO(t, ready)
			if err := r.Stop(context.Background(), ref, "stopped on request by alice"); err != nil {
				t.Fatal(err)
			}
			if err := r.Stop(context.Background(), ref, "a second stop"); err != nil {
				t.Errorf("second Stop: %v", err)
			}
			ts := ended(t, f.rec, runID(i))
			if ts.StopCode != run.StopCodeUserInitiated || ts.StoppedReason != "stopped on request by alice" {
				t.Errorf("stop = %s %q, want %s with the first reason", ts.StopCode, ts.StoppedReason, run.StopCodeUserInitiated)
			}
			if got := runnertest.ExitCode(ts); got == nil || *got != tt.want {
				t.Errorf("exit code = %s, want %d", runnertest.ShowCode(got), tt.want)
			}
			if err := r.Stop(context.Background(), ref, "after the end"); err != nil {
				t.Errorf("Stop of a stopped task: %v", err)
			}
			f.rec.None(t, runID(i))
		})
	}
}

func TestStopOfAnUnknownTaskDoesNothing(t *testing.T) {
	f := newFixture(t)
	r := f.runner(t)
	for _, ref := range []string{"", "garbage", formatRef(4242, 99, runID(7)), "arn:aws:ecs:us-east-1:111122223333:task/x"} {
		if err := r.Stop(context.Background(), ref, "why"); err != nil {
			t.Errorf("Stop(%q) = %v, want nil", ref, err)
		}
	}
}

func TestAChildsChildrenDieWithIt(t *testing.T) {
	tests := []struct {
		name   string
		script string
		stop   bool
	}{
		{"a grandchild is killed when its parent exits", `sleep 300 & echo $! > "$READY"; exit 0`, false},
		{"a grandchild is killed when the task is stopped", `sleep 300 & echo $! > "$READY"; wait`, true},
		{"a grandchild that ignores SIGTERM is killed after the grace period", `(trap '' TERM; exec sleep 300) & echo $! > "$READY"; wait`, true},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			r := f.runner(t)
			ready := fifo(t)
			tk := taskOf(i, shell(tt.script))
			tk.Env["READY"] = ready
			ref := start(t, r, tk)
			grandchild := atoi(t, readFIFO(t, ready))
			if tt.stop {
				if err := r.Stop(context.Background(), ref, "stop"); err != nil {
					t.Fatal(err)
				}
			}
			ended(t, f.rec, runID(i))
			waitGone(t, grandchild)
		})
	}
}

func TestAFloodOfOutputIsCappedAndMemoryStaysFlat(t *testing.T) {
	const limit = 1 << 20
	const written = 64 << 20 // per stream
	f := newFixture(t)
	r := f.runner(t, func(o *Options) { o.MaxLogBytes = limit })
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start(t, r, taskOf(1, shell(`head -c 67108864 /dev/zero & head -c 67108864 /dev/zero >&2; wait`)))
	ts := ended(t, f.rec, runID(1))
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	if code := runnertest.ExitCode(ts); code == nil || *code != 0 {
		t.Fatalf("exit code = %s, want 0: the writer was not drained", runnertest.ShowCode(code))
	}
	for _, name := range []string{task.StdoutFile, task.StderrFile} {
		got := readLog(t, f, 1, name)
		want := strings.Repeat("\x00", limit) + "\n[longshore: output truncated after 1048576 bytes]\n"
		if got != want {
			t.Errorf("%s: %d bytes ending %q; want the cap then one truncation line", name, len(got), got[max(0, len(got)-60):])
		}
	}
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 8<<20 {
		t.Errorf("the runner allocated %d MiB while %d MiB went through it", grew>>20, 2*written>>20)
	}
}

func TestTheTruncationLineIsOnALineOfItsOwn(t *testing.T) {
	tests := []struct {
		name   string
		script string
		want   string
	}{
		{"output at the cap is kept whole", `printf 'abcdefghij'`, "abcdefghij"},
		{"output past the cap in the middle of a line", `printf 'abcdefghijk'`, "abcdefghij\n[longshore: output truncated after 10 bytes]\n"},
		{"output past the cap after a newline", `printf 'abcdefghi\nk'`, "abcdefghi\n[longshore: output truncated after 10 bytes]\n"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			r := f.runner(t, func(o *Options) { o.MaxLogBytes = 10 })
			start(t, r, taskOf(i, shell(tt.script)))
			ended(t, f.rec, runID(i))
			if got := readLog(t, f, i, task.StdoutFile); got != tt.want {
				t.Errorf("stdout.log = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestDescribe(t *testing.T) {
	f := newFixture(t)
	r := f.runner(t)
	ready := fifo(t)
	tk := taskOf(1, shell(`echo ready > "$READY"; exec sleep 30`))
	tk.Env["READY"] = ready
	ref := start(t, r, tk)
	readFIFO(t, ready)
	ts, err := r.Describe(context.Background(), ref)
	if err != nil || ts.Phase != run.PhaseRunning || ts.TaskRef != ref || ts.RunID != runID(1) || ts.Version != 1 {
		t.Errorf("Describe of a running task = %+v, %v", ts, err)
	}
	if err := r.Stop(context.Background(), ref, "done"); err != nil {
		t.Fatal(err)
	}
	ended(t, f.rec, runID(1))

	other := formatRef(pidOf(t, ref)+1, 5, runID(1))
	runnertest.DescribeNotFound(t, r, []runnertest.NamedRef{
		{Name: "an empty ref", Ref: ""},
		{Name: "a ref of another runner", Ref: "arn:aws:ecs:us-east-1:111122223333:task/longshore/abc"},
		{Name: "a ref with a bad pid", Ref: "proc:x:1:" + runID(1)},
		{Name: "a ref with a negative pid", Ref: "proc:-5:1:" + runID(1)},
		{Name: "a ref with a padded pid", Ref: "proc:0" + strings.TrimPrefix(ref, "proc:")},
		{Name: "a ref with a bad run id", Ref: "proc:100:1:r-../../etc"},
		{Name: "a ref with a part too many", Ref: ref + ":1"},
		{Name: "a ref of a run never started", Ref: formatRef(100, 1, runID(2))},
		{Name: "another task of a known run", Ref: other},
	})
}

func TestDescribeAfterARestartReadsTheRecordedExit(t *testing.T) {
	f := newFixture(t)
	first := f.runner(t)
	ref := start(t, first, taskOf(1, shell("exit 3")))
	ended(t, f.rec, runID(1))

	again := f.runner(t)
	for range 2 {
		ts, err := again.Describe(context.Background(), ref)
		if err != nil {
			t.Fatal(err)
		}
		if ts.Phase != run.PhaseStopped || ts.Version != 2 || ts.StopCode != run.StopCodeEssentialExited || runnertest.ExitCode(ts) == nil || *runnertest.ExitCode(ts) != 3 {
			t.Errorf("Describe = %+v, want stopped with 3", ts)
		}
		if o := run.Classify(ts, run.StopNone); o.Status != run.StatusFailed || o.Cause != run.CauseExit {
			t.Errorf("classified as %+v", o)
		}
	}
}

// orphan starts a process the way an earlier engine would have and leaves
// its task.json; the test, not a Runner, is its parent.
func orphan(t *testing.T, f *fixture, n int, args ...string) (string, *os.Process) {
	t.Helper()
	p, err := os.StartProcess(args[0], args, &os.ProcAttr{Sys: setpgid()})
	if err != nil {
		t.Fatal(err)
	}
	st, err := readStat(p.Pid)
	if err != nil {
		t.Fatal(err)
	}
	ref := formatRef(p.Pid, st.start, runID(n))
	dir := filepath.Join(f.data, "runs", runID(n))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	rec := map[string]any{"ref": ref, "runId": runID(n), "pid": p.Pid, "startTicks": st.start, "bootId": bootID(), "startedAt": fixedNow}
	if err := jsonfile.Write(dir, task.TaskFile, rec); err != nil {
		t.Fatal(err)
	}
	return ref, p
}

func TestDescribeOfATaskAnEarlierEngineLeftRunning(t *testing.T) {
	f := newFixture(t)
	sleep, err := lookPath("sleep", "/", os.Getenv("PATH"))
	if err != nil {
		t.Fatal(err)
	}
	ref, p := orphan(t, f, 1, sleep, "300")
	r := f.runner(t)
	ts, err := r.Describe(context.Background(), ref)
	if err != nil {
		t.Fatal(err)
	}
	state, err := p.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if state.String() != "signal: killed" {
		t.Errorf("the orphan ended with %s, want killed", state)
	}
	checkHostRestarted(t, ts, ref)
	// Recorded: a second Describe says the same and kills nothing.
	again, err := r.Describe(context.Background(), ref)
	if err != nil || again.StopCode != run.StopCodeHostRestarted {
		t.Errorf("second Describe = %+v, %v", again, err)
	}
	if ref2 := start(t, r, taskOf(1, shell("exit 0"))); ref2 != ref {
		t.Errorf("Start after recovery = %s, want %s", ref2, ref)
	}
}

func TestDescribeOfATaskThatDiedWithItsEngine(t *testing.T) {
	f := newFixture(t)
	tr, err := lookPath("true", "/", os.Getenv("PATH"))
	if err != nil {
		t.Fatal(err)
	}
	ref, p := orphan(t, f, 1, tr)
	if _, err := p.Wait(); err != nil {
		t.Fatal(err)
	}
	ts, err := f.runner(t).Describe(context.Background(), ref)
	if err != nil {
		t.Fatal(err)
	}
	checkHostRestarted(t, ts, ref)
}

func checkHostRestarted(t *testing.T, ts run.TaskState, ref string) {
	t.Helper()
	if ts.Phase != run.PhaseStopped || ts.TaskRef != ref || ts.StopCode != run.StopCodeHostRestarted ||
		ts.StoppedReason != "the engine stopped while the task was running" || runnertest.ExitCode(ts) != nil {
		t.Errorf("Describe = %+v; want stopped, HostRestarted, no exit code", ts)
	}
	o := run.Classify(ts, run.StopNone)
	if o.Status != run.StatusFailed || o.Cause != run.CauseInterrupted || !o.Transient {
		t.Errorf("classified as %+v; want failed, interrupted, transient", o)
	}
}

func TestShutdownLeavesNoProcess(t *testing.T) {
	f := newFixture(t)
	baseline := runtime.NumGoroutine()
	r, err := New(Options{Config: task.Config{JobsDir: f.jobs, DataDir: f.data, Grace: testGrace, Observe: f.rec.Observe},
		BaseEnv: []string{"PATH=" + os.Getenv("PATH")}})
	if err != nil {
		t.Fatal(err)
	}
	scripts := []string{
		`echo $$ > "$READY"; exec sleep 300`,
		`trap '' TERM; echo $$ > "$READY"; sleep 300; sleep 300`,
		`sleep 300 & echo $! > "$READY"; wait`,
	}
	var pids []int
	for i, s := range scripts {
		ready := fifo(t)
		tk := taskOf(i, shell(s))
		tk.Env["READY"] = ready
		ref := start(t, r, tk)
		pids = append(pids, pidOf(t, ref), atoi(t, readFIFO(t, ready)))
	}
	done := start(t, r, taskOf(9, shell("exit 0")))
	ended(t, f.rec, runID(9))

	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	if err := r.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	for _, pid := range pids {
		if alive(pid) {
			t.Errorf("process %d is still alive after Shutdown", pid)
		}
	}
	for i := range scripts {
		ts := ended(t, f.rec, runID(i))
		if ts.StopCode != run.StopCodeHostRestarted {
			t.Errorf("run %d stopped with %s %q, want %s", i, ts.StopCode, ts.StoppedReason, run.StopCodeHostRestarted)
		}
	}
	if ts, err := r.Describe(context.Background(), done); err != nil || ts.StopCode != run.StopCodeEssentialExited {
		t.Errorf("Describe after Shutdown = %+v, %v", ts, err)
	}
	_, err = r.Start(context.Background(), taskOf(10, shell("exit 0")))
	var se *dispatch.StartError
	if !errors.As(err, &se) || !se.Transient {
		t.Errorf("Start after Shutdown = %v, want a transient StartError", err)
	}
	if err := r.Shutdown(ctx); err != nil {
		t.Errorf("second Shutdown: %v", err)
	}
	// Every goroutine of the runner has ended, or is ending: one that has
	// just called Done may not have been scheduled to exit yet (as goleak
	// does, give it a moment).
	for deadline := time.Now().Add(patience); runtime.NumGoroutine() > baseline && time.Now().Before(deadline); {
		runtime.Gosched()
		time.Sleep(time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > baseline {
		buf := make([]byte, 1<<16)
		t.Errorf("%d goroutines, %d before:\n%s", n, baseline, buf[:runtime.Stack(buf, true)])
	}
}

func TestShutdownKeepsAStopInProgress(t *testing.T) {
	f := newFixture(t)
	r := f.runner(t)
	ready := fifo(t)
	tk := taskOf(1, shell(`trap '' TERM; echo ready > "$READY"; sleep 30; sleep 30`))
	tk.Env["READY"] = ready
	ref := start(t, r, tk)
	readFIFO(t, ready)
	if err := r.Stop(context.Background(), ref, "cancelled"); err != nil {
		t.Fatal(err)
	}
	if err := r.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if ts := ended(t, f.rec, runID(1)); ts.StopCode != run.StopCodeUserInitiated || ts.StoppedReason != "cancelled" {
		t.Errorf("stop = %s %q, want UserInitiated \"cancelled\"", ts.StopCode, ts.StoppedReason)
	}
}

func TestShutdownWhoseTimeIsUpKillsAtOnce(t *testing.T) {
	f := newFixture(t)
	r := f.runner(t, func(o *Options) { o.Grace = patience })
	ready := fifo(t)
	tk := taskOf(1, shell(`trap '' TERM; echo ready > "$READY"; sleep 300; sleep 300`))
	tk.Env["READY"] = ready
	ref := start(t, r, tk)
	readFIFO(t, ready)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	// Its report may still be under way as it returns: then it says so.
	if err := r.Shutdown(ctx); err != nil && !errors.Is(err, context.Canceled) {
		t.Fatalf("Shutdown = %v", err)
	}
	if alive(pidOf(t, ref)) {
		t.Error("the process is still alive")
	}
	if ts := ended(t, f.rec, runID(1)); runnertest.ExitCode(ts) == nil || *runnertest.ExitCode(ts) != 137 {
		t.Errorf("exit code = %s, want 137", runnertest.ShowCode(runnertest.ExitCode(ts)))
	}
}

func TestASlowObserverDelaysNoOtherTask(t *testing.T) {
	f := newFixture(t)
	release := make(chan struct{})
	r := f.runner(t, func(o *Options) {
		o.Observe = func(ctx context.Context, ts run.TaskState) {
			if ts.RunID == runID(1) {
				<-release
			}
			f.rec.Observe(ctx, ts)
		}
	})
	start(t, r, taskOf(1, shell("exit 1")))
	start(t, r, taskOf(2, shell("exit 2")))
	if ts := ended(t, f.rec, runID(2)); *runnertest.ExitCode(ts) != 2 {
		t.Errorf("run 2 exit = %s", runnertest.ShowCode(runnertest.ExitCode(ts)))
	}
	close(release)
	if ts := ended(t, f.rec, runID(1)); *runnertest.ExitCode(ts) != 1 {
		t.Errorf("run 1 exit = %s", runnertest.ShowCode(runnertest.ExitCode(ts)))
	}
}

func TestNewNeedsItsFolders(t *testing.T) {
	for _, c := range []task.Config{{}, {JobsDir: "/jobs"}, {DataDir: t.TempDir()}} {
		o := Options{Config: c}
		if _, err := New(o); err == nil {
			t.Errorf("New(%+v) succeeded", o)
		}
	}
}

func TestDefaultBaseEnv(t *testing.T) {
	host := map[string]string{"HOME": "/home/a", "GOCACHE": "/c", "SECRET_TOKEN": "x"}
	got := DefaultBaseEnv(func(n string) string { return host[n] })
	want := []string{"PATH=" + defaultPath, "HOME=/home/a", "GOCACHE=/c"}
	if !slices.Equal(got, want) {
		t.Errorf("DefaultBaseEnv = %q, want %q", got, want)
	}
}
