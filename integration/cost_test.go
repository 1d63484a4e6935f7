package integration

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
)

func TestAFinishedLocalRunRecordsWhatItWouldCostOnFargate(t *testing.T) {
	jobs := t.TempDir()
	write(t, jobs, "sized/job.yaml", "cpu: 1024\nmemory: 2048\narchitecture: arm64\nlocal:\n  command: [sh, -c, 'echo done']\n")
	// A Region without prices of its own: runs are priced at us-east-1's, and say so.
	e := startEngine(t, jobs, t.TempDir(), "--region", "eu-west-1")

	started := e.cli("run", "sized", "--wait")
	if started.code != 0 {
		t.Fatalf("run sized --wait = %d\n%s%s", started.code, started.stdout, started.stderr)
	}
	id := strings.Fields(started.stdout)[0]
	var got struct {
		CostUSD    *float64 `json:"costUSD"`
		CostBasis  string   `json:"costBasis"`
		CostRegion string   `json:"costRegion"`
	}
	raw := e.cli("runs", "get", id, "--json")
	if err := json.Unmarshal([]byte(raw.stdout), &got); err != nil {
		t.Fatalf("runs get --json = %s: %v", raw.stdout, err)
	}
	list := e.cli("runs")
	var jobsJSON []struct {
		Name       string   `json:"name"`
		CostUSD30d *float64 `json:"costUSD30d"`
		Runs       int      `json:"costRuns30d"`
	}
	jobsRaw := e.cli("jobs", "--json")
	if err := json.Unmarshal([]byte(jobsRaw.stdout), &jobsJSON); err != nil {
		t.Fatalf("jobs --json = %s: %v", jobsRaw.stdout, err)
	}
	// One arm64 vCPU and 2 GB for the minimum minute: (0.03238 + 2 x 0.00356) / 60 = $0.000658.
	checks := []struct {
		name string
		ok   bool
		show string
	}{
		{"the run records its cost for the minimum minute", got.CostUSD != nil && *got.CostUSD == 0.000658, raw.stdout},
		{"the run says it is what it would cost on Fargate", got.CostBasis == "fargate-estimate", raw.stdout},
		{"the run says whose prices it used", got.CostRegion == "us-east-1", raw.stdout},
		{"longshore runs shows the cost in its COST column", regexp.MustCompile(`(?m)^` + id + `\s.*\s\$0\.0007$`).MatchString(list.stdout), list.stdout},
		{"longshore runs says what the cost is", strings.Contains(list.stderr, "COST: what it would cost on Fargate, at us-east-1 list prices"), list.stderr},
		{"longshore jobs sums the job's last 30 days", len(jobsJSON) == 1 && jobsJSON[0].CostUSD30d != nil && *jobsJSON[0].CostUSD30d == 0.000658 && jobsJSON[0].Runs == 1, jobsRaw.stdout},
		{"the engine says the Region has no prices of its own", strings.Contains(e.output(), "no Fargate prices for this Region"), e.output()},
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			if !c.ok {
				t.Errorf("got:\n%s", c.show)
			}
		})
	}
}

func TestTheDashboardShowsARunsCostAndEachJobs30DayCost(t *testing.T) {
	chromium(t) // skip before starting anything when there is no browser
	jobs := t.TempDir()
	write(t, jobs, "sized/job.yaml", "cpu: 1024\nmemory: 2048\narchitecture: arm64\nlocal:\n  command: [sh, -c, 'echo done']\n")
	e := startEngine(t, jobs, t.TempDir())
	started := e.cli("run", "sized", "--wait")
	if started.code != 0 {
		t.Fatalf("run sized --wait = %d\n%s%s", started.code, started.stdout, started.stderr)
	}
	id := strings.Fields(started.stdout)[0]
	b := startBrowser(t, dashboardOrigin(t, e))

	b.navigate("/runs/" + id)
	b.waitFor("the run's page shows its cost", `document.querySelector('[data-cost="0.000658"]') !== null`)
	var cost string
	b.value(`document.querySelector('[data-cost]').innerText`, &cost)
	if cost != "$0.0007 would cost on Fargate, us-east-1 list prices" {
		t.Errorf("the run's cost reads %q", cost)
	}

	b.navigate("/")
	b.waitFor("the job's row shows its cost over 30 days", `document.querySelector('.job-row[data-job="sized"] [data-cost-30d="0.000658"]') !== null`)
	var line string
	b.value(`document.querySelector('[data-cost-30d]').innerText`, &line)
	if line != "$0.0007 in 30 days" {
		t.Errorf("the job's cost reads %q", line)
	}
	if p := b.Problems(); len(p) > 0 {
		t.Errorf("the browser reported problems: %v", p)
	}
}
