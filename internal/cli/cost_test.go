package cli

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
)

func TestRunsShowWhatEachRunWouldCostOnFargate(t *testing.T) {
	e := newEngine(t, false)
	done := e.start(t, "hello")
	e.finish(t, done, 0) // one minute of 0.25 vCPU and 0.5 GB: $0.000206
	going := e.start(t, "hello")
	list := longshore(t, e.srv.URL, "runs")
	get := longshore(t, e.srv.URL, "runs", "get", done)
	asJSON := longshore(t, e.srv.URL, "runs", "get", done, "--json")
	var got struct {
		CostUSD   *float64 `json:"costUSD"`
		CostBasis string   `json:"costBasis"`
		Region    string   `json:"costRegion"`
	}
	json.Unmarshal([]byte(asJSON.stdout), &got)
	tests := []struct {
		name string
		ok   bool
		out  result
	}{
		{"the runs table has a COST column", regexp.MustCompile(`(?m)^ID\s.*\sDURATION\s+COST$`).MatchString(list.stdout), list},
		{"a finished run shows its cost", regexp.MustCompile(`(?m)^` + done + `\s.*\s\$0\.0002$`).MatchString(list.stdout), list},
		{"a run still going shows none yet", regexp.MustCompile(`(?m)^` + going + `\s.*\s-$`).MatchString(list.stdout), list},
		{"the table says the cost is what the run would cost on Fargate, where and as of when",
			strings.Contains(list.stderr, "COST: what it would cost on Fargate, at us-east-1 list prices of 2026-12-04"), list},
		{"runs get shows the cost to the micro-dollar", regexp.MustCompile(`(?m)^cost:\s+\$0\.000206 \(what it would cost on Fargate, at us-east-1 list prices of 2026-12-04\)$`).MatchString(get.stdout), get},
		{"the run JSON carries costUSD, costBasis and costRegion",
			got.CostUSD != nil && *got.CostUSD == 0.000206 && got.CostBasis == "fargate-estimate" && got.Region == "us-east-1", asJSON},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !tt.ok || tt.out.code != 0 {
				t.Errorf("got %s", tt.out)
			}
		})
	}
}

func TestJobsShowTheirCostOverTheLast30Days(t *testing.T) {
	e := newEngine(t, false)
	for range 3 {
		e.finish(t, e.start(t, "hello"), 0)
	}
	got := longshore(t, e.srv.URL, "jobs", "hello")
	if !regexp.MustCompile(`(?m)^cost, 30 days:\s+\$0\.0006 over 3 finished runs$`).MatchString(got.stdout) {
		t.Errorf("jobs hello = %s", got)
	}
	list := longshore(t, e.srv.URL, "jobs")
	if !strings.Contains(list.stderr, "COST 30D: the finished runs created in the last 30 days, what it would cost on Fargate") {
		t.Errorf("jobs = %s", list)
	}
}

func TestJobCostWords(t *testing.T) {
	usd := func(f float64) *float64 { return &f }
	tests := []struct {
		name    string
		usd     *float64
		runs    int
		partial bool
		want    string
	}{
		{"no cost given is a dash", nil, 0, false, "-"},
		{"nothing spent is $0", usd(0), 0, false, "$0"},
		{"a cost shows four decimals", usd(0.001234), 6, false, "$0.0012"},
		{"a cost below a hundredth of a cent says so", usd(0.00002), 1, false, "<$0.0001"},
		{"a sum over the first runs only is a floor", usd(0.5), 1000, true, "≥$0.5000 (first 1000 runs)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := jobCostWord(tt.usd, tt.runs, tt.partial); got != tt.want {
				t.Errorf("jobCostWord = %q, want %q", got, tt.want)
			}
		})
	}
}
