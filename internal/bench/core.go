package bench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"runtime"
	"sync"
	"time"

	"github.com/longshore/longshore/internal/dispatch"
	"github.com/longshore/longshore/internal/dispatch/fake"
	"github.com/longshore/longshore/internal/job"
	"github.com/longshore/longshore/internal/run"
)

type catalog map[string]*job.Spec

func (c catalog) Get(name string) (*job.Spec, bool) { s, ok := c[name]; return s, ok }

func oneJob(name string) (catalog, error) {
	s, err := job.Parse([]byte("image: {uri: busybox}\n"), name, "jobs/"+name+"/job.yaml")
	if err != nil {
		return nil, err
	}
	return catalog{name: s}, nil
}

// Burst fires n triggers at once at the core services over a runner
// throttled to 20 starts a second (burst 100) with 5% capacity errors, on a
// simulated clock, and drains them with StartDue once a simulated second.
func Burst(ctx context.Context, n int) ([]Row, error) {
	cat, err := oneJob("work")
	if err != nil {
		return nil, err
	}
	store := fake.NewStore()
	store.Limit = 1000
	clock := fake.NewClock(time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC))
	rng := rand.New(rand.NewPCG(7, 7))
	runner := &fake.Throttled{Runner: fake.NewRunner(), Clock: clock, Rate: 20, Burst: 100, CapacityErrors: 0.05, Roll: rng.Float64}
	ids := 0
	svc := dispatch.New(dispatch.Deps{Jobs: cat, Store: store, Runner: runner, Notifier: &fake.Notifier{}, Now: clock.Now,
		NewID: func() (string, error) { ids++; return fmt.Sprintf("r-%016x", ids), nil },
		Log:   slog.New(slog.NewTextHandler(io.Discard, nil))})
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := clock.Now()
	for i := range n {
		req := dispatch.Request{Job: "work", Trigger: run.Trigger{Kind: run.TriggerSQS, MessageID: fmt.Sprintf("m-%d", i)}}
		if l, err := svc.Launch(ctx, req); !dispatch.Stored(l, err) {
			return nil, fmt.Errorf("trigger %d was not stored: %v", i, err)
		}
	}
	var peak uint64
	for runner.Count() < n {
		if clock.Now().Sub(start) > 2*time.Hour {
			return nil, fmt.Errorf("after two simulated hours %d of %d runs had started", runner.Count(), n)
		}
		clock.Advance(time.Second)
		svc.StartDue(ctx)
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		peak = max(peak, m.HeapInuse)
	}
	took := clock.Now().Sub(start)
	// The bucket's bound: the burst at once, then Rate a second; capacity
	// errors use tokens too, so n/(1-share) starts are needed.
	needed := float64(n) / 0.95
	bound := time.Duration((needed - 100) / 20 * float64(time.Second))
	return []Row{{
		Name:     fmt.Sprintf("burst drain: %d triggers, starts throttled at 20/s with 5%% capacity errors (simulated clock)", n),
		Value:    took.String(),
		Baseline: "token bucket's bound: " + bound.Round(time.Second).String(),
		Ratio:    ratio(took, bound), Target: "<= 1.1x", Met: ratio(took, bound) <= 1.1,
	}, {
		Name:  "burst drain: heap in use at its peak, over the heap before the burst",
		Value: fmt.Sprintf("%.1f MiB over %.1f MiB (%d refused starts)", float64(peak-min(peak, before.HeapInuse))/(1<<20), float64(before.HeapInuse)/(1<<20), runner.Refused),
	}}, nil
}

// counting wraps the ports and counts each operation.
type counting struct {
	mu     sync.Mutex
	counts map[string]int
}

func (c *counting) add(op string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.counts[op]++
}

type countingStore struct {
	dispatch.RunStore
	c *counting
}

func (s countingStore) Create(ctx context.Context, r run.Run) (run.Run, bool, error) {
	s.c.add("store.Create")
	return s.RunStore.Create(ctx, r)
}

func (s countingStore) Get(ctx context.Context, id string) (run.Run, error) {
	s.c.add("store.Get")
	return s.RunStore.Get(ctx, id)
}

