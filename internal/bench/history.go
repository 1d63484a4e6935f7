package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/longshore/longshore/internal/api"
	"github.com/longshore/longshore/internal/local/store"
	"github.com/longshore/longshore/internal/run"
)

// historyJobs are the catalog of the history measurements: trivial for the
// throughput rounds, minutely for a year of once-a-minute history, and a
// few quiet jobs beside them, as a catalog is.
var historyJobs = map[string]string{
	"trivial":  "local: {command: [true]}\n",
	"minutely": "local: {command: [true]}\ntriggers:\n  - schedule: rate(1 minute)\n",
	"weekly":   "local: {command: [true]}\n",
	"hourly":   "local: {command: [true]}\n",
	"adhoc":    "local: {command: [true]}\n",
}

// seedHistory stores n finished, reported runs in a new data folder's
// database, as a long-lived engine would have them: most of the minutely
// job, one a minute back from now, and a few of the quiet jobs. It
// returns the folder.
func seedHistory(ctx context.Context, n int) (string, error) {
	data, err := os.MkdirTemp("", "longshore-bench-data-")
	if err != nil {
		return "", err
	}
	st, err := store.Open(ctx, filepath.Join(data, "longshore.db"))
	if err != nil {
		return data, err
	}
	defer st.Close()
	now := time.Now().UTC()
	const batch = 2000
	zero, one := 0, 1
	quiet := []string{"weekly", "hourly", "adhoc"}
	for start := 0; start < n; start += batch {
		runs := make([]run.Run, 0, batch)
		for i := start; i < min(start+batch, n); i++ {
			jobName := "minutely"
			if i%50 == 0 {
				jobName = quiet[(i/50)%len(quiet)]
			}
			created := now.Add(-time.Duration(n-i) * time.Minute)
			stopped := created.Add(2 * time.Second)
			code, status := &zero, run.StatusSucceeded
			if i%97 == 0 {
				code, status = &one, run.StatusFailed
			}
			id := fmt.Sprintf("r-%016x", uint64(0x5eed000000000000)+uint64(i))
			cost := 0.000011
			runs = append(runs, run.Run{ID: id, Job: jobName, Key: jobName + "/seed/" + id, Attempt: 1,
				Trigger: run.Trigger{Kind: run.TriggerSchedule, ScheduledTime: &created}, Status: status, ExitCode: code,
				Reason: "exited with code " + fmt.Sprint(*code), TaskRef: "pid:" + fmt.Sprint(1000+i%30000),
				CreatedAt: created, UpdatedAt: stopped, StartedAt: &created, StoppedAt: &stopped, Notified: true,
				CostUSD: &cost, CostBasis: "fargate-estimate", CostRegion: "us-east-1"})
		}
		if _, _, errs := st.CreateAll(ctx, runs); errs != nil {
			for _, err := range errs {
				if err != nil {
					return data, fmt.Errorf("seed the history: %w", err)
				}
			}
		}
	}
	return data, nil
}

