package dispatch_test

import (
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/longshore/longshore/internal/cost"
	"github.com/longshore/longshore/internal/dispatch"
	"github.com/longshore/longshore/internal/job"
	"github.com/longshore/longshore/internal/run"
)

func TestAFinishedRunRecordsItsCost(t *testing.T) {
	const sized = "image: {uri: busybox}\ncpu: 1024\nmemory: 2048\n"
	const spotFirst = sized + "capacity: spot-then-on-demand\n"
	zero := 0
	ran := func(d time.Duration, capacity job.Capacity) func(start time.Time) run.TaskState {
		return func(start time.Time) run.TaskState {
			stop := start.Add(d)
			return run.TaskState{Phase: run.PhaseStopped, StopCode: run.StopCodeEssentialExited, Capacity: capacity,
				StartedAt: &start, StoppedAt: &stop, Containers: []run.Container{{Name: "app", ExitCode: &zero}}}
		}
	}
	neverStarted := func(time.Time) run.TaskState {
		return run.TaskState{Phase: run.PhaseStopped, StopCode: run.StopCodeFailedToStart,
			StoppedReason: "CannotPullContainerError: pull image manifest has been retried 5 time(s)", Containers: []run.Container{{Name: "app"}}}
	}
	tests := []struct {
		name      string
		job       string
		priced    bool
		task      func(start time.Time) run.TaskState
		wantCost  *float64
		wantBasis string
	}{
		// (0.04048 + 2 x 0.004445) x 90 / 3600 = 0.00123425
		{"a run that ran 90 seconds on demand costs 90 seconds of its size", sized, true, ran(90*time.Second, job.CapacityOnDemand), usd(0.001234), cost.BasisEstimate},
		// 0.04937 / 60 x 0.3 = 0.00024685
		{"a run that ran 5 seconds on Spot costs a minute at the Spot estimate", spotFirst, true, ran(5*time.Second, job.CapacitySpot), usd(0.000247), cost.BasisEstimate},
		{"a spot-then-on-demand run whose task fell back to on-demand costs on-demand", spotFirst, true, ran(90*time.Second, job.CapacityOnDemand), usd(0.001234), cost.BasisEstimate},
		{"a run that never started costs nothing", sized, true, neverStarted, usd(0), cost.BasisEstimate},
		{"a host that gives no prices records no cost", sized, false, ran(90*time.Second, job.CapacityOnDemand), nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t, map[string]string{"sized": tt.job})
			d := dispatch.Deps{Jobs: w.catalog, Store: w.store, Runner: w.runner, Notifier: w.notes, Now: w.clock.Now,
				NewID: w.newID, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
			if tt.priced {
				d.Prices, _ = cost.For("us-east-1")
				d.CostBasis = cost.BasisEstimate
			}
			svc := dispatch.New(d)
			got, err := svc.Launch(ctx, invoke("sized", ""))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := svc.Observe(ctx, w.runner.SetState(got.Run.ID, tt.task(w.clock.Now()))); err != nil {
				t.Fatal(err)
			}
			r := w.get(got.Run.ID)
			if !r.Status.Terminal() {
				t.Fatalf("run is %s, want it finished", r.Status)
			}
			switch {
			case (r.CostUSD == nil) != (tt.wantCost == nil):
				t.Fatalf("CostUSD = %v, want %v", r.CostUSD, tt.wantCost)
			case r.CostUSD != nil && *r.CostUSD != *tt.wantCost:
				t.Errorf("CostUSD = %v, want %v", *r.CostUSD, *tt.wantCost)
			}
			if r.CostBasis != tt.wantBasis {
				t.Errorf("CostBasis = %q, want %q", r.CostBasis, tt.wantBasis)
			}
			// The result published (the event on AWS, the event log and
			// notifications locally) carries the cost stored.
			reports := w.notes.Reports()
			if len(reports) != 1 {
				t.Fatalf("%d reports, want 1", len(reports))
			}
			if rep := reports[0]; (rep.CostUSD == nil) != (r.CostUSD == nil) || (rep.CostUSD != nil && *rep.CostUSD != *r.CostUSD) || rep.CostBasis != r.CostBasis {
				t.Errorf("the result reported cost %v %q; the run stored %v %q", rep.CostUSD, rep.CostBasis, r.CostUSD, r.CostBasis)
			}
		})
	}
}

func usd(f float64) *float64 { return &f }
