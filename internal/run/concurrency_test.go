package run

import (
	"slices"
	"testing"
	"time"

	"github.com/longshore/longshore/internal/job"
)

func TestReplaceStopsTheOldestRunsBeyondTheBound(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	at := func(id string, min int, s Status) Run {
		return Run{ID: id, Status: s, CreatedAt: t0.Add(time.Duration(min) * time.Minute)}
	}
	oldest, middle, newest := at("r-a", 0, StatusRunning), at("r-b", 1, StatusRunning), at("r-c", 2, StatusQueued)
	cancelling := at("r-d", -1, StatusRunning)
	cancelling.StopReq = StopCancel
	finished := at("r-e", -2, StatusSucceeded)
	max2 := job.Concurrency{Max: 2, Overflow: job.OverflowReplace}

	tests := []struct {
		name   string
		policy job.Concurrency
		active []Run
		want   []string
	}{
		{"replace with nothing active stops nothing", job.ConcurrencyReplace, nil, nil},
		{"replace stops every active run", job.ConcurrencyReplace, []Run{newest, oldest, middle}, []string{"r-a", "r-b", "r-c"}},
		{"runs already being stopped keep their own reason", job.ConcurrencyReplace, []Run{oldest, cancelling}, []string{"r-a"}},
		{"finished runs passed by mistake are left alone", job.ConcurrencyReplace, []Run{finished}, nil},
		{"a bound of two keeps the newest active run", max2, []Run{newest, middle, oldest}, []string{"r-a", "r-b"}},
		{"a bound of two with one active stops nothing", max2, []Run{middle}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Replace(tt.policy, tt.active); !slices.Equal(got, tt.want) {
				t.Errorf("Replace = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestAFullJobSkipsOrQueuesAndSaysWhy(t *testing.T) {
	tests := []struct {
		name     string
		policy   job.Concurrency
		holders  []string
		wantSkip bool
		want     string
	}{
		{"forbid skips and names the active run", job.ConcurrencyForbid, []string{"r-a"}, true,
			"skipped: run r-a is still active and concurrency is forbid"},
		{"a bound with skip names the active runs", job.Concurrency{Max: 2, Overflow: job.OverflowSkip}, []string{"r-b", "r-a"}, true,
			"skipped: runs r-a, r-b are still active and concurrency allows 2 at once"},
		{"a bound with queue waits", job.Concurrency{Max: 2, Overflow: job.OverflowQueue}, []string{"r-a", "r-b"}, false,
			"waiting: runs r-a, r-b are active and concurrency allows 2 at once; starts when one ends"},
		{"many holders are counted, not all named", job.Concurrency{Max: 5, Overflow: job.OverflowQueue}, []string{"r-e", "r-d", "r-c", "r-b", "r-a"}, false,
			"waiting: runs r-a, r-b, r-c and 2 more are active and concurrency allows 5 at once; starts when one ends"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			skip, reason := Full(tt.policy, tt.holders)
			if skip != tt.wantSkip || reason != tt.want {
				t.Errorf("Full = %v %q\nwant   %v %q", skip, reason, tt.wantSkip, tt.want)
			}
		})
	}
}

func TestARunPastTheDeploymentsMaxRunningSaysHowManyRunsAreActive(t *testing.T) {
	tests := []struct {
		name string
		max  int
		want string
	}{
		{"one run", 1, "waiting: 1 run is active in this deployment, its maxRunning; starts when one ends"},
		{"many runs", 50, "waiting: 50 runs are active in this deployment, its maxRunning; starts when one ends"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := DeploymentFull(tt.max); got != tt.want {
				t.Errorf("DeploymentFull(%d) = %q, want %q", tt.max, got, tt.want)
			}
		})
	}
}
