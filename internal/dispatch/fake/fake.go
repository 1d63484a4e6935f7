// Package fake has in-memory implementations of the dispatch ports for
// tests: a store, a runner whose tasks a test drives, a recording notifier
// and a clock that moves only when told.
package fake

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/longshore/longshore/internal/dispatch"
	"github.com/longshore/longshore/internal/run"
)

var (
	_ dispatch.RunStore   = (*Store)(nil)
	_ dispatch.TaskRunner = (*Runner)(nil)
	_ dispatch.Notifier   = (*Notifier)(nil)
)

// Store keeps runs in memory.
type Store struct {
	mu    sync.Mutex
	runs  map[string]run.Run
	keys  map[string]string
	Limit int // page size; 50 when zero
	// FailNext, when set, is returned by the next call and cleared.
	FailNext error
}

// NewStore returns an empty store.
func NewStore() *Store {
	return &Store{runs: map[string]run.Run{}, keys: map[string]string{}}
}

func (s *Store) fail() error {
	err := s.FailNext
	s.FailNext = nil
	return err
}

// Create implements dispatch.RunStore.
func (s *Store) Create(_ context.Context, r run.Run) (run.Run, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.fail(); err != nil {
		return run.Run{}, false, err
	}
	if id, ok := s.keys[r.Key]; ok {
		return clone(s.runs[id]), false, nil
	}
	if _, ok := s.runs[r.ID]; ok {
		return run.Run{}, false, fmt.Errorf("run id %s is taken", r.ID)
	}
	r.Revision = 1
	s.runs[r.ID] = clone(r)
	s.keys[r.Key] = r.ID
	return clone(r), true, nil
}

// Get implements dispatch.RunStore.
func (s *Store) Get(_ context.Context, id string) (run.Run, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.fail(); err != nil {
		return run.Run{}, err
	}
	r, ok := s.runs[id]
	if !ok {
		return run.Run{}, dispatch.ErrNotFound
	}
	return clone(r), nil
}

// Update implements dispatch.RunStore.
func (s *Store) Update(_ context.Context, r run.Run) (run.Run, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.fail(); err != nil {
		return run.Run{}, err
	}
	old, ok := s.runs[r.ID]
	if !ok {
		return run.Run{}, dispatch.ErrNotFound
	}
	if old.Revision != r.Revision {
		return run.Run{}, dispatch.ErrConflict
	}
	if old.Key != r.Key {
		return run.Run{}, fmt.Errorf("run %s: the idempotency key cannot change", r.ID)
	}
	r.Revision++
	s.runs[r.ID] = clone(r)
	return clone(r), nil
}

// List implements dispatch.RunStore: newest first, by creation time then id.
func (s *Store) List(_ context.Context, q dispatch.Query) ([]run.Run, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.fail(); err != nil {
		return nil, "", err
	}
	var all []run.Run
	for _, r := range s.runs {
		if q.Job != "" && r.Job != q.Job {
			continue
		}
		if len(q.Status) > 0 && !slices.Contains(q.Status, r.Status) {
			continue
		}
		if q.Unreported && (!r.Status.Terminal() || r.Notified || r.NextRunID != "") {
			continue
		}
		all = append(all, r)
	}
	slices.SortFunc(all, func(a, b run.Run) int {
		return cmp.Or(b.CreatedAt.Compare(a.CreatedAt), cmp.Compare(b.ID, a.ID))
	})
	start := 0
	if q.Cursor != "" {
		at, id, err := decodeCursor(q.Cursor)
		if err != nil {
			return nil, "", err
		}
		start = len(all)
		for i, r := range all {
			if r.CreatedAt.Before(at) || (r.CreatedAt.Equal(at) && r.ID < id) {
				start = i
				break
			}
		}
	}
	limit := cmp.Or(q.Limit, s.Limit, 50)
	end := min(start+limit, len(all))
	page := make([]run.Run, 0, end-start)
	for _, r := range all[start:end] {
		page = append(page, clone(r))
	}
	next := ""
	if end < len(all) {
		last := all[end-1]
		next = strconv.FormatInt(last.CreatedAt.UnixNano(), 10) + "/" + last.ID
	}
	return page, next, nil
}

func decodeCursor(c string) (time.Time, string, error) {
	i := slices.Index([]byte(c), '/')
	if i < 0 {
		return time.Time{}, "", fmt.Errorf("bad cursor %q", c)
	}
	ns, err := strconv.ParseInt(c[:i], 10, 64)
	if err != nil {
		return time.Time{}, "", fmt.Errorf("bad cursor %q", c)
	}
	return time.Unix(0, ns), c[i+1:], nil
}

// Runs returns every stored run, oldest first.
func (s *Store) Runs() []run.Run {
	s.mu.Lock()
	defer s.mu.Unlock()
	var all []run.Run
	for _, r := range s.runs {
		all = append(all, clone(r))
	}
	slices.SortFunc(all, func(a, b run.Run) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.Attempt, b.Attempt), cmp.Compare(a.ID, b.ID))
	})
	return all
}

