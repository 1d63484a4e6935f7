package api_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/longshore/longshore/internal/api"
	"github.com/longshore/longshore/internal/dispatch"
	"github.com/longshore/longshore/internal/dispatch/fake"
	"github.com/longshore/longshore/internal/job"
	"github.com/longshore/longshore/internal/run"
)

// watchedStore is a fake store that hands each run it writes to those
// watching it (as the local store does), and tells the test when a read
// made while someone watches has returned.
type watchedStore struct {
	*fake.Store
	mu       sync.Mutex
	watching map[string][]chan run.Run
	readSeen chan string // the id of each read made while watched
}

func (s *watchedStore) Watch(id string) (<-chan run.Run, func()) {
	ch := make(chan run.Run, 16)
	s.mu.Lock()
	s.watching[id] = append(s.watching[id], ch)
	s.mu.Unlock()
	return ch, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		delete(s.watching, id)
	}
}

func (s *watchedStore) Get(ctx context.Context, id string) (run.Run, error) {
	r, err := s.Store.Get(ctx, id)
	s.mu.Lock()
	watched := len(s.watching[id]) > 0
	s.mu.Unlock()
	if watched {
		s.readSeen <- id
	}
	return r, err
}

func (s *watchedStore) Create(ctx context.Context, r run.Run) (run.Run, bool, error) {
	got, created, err := s.Store.Create(ctx, r)
	if err == nil && created {
		s.written(got)
	}
	return got, created, err
}

func (s *watchedStore) Update(ctx context.Context, r run.Run) (run.Run, error) {
	got, err := s.Store.Update(ctx, r)
	if err == nil {
		s.written(got)
	}
	return got, err
}

func (s *watchedStore) written(r run.Run) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ch := range s.watching[r.ID] {
		ch <- r
	}
}

func TestAWaitingStartIsAnsweredWhenItsRunEnds(t *testing.T) {
	tests := []struct {
		name     string
		exitCode int
		want     run.Status
	}{
		{"a run that succeeds answers at once, not at the next poll", 0, run.StatusSucceeded},
		{"a run that fails answers at once with its exit code", 7, run.StatusFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec, err := job.Parse([]byte("image: {uri: busybox}\n"), "hello", "jobs/hello/job.yaml")
			if err != nil {
				t.Fatal(err)
			}
			st := &watchedStore{Store: fake.NewStore(), watching: map[string][]chan run.Run{}, readSeen: make(chan string, 16)}
			runner := fake.NewRunner()
			clock := fake.NewClock(time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC))
			n := 0
			svc := dispatch.New(dispatch.Deps{Jobs: catalog{"hello": spec}, Store: st, Runner: runner, Notifier: &fake.Notifier{},
				Now: clock.Now, NewID: func() (string, error) { n++; return fmt.Sprintf("r-%016x", n), nil },
				Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
			// A poll period longer than the test: only the store's word can end the wait.
			srv := httptest.NewServer(api.NewHandler(api.Options{Launcher: svc, Runs: st, Changes: st, Logs: logs{},
				Poll: time.Hour, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}))
			defer srv.Close()
			c, _ := api.NewClient(srv.URL)

			type answer struct {
				r   api.RunResponse
				err error
			}
			answered := make(chan answer, 1)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			go func() {
				r, err := c.Start(ctx, api.RunRequest{Job: "hello", WaitSeconds: 600})
				answered <- answer{r, err}
			}()
			// The request has read its run while watching it: it now waits.
			var id string
			select {
			case id = <-st.readSeen:
			case <-ctx.Done():
				t.Fatal("the waiting request never watched its run")
			}
			if _, ok := runner.Task(id); !ok {
				t.Fatalf("no task was started for run %s", id)
			}
			code := tt.exitCode
			ts := runner.SetState(id, run.TaskState{Phase: run.PhaseStopped, StopCode: run.StopCodeEssentialExited,
				Containers: []run.Container{{Name: "app", ExitCode: &code}}})
			if _, err := svc.Observe(context.Background(), ts); err != nil {
				t.Fatal(err)
			}
			select {
			case a := <-answered:
				if a.err != nil || a.r.Status != tt.want || a.r.ExitCode == nil || *a.r.ExitCode != tt.exitCode {
					t.Errorf("Start with wait = %+v, %v; want %s with exit code %d", a.r.Run, a.err, tt.want, tt.exitCode)
				}
			case <-ctx.Done():
				t.Fatal("the waiting request was not answered when its run ended")
			}
		})
	}
}

func TestAGetThatWaitsIsAnsweredWhenTheRunChangesFromTheStatusItHad(t *testing.T) {
	spec, err := job.Parse([]byte("image: {uri: busybox}\n"), "hello", "jobs/hello/job.yaml")
	if err != nil {
		t.Fatal(err)
	}
	st := &watchedStore{Store: fake.NewStore(), watching: map[string][]chan run.Run{}, readSeen: make(chan string, 16)}
	runner := fake.NewRunner()
	clock := fake.NewClock(time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC))
	svc := dispatch.New(dispatch.Deps{Jobs: catalog{"hello": spec}, Store: st, Runner: runner, Notifier: &fake.Notifier{},
		Now: clock.Now, NewID: func() (string, error) { return "r-0000000000000001", nil },
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	srv := httptest.NewServer(api.NewHandler(api.Options{Launcher: svc, Runs: st, Changes: st, Logs: logs{},
		Poll: time.Hour, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}))
	defer srv.Close()
	c, _ := api.NewClient(srv.URL)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	started, err := c.Start(ctx, api.RunRequest{Job: "hello"})
	if err != nil {
		t.Fatal(err)
	}
	answered := make(chan api.Run, 1)
	go func() {
		r, err := c.GetChanged(ctx, started.ID, started.Status, 50*time.Second)
		if err != nil {
			t.Error(err)
		}
		answered <- r
	}()
	select {
	case <-st.readSeen:
	case <-ctx.Done():
		t.Fatal("the waiting GET never watched its run")
	}
	if _, err := svc.Observe(ctx, runner.SetState(started.ID, run.TaskState{Phase: run.PhaseRunning})); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-answered:
		if r.Status != run.StatusRunning {
			t.Errorf("the waiting GET answered %s, want running", r.Status)
		}
	case <-ctx.Done():
		t.Fatal("the waiting GET was not answered when its run changed")
	}
	for _, bad := range []string{"?waitSeconds=61&status=running", "?waitSeconds=5&status=sleeping", "?waitSeconds=x&status=running"} {
		resp, err := srv.Client().Get(srv.URL + "/v1/runs/" + started.ID + bad)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 400 {
			t.Errorf("GET %s = %d, want 400", bad, resp.StatusCode)
		}
	}
}
