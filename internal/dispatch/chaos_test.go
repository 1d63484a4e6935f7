package dispatch_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/longshore/longshore/internal/dispatch"
	"github.com/longshore/longshore/internal/dispatch/fake"
	"github.com/longshore/longshore/internal/job"
	"github.com/longshore/longshore/internal/run"
)

// errThrottled stands for a store or runner answering "slow down".
var errThrottled = errors.New("ThrottlingException: Rate exceeded")

// flakyStore fails a share of calls the way a throttled DynamoDB does.
type flakyStore struct {
	*fake.Store
	mu   sync.Mutex
	rng  *rand.Rand
	rate float64
}

func (s *flakyStore) fail() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rng.Float64() < s.rate
}

func (s *flakyStore) Create(ctx context.Context, r run.Run) (run.Run, bool, error) {
	if s.fail() {
		return run.Run{}, false, errThrottled
	}
	return s.Store.Create(ctx, r)
}

func (s *flakyStore) Update(ctx context.Context, r run.Run) (run.Run, error) {
	if s.fail() {
		return run.Run{}, errThrottled
	}
	got, err := s.Store.Update(ctx, r)
	if err == nil && s.fail() {
		// The write happened but its answer was lost.
		return run.Run{}, errThrottled
	}
	return got, err
}

func (s *flakyStore) Get(ctx context.Context, id string) (run.Run, error) {
	if s.fail() {
		return run.Run{}, errThrottled
	}
	return s.Store.Get(ctx, id)
}

// flakyRunner throttles starts, loses some answers of starts that
// happened, and fails some for lack of capacity.
type flakyRunner struct {
	*fake.Runner
	mu                       sync.Mutex
	rng                      *rand.Rand
	throttle, lost, capacity float64
}

func (f *flakyRunner) roll() float64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.rng.Float64()
}

func (f *flakyRunner) Start(ctx context.Context, t dispatch.Task) (string, error) {
	p := f.roll()
	switch {
	case p < f.throttle:
		return "", &dispatch.StartError{Transient: true, Throttled: true, Reason: "ThrottlingException: Rate exceeded"}
	case p < f.throttle+f.capacity:
		return "", &dispatch.StartError{Transient: true, Reason: "Capacity is unavailable at this time. Please try again later or in a different availability zone"}
	}
	ref, err := f.Runner.Start(ctx, t)
	if err == nil && p < f.throttle+f.capacity+f.lost {
		// RunTask started the task but its answer never came back.
		return "", fmt.Errorf("read RunTask answer: %w", io.ErrUnexpectedEOF)
	}
	return ref, err
}

// TestEveryTriggerEndsInExactlyOneRunUnderFaults fires triggers (each
// delivered up to three times) at the services over a store and a runner
// that throttle, lose answers and run out of capacity, delivers the task
// events shuffled, duplicated or not at all, and reconciles on a simulated
// clock until everything settles. Then every trigger has exactly one run
// chain, every run has at most one task, every chain has ended, and every
// chain's outcome was reported.
func TestEveryTriggerEndsInExactlyOneRunUnderFaults(t *testing.T) {
	for _, seed := range []uint64{1, 2, 3, 4, 5} {
		t.Run(fmt.Sprintf("seed %d", seed), func(t *testing.T) { chaos(t, seed, 300) })
	}
}

