package cost

import (
	"testing"
	"time"

	"github.com/longshore/longshore/internal/job"
	"github.com/longshore/longshore/internal/run"
)

func TestEstimate(t *testing.T) {
	p, _ := For("us-east-1")
	small := Task{CPU: 256, Memory: 512, Architecture: job.ArchitectureX86_64}
	oneVCPU := Task{CPU: 1024, Memory: 2048, Architecture: job.ArchitectureX86_64, Ran: time.Hour}
	with := func(t Task, change func(*Task)) Task { change(&t); return t }
	tests := []struct {
		name string
		task Task
		want float64
	}{
		// 0.25 x 0.04048 + 0.5 x 0.004445 = $0.0123425 an hour.
		{"a task that ran 10 seconds is billed its minimum minute", with(small, func(t *Task) { t.Ran = 10 * time.Second }), 0.000206}, // 0.0123425 / 60 = 0.00020571
		{"a task that ran exactly a minute is billed a minute", with(small, func(t *Task) { t.Ran = time.Minute }), 0.000206},
		{"after the first minute every started second is billed", with(small, func(t *Task) { t.Ran = 90*time.Second + 200*time.Millisecond }), 0.000312}, // 91 s: 0.0123425 x 91 / 3600 = 0.00031199
		{"a task that never started costs nothing", with(small, func(t *Task) { t.Ran = 0 }), 0},
		{"a stop before the start costs nothing", with(small, func(t *Task) { t.Ran = -time.Second }), 0},
		{"one x86_64 vCPU and 2 GB for an hour cost their hourly prices", oneVCPU, 0.04937},                                                                  // 0.04048 + 2 x 0.004445
		{"arm64 is priced at its own rates", with(oneVCPU, func(t *Task) { t.Architecture = job.ArchitectureARM64 }), 0.0395},                                // 0.03238 + 2 x 0.00356
		{"Fargate Spot is estimated at 70% off on-demand", with(oneVCPU, func(t *Task) { t.Spot = true }), 0.014811},                                         // 0.04937 x 0.3
		{"storage up to 20 GiB is included", with(oneVCPU, func(t *Task) { t.Storage = 20 }), 0.04937},                                                       //
		{"storage beyond 20 GiB is charged per GB-hour", with(oneVCPU, func(t *Task) { t.Storage = 50 }), 0.0527},                                            // 0.04937 + 30 x 0.000111
		{"Spot takes nothing off storage", with(oneVCPU, func(t *Task) { t.Spot = true; t.Storage = 50 }), 0.018141},                                         // 0.014811 + 0.00333
		{"a large arm64 task for two and a half hours", Task{CPU: 4096, Memory: 16384, Architecture: job.ArchitectureARM64, Ran: 150 * time.Minute}, 0.4662}, // (4 x 0.03238 + 16 x 0.00356) x 2.5
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Estimate(tt.task, p); got != tt.want {
				t.Errorf("Estimate(%+v) = %v, want %v", tt.task, got, tt.want)
			}
		})
	}
}

func TestBilled(t *testing.T) {
	tests := []struct {
		name string
		ran  time.Duration
		want time.Duration
	}{
		{"nothing ran, nothing is billed", 0, 0},
		{"a blink is billed a minute", time.Millisecond, time.Minute},
		{"59.001 seconds are billed a minute", 59*time.Second + time.Millisecond, time.Minute},
		{"61.5 seconds are billed 62", 61500 * time.Millisecond, 62 * time.Second},
		{"whole seconds are billed as they are", 125 * time.Second, 125 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Billed(tt.ran); got != tt.want {
				t.Errorf("Billed(%v) = %v, want %v", tt.ran, got, tt.want)
			}
		})
	}
}

func TestFor(t *testing.T) {
	tests := []struct {
		name, region, wantRegion string
		wantOK                   bool
	}{
		{"us-east-1 has its own prices", "us-east-1", "us-east-1", true},
		{"a Region not in the table gets us-east-1's, and says so", "eu-west-1", "us-east-1", false},
		{"no Region gets us-east-1's", "", "us-east-1", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, ok := For(tt.region)
			if p.Region != tt.wantRegion || ok != tt.wantOK {
				t.Errorf("For(%q) = %s, %v; want %s, %v", tt.region, p.Region, ok, tt.wantRegion, tt.wantOK)
			}
		})
	}
}

