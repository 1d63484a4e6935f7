package bench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"runtime"
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
