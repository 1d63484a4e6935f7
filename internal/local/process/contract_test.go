package process

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/longshore/longshore/internal/dispatch/runnertest"
	"github.com/longshore/longshore/internal/local/task"
)

func TestTheTaskRunnerContract(t *testing.T) {
	runnertest.Run(t, func(t *testing.T, c runnertest.Config) runnertest.Subject {
		r, err := New(Options{
			Config: task.Config{JobsDir: c.JobsDir, DataDir: c.DataDir, Grace: c.Grace, MaxLogBytes: c.MaxLogBytes,
				Secrets: c.Secrets, Observe: c.Observe},
			BaseEnv: []string{"PATH=" + os.Getenv("PATH")},
		})
		if err != nil {
			t.Fatal(err)
		}
		return runnertest.NewSubject(t, r, func(context.Context) ([]string, error) { return processesWith(c.Marker) })
	})
}

// processesWith lists the live processes whose environment holds the
// variable marker ("NAME=value").
func processesWith(marker string) ([]string, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || !alive(pid) {
			continue
		}
		env, err := os.ReadFile(filepath.Join("/proc", e.Name(), "environ"))
		if err != nil {
			continue // gone meanwhile, or not ours to read
		}
		for _, kv := range bytes.Split(env, []byte{0}) {
			if string(kv) == marker {
				out = append(out, "process "+e.Name())
				break
			}
		}
	}
	return out, nil
}