func TestTaskOf(t *testing.T) {
	start := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	stop := start.Add(95 * time.Second)
	spec := &job.Spec{CPU: 512, Memory: 1024, Architecture: job.ArchitectureARM64, Storage: 30, Capacity: job.CapacitySpotThenOnDemand}
	tests := []struct {
		name string
		run  run.Run
		spec *job.Spec
		want Task
	}{
		{"the job's size and the task's time from start to stop", run.Run{StartedAt: &start, StoppedAt: &stop, TaskCapacity: job.CapacitySpot}, spec,
			Task{CPU: 512, Memory: 1024, Architecture: job.ArchitectureARM64, Storage: 30, Spot: true, Ran: 95 * time.Second}},
		{"a spot-then-on-demand task that fell back to on-demand is on-demand", run.Run{StartedAt: &start, StoppedAt: &stop, TaskCapacity: job.CapacityOnDemand}, spec,
			Task{CPU: 512, Memory: 1024, Architecture: job.ArchitectureARM64, Storage: 30, Ran: 95 * time.Second}},
		{"a retry moved to on-demand is on-demand when the task did not say", run.Run{StartedAt: &start, StoppedAt: &stop, Capacity: job.CapacityOnDemand}, spec,
			Task{CPU: 512, Memory: 1024, Architecture: job.ArchitectureARM64, Storage: 30, Ran: 95 * time.Second}},
		{"a spot-then-on-demand task that did not say is counted as Spot", run.Run{StartedAt: &start, StoppedAt: &stop}, spec,
			Task{CPU: 512, Memory: 1024, Architecture: job.ArchitectureARM64, Storage: 30, Spot: true, Ran: 95 * time.Second}},
		{"an on-demand job is on-demand", run.Run{StartedAt: &start, StoppedAt: &stop}, &job.Spec{CPU: 256, Memory: 512, Capacity: job.CapacityOnDemand},
			Task{CPU: 256, Memory: 512, Ran: 95 * time.Second}},
		{"a run that never started ran for nothing", run.Run{StoppedAt: &stop}, &job.Spec{CPU: 256, Memory: 512},
			Task{CPU: 256, Memory: 512}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := TaskOf(tt.run, tt.spec); got != tt.want {
				t.Errorf("TaskOf = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestRecord(t *testing.T) {
	p, _ := For("us-east-1")
	start := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	stop := start.Add(time.Hour)
	spec := &job.Spec{CPU: 1024, Memory: 2048, Architecture: job.ArchitectureX86_64, Capacity: job.CapacityOnDemand}
	kept := 1.5
	tests := []struct {
		name      string
		run       run.Run
		spec      *job.Spec
		prices    Prices
		wantCost  *float64
		wantBasis string
	}{
		{"a finished run gets its cost, basis and Region", run.Run{Status: run.StatusSucceeded, StartedAt: &start, StoppedAt: &stop}, spec, p, ptr(0.04937), BasisEstimate},
		{"a run that failed to start costs 0", run.Run{Status: run.StatusFailed, Cause: run.CauseStart, StoppedAt: &stop}, spec, p, ptr(0), BasisEstimate},
		{"a running run gets no cost yet", run.Run{Status: run.StatusRunning, StartedAt: &start}, spec, p, nil, ""},
		{"a recorded cost is kept", run.Run{Status: run.StatusSucceeded, StartedAt: &start, StoppedAt: &stop, CostUSD: &kept}, spec, p, &kept, ""},
		{"without prices nothing is recorded", run.Run{Status: run.StatusSucceeded, StartedAt: &start, StoppedAt: &stop}, spec, Prices{}, nil, ""},
		{"without its job nothing is recorded", run.Run{Status: run.StatusSucceeded, StartedAt: &start, StoppedAt: &stop}, nil, p, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.run
			Record(&r, tt.spec, tt.prices, BasisEstimate)
			switch {
			case (r.CostUSD == nil) != (tt.wantCost == nil):
				t.Fatalf("CostUSD = %v, want %v", r.CostUSD, tt.wantCost)
			case r.CostUSD != nil && *r.CostUSD != *tt.wantCost:
				t.Errorf("CostUSD = %v, want %v", *r.CostUSD, *tt.wantCost)
			}
			if r.CostBasis != tt.wantBasis {
				t.Errorf("CostBasis = %q, want %q", r.CostBasis, tt.wantBasis)
			}
			if tt.wantBasis != "" && r.CostRegion != "us-east-1" {
				t.Errorf("CostRegion = %q, want us-east-1", r.CostRegion)
			}
		})
	}
}

func ptr(f float64) *float64 { return &f }
