package ecs_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/longshore/longshore/internal/job"
)

func TestStartPutsARunOnTheCapacityItIsMarkedFor(t *testing.T) {
	const spotStrategy = "[map[capacityProvider:FARGATE_SPOT weight:1]]"
	noCapacity := ok(map[string]any{"failures": []any{map[string]any{"reason": "Capacity is unavailable at this time. Please try again later or in a different availability zone"}}})
	tests := []struct {
		name       string
		capacity   job.Capacity // the job's
		marked     job.Capacity // the run's
		answers    []answer
		launchType []any // of each RunTask call; nil for a capacity provider strategy
		tokens     []any
	}{
		{"a retry of a spot-then-on-demand job marked on-demand starts on FARGATE with no capacity provider, under its own id",
			job.CapacitySpotThenOnDemand, job.CapacityOnDemand, []answer{started()},
			[]any{"FARGATE"}, []any{"r-0000000000000001"}},
		{"a run marked on-demand never tries Spot, even when ECS has no capacity for a moment",
			job.CapacitySpotThenOnDemand, job.CapacityOnDemand, []answer{noCapacity, started()},
			[]any{"FARGATE", "FARGATE"}, []any{"r-0000000000000001", "r-0000000000000001"}},
		{"an unmarked run of a spot-then-on-demand job tries Spot first",
			job.CapacitySpotThenOnDemand, "", []answer{started()},
			[]any{nil}, []any{"r-0000000000000001"}},
		{"an unmarked run of a spot job stays on Spot",
			job.CapacitySpot, "", []answer{started()},
			[]any{nil}, []any{"r-0000000000000001"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t)
			r.ecs.On("RunTask", tt.answers...)
			tk := task(spec(t, "thumbnail", helloYAML+"capacity: "+string(tt.capacity)+"\n"), nil)
			tk.Run.Capacity, tk.Run.Attempt = tt.marked, 2
			ref, err := r.runner.Start(r.withDeadline(t, time.Minute), tk)
			if err != nil || ref == "" {
				t.Fatalf("Start = %q, %v", ref, err)
			}
			calls := r.ecs.Calls("RunTask")
			if len(calls) != len(tt.launchType) {
				t.Fatalf("%d RunTask calls, want %d", len(calls), len(tt.launchType))
			}
			for i, c := range calls {
				strategy := c.Body["capacityProviderStrategy"]
				if c.Body["launchType"] != tt.launchType[i] || c.Body["clientToken"] != tt.tokens[i] {
					t.Errorf("call %d: launchType %v, token %v; want %v, %v", i, c.Body["launchType"], c.Body["clientToken"], tt.launchType[i], tt.tokens[i])
				}
				switch {
				case tt.launchType[i] != nil && strategy != nil:
					t.Errorf("call %d: capacityProviderStrategy %v beside a launch type", i, strategy)
				case tt.launchType[i] == nil && fmt.Sprint(strategy) != spotStrategy:
					t.Errorf("call %d: capacityProviderStrategy %v, want %s", i, strategy, spotStrategy)
				}
			}
		})
	}
}
