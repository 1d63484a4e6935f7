package container

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/moby/moby/client"

	"github.com/longshore/longshore/internal/dispatch/runnertest"
	"github.com/longshore/longshore/internal/local/container/enginetest"
	"github.com/longshore/longshore/internal/local/task"
)

func TestMain(m *testing.M) {
	if os.Getenv(childVar) != "" {
		os.Exit(childEngine())
	}
	os.Exit(enginetest.Main(m))
}

var (
	engineOnce sync.Once
	testEngine *Engine
	engineErr  error
)

// engine is the test binary's connection to its engine (enginetest).
func engine(t testing.TB) *Engine {
	t.Helper()
	host := enginetest.Host(t)
	engineOnce.Do(func() { testEngine, engineErr = Connect(context.Background(), host) })
	if engineErr != nil {
		t.Fatalf("connect to the test engine: %v", engineErr)
	}
	return testEngine
}

func TestTheTaskRunnerContract(t *testing.T) {
	runnertest.Run(t, func(t *testing.T, c runnertest.Config) runnertest.Subject {
		e := engine(t)
		r, err := New(Options{Engine: e, Config: task.Config{
			JobsDir: c.JobsDir, DataDir: c.DataDir, Grace: c.Grace, MaxLogBytes: c.MaxLogBytes,
			Secrets: c.Secrets, Observe: c.Observe,
		}})
		if err != nil {
			t.Fatal(err)
		}
		return runnertest.NewSubject(t, r, func(ctx context.Context) ([]string, error) { return containersOf(ctx, e, c.DataDir) })
	})
}

// containersOf lists the containers (running or not) of runners over dataDir.
func containersOf(ctx context.Context, e *Engine, dataDir string) ([]string, error) {
	abs, err := filepath.Abs(dataDir)
	if err != nil {
		return nil, err
	}
	res, err := e.c.ContainerList(ctx, client.ContainerListOptions{
		All: true, Filters: make(client.Filters).Add("label", labelOwner+"="+Owner(abs)),
	})
	if err != nil {
		return nil, err
	}
	var out []string
	for _, c := range res.Items {
		out = append(out, "container "+c.ID[:12]+" "+string(c.State)+" of run "+c.Labels[labelRun])
	}
	return out, nil
}
