package store

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/longshore/longshore/internal/dispatch"
	"github.com/longshore/longshore/internal/run"
)

func TestDeleteEndedDeletesOnlyOldReportedRunsWithTheirRecords(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	old := now.Add(-40 * 24 * time.Hour)
	put := func(id, job string, created time.Time, status run.Status, notified bool) {
		t.Helper()
		r := newRun(id, "k-"+id, created)
		r.Job = job
		if _, _, err := s.Create(ctx, r); err != nil {
			t.Fatal(err)
		}
		if status == run.StatusQueued {
			return
		}
		r, _ = s.Get(ctx, id)
		r.Status, r.Notified, r.UpdatedAt = status, notified, created.Add(time.Minute)
		if _, err := s.Update(ctx, r); err != nil {
			t.Fatal(err)
		}
		if err := s.SetRecord(ctx, id, "exit.json", []byte(`{}`)); err != nil {
			t.Fatal(err)
		}
	}
	put("r-0000000000000001", "a", old, run.StatusSucceeded, true)                 // deleted
	put("r-0000000000000002", "a", old.Add(time.Hour), run.StatusFailed, true)     // deleted
	put("r-0000000000000003", "a", old.Add(2*time.Hour), run.StatusFailed, false)  // kept: not reported yet
	put("r-0000000000000004", "a", old.Add(3*time.Hour), run.StatusQueued, false)  // kept: not ended
	put("r-0000000000000005", "a", now.Add(-time.Hour), run.StatusSucceeded, true) // kept: recent
	put("r-0000000000000006", "b", old, run.StatusSucceeded, true)                 // another job
	put("r-0000000000000007", "gone", old, run.StatusSucceeded, true)              // a job no longer in the catalog

	cutoff := now.Add(-30 * 24 * time.Hour)
	var deleted []string
	var pos Position
	for {
		got, next, done, err := s.DeleteEnded(ctx, Ended{Job: "a", Before: cutoff, After: pos, Limit: 2})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range got {
			deleted = append(deleted, r.ID)
		}
		pos = next
		if done {
			break
		}
	}
	if !slices.Equal(deleted, []string{"r-0000000000000001", "r-0000000000000002"}) {
		t.Errorf("deleted %v, want the two old reported runs of a", deleted)
	}
	for _, id := range deleted {
		if _, err := s.Get(ctx, id); !errors.Is(err, dispatch.ErrNotFound) {
			t.Errorf("Get of deleted run %s = %v, want not found", id, err)
		}
		if _, found, _ := s.Record(ctx, id, "exit.json"); found {
			t.Errorf("the records of deleted run %s are still there", id)
		}
	}
	for _, id := range []string{"r-0000000000000003", "r-0000000000000004", "r-0000000000000005", "r-0000000000000006"} {
		if _, err := s.Get(ctx, id); err != nil {
			t.Errorf("run %s was not kept: %v", id, err)
		}
	}

	got, _, done, err := s.DeleteEnded(ctx, Ended{NotJobs: []string{"a", "b"}, Before: cutoff, Limit: 10})
	if err != nil || !done || len(got) != 1 || got[0].ID != "r-0000000000000007" {
		t.Errorf("runs of jobs outside the catalog: deleted %v (done %v, %v), want r-0000000000000007", got, done, err)
	}
	page, _, err := s.List(ctx, dispatch.Query{Job: "a"})
	if err != nil || len(page) != 3 {
		t.Errorf("List of a after the deletion = %d runs, %v; want 3", len(page), err)
	}
}
