package dynamo_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/longshore/longshore/internal/aws/dynamo"
	"github.com/longshore/longshore/internal/aws/dynamo/dynamotest"
	"github.com/longshore/longshore/internal/dispatch"
	"github.com/longshore/longshore/internal/dispatch/storetest"
	"github.com/longshore/longshore/internal/run"
)

var ctx = context.Background()

func TestStorePassesTheRunStoreContractOnDynalite(t *testing.T) {
	client := dynamotest.Client(dynamotest.Start(t))
	storetest.Run(t, func(t *testing.T) dispatch.RunStore {
		return dynamo.New(client, dynamo.Options{Table: dynamotest.CreateTable(t, client)})
	})
}

func TestStorePassesTheSlotsContractOnDynalite(t *testing.T) {
	client := dynamotest.Client(dynamotest.Start(t))
	storetest.RunSlots(t, func(t *testing.T) dispatch.Slots {
		return dynamo.New(client, dynamo.Options{Table: dynamotest.CreateTable(t, client)})
	})
}

// at is when the runs of these tests are created.
var at = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

func queued(id, key string) run.Run {
	return run.Run{ID: id, Job: "hello", Key: key, Attempt: 1, Status: run.StatusQueued,
		Trigger: run.Trigger{Kind: run.TriggerInvoke}, CreatedAt: at, UpdatedAt: at}
}

