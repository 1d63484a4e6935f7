package run

import (
	"testing"
	"time"

	"github.com/longshore/longshore/internal/job"
)

func TestApplyRecordsTheCapacityTheTaskRunsOn(t *testing.T) {
	now := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name      string
		run       Run
		state     TaskState
		want      job.Capacity
		wantApply bool
	}{
		{"a task that says it runs on Spot makes the run's task capacity spot",
			Run{ID: "r1", Status: StatusStarting}, TaskState{Phase: PhaseRunning, Capacity: job.CapacitySpot}, job.CapacitySpot, true},
		{"a task that says nothing leaves the capacity known before",
			Run{ID: "r1", Status: StatusStarting, TaskCapacity: job.CapacityOnDemand}, TaskState{Phase: PhaseRunning}, job.CapacityOnDemand, true},
		{"learning only the capacity is worth storing",
			Run{ID: "r1", Status: StatusRunning, StartedAt: &now}, TaskState{Phase: PhaseRunning, Capacity: job.CapacityOnDemand}, job.CapacityOnDemand, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := Apply(tt.run, tt.state, now)
			if ok != tt.wantApply || got.TaskCapacity != tt.want {
				t.Errorf("Apply = %q, %v; want %q, %v", got.TaskCapacity, ok, tt.want, tt.wantApply)
			}
		})
	}
}
