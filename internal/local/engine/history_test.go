package engine

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/longshore/longshore/internal/dispatch"
	"github.com/longshore/longshore/internal/job"
	"github.com/longshore/longshore/internal/local/store"
	"github.com/longshore/longshore/internal/run"
)

func TestOldRunsAreDeletedWithTheirOutputAfterTheirJobsKeep(t *testing.T) {
	ctx := context.Background()
	data := t.TempDir()
	st, err := store.Open(ctx, filepath.Join(data, "longshore.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	ended := func(id, jobName string, age time.Duration) {
		t.Helper()
		at := now.Add(-age)
		r := run.Run{ID: id, Job: jobName, Key: "k-" + id, Attempt: 1, Status: run.StatusQueued,
			Trigger: run.Trigger{Kind: run.TriggerInvoke}, CreatedAt: at, UpdatedAt: at}
		r, _, err := st.Create(ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		r.Status, r.Notified, r.StoppedAt = run.StatusSucceeded, true, &at
		if _, err := st.Update(ctx, r); err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Join(data, "runs", id), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(data, "runs", id, "stdout.log"), []byte("done\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	spec := func(name, yaml string) *job.Spec {
		s, err := job.Parse([]byte("local: {command: [true]}\n"+yaml), name, "jobs/"+name+"/job.yaml")
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	ended("r-0000000000000001", "short", 2*24*time.Hour)  // past short's day: deleted
	ended("r-0000000000000002", "short", time.Hour)       // kept
	ended("r-0000000000000003", "plain", 2*24*time.Hour)  // within the engine's 30 days: kept
	ended("r-0000000000000004", "plain", 40*24*time.Hour) // past them: deleted
	ended("r-0000000000000005", "removed", 40*24*time.Hour)

	clock := &stepClock{now: now}
	h := &history{runs: st, jobs: []*job.Spec{spec("short", "history: {keep: 1d}\n"), spec("plain", "")},
		keep: 30 * 24 * time.Hour, dataDir: data, clock: clock, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	n, err := h.prune(ctx)
	if err != nil || n != 3 {
		t.Fatalf("prune = %d, %v; want 3 runs deleted", n, err)
	}
	for id, kept := range map[string]bool{"r-0000000000000001": false, "r-0000000000000002": true, "r-0000000000000003": true,
		"r-0000000000000004": false, "r-0000000000000005": false} {
		_, err := st.Get(ctx, id)
		if kept != (err == nil) || (!kept && !errors.Is(err, dispatch.ErrNotFound)) {
			t.Errorf("run %s: Get = %v, want kept %v", id, err, kept)
		}
		if _, err := os.Stat(filepath.Join(data, "runs", id)); kept != (err == nil) {
			t.Errorf("run %s: output folder %v, want kept %v", id, err, kept)
		}
	}
}