func chaos(t *testing.T, seed uint64, triggers int) {
	rng := rand.New(rand.NewPCG(seed, seed))
	flaky := "image: {uri: busybox}\nretries: {attempts: 3, exitCodes: [75], backoff: 10s}\ntimeout: 1h\n"
	forbid := "image: {uri: busybox}\nconcurrency: forbid\n"
	cat := catalog{}
	for name, y := range map[string]string{"flaky": flaky, "forbid": forbid} {
		s, err := job.Parse([]byte(y), name, name)
		if err != nil {
			t.Fatal(err)
		}
		cat[name] = s
	}
	store := &flakyStore{Store: fake.NewStore(), rng: rand.New(rand.NewPCG(seed, 1)), rate: 0.1}
	runner := &flakyRunner{Runner: fake.NewRunner(), rng: rand.New(rand.NewPCG(seed, 2)), throttle: 0.2, lost: 0.05, capacity: 0.05}
	notes := &fake.Notifier{}
	clock := fake.NewClock(mondayMorning())
	n := 0
	svc := dispatch.New(dispatch.Deps{Jobs: cat, Store: store, Runner: runner, Notifier: notes, Now: clock.Now,
		NewID: func() (string, error) { n++; return fmt.Sprintf("r-%016x", n), nil },
		Log:   slog.New(slog.NewTextHandler(io.Discard, nil))})

	// Fire every trigger, redelivering until it is stored (as SQS or
	// Scheduler would), and sometimes once more after that.
	var reqs []dispatch.Request
	for i := range triggers {
		jobName := "flaky"
		if i%10 == 0 {
			jobName = "forbid"
		}
		reqs = append(reqs, dispatch.Request{Job: jobName, Trigger: run.Trigger{Kind: run.TriggerSQS, MessageID: fmt.Sprintf("m-%d", i)}})
	}
	for _, req := range reqs {
		for tries := 0; ; tries++ {
			if tries > 100 {
				t.Fatalf("trigger %s never stored", req.Trigger.MessageID)
			}
			l, err := svc.Launch(context.Background(), req)
			if dispatch.Stored(l, err) && rng.Float64() < 0.8 {
				break
			}
		}
	}

	// Task events: each started task runs and stops; events arrive out of
	// order, twice, or not at all, and the reconciler repairs the rest.
	finish := func() {
		for _, r := range store.Runs() {
			task, ok := runner.Task(r.ID)
			if !ok || r.Status.Terminal() {
				continue
			}
			st, _ := runner.Describe(context.Background(), task.Ref)
			if st.Phase == run.PhaseStopped {
				continue
			}
			code := []int{0, 1, 75, 75}[rng.IntN(4)]
			var events []run.TaskState
			events = append(events, runner.SetState(r.ID, run.TaskState{Phase: run.PhaseRunning}))
			events = append(events, runner.SetState(r.ID, run.TaskState{Phase: run.PhaseStopped, StopCode: run.StopCodeEssentialExited,
				Containers: []run.Container{{Name: "app", ExitCode: &code}}}))
			rng.Shuffle(len(events), func(i, j int) { events[i], events[j] = events[j], events[i] })
			for _, ev := range events {
				for copies := rng.IntN(3); copies > 0; copies-- { // 0, 1 or 2 deliveries
					svc.Observe(context.Background(), ev)
				}
			}
		}
	}
	for round := 0; round < 200; round++ {
		finish()
		clock.Advance(time.Minute)
		svc.Reconcile(context.Background(), dispatch.ReconcileOptions{Quiet: 5 * time.Minute})
		if settled(store.Runs()) {
			break
		}
	}
	store.rate = 0
	runs := store.Runs()
	if !settled(runs) {
		t.Fatalf("not settled after 200 rounds: %s", summary(runs))
	}

	t.Logf("%d triggers: %d runs %s, %d tasks, %d reports", triggers, len(runs), summary(runs), runner.Count(), len(notes.Reports()))

	// Invariants.
	byKey := map[string]int{}
	byID := map[string]run.Run{}
	for _, r := range runs {
		byID[r.ID] = r
		if r.Attempt == 1 {
			byKey[r.Key]++
		}
		if task, ok := runner.Task(r.ID); ok && task.Ref != r.TaskRef && r.TaskRef != "" {
			t.Errorf("run %s records task %s but the runner started %s", r.ID, r.TaskRef, task.Ref)
		}
	}
	if len(byKey) != triggers {
		t.Errorf("%d triggers made %d first attempts", triggers, len(byKey))
	}
	for key, c := range byKey {
		if c != 1 {
			t.Errorf("trigger %s made %d runs", key, c)
		}
	}
	reported := map[string]bool{}
	for _, r := range notes.Reports() {
		reported[r.ID] = true
		if byID[r.ID].NextRunID != "" {
			t.Errorf("run %s was reported although attempt %s followed it", r.ID, byID[r.ID].NextRunID)
		}
	}
	for _, r := range runs {
		if r.NextRunID == "" && !reported[r.ID] {
			t.Errorf("the final attempt %s (%s) was never reported", r.ID, r.Status)
		}
		if r.Status == run.StatusFailed && r.Reason == "" {
			t.Errorf("run %s failed without a reason", r.ID)
		}
	}
}

