package store

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/longshore/longshore/internal/run"
)

func TestRunsReadBackFromMemoryAreTheRunsStored(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "runs.db")
	s := open(t, path)
	at := time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)
	n := recentRuns + 100 // the first hundred are no longer kept
	var ids []string
	for i := range n {
		r := run.Run{ID: fmt.Sprintf("r-%016x", i+1), Key: fmt.Sprintf("k%d", i), Job: "hello", Status: run.StatusStarting,
			Attempt: 1, CreatedAt: at, UpdatedAt: at}
		stored, _, err := s.Create(ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		if i%2 == 0 {
			stored.Status, stored.TaskRef = run.StatusRunning, "task"
			if _, err := s.Update(ctx, stored); err != nil {
				t.Fatal(err)
			}
		}
		ids = append(ids, r.ID)
	}
	var before []run.Run
	for _, id := range ids {
		r, err := s.Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		before = append(before, r)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	again := open(t, path) // nothing kept in memory
	for i, id := range ids {
		r, err := again.Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if a, b := fmt.Sprintf("%+v", before[i]), fmt.Sprintf("%+v", r); a != b {
			t.Fatalf("run %s read back as\n%s\nbut stored as\n%s", id, a, b)
		}
	}
}
