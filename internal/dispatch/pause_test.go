package dispatch_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/longshore/longshore/internal/dispatch"
	"github.com/longshore/longshore/internal/job"
	"github.com/longshore/longshore/internal/run"
)

func TestPausedAndDecide(t *testing.T) {
	at := mondayMorning()
	free := &job.Spec{Name: "a"}
	filePaused := &job.Spec{Name: "a", Paused: true}
	for _, tc := range []struct {
		name  string
		spec  *job.Spec
		p     dispatch.Pause
		found bool
		want  dispatch.PauseState
	}{
		{"nothing says paused", free, dispatch.Pause{}, false, dispatch.PauseState{}},
		{"the job file", filePaused, dispatch.Pause{}, false, dispatch.PauseState{Paused: true, Reason: "paused: true in a/job.yaml"}},
		{"a runtime pause", free, dispatch.Pause{Paused: true, Reason: "db upgrade", At: at}, true, dispatch.PauseState{Paused: true, Reason: "db upgrade", Since: at}},
		{"a runtime resume", free, dispatch.Pause{Paused: false, At: at}, true, dispatch.PauseState{}},
		{"a runtime resume of a job deployed paused", filePaused, dispatch.Pause{Paused: false, At: at, FilePaused: true}, true, dispatch.PauseState{}},
		{"a runtime pause, then a deploy with paused: false", free,
			dispatch.Pause{Paused: true, At: at, FilePaused: true}, true, dispatch.PauseState{}},
		{"a runtime resume, then a deploy with paused: true", filePaused,
			dispatch.Pause{Paused: false, At: at, FilePaused: false}, true, dispatch.PauseState{Paused: true, Reason: "paused: true in a/job.yaml"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := dispatch.Paused(tc.spec, tc.p, tc.found); got != tc.want {
				t.Errorf("Paused = %+v, want %+v", got, tc.want)
			}
		})
	}

	paused := dispatch.PauseState{Paused: true}
	for _, tc := range []struct {
		st   dispatch.PauseState
		kind run.TriggerKind
		want dispatch.PauseAction
	}{
		{dispatch.PauseState{}, run.TriggerSchedule, dispatch.PauseLaunch},
		{dispatch.PauseState{}, run.TriggerSQS, dispatch.PauseLaunch},
		{dispatch.PauseState{}, run.TriggerInvoke, dispatch.PauseLaunch},
		{paused, run.TriggerSchedule, dispatch.PauseIgnore},
		{paused, run.TriggerS3, dispatch.PauseRecord},
		{paused, run.TriggerSQS, dispatch.PauseRecord},
		{paused, run.TriggerInvoke, dispatch.PauseRecord},
		{paused, run.TriggerAfter, dispatch.PauseRecord},
	} {
		if got := dispatch.Decide(tc.st, tc.kind); got != tc.want {
			t.Errorf("Decide(paused %v, %s) = %v, want %v", tc.st.Paused, tc.kind, got, tc.want)
		}
	}
	if got := dispatch.PausedReason(dispatch.PauseState{Paused: true, Reason: "db upgrade"}); got != "did not start: job paused (db upgrade)" {
		t.Errorf("PausedReason = %q", got)
	}
}

type memPauses struct {
	mu    sync.Mutex
	m     map[string]dispatch.Pause
	reads int
}

func (m *memPauses) GetPause(_ context.Context, name string) (dispatch.Pause, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.reads++
	p, ok := m.m[name]
	return p, ok, nil
}

func (m *memPauses) SetPause(_ context.Context, p dispatch.Pause) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.m == nil {
		m.m = map[string]dispatch.Pause{}
	}
	m.m[p.Job] = p
	return nil
}

func pausedWorld(t *testing.T, pauses dispatch.PauseStore) *world {
	w := newWorld(t, map[string]string{"hello": hello})
	w.svc = dispatch.New(dispatch.Deps{
		Jobs: w.catalog, Store: w.store, Runner: w.runner, Notifier: w.notes, Now: w.clock.Now,
		NewID: w.newID, Pauses: pauses, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	return w
}

func TestAPausedJobRecordsItsTriggersWithoutStartingAndItsSchedulesDoNotFire(t *testing.T) {
	w := pausedWorld(t, &memPauses{})
	if _, err := w.svc.Pause(ctx, "hello", true, "db upgrade"); err != nil {
		t.Fatal(err)
	}
	msg := dispatch.Request{Job: "hello", Trigger: run.Trigger{Kind: run.TriggerSQS, MessageID: "m-1", Body: strings.Repeat("x", 100)}}
	got, err := w.svc.Launch(ctx, msg)
	if err != nil || got.Run.Status != run.StatusCancelled || got.Run.Reason != "did not start: job paused (db upgrade)" || got.Run.Trigger.Body == "" {
		t.Fatalf("SQS while paused = %+v, %v", got.Run, err)
	}
	inv := w.launch(invoke("hello", ""))
	if inv.Status != run.StatusCancelled {
		t.Errorf("invoke while paused: %s", inv.Status)
	}
	at := mondayMorning()
	sched := dispatch.Request{Job: "hello", Trigger: run.Trigger{Kind: run.TriggerSchedule, ScheduledTime: &at}}
	all, errs := w.svc.LaunchAll(ctx, []dispatch.Request{sched}, 1)
	if errs[0] != nil || !all[0].Paused || all[0].Run.ID != "" {
		t.Errorf("schedule while paused = %+v, %v", all[0], errs[0])
	}
	if r, err := w.svc.Skip(ctx, sched, "missed"); err != nil || r.ID != "" {
		t.Errorf("missed schedule while paused = %+v, %v", r, err)
	}
	if n := len(w.store.Runs()); n != 2 || w.runner.Count() != 0 || len(w.notes.Reports()) != 2 {
		t.Fatalf("%d runs, %d tasks, %d reports; want 2 runs, no task, 2 reports", n, w.runner.Count(), len(w.notes.Reports()))
	}

	if _, err := w.svc.Pause(ctx, "hello", false, ""); err != nil {
		t.Fatal(err)
	}
	// The same message again is the run already recorded: nothing replays.
	again, err := w.svc.Launch(ctx, msg)
	if err != nil || !again.Duplicate || again.Run.Status != run.StatusCancelled || w.runner.Count() != 0 {
		t.Errorf("the paused message again = %+v, %v; %d tasks", again, err, w.runner.Count())
	}
	if r := w.launch(invoke("hello", "")); r.Status != run.StatusStarting || w.runner.Count() != 1 {
		t.Errorf("invoke after resume: %s, %d tasks", r.Status, w.runner.Count())
	}
}

func TestCachedPausesReadsOncePerTTL(t *testing.T) {
	store := &memPauses{}
	now := mondayMorning()
	c := &dispatch.CachedPauses{Store: store, TTL: 10 * time.Second, Now: func() time.Time { return now }}
	for range 5 {
		c.GetPause(ctx, "hello")
	}
	now = now.Add(11 * time.Second)
	c.GetPause(ctx, "hello")
	if store.reads != 2 {
		t.Errorf("%d reads, want 2", store.reads)
	}
	c.SetPause(ctx, dispatch.Pause{Job: "hello", Paused: true})
	if p, _, _ := c.GetPause(ctx, "hello"); !p.Paused || store.reads != 3 {
		t.Errorf("after SetPause: %+v, %d reads", p, store.reads)
	}
}