// settled: every run has ended, its retries included, and been reported.
func settled(runs []run.Run) bool {
	for _, r := range runs {
		if !r.Status.Terminal() || (r.NextRunID == "" && !r.Notified) {
			return false
		}
	}
	return true
}

func summary(runs []run.Run) string {
	count := map[string]int{}
	for _, r := range runs {
		k := string(r.Status)
		if r.Status.Terminal() && r.NextRunID == "" && !r.Notified {
			k += "/unreported"
		}
		count[k]++
	}
	return fmt.Sprint(count)
}

// TestABurstDrainsAtTheThrottleRateWithNothingLostOrDoubled fires a burst of
// triggers at once while starts are throttled to 20 per second with 5%
// capacity errors: every trigger is stored at once, and the queued runs
// drain at the throttle's pace, each started exactly once. `make test` fires
// 1,000; LONGSHORE_BURST=10000 (make reliability) fires the full 10,000.
func TestABurstDrainsAtTheThrottleRateWithNothingLostOrDoubled(t *testing.T) {
	n := 1000
	if v := os.Getenv("LONGSHORE_BURST"); v != "" {
		fmt.Sscan(v, &n)
	}
	w := newWorld(t, map[string]string{"work": "image: {uri: busybox}\n"})
	w.store.Limit = 1000
	rng := rand.New(rand.NewPCG(7, 7))
	br := &fake.Throttled{Runner: w.runner, Clock: w.clock, Rate: 20, Burst: 100, CapacityErrors: 0.05, Roll: rng.Float64}
	svc := dispatch.New(dispatch.Deps{Jobs: w.catalog, Store: w.store, Runner: br, Notifier: w.notes, Now: w.clock.Now,
		NewID: w.newID, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	start := w.clock.Now()
	for i := range n {
		req := dispatch.Request{Job: "work", Trigger: run.Trigger{Kind: run.TriggerSQS, MessageID: fmt.Sprintf("m-%d", i)}}
		if l, err := svc.Launch(context.Background(), req); !dispatch.Stored(l, err) {
			t.Fatalf("trigger %d was not stored: %v", i, err)
		}
	}
	for w.runner.Count() < n {
		if w.clock.Now().Sub(start) > time.Hour {
			t.Fatalf("after an hour %d of %d runs have started", w.runner.Count(), n)
		}
		w.clock.Advance(time.Second)
		if _, err := svc.StartDue(context.Background()); err != nil {
			var se *dispatch.StartError
			if !errors.As(err, &se) {
				t.Fatalf("StartDue: %v", err)
			}
		}
	}
	took := w.clock.Now().Sub(start)
	bound := time.Duration(float64(n-100)/20*float64(time.Second)) + time.Second
	t.Logf("%d runs started in %s of simulated time (the throttle's bound: %s); %d starts refused by the throttle", n, took, bound, br.Refused)
	if runs := w.store.Runs(); len(runs) != n {
		t.Errorf("%d runs for %d triggers", len(runs), n)
	}
	if took > bound*11/10 {
		t.Errorf("draining took %s, more than 1.1x the throttle's bound %s", took, bound)
	}
}
