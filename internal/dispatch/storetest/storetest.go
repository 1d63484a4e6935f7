// Package storetest is the contract every dispatch.RunStore passes: the
// in-memory fake, the local SQLite store and the DynamoDB store run the
// same suite, so both hosts behave alike.
package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/longshore/longshore/internal/dispatch"
	"github.com/longshore/longshore/internal/job"
	"github.com/longshore/longshore/internal/run"
)

// Run runs the contract. newStore returns a fresh, empty store each call.
func Run(t *testing.T, newStore func(t *testing.T) dispatch.RunStore) {
	ctx := context.Background()
	base := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

	t.Run("a created run reads back whole, with a revision", func(t *testing.T) {
		s := newStore(t)
		want := sample("r-0000000000000001", "hello", "k1", base)
		got, created, err := s.Create(ctx, want)
		if err != nil || !created {
			t.Fatalf("Create = %v, %v", created, err)
		}
		if got.Revision == 0 {
			t.Error("stored run has revision 0")
		}
		read, err := s.Get(ctx, want.ID)
		if err != nil {
			t.Fatalf("Get: %v", err)
		}
		want.Revision = read.Revision
		if a, b := asJSON(read), asJSON(want); a != b {
			t.Errorf("read back\n%s\nwant\n%s", a, b)
		}
	})

	t.Run("a second run with the same key is refused and the first returned", func(t *testing.T) {
		s := newStore(t)
		first := sample("r-0000000000000001", "hello", "same", base)
		mustCreate(t, s, first)
		second := sample("r-0000000000000002", "hello", "same", base.Add(time.Second))
		got, created, err := s.Create(ctx, second)
		if err != nil || created {
			t.Fatalf("Create of a duplicate = %v, %v; want created=false", created, err)
		}
		if got.ID != first.ID {
			t.Errorf("duplicate returned run %s, want %s", got.ID, first.ID)
		}
		if _, err := s.Get(ctx, second.ID); !errors.Is(err, dispatch.ErrNotFound) {
			t.Errorf("the refused run was stored: Get = %v", err)
		}
	})

	t.Run("an unknown run is not found", func(t *testing.T) {
		s := newStore(t)
		if _, err := s.Get(ctx, "r-ffffffffffffffff"); !errors.Is(err, dispatch.ErrNotFound) {
			t.Errorf("Get = %v, want ErrNotFound", err)
		}
	})

	t.Run("an update at the current revision is stored and moves the revision on", func(t *testing.T) {
		s := newStore(t)
		r := mustCreate(t, s, sample("r-0000000000000001", "hello", "k", base))
		r.Status = run.StatusRunning
		r.TaskRef = "task-1"
		up, err := s.Update(ctx, r)
		if err != nil {
			t.Fatalf("Update: %v", err)
		}
		if up.Revision <= r.Revision {
			t.Errorf("revision %d after update, was %d", up.Revision, r.Revision)
		}
		read, _ := s.Get(ctx, r.ID)
		if read.Status != run.StatusRunning || read.TaskRef != "task-1" || read.Revision != up.Revision {
			t.Errorf("read back %s %q rev %d", read.Status, read.TaskRef, read.Revision)
		}
	})

	t.Run("an update from a stale revision conflicts and changes nothing", func(t *testing.T) {
		s := newStore(t)
		r := mustCreate(t, s, sample("r-0000000000000001", "hello", "k", base))
		a, b := r, r
		a.Status = run.StatusRunning
		if _, err := s.Update(ctx, a); err != nil {
			t.Fatalf("first Update: %v", err)
		}
		b.Status = run.StatusCancelled
		if _, err := s.Update(ctx, b); !errors.Is(err, dispatch.ErrConflict) {
			t.Fatalf("stale Update = %v, want ErrConflict", err)
		}
		read, _ := s.Get(ctx, r.ID)
		if read.Status != run.StatusRunning {
			t.Errorf("status %s after a refused update, want running", read.Status)
		}
	})

	t.Run("an update of an unknown run is not found", func(t *testing.T) {
		s := newStore(t)
		r := sample("r-0000000000000009", "hello", "k", base)
		r.Revision = 1
		if _, err := s.Update(ctx, r); !errors.Is(err, dispatch.ErrNotFound) && !errors.Is(err, dispatch.ErrConflict) {
			t.Errorf("Update = %v, want ErrNotFound or ErrConflict", err)
		}
		if _, err := s.Get(ctx, r.ID); !errors.Is(err, dispatch.ErrNotFound) {
			t.Errorf("the update created the run: Get = %v", err)
		}
	})

	t.Run("of concurrent creates with one key exactly one is created", func(t *testing.T) {
		s := newStore(t)
		const n = 16
		var wg sync.WaitGroup
		created := make(chan string, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				got, ok, err := s.Create(ctx, sample(fmt.Sprintf("r-%016x", i+1), "hello", "race", base))
				if err != nil {
					t.Errorf("Create: %v", err)
				}
				if ok {
					created <- got.ID
				}
			}()
		}
		wg.Wait()
		close(created)
		if len(created) != 1 {
			t.Errorf("%d runs created for one key, want 1", len(created))
		}
	})

	t.Run("of concurrent creates of a run whose id is its key's exactly one is created", func(t *testing.T) {
		s := newStore(t)
		const n = 16
		var wg sync.WaitGroup
		created := make(chan string, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := sample(run.KeyID("keyed"), "hello", "keyed", base.Add(time.Duration(i)*time.Millisecond))
				got, ok, err := s.Create(ctx, r)
				if err != nil {
					t.Errorf("Create: %v", err)
				}
				if got.ID != r.ID || got.Key != "keyed" {
					t.Errorf("Create returned run %s with key %q, want %s with key keyed", got.ID, got.Key, r.ID)
				}
				if ok {
					created <- got.ID
				}
			}()
		}
		wg.Wait()
		close(created)
		if len(created) != 1 {
			t.Errorf("%d runs created for one key, want 1", len(created))
		}
		runs, _, err := s.List(ctx, dispatch.Query{Job: "hello"})
		if err != nil || len(runs) != 1 {
			t.Errorf("List = %d runs, %v; want the one run", len(runs), err)
		}
	})

	t.Run("of concurrent updates from one revision exactly one wins", func(t *testing.T) {
		s := newStore(t)
		r := mustCreate(t, s, sample("r-0000000000000001", "hello", "k", base))
		const n = 16
		var wg sync.WaitGroup
		wins := make(chan int, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				u := r
				u.Reason = fmt.Sprint(i)
				_, err := s.Update(ctx, u)
				switch {
				case err == nil:
					wins <- i
				case !errors.Is(err, dispatch.ErrConflict):
					t.Errorf("Update: %v", err)
				}
			}()
		}
		wg.Wait()
		close(wins)
		if len(wins) != 1 {
			t.Fatalf("%d updates won, want 1", len(wins))
		}
		read, _ := s.Get(ctx, r.ID)
		if read.Reason != fmt.Sprint(<-wins) {
			t.Errorf("stored reason %q is not the winner's", read.Reason)
		}
	})

	t.Run("list is newest first, filtered, and its pages cover every run once", func(t *testing.T) {
		s := newStore(t)
		var want []string
		for i := range 23 {
			job := "hello"
			if i%3 == 0 {
				job = "other"
			}
			r := sample(fmt.Sprintf("r-%016x", i+1), job, fmt.Sprint("k", i), base.Add(time.Duration(i)*time.Minute))
			if i%2 == 0 {
				r.Status = run.StatusRunning
			}
			mustCreate(t, s, r)
			if job == "hello" && r.Status == run.StatusQueued {
				want = append([]string{r.ID}, want...)
			}
		}
		// Two runs created in the same instant still page without loss.
		for _, id := range []string{"r-00000000000000a1", "r-00000000000000a2"} {
			r := sample(id, "hello", id, base.Add(-time.Hour))
			mustCreate(t, s, r)
		}
		want = append(want, "r-00000000000000a2", "r-00000000000000a1")
		var got []string
		q := dispatch.Query{Job: "hello", Status: []run.Status{run.StatusQueued}, Limit: 3}
		for pages := 0; ; pages++ {
			if pages > 20 {
				t.Fatal("list never ends")
			}
			page, next, err := s.List(ctx, q)
			if err != nil {
				t.Fatalf("List: %v", err)
			}
			if len(page) > 3 {
				t.Fatalf("page of %d runs, limit 3", len(page))
			}
			for _, r := range page {
				got = append(got, r.ID)
			}
			if next == "" {
				break
			}
			q.Cursor = next
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("listed\n%v\nwant\n%v", got, want)
		}
	})

	t.Run("list of unreported runs holds finished runs not yet reported and not retried", func(t *testing.T) {
		s := newStore(t)
		mk := func(id string, st run.Status, notified bool, next string) {
			r := sample(id, "hello", id, base)
			r.Status, r.Notified, r.NextRunID = st, notified, next
			mustCreate(t, s, r)
		}
		mk("r-0000000000000001", run.StatusFailed, false, "")
		mk("r-0000000000000002", run.StatusFailed, true, "")
		mk("r-0000000000000003", run.StatusFailed, false, "r-0000000000000009")
		mk("r-0000000000000004", run.StatusRunning, false, "")
		mk("r-0000000000000005", run.StatusSucceeded, false, "")
		page, _, err := s.List(ctx, dispatch.Query{Unreported: true})
		if err != nil {
			t.Fatalf("List: %v", err)
		}
		var got []string
		for _, r := range page {
			got = append(got, r.ID)
		}
		if fmt.Sprint(got) != "[r-0000000000000005 r-0000000000000001]" {
			t.Errorf("unreported = %v", got)
		}
	})
}

