package process

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/longshore/longshore/internal/dispatch/runnertest"
	"github.com/longshore/longshore/internal/local/task"
)

// Environment of the engine that TestMain plays in a child process.
const (
	engineVar      = "LONGSHORE_PROCESS_TEST_ENGINE"
	engineJobsVar  = "LONGSHORE_PROCESS_TEST_JOBS"
	engineDataVar  = "LONGSHORE_PROCESS_TEST_DATA"
	engineReadyVar = "LONGSHORE_PROCESS_TEST_READY"
)

func TestMain(m *testing.M) {
	if os.Getenv(engineVar) != "" {
		os.Exit(engine())
	}
	os.Exit(m.Run())
}

// engine starts one task whose child forks a grandchild, prints its ref,
// and waits to be killed.
func engine() int {
	r, err := New(Options{Config: task.Config{JobsDir: os.Getenv(engineJobsVar), DataDir: os.Getenv(engineDataVar)},
		BaseEnv: []string{"PATH=" + os.Getenv("PATH")}})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	tk := taskOf(1, shell(`sleep 300 & echo $! > "$READY"; wait`))
	tk.Env["READY"] = os.Getenv(engineReadyVar)
	ref, err := r.Start(context.Background(), tk)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println(ref)
	_, _ = bufio.NewReader(os.Stdin).ReadByte() // until killed
	return 0
}

func TestWhatACrashedEngineLeftIsKilledByTheNext(t *testing.T) {
	f := newFixture(t)
	ready := fifo(t)
	ref, crash := runnertest.StartEngine(t, engineVar+"=1", engineJobsVar+"="+f.jobs, engineDataVar+"="+f.data, engineReadyVar+"="+ready)
	grandchild := atoi(t, readFIFO(t, ready))

	// The engine crashes: the kernel kills its child (Pdeathsig), not the
	// grandchild, which lives on in the child's process group.
	crash()
	waitGone(t, pidOf(t, ref))
	if !alive(grandchild) {
		t.Fatal("the grandchild died with the engine; this test needs it alive")
	}

	ts, err := f.runner(t).Describe(context.Background(), ref)
	if err != nil {
		t.Fatal(err)
	}
	checkHostRestarted(t, ts, ref)
	waitGone(t, grandchild)
}