func (s countingStore) Update(ctx context.Context, r run.Run) (run.Run, error) {
	s.c.add("store.Update")
	return s.RunStore.Update(ctx, r)
}

func (s countingStore) List(ctx context.Context, q dispatch.Query) ([]run.Run, string, error) {
	s.c.add("store.List")
	return s.RunStore.List(ctx, q)
}

type countingNotifier struct{ c *counting }

func (n countingNotifier) Notify(context.Context, run.Run) error { n.c.add("notify"); return nil }

// countingPauses counts the reads of a job's pause state: the launcher
// makes one for a lone run (host.PauseCacheTTL spares the next ones).
type countingPauses struct{ c *counting }

func (p countingPauses) GetPause(context.Context, string) (dispatch.Pause, bool, error) {
	p.c.add("pauses.Get")
	return dispatch.Pause{}, false, nil
}

func (p countingPauses) SetPause(context.Context, dispatch.Pause) error { return nil }

// Calls counts the operations one successful run costs the core's ports —
// a direct invoke, then the task's STOPPED event (the only task event the
// deployed rule delivers) — and prices them as the AWS adapters make them.
// integration's TestLambdaASuccessfulRunMakesFiveBillableCallsBeyondRunTask
// counts the same run at the fakes, through the real function binaries.
func Calls(ctx context.Context) ([]Row, error) {
	cat, err := oneJob("work")
	if err != nil {
		return nil, err
	}
	c := &counting{counts: map[string]int{}}
	runner := fake.NewRunner()
	svc := dispatch.New(dispatch.Deps{Jobs: cat, Store: countingStore{fake.NewStore(), c}, Runner: runner,
		Notifier: countingNotifier{c}, Now: time.Now, NewID: func() (string, error) { return "r-0000000000000001", nil },
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Pauses: countingPauses{c}})
	l, err := svc.Launch(ctx, dispatch.Request{Job: "work", Trigger: run.Trigger{Kind: run.TriggerInvoke}})
	if err != nil {
		return nil, err
	}
	code := 0
	stopped := run.TaskState{Phase: run.PhaseStopped, StopCode: run.StopCodeEssentialExited,
		Containers: []run.Container{{Name: "app", ExitCode: &code}}}
	if _, err := svc.Observe(ctx, runner.SetState(l.Run.ID, stopped)); err != nil {
		return nil, err
	}
	// The DynamoDB adapter creates a run whose id derives from its key (as
	// every run the core makes) with one conditional write; every other
	// store operation is one request.
	writes := c.counts["store.Create"] + c.counts["store.Update"]
	reads := c.counts["store.Get"] + c.counts["store.List"] + c.counts["pauses.Get"]
	events := c.counts["notify"]
	invocations := 2 // the launcher, the tracker for the task's end
	calls := writes + reads + events
	// Public us-east-1 prices: DynamoDB on-demand $0.625 per million write
	// units and $0.125 per million read units (a run item is 1-2 KB: two
	// write units a write); EventBridge custom events $1.00 per million;
	// Lambda $0.20 per million requests plus 128 MB x ~50 ms at
	// $0.0000133334 per GB-s (arm64) a call. Step Functions standard: $25 per
	// million state transitions; a runTask.sync workflow with one task
	// state makes 3 (start, task, end).
	lambda := float64(invocations) * (0.20 + 0.125*0.05*13.3334)
	dynamo := float64(writes)*2*0.625 + float64(reads)*0.125
	eventbridge := float64(events) * 1.00
	perMillion := lambda + dynamo + eventbridge
	sfn := 3 * 25.0
	return []Row{{
		Name: "AWS API calls per successful run, beyond RunTask",
		Value: fmt.Sprintf("%d (%d DynamoDB writes, %d read, %d PutEvents), made in %d Lambda invocations (priced below)",
			calls, writes, reads, events, invocations),
		Target: "<= 4", Met: calls <= 4,
	}, {
		Name:     "control-plane cost per million runs",
		Value:    fmt.Sprintf("$%.2f", perMillion),
		Baseline: fmt.Sprintf("Step Functions runTask.sync: $%.2f", sfn),
		Ratio:    perMillion / sfn, Target: "<= 0.1x (10x cheaper)", Met: perMillion/sfn <= 0.1,
	}}, nil
}
