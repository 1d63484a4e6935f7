package process

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/longshore/longshore/internal/dispatch/runnertest"
	"github.com/longshore/longshore/internal/local/task"
	"github.com/longshore/longshore/internal/run"
)

func TestWithRecordsTheStartAndTheEndAreKeptThereAndSurviveARestart(t *testing.T) {
	f := newFixture(t)
	recs := runnertest.NewRecords()
	withRecords := func(o *Options) { o.Records = recs }
	first := f.runner(t, withRecords)
	ref := start(t, first, taskOf(1, shell("exit 3")))
	ended(t, f.rec, runID(1))
	for _, name := range []string{task.TaskFile, task.ExitFile} {
		if !recs.Has(runID(1), name) {
			t.Errorf("Records holds no %s", name)
		}
		if _, err := os.Stat(filepath.Join(f.data, "runs", runID(1), name)); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s was written as a file too (%v)", name, err)
		}
	}

	again := f.runner(t, withRecords)
	ts, err := again.Describe(context.Background(), ref)
	if err != nil || ts.Phase != run.PhaseStopped || runnertest.ExitCode(ts) == nil || *runnertest.ExitCode(ts) != 3 {
		t.Errorf("Describe after a restart = %+v, %v; want stopped with 3", ts, err)
	}
	if ref2 := start(t, again, taskOf(1, shell("exit 0"))); ref2 != ref {
		t.Errorf("Start after a restart = %s, want the first task %s", ref2, ref)
	}
	f.rec.None(t, runID(1))
}

func TestWithRecordsATaskRecordedInFilesIsStillFound(t *testing.T) {
	f := newFixture(t)
	sleep, err := lookPath("sleep", "/", os.Getenv("PATH"))
	if err != nil {
		t.Fatal(err)
	}
	// An earlier engine, without Records, left its task running.
	ref, p := orphan(t, f, 1, sleep, "300")
	recs := runnertest.NewRecords()
	r := f.runner(t, func(o *Options) { o.Records = recs })
	if ref2 := start(t, r, taskOf(1, shell("exit 0"))); ref2 != ref {
		t.Errorf("Start = %s, want the earlier task %s", ref2, ref)
	}
	ts, err := r.Describe(context.Background(), ref)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Wait(); err != nil {
		t.Fatal(err)
	}
	checkHostRestarted(t, ts, ref)
	if !recs.Has(runID(1), task.ExitFile) {
		t.Error("the end found was not recorded in Records")
	}
}

func TestALogFileIsCreatedByItsStreamsFirstByte(t *testing.T) {
	tests := []struct {
		name   string
		script string
		want   map[string]string // log file -> content; absent: no file
	}{
		{"a task that prints nothing leaves no log file", `exit 0`, map[string]string{}},
		{"a task that prints to stdout only has a stdout log", `echo hi`, map[string]string{task.StdoutFile: "hi\n"}},
		{"a task that prints to both has both logs", `echo out; echo err >&2`, map[string]string{task.StdoutFile: "out\n", task.StderrFile: "err\n"}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			r := f.runner(t, func(o *Options) { o.Records = runnertest.NewRecords() })
			start(t, r, taskOf(i, shell(tt.script)))
			ended(t, f.rec, runID(i))
			for _, name := range []string{task.StdoutFile, task.StderrFile} {
				b, err := os.ReadFile(filepath.Join(f.data, "runs", runID(i), name))
				want, ok := tt.want[name]
				switch {
				case !ok && !errors.Is(err, fs.ErrNotExist):
					t.Errorf("%s exists (%q, %v), want none", name, b, err)
				case ok && (err != nil || string(b) != want):
					t.Errorf("%s = %q, %v; want %q", name, b, err, want)
				}
			}
		})
	}
}
