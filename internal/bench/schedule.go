package bench

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/longshore/longshore/internal/api"
	"github.com/longshore/longshore/internal/local/scheduler"
)

// Firing puts every job of an n-job catalog on rate(1 minute), waits for
// the next minute, and measures how late each schedule fired (its run was
// recorded: the trigger) and each run's process started, after the
// scheduled minute. The starts are set beside the same n processes started
// by `xargs -P` at the scheduler's parallelism: n forks take their time.
func Firing(ctx context.Context, bin string, n int) ([]Row, error) {
	files := map[string]string{}
	for i := range n {
		files[fmt.Sprintf("tick-%04d", i)] = "local: {command: [true]}\ntriggers:\n  - schedule: rate(1 minute)\n"
	}
	e, c, err := startEngine(bin, files)
	if err != nil {
		return nil, err
	}
	defer e.stop()
	deadline := time.Now().Add(2*time.Minute + 30*time.Second)
	var fired, started []time.Duration
	for time.Now().Before(deadline) {
		fired, started = fired[:0], started[:0]
		var scheduled time.Time
		runs, err := allRuns(ctx, c)
		if err != nil {
			return nil, err
		}
		for _, r := range runs {
			if r.Trigger.ScheduledTime == nil || r.StartedAt == nil {
				continue
			}
			if scheduled.IsZero() || r.Trigger.ScheduledTime.Before(scheduled) {
				scheduled = *r.Trigger.ScheduledTime
			}
		}
		for _, r := range runs {
			if r.Trigger.ScheduledTime != nil && r.StartedAt != nil && r.Trigger.ScheduledTime.Equal(scheduled) {
				fired = append(fired, r.CreatedAt.Sub(scheduled))
				started = append(started, r.StartedAt.Sub(scheduled))
			}
		}
		if len(started) == n {
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	if len(started) < n {
		return nil, fmt.Errorf("%d of %d schedules fired in one minute", len(started), n)
	}
	xargs := exec.CommandContext(ctx, "xargs", "-P", fmt.Sprint(scheduler.Parallel), "-n", "1", "true")
	xargs.Stdin = strings.NewReader(strings.Repeat("x\n", n))
	xstart := time.Now()
	if err := xargs.Run(); err != nil {
		return nil, fmt.Errorf("xargs: %w", err)
	}
	floor := time.Since(xstart)
	p99 := percentile(fired, 99)
	s99 := percentile(started, 99)
	return []Row{{
		Name:   fmt.Sprintf("schedule firing error: %d jobs on rate(1 minute), one minute, run recorded", n),
		Value:  fmt.Sprintf("p50 %s, p99 %s", percentile(fired, 50).Round(100*time.Microsecond), p99.Round(100*time.Microsecond)),
		Target: "p99 <= 50ms", Met: p99 <= 50*time.Millisecond,
	}, {
		Name:     fmt.Sprintf("schedule start error: the same %d runs, process started", n),
		Value:    fmt.Sprintf("p50 %s, p99 %s", percentile(started, 50).Round(time.Millisecond), s99.Round(time.Millisecond)),
		Baseline: fmt.Sprintf("xargs -P %d of %d `true`: %s", scheduler.Parallel, n, floor.Round(time.Millisecond)),
		Ratio:    ratio(s99, floor),
	}}, nil
}

func allRuns(ctx context.Context, c *api.Client) ([]api.Run, error) {
	var out []api.Run
	o := api.ListOptions{Limit: 1000}
	for {
		page, err := c.List(ctx, o)
		if err != nil {
			return nil, err
		}
		out = append(out, page.Runs...)
		if page.Next == "" {
			return out, nil
		}
		o.Cursor = page.Next
	}
}

// Memory measures the engine's resident memory with `queued` runs waiting
// (each the second attempt of a run that failed, due an hour later),
// `running` runs going, and as many finished runs stored as were queued.
func Memory(ctx context.Context, bin string, queued, running int) ([]Row, error) {
	e, c, err := startEngine(bin, map[string]string{
		"failing": "local: {command: [\"false\"]}\nretries: {attempts: 2, backoff: 1h, exitCodes: [1]}\n",
		"sleeper": "local: {command: [sleep, '600']}\n",
	})
	if err != nil {
		return nil, err
	}
	defer e.stop()
	idle := rssKiB(e.pid())
	var wg sync.WaitGroup
	work := make(chan struct{})
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range work {
				c.Start(ctx, api.RunRequest{Job: "failing"})
			}
		}()
	}
	for range queued {
		work <- struct{}{}
	}
	close(work)
	wg.Wait()
	for range running {
		if _, err := c.Start(ctx, api.RunRequest{Job: "sleeper"}); err != nil {
			return nil, err
		}
	}
	count := func(job, status string) (int, error) {
		n, o := 0, api.ListOptions{Job: job, Status: []string{status}, Limit: 1000}
		for {
			page, err := c.List(ctx, o)
			if err != nil {
				return 0, err
			}
			n += len(page.Runs)
			if page.Next == "" {
				return n, nil
			}
			o.Cursor = page.Next
		}
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		q, err := count("failing", "queued")
		if err != nil {
			return nil, err
		}
		r, err := count("sleeper", "running")
		if err != nil {
			return nil, err
		}
		if q == queued && r == running {
			break
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("%d queued and %d running after 2 minutes, want %d and %d", q, r, queued, running)
		}
		time.Sleep(100 * time.Millisecond)
	}
	busy := rssKiB(e.pid())
	return []Row{{
		Name:  fmt.Sprintf("engine memory (RSS) with %d runs queued, %d running and %d finished", queued, running, queued),
		Value: fmt.Sprintf("%.1f MiB (idle: %.1f MiB)", float64(busy)/1024, float64(idle)/1024),
	}}, nil
}
