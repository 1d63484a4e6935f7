package remote

import (
	"context"

	"github.com/longshore/longshore/internal/aws/handler"
	"github.com/longshore/longshore/internal/deploy"
)

// Schedule hands the launcher a schedule payload, as EventBridge Scheduler
// does when a schedule fires, and returns the run it made or found: the
// run's idempotency key is the job and the scheduled minute, whoever sends it.
func (c *Client) Schedule(ctx context.Context, p deploy.SchedulePayload) (handler.LaunchResult, error) {
	var out handler.LaunchResult
	err := c.invoke(ctx, "launcher", p, &out)
	return out, err
}
