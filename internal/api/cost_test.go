package api

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/longshore/longshore/internal/run"
)

func TestWithCostSumsTheLast30DaysOfFinishedRuns(t *testing.T) {
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	usd := func(f float64) *float64 { return &f }
	finished := func(age time.Duration, cost *float64) Run {
		return Run{Status: run.StatusSucceeded, CreatedAt: now.Add(-age), CostUSD: cost, CostBasis: "fargate-estimate"}
	}
	many := func(n int, cost float64) []Run {
		out := make([]Run, n)
		for i := range out {
			out[i] = finished(time.Duration(i)*time.Second, usd(cost))
		}
		return out
	}
	tests := []struct {
		name      string
		runs      []Run // newest first
		wantUSD   float64
		wantRuns  int
		partial   bool
		wantPages int
	}{
		{"finished runs in the window are summed", []Run{finished(time.Hour, usd(0.0012)), finished(29*24*time.Hour, usd(0.0003))}, 0.0015, 2, false, 1},
		{"runs still going and runs without a cost are left out",
			[]Run{{Status: run.StatusRunning, CreatedAt: now}, finished(time.Hour, nil), finished(2*time.Hour, usd(0.5))}, 0.5, 1, false, 1},
		{"runs created more than 30 days ago are left out, and no further page is read",
			append(append(many(CostPage-1, 0.001), finished(31*24*time.Hour, usd(9))), many(10, 9)...), 0.499, CostPage - 1, false, 1},
		{"a job that never ran costs 0", nil, 0, 0, false, 1},
		{"a job with more runs than the pages read gets a floor", many(CostPages*CostPage+1, 0.001), 1, CostPages * CostPage, true, CostPages},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pages := 0
			list := func(_ context.Context, _, cursor string, limit int) ([]Run, string, error) {
				pages++
				from := 0
				if cursor != "" {
					from, _ = strconv.Atoi(cursor)
				}
				to := min(from+limit, len(tt.runs))
				next := ""
				if to < len(tt.runs) {
					next = strconv.Itoa(to)
				}
				return tt.runs[from:to], next, nil
			}
			j := Job{Name: "hello"}
			if err := WithCost(context.Background(), &j, list, now); err != nil {
				t.Fatal(err)
			}
			if j.CostUSD30d == nil || *j.CostUSD30d != tt.wantUSD || j.CostRuns30d != tt.wantRuns || j.CostPartial != tt.partial {
				t.Errorf("cost = %v over %d runs (partial %v), want %v over %d (partial %v)", costOrNil(j.CostUSD30d), j.CostRuns30d, j.CostPartial, tt.wantUSD, tt.wantRuns, tt.partial)
			}
			if pages != tt.wantPages {
				t.Errorf("read %d pages, want %d", pages, tt.wantPages)
			}
		})
	}
}

func costOrNil(f *float64) any {
	if f == nil {
		return nil
	}
	return *f
}
