package runnertest

import (
	"bufio"
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/longshore/longshore/internal/dispatch"
)

// ShutdownAtEnd shuts a runner down when the test ends (t.Cleanup), and
// fails the test if the shutdown fails.
func ShutdownAtEnd(t testing.TB, shutdown func(ctx context.Context) error) {
	t.Helper()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), Patience)
		defer cancel()
		if err := shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
}

// NewSubject is the Subject of runner r, whose tasks leftovers lists; r is
// shut down when the test ends.
func NewSubject(t testing.TB, r Runner, leftovers func(ctx context.Context) ([]string, error)) Subject {
	t.Helper()
	ShutdownAtEnd(t, r.Shutdown)
	return Subject{Runner: r, Shutdown: r.Shutdown, Leftovers: leftovers}
}

// Runner is a dispatch.TaskRunner that can be shut down.
type Runner interface {
	dispatch.TaskRunner
	Shutdown(ctx context.Context) error
}

// NamedRef is a task ref and the words for it, for a table of cases.
type NamedRef struct {
	Name, Ref string
}

// DescribeNotFound checks that r describes none of refs, each in a subtest
// of its own: dispatch.ErrTaskNotFound.
func DescribeNotFound(t *testing.T, r dispatch.TaskRunner, refs []NamedRef) {
	t.Helper()
	for _, tt := range refs {
		t.Run(tt.Name, func(t *testing.T) {
			if ts, err := r.Describe(context.Background(), tt.Ref); !errors.Is(err, dispatch.ErrTaskNotFound) {
				t.Errorf("Describe(%q) = %+v, %v; want ErrTaskNotFound", tt.Ref, ts, err)
			}
		})
	}
}

// StartEngine runs the test binary again as an engine in a child process,
// with env ("NAME=value") added to its environment, for its TestMain to
// play: the engine starts a task, prints its ref on a line and waits,
// reading its stdin, to be killed. It returns that ref, and crash, which
// kills the engine (kill -9) and waits for its end.
func StartEngine(t testing.TB, env ...string) (ref string, crash func()) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), env...)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = stdin.Close() })
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	crash = func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		crash()
		t.Fatalf("the engine printed no ref: %v", err)
	}
	return strings.TrimSpace(line), crash
}
