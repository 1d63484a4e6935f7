package api

import (
	"context"
	"math"
	"time"

	"github.com/longshore/longshore/internal/dispatch"
)

// CostWindow is how far back a job's cost is summed.
const CostWindow = 30 * 24 * time.Hour

// A job's cost reads at most CostPages pages of CostPage runs, newest
// first: a job with more runs in the window gets a floor (Job.CostPartial).
const (
	CostPage  = 500
	CostPages = 2
)

// ListPage lists one page of a job's runs, newest first, from cursor ("":
// the first), at most limit; it returns the cursor of the next page ("":
// none).
type ListPage func(ctx context.Context, job, cursor string, limit int) ([]Run, string, error)

// WithCost sets j's cost over the CostWindow before now: the sum of the
// recorded costs of its finished runs created since, listed through list.
// It sets j's LastRun too, when unset and the job has runs: the first run
// listed.
func WithCost(ctx context.Context, j *Job, list ListPage, now time.Time) error {
	since := now.Add(-CostWindow)
	var usd float64
	runs, partial, basis := 0, false, ""
	cursor := ""
	for page := 0; ; page++ {
		if page == CostPages {
			partial = true
			break
		}
		got, next, err := list(ctx, j.Name, cursor, CostPage)
		if err != nil {
			return err
		}
		if page == 0 && len(got) > 0 && j.LastRun == nil {
			// The newest run comes first: the job's last run, for free.
			last := got[0].Summary()
			j.LastRun = &last
		}
		old := false
		for _, r := range got {
			if r.CreatedAt.Before(since) {
				old = true
				break
			}
			if !r.Status.Terminal() || r.CostUSD == nil {
				continue
			}
			usd += *r.CostUSD
			runs++
			if basis == "" {
				basis = r.CostBasis
			}
		}
		if old || next == "" {
			break
		}
		cursor = next
	}
	usd = math.Round(usd*1e6) / 1e6
	j.CostUSD30d, j.CostRuns30d, j.CostPartial, j.CostBasis = &usd, runs, partial, basis
	return nil
}

// listPage lists a page of a job's runs from the handler's store.
func (h *handler) listPage(ctx context.Context, job, cursor string, limit int) ([]Run, string, error) {
	got, next, err := h.o.Runs.List(ctx, dispatch.Query{Job: job, Cursor: cursor, Limit: limit})
	if err != nil {
		return nil, "", err
	}
	out := make([]Run, len(got))
	for i, r := range got {
		out[i] = FromRun(r)
	}
	return out, next, nil
}

func (h *handler) now() time.Time {
	if h.o.Now != nil {
		return h.o.Now()
	}
	return time.Now()
}
