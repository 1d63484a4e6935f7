// Package cost estimates what a run's task costs on AWS Fargate at list
// prices: vCPU and memory per second with a one-minute minimum, by
// architecture (x86_64 or arm64) and capacity (on-demand or Spot), plus
// ephemeral storage beyond the 20 GiB Fargate includes. It is pure: the
// hosts record its answer on a run when the run finishes (on AWS what the
// task cost; on one machine what it would have cost on Fargate).
//
// Estimates are in US dollars rounded to the micro-dollar (six decimals):
// the smallest Fargate task (0.25 vCPU, 0.5 GB) costs about $0.0002 for its
// minimum minute, so cents would round most runs to nothing.
package cost

import (
	"math"
	"time"

	"github.com/longshore/longshore/internal/job"
	"github.com/longshore/longshore/internal/run"
)

// Prices are the Fargate list prices of one Region, in US dollars.
type Prices struct {
	// Region is the Region these prices are for.
	Region string
	// Per vCPU-hour and per GB-hour of memory, on-demand, by architecture.
	X86VCPUHour, X86GBHour float64
	ARMVCPUHour, ARMGBHour float64
	// StorageGBHour is the price of ephemeral storage beyond IncludedStorage, per GB-hour.
	StorageGBHour float64
	// SpotDiscount is the fraction of the on-demand vCPU and memory prices
	// that Fargate Spot is estimated to save (0.70: Spot costs 30% of on-demand).
	SpotDiscount float64
}

// Basis says what a run's cost is.
const (
	// BasisFargate: the run's task ran on Fargate; its cost at list prices.
	BasisFargate = "fargate"
	// BasisEstimate: the run ran on one machine; what its task would have
	// cost on Fargate at list prices.
	BasisEstimate = "fargate-estimate"
)

// For returns the list prices of region, and true when the table has
// them; otherwise DefaultRegion's prices (Prices.Region says so) and false.
func For(region string) (Prices, bool) {
	if p, ok := table[region]; ok {
		return p, true
	}
	return table[DefaultRegion], false
}

// IncludedStorage is the ephemeral storage, in GiB, every Fargate task has
// at no extra charge.
const IncludedStorage = 20

// MinimumBilled is the shortest time Fargate bills a task for.
const MinimumBilled = time.Minute

// Task is what a task used, as Fargate bills it.
type Task struct {
	// CPU in Fargate units (1024 = one vCPU) and Memory in MiB.
	CPU, Memory  int
	Architecture job.Architecture
	// Spot is set when the task ran on Fargate Spot.
	Spot bool
	// Storage is the ephemeral storage in GiB; 0 means IncludedStorage.
	Storage int
	// Ran is how long the task ran, from its start to its stop; zero or
	// less for a task that never started, which costs nothing.
	Ran time.Duration
}

// Billed is the time Fargate bills for a task that ran d: d rounded up to
// the second, at least MinimumBilled; zero when it never ran.
func Billed(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	d = (d + time.Second - 1).Truncate(time.Second)
	return max(d, MinimumBilled)
}

// Estimate is the cost of t at prices p in US dollars, rounded to the
// micro-dollar.
func Estimate(t Task, p Prices) float64 {
	hours := Billed(t.Ran).Hours()
	if hours == 0 {
		return 0
	}
	vcpu, gb := p.X86VCPUHour, p.X86GBHour
	if t.Architecture == job.ArchitectureARM64 {
		vcpu, gb = p.ARMVCPUHour, p.ARMGBHour
	}
	compute := float64(t.CPU)/1024*vcpu + float64(t.Memory)/1024*gb
	if t.Spot {
		compute *= 1 - p.SpotDiscount
	}
	storage := 0.0
	if t.Storage > IncludedStorage {
		storage = float64(t.Storage-IncludedStorage) * p.StorageGBHour
	}
	return math.Round((compute+storage)*hours*1e6) / 1e6
}

// TaskOf is what the task of run r of job spec used. The capacity is the
// one the task ran on when its runner said (r.TaskCapacity: ECS does), else
// the one it was started on (r.Capacity, else the job's); a
// spot-then-on-demand start whose task did not say is counted as Spot, the
// capacity it asks for first. A run that never started, or has no stop
// yet, ran for nothing.
func TaskOf(r run.Run, spec *job.Spec) Task {
	t := Task{CPU: spec.CPU, Memory: spec.Memory, Architecture: spec.Architecture, Storage: spec.Storage}
	capacity := spec.Capacity
	if r.Capacity != "" {
		capacity = r.Capacity
	}
	if r.TaskCapacity != "" {
		capacity = r.TaskCapacity
	}
	t.Spot = capacity == job.CapacitySpot || capacity == job.CapacitySpotThenOnDemand
	if r.StartedAt != nil && r.StoppedAt != nil {
		t.Ran = r.StoppedAt.Sub(*r.StartedAt)
	}
	return t
}

// Record sets the cost of finished run r of job spec at prices p, with
// basis BasisFargate or BasisEstimate. It does nothing to a run that is
// not finished or already has its cost.
func Record(r *run.Run, spec *job.Spec, p Prices, basis string) {
	if !r.Status.Terminal() || r.CostUSD != nil || spec == nil || p.Region == "" {
		return
	}
	usd := Estimate(TaskOf(*r, spec), p)
	r.CostUSD = &usd
	r.CostBasis = basis
	r.CostRegion = p.Region
}
