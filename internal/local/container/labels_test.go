package container

import (
	"maps"
	"testing"

	"github.com/longshore/longshore/internal/dispatch"
	"github.com/longshore/longshore/internal/job"
	"github.com/longshore/longshore/internal/run"
)

func TestARunsContainerCarriesTheJobsTagsBesideLongshoresLabels(t *testing.T) {
	tests := []struct {
		name string
		tags map[string]string
		want map[string]string
	}{
		{"a job without tags has Longshore's labels only", nil,
			map[string]string{labelRun: "r-0000000000000001", labelJob: "report", labelAttempt: "2", labelOwner: "me"}},
		{"each tag becomes a longshore.tag. label", map[string]string{"team": "reporting", "cost-center": "4711"},
			map[string]string{labelRun: "r-0000000000000001", labelJob: "report", labelAttempt: "2", labelOwner: "me",
				"longshore.tag.team": "reporting", "longshore.tag.cost-center": "4711"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := &job.Spec{Name: "report", Tags: tt.tags}
			got := labels(dispatch.Task{Run: run.Run{ID: "r-0000000000000001", Attempt: 2}}, spec, "me")
			if !maps.Equal(got, tt.want) {
				t.Errorf("labels = %v, want %v", got, tt.want)
			}
		})
	}
}