// clone copies a run deeply enough that callers cannot change stored state.
func clone(r run.Run) run.Run {
	r.Containers = slices.Clone(r.Containers)
	r.Command = slices.Clone(r.Command)
	if r.Env != nil {
		env := make(map[string]string, len(r.Env))
		for k, v := range r.Env {
			env[k] = v
		}
		r.Env = env
	}
	return r
}

// Runner is a task runner whose tasks only change when a test says so.
type Runner struct {
	mu    sync.Mutex
	byRun map[string]string
	tasks map[string]*Started
	n     int
	// StartErr, when set, is returned by every Start.
	StartErr error
}

// Started is a task the fake runner started.
type Started struct {
	Ref     string
	Task    dispatch.Task
	Starts  int    // how many Start calls asked for it
	Stopped string // the stop reason, once stopped
	Gone    bool   // Describe answers ErrTaskNotFound
	State   run.TaskState
}

// NewRunner returns a runner with no tasks.
func NewRunner() *Runner {
	return &Runner{byRun: map[string]string{}, tasks: map[string]*Started{}}
}

// Start implements dispatch.TaskRunner, idempotent per run id.
func (f *Runner) Start(_ context.Context, t dispatch.Task) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.StartErr != nil {
		return "", f.StartErr
	}
	if ref, ok := f.byRun[t.Run.ID]; ok {
		f.tasks[ref].Starts++
		return ref, nil
	}
	f.n++
	ref := fmt.Sprintf("task-%d", f.n)
	f.byRun[t.Run.ID] = ref
	f.tasks[ref] = &Started{Ref: ref, Task: t, Starts: 1,
		State: run.TaskState{TaskRef: ref, RunID: t.Run.ID, Phase: run.PhasePending, Version: 1}}
	return ref, nil
}

// Stop implements dispatch.TaskRunner: it records the reason; the test
// reports the stopped task with Observe when it wants.
func (f *Runner) Stop(_ context.Context, ref, reason string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if t, ok := f.tasks[ref]; ok && t.Stopped == "" {
		t.Stopped = reason
	}
	return nil
}

// Describe implements dispatch.TaskRunner.
func (f *Runner) Describe(_ context.Context, ref string) (run.TaskState, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	t, ok := f.tasks[ref]
	if !ok || t.Gone {
		return run.TaskState{}, dispatch.ErrTaskNotFound
	}
	return t.State, nil
}

// Task returns the task started for a run.
func (f *Runner) Task(runID string) (*Started, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	ref, ok := f.byRun[runID]
	if !ok {
		return nil, false
	}
	return f.tasks[ref], true
}

// Count returns how many distinct tasks were started.
func (f *Runner) Count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.tasks)
}

// SetState records what Describe will answer for a run's task, moving its
// version on, and returns it.
func (f *Runner) SetState(runID string, ts run.TaskState) run.TaskState {
	f.mu.Lock()
	defer f.mu.Unlock()
	t := f.tasks[f.byRun[runID]]
	ts.TaskRef, ts.RunID, ts.Version = t.Ref, runID, t.State.Version+1
	t.State = ts
	return ts
}

// Forget makes the runner lose a run's task, as after a host restart.
func (f *Runner) Forget(runID string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tasks[f.byRun[runID]].Gone = true
}

// Notifier records every report.
type Notifier struct {
	mu  sync.Mutex
	got []run.Run
	// Err, when set, is returned (and nothing recorded) until cleared.
	Err error
}

// Notify implements dispatch.Notifier.
func (n *Notifier) Notify(_ context.Context, r run.Run) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.Err != nil {
		return n.Err
	}
	n.got = append(n.got, clone(r))
	return nil
}

// Reports returns the runs reported so far.
func (n *Notifier) Reports() []run.Run {
	n.mu.Lock()
	defer n.mu.Unlock()
	return slices.Clone(n.got)
}

// Clock is a clock that moves only when told.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock stopped at t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock on by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// Throttled is a runner throttled like Fargate launches: a token bucket of
// Rate starts per second holding at most Burst, on the fake clock; of the
// starts it lets through, a share CapacityErrors fails for lack of
// capacity (using Roll, a source of numbers in [0, 1)).
type Throttled struct {
	*Runner
	Clock          *Clock
	Rate, Burst    float64
	CapacityErrors float64
	Roll           func() float64

	mu      sync.Mutex
	tokens  float64
	last    time.Time
	started bool
	// Refused counts the starts refused by the bucket.
	Refused int
}

// Start implements dispatch.TaskRunner.
func (t *Throttled) Start(ctx context.Context, task dispatch.Task) (string, error) {
	t.mu.Lock()
	now := t.Clock.Now()
	if !t.started {
		t.tokens, t.last, t.started = t.Burst, now, true
	}
	t.tokens = min(t.Burst, t.tokens+now.Sub(t.last).Seconds()*t.Rate)
	t.last = now
	if t.tokens < 1 {
		t.Refused++
		t.mu.Unlock()
		return "", &dispatch.StartError{Transient: true, Throttled: true, Reason: "ThrottlingException: Rate exceeded"}
	}
	t.tokens--
	capacity := t.Roll() < t.CapacityErrors
	t.mu.Unlock()
	if capacity {
		return "", &dispatch.StartError{Transient: true, Reason: "Capacity is unavailable at this time"}
	}
	return t.Runner.Start(ctx, task)
}
