package engine

import (
	"context"

	"github.com/longshore/longshore/internal/api"
	"github.com/longshore/longshore/internal/local/scheduler"
)

// backfiller serves the runs API's backfill with the engine's scheduler:
// the requests of a backfill are those the scheduler sends when a time is
// due, through the same dispatch service.
func backfiller(s *scheduler.Scheduler) api.BackfillFunc {
	return func(ctx context.Context, job string, req api.BackfillRequest) (api.BackfillResponse, error) {
		b, err := s.Backfill(ctx, job, req.From, req.To, req.DryRun)
		if err != nil {
			return api.BackfillResponse{}, err
		}
		return api.BackfillAnswer(job, req, b.Times, b.Runs, b.Errs), nil
	}
}