func TestStoreKeepsFinishedRunsAndTheirClaims(t *testing.T) {
	client := dynamotest.Client(dynamotest.Start(t))
	newStore := func(t *testing.T) (*dynamo.Store, string) {
		table := dynamotest.CreateTable(t, client)
		return dynamo.New(client, dynamo.Options{Table: table, Retention: 24 * time.Hour}), table
	}

	t.Run("a finished run keeps its outcome: another status is refused", func(t *testing.T) {
		s, _ := newStore(t)
		r, _, err := s.Create(ctx, queued("r-0000000000000001", "k"))
		if err != nil {
			t.Fatal(err)
		}
		r.Status = run.StatusSucceeded
		done, err := s.Update(ctx, r)
		if err != nil {
			t.Fatalf("finish: %v", err)
		}
		back := done
		back.Status = run.StatusRunning
		if _, err := s.Update(ctx, back); !errors.Is(err, dynamo.ErrFinished) {
			t.Fatalf("moving a finished run back = %v, want ErrFinished", err)
		}
		done.Notified = true
		if _, err := s.Update(ctx, done); err != nil {
			t.Errorf("bookkeeping on a finished run (notified) = %v, want it stored", err)
		}
		got, _ := s.Get(ctx, r.ID)
		if got.Status != run.StatusSucceeded || !got.Notified {
			t.Errorf("stored %s notified=%v", got.Status, got.Notified)
		}
	})

	t.Run("a run whose writer died after claiming its key is written by the next creator, under the claimed id", func(t *testing.T) {
		s, table := newStore(t)
		// The first writer claimed the key and died before writing its run.
		orphan := dynamo.Claim(table, "k-orphan", "r-00000000000000aa", at)
		if _, err := client.PutItem(ctx, orphan); err != nil {
			t.Fatal(err)
		}
		got, created, err := s.Create(ctx, queued("r-00000000000000bb", "k-orphan"))
		if err != nil || !created {
			t.Fatalf("Create = %v, %v; want created", created, err)
		}
		if got.ID != "r-00000000000000aa" {
			t.Errorf("created run %s, want the claimed id r-00000000000000aa", got.ID)
		}
		again, created, err := s.Create(ctx, queued("r-00000000000000cc", "k-orphan"))
		if err != nil || created || again.ID != got.ID {
			t.Errorf("a third Create = %s, %v, %v; want the same run, not created", again.ID, created, err)
		}
	})

	t.Run("an id taken by a run with another key is an error, not a duplicate", func(t *testing.T) {
		s, _ := newStore(t)
		if _, _, err := s.Create(ctx, queued("r-0000000000000001", "k1")); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.Create(ctx, queued("r-0000000000000001", "k2")); err == nil {
			t.Error("Create with a taken id succeeded")
		}
	})

	t.Run("a finished run expires after the retention and an active one never does", func(t *testing.T) {
		s, table := newStore(t)
		r, _, _ := s.Create(ctx, queued("r-0000000000000001", "k"))
		if exp := dynamo.ExpiresAt(t, client, table, r.ID); exp != 0 {
			t.Errorf("a queued run expires at %d", exp)
		}
		stopped := at.Add(time.Hour)
		r.Status, r.StoppedAt, r.UpdatedAt = run.StatusFailed, &stopped, stopped
		if _, err := s.Update(ctx, r); err != nil {
			t.Fatal(err)
		}
		if exp, want := dynamo.ExpiresAt(t, client, table, r.ID), stopped.Add(24*time.Hour).Unix(); exp != want {
			t.Errorf("expiresAt = %d, want %d (stopped + retention)", exp, want)
		}
	})

	t.Run("a job's own history.keep sets when its finished runs expire", func(t *testing.T) {
		table := dynamotest.CreateTable(t, client)
		s := dynamo.New(client, dynamo.Options{Table: table, Retention: 24 * time.Hour, KeepFor: func(name string) time.Duration {
			if name == "hello" {
				return 7 * 24 * time.Hour
			}
			return 0
		}})
		r, _, _ := s.Create(ctx, queued("r-0000000000000002", "k2"))
		stopped := at.Add(time.Hour)
		r.Status, r.StoppedAt, r.UpdatedAt = run.StatusSucceeded, &stopped, stopped
		if _, err := s.Update(ctx, r); err != nil {
			t.Fatal(err)
		}
		if exp, want := dynamo.ExpiresAt(t, client, table, r.ID), stopped.Add(7*24*time.Hour).Unix(); exp != want {
			t.Errorf("expiresAt = %d, want %d (stopped + the job's 7 days)", exp, want)
		}
	})

	t.Run("a malformed cursor is refused", func(t *testing.T) {
		s, _ := newStore(t)
		if _, _, err := s.List(ctx, dispatch.Query{Cursor: "not a cursor"}); err == nil {
			t.Error("List accepted a malformed cursor")
		}
	})

	t.Run("a job's finished runs page through the job's index, newest first", func(t *testing.T) {
		s, _ := newStore(t)
		for i, st := range []run.Status{run.StatusFailed, run.StatusSucceeded, run.StatusFailed, run.StatusFailed} {
			r := queued("r-000000000000000"+string(rune('1'+i)), "k"+string(rune('1'+i)))
			r.CreatedAt = at.Add(time.Duration(i) * time.Minute)
			r.Status = st
			if _, _, err := s.Create(ctx, r); err != nil {
				t.Fatal(err)
			}
		}
		var ids []string
		q := dispatch.Query{Job: "hello", Status: []run.Status{run.StatusFailed}, Limit: 2}
		for {
			page, next, err := s.List(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range page {
				ids = append(ids, r.ID)
			}
			if next == "" {
				break
			}
			q.Cursor = next
		}
		if got := len(ids); got != 3 || ids[0] != "r-0000000000000004" || ids[2] != "r-0000000000000001" {
			t.Errorf("listed %v", ids)
		}
	})
}

func TestAJobsRuntimePauseIsKeptBesideTheRuns(t *testing.T) {
	client := dynamotest.Client(dynamotest.Start(t))
	s := dynamo.New(client, dynamo.Options{Table: dynamotest.CreateTable(t, client)})
	if _, found, err := s.GetPause(ctx, "hello"); found || err != nil {
		t.Fatalf("pause of a job never paused: found %v, %v", found, err)
	}
	want := dispatch.Pause{Job: "hello", Paused: true, Reason: "maintenance", At: at, FilePaused: false}
	if err := s.SetPause(ctx, want); err != nil {
		t.Fatal(err)
	}
	got, found, err := s.GetPause(ctx, "hello")
	if err != nil || !found || got != want {
		t.Errorf("GetPause = %+v, %v, %v; want %+v", got, found, err, want)
	}
	if _, err := s.Get(ctx, "pause#hello"); !errors.Is(err, dispatch.ErrNotFound) {
		t.Errorf("the pause item reads as a run: %v", err)
	}
	runs, _, err := s.List(ctx, dispatch.Query{Job: "hello"})
	if err != nil || len(runs) != 0 {
		t.Errorf("List = %d runs, %v; want the pause item listed as no run", len(runs), err)
	}
}
