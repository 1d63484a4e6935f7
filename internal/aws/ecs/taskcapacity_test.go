package ecs

import (
	"testing"

	"github.com/longshore/longshore/internal/job"
)

func TestTaskStateSaysWhichCapacityTheTaskRunsOn(t *testing.T) {
	tests := []struct {
		name             string
		provider, launch string
		stopCode         string
		want             job.Capacity
	}{
		{"a task on the FARGATE_SPOT provider runs on Spot", "FARGATE_SPOT", "FARGATE", "", job.CapacitySpot},
		{"a task on the FARGATE provider runs on demand", "FARGATE", "FARGATE", "", job.CapacityOnDemand},
		{"a task of launch type FARGATE without a provider runs on demand", "", "FARGATE", "", job.CapacityOnDemand},
		{"a task that Spot interrupted ran on Spot, whatever else it says", "", "FARGATE", "SpotInterruption", job.CapacitySpot},
		{"a task that says neither leaves the capacity unknown", "", "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := TaskStateChange{Detail: TaskDetail{TaskARN: "arn", LastStatus: "RUNNING", CapacityProviderName: tt.provider, LaunchType: tt.launch, StopCode: tt.stopCode}}
			if got := ev.TaskState("").Capacity; got != tt.want {
				t.Errorf("Capacity = %q, want %q", got, tt.want)
			}
		})
	}
}
