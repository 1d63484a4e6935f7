package remoteapi

import (
	"context"
	"sync"
	"time"

	"github.com/longshore/longshore/internal/api"
)

// WithCosts sets each job's cost over the last 30 days (api.WithCost),
// asking the deployment for all jobs at once. On an error it returns the
// name of a job whose runs could not be listed.
func WithCosts(ctx context.Context, dep RunLister, jobs []api.Job, now time.Time) (string, error) {
	list := func(ctx context.Context, job, cursor string, limit int) ([]api.Run, string, error) {
		got, err := dep.List(ctx, api.ListOptions{Job: job, Cursor: cursor, Limit: limit})
		return got.Runs, got.Next, err
	}
	errs := make([]error, len(jobs))
	var wg sync.WaitGroup
	for i := range jobs {
		wg.Go(func() { errs[i] = api.WithCost(ctx, &jobs[i], list, now) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			return jobs[i].Name, err
		}
	}
	return "", nil
}
