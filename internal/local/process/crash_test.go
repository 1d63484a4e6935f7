package process

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
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
	r, err := New(Options{JobsDir: os.Getenv(engineJobsVar), DataDir: os.Getenv(engineDataVar),
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
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), engineVar+"=1", engineJobsVar+"="+f.jobs, engineDataVar+"="+f.data, engineReadyVar+"="+ready)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		t.Fatalf("the engine printed no ref: %v", err)
	}
	ref := strings.TrimSpace(line)
	grandchild := atoi(t, readFIFO(t, ready))

	// The engine crashes: the kernel kills its child (Pdeathsig), not the
	// grandchild, which lives on in the child's process group.
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
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