// History measures the engine with a long history stored: the throughput
// of 1,000 runs with withRuns runs already in the data folder against the
// same on an empty folder (alternating rounds), and, with bigRuns stored,
// how fast `runs --job` (the newest 50) and the dashboard's Jobs page are
// answered and what the engine's memory is.
func History(ctx context.Context, bin string, n, concurrency, rounds, withRuns, bigRuns int) ([]Row, error) {
	jobs, err := writeJobs(historyJobs)
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(jobs)

	seeded, err := seedHistory(ctx, withRuns)
	defer os.RemoveAll(seeded)
	if err != nil {
		return nil, err
	}
	full, err := launchEngineIn(bin, jobs, seeded)
	if err != nil {
		return nil, err
	}
	defer full.stop()
	empty, err := launchEngineIn(bin, jobs, "")
	if err != nil {
		return nil, err
	}
	defer empty.stop()
	var pairs [][2]time.Duration
	for range max(rounds, 1) {
		var pair [2]time.Duration
		for i, e := range []*engine{empty, full} {
			c, err := api.NewClient(e.api)
			if err != nil {
				return nil, err
			}
			if pair[i], err = throughputRound(ctx, c, n, concurrency); err != nil {
				return nil, err
			}
		}
		pairs = append(pairs, pair)
	}
	slices.SortFunc(pairs, func(a, b [2]time.Duration) int { return cmpRatio(a, b) })
	med := pairs[len(pairs)/2]
	r := ratio(med[1], med[0])
	rows := []Row{{
		Name: fmt.Sprintf("flat with history: %d runs of `true`, %d at a time, with %d runs stored (median of %d alternating rounds)",
			n, concurrency, withRuns, len(pairs)),
		Value:    med[1].Round(time.Millisecond).String(),
		Baseline: "empty data folder: " + med[0].Round(time.Millisecond).String(),
		Ratio:    r, Target: "<= 1.05x", Met: r <= 1.05,
	}}
	full.stop()
	empty.stop()

	big, err := seedHistory(ctx, bigRuns)
	defer os.RemoveAll(big)
	if err != nil {
		return rows, err
	}
	e, err := launchEngineIn(bin, jobs, big)
	if err != nil {
		return rows, err
	}
	defer e.stop()
	c, err := api.NewClient(e.api)
	if err != nil {
		return rows, err
	}
	var lists, pages []time.Duration
	for range 100 {
		start := time.Now()
		got, err := c.List(ctx, api.ListOptions{Job: "minutely", Limit: 50})
		if err != nil {
			return rows, err
		}
		if len(got.Runs) != 50 {
			return rows, fmt.Errorf("runs --job minutely listed %d runs, want 50", len(got.Runs))
		}
		lists = append(lists, time.Since(start))
	}
	for range 20 {
		took, err := jobsPage(ctx, c)
		if err != nil {
			return rows, err
		}
		pages = append(pages, took)
	}
	rss := rssKiB(e.pid())
	return append(rows, Row{
		Name:   fmt.Sprintf("history of %d runs: `runs --job J` (newest 50), 100 samples", bigRuns),
		Value:  fmt.Sprintf("p50 %s, p99 %s", percentile(lists, 50).Round(10*time.Microsecond), percentile(lists, 99).Round(10*time.Microsecond)),
		Target: "p99 < 20ms", Met: percentile(lists, 99) < 20*time.Millisecond,
	}, Row{
		Name:   fmt.Sprintf("history of %d runs: the dashboard's Jobs page (GET /v1/jobs and each job's last 24 runs), 20 samples", bigRuns),
		Value:  fmt.Sprintf("p50 %s, p99 %s", percentile(pages, 50).Round(100*time.Microsecond), percentile(pages, 99).Round(100*time.Microsecond)),
		Target: "p99 < 200ms", Met: percentile(pages, 99) < 200*time.Millisecond,
	}, Row{
		Name:   fmt.Sprintf("history of %d runs: engine memory (RSS) after these", bigRuns),
		Value:  fmt.Sprintf("%.1f MiB", float64(rss)/1024),
		Target: "< 100 MiB", Met: rss < 100*1024,
	}), nil
}

// jobsPage asks what the dashboard's Jobs page asks: the catalog, then each
// job's last 24 runs at once.
func jobsPage(ctx context.Context, c *api.Client) (time.Duration, error) {
	start := time.Now()
	jobs, err := c.Jobs(ctx)
	if err != nil {
		return 0, err
	}
	var wg sync.WaitGroup
	errs := make([]error, len(jobs))
	for i, j := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = c.List(ctx, api.ListOptions{Job: j.Name, Limit: 24})
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return 0, err
		}
	}
	return time.Since(start), nil
}

func cmpRatio(a, b [2]time.Duration) int {
	ra, rb := ratio(a[1], a[0]), ratio(b[1], b[0])
	switch {
	case ra < rb:
		return -1
	case ra > rb:
		return 1
	}
	return 0
}
