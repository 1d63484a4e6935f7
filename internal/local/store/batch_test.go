package store

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/longshore/longshore/internal/dispatch"
	"github.com/longshore/longshore/internal/dispatch/fake"
	"github.com/longshore/longshore/internal/job"
	"github.com/longshore/longshore/internal/run"
)

func TestCreateAllStoresEachRunAsCreateWould(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	at := time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)
	mk := func(id, key string) run.Run {
		return run.Run{ID: id, Key: key, Job: "hello", Status: run.StatusStarting, Attempt: 1, CreatedAt: at, UpdatedAt: at}
	}
	held, _, err := s.Create(ctx, mk("r-0000000000000001", "held"))
	if err != nil {
		t.Fatal(err)
	}
	runs := []run.Run{
		mk("r-0000000000000002", "new-1"),
		mk("r-0000000000000009", "held"),  // the key is taken: the run holding it comes back
		mk("r-0000000000000001", "other"), // the id is taken by another key: an error for this run alone
		mk("r-0000000000000003", "new-2"),
	}
	got, created, errs := s.CreateAll(ctx, runs)
	want := []struct {
		id      string
		created bool
		err     string
	}{
		{"r-0000000000000002", true, ""}, {held.ID, false, ""}, {"", false, "id is taken"}, {"r-0000000000000003", true, ""},
	}
	for i, w := range want {
		if got[i].ID != w.id || created[i] != w.created || (errs[i] == nil) != (w.err == "") ||
			(errs[i] != nil && !strings.Contains(errs[i].Error(), w.err)) {
			t.Errorf("run %d: %s created %v err %v; want %s created %v err %q", i, got[i].ID, created[i], errs[i], w.id, w.created, w.err)
		}
	}
	for _, id := range []string{"r-0000000000000002", "r-0000000000000003"} {
		if r, err := s.Get(ctx, id); err != nil || r.Revision != 1 {
			t.Errorf("Get %s = revision %d, %v", id, r.Revision, err)
		}
	}
	if _, err := s.Get(ctx, "r-0000000000000009"); err == nil {
		t.Error("the duplicate of a held key was stored")
	}
}

// BenchmarkLaunchAllOfAMinute stores and starts the runs of 1,000
// schedules due in the same minute, as the scheduler does (the runner is
// the in-memory fake: this measures the store and the core).
func BenchmarkLaunchAllOfAMinute(b *testing.B) {
	ctx := context.Background()
	s := newStore(b)
	cat := jobsCatalog{}
	for i := range 1000 {
		name := fmt.Sprintf("tick-%04d", i)
		spec, err := job.Parse([]byte("local: {command: [true]}\n"), name, "jobs/"+name+"/job.yaml")
		if err != nil {
			b.Fatal(err)
		}
		cat[name] = spec
	}
	svc := dispatch.New(dispatch.Deps{Jobs: cat, Store: s, Runner: fake.NewRunner(), Notifier: &fake.Notifier{},
		Now: time.Now, NewID: func() (string, error) { return "r-0000000000000001", nil },
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	at := time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)
	for b.Loop() {
		at = at.Add(time.Minute)
		reqs := make([]dispatch.Request, 0, len(cat))
		for name := range cat {
			t := at
			reqs = append(reqs, dispatch.Request{Job: name, Trigger: run.Trigger{Kind: run.TriggerSchedule, Schedule: "rate(1 minute)", ScheduledTime: &t}})
		}
		if _, errs := svc.LaunchAll(ctx, reqs, 16); errs[0] != nil {
			b.Fatal(errs[0])
		}
	}
}

type jobsCatalog map[string]*job.Spec

func (c jobsCatalog) Get(name string) (*job.Spec, bool) { s, ok := c[name]; return s, ok }