func mustCreate(t *testing.T, s dispatch.RunStore, r run.Run) run.Run {
	t.Helper()
	got, created, err := s.Create(context.Background(), r)
	if err != nil || !created {
		t.Fatalf("Create %s = %v, %v", r.ID, created, err)
	}
	return got
}

// onDemand is a run's capacity (sample's job parameter hides package job).
const onDemand = job.CapacityOnDemand

// sample is a run with every field set.
func sample(id, job, key string, at time.Time) run.Run {
	code, sidecar := 3, 0
	sched := at.Truncate(time.Minute)
	started, stopped, notBefore := at.Add(time.Second), at.Add(time.Minute), at.Add(-time.Second)
	return run.Run{
		ID: id, Job: job, Key: key, Attempt: 2, PreviousRunID: "r-00000000000000ff",
		Trigger: run.Trigger{Kind: run.TriggerSchedule, Schedule: "cron(0 3 * * ? *)", ScheduledTime: &sched},
		Status:  run.StatusQueued, Cause: run.CauseNone, ExitCode: &code, Reason: "exited with code 3",
		Containers: []run.Container{{Name: "app", ExitCode: &code, Reason: "x"}, {Name: "log-router", ExitCode: &sidecar}, {Name: "init"}},
		TaskRef:    "arn:aws:ecs:us-east-1:111122223333:task/longshore/abc", TaskVersion: 4,
		StopCode: run.StopCodeSpotInterruption, Capacity: onDemand,
		Env:       map[string]string{"A": "1", "B": "two words"},
		Command:   []string{"report", "--since", "24h"},
		Callback:  &run.Callback{Kind: run.CallbackQueue, Target: "https://sqs.us-east-1.amazonaws.com/111122223333/replies"},
		CreatedAt: at, NotBefore: &notBefore, StartedAt: &started, StoppedAt: &stopped, UpdatedAt: at,
	}
}

func asJSON(r run.Run) string {
	b, _ := json.MarshalIndent(r, "", " ")
	return string(b)
}
