package integration

import (
	"encoding/json"
	"strings"
	"testing"
)

// chainJobs writes a catalog of shell jobs chained by after triggers: load
// after extract succeeds, alert after it fails; both print what they were
// told of their upstream.
func chainJobs(t *testing.T) string {
	dir := t.TempDir()
	write(t, dir, "extract/job.yaml", "local:\n  command: [sh, -c, 'echo extracting; exit ${EXIT_CODE:-0}']\ntriggers:\n  - invoke\n")
	upstream := "local:\n  command: [sh, -c, 'echo \"upstream=$LONGSHORE_UPSTREAM_RUN_ID job=$LONGSHORE_UPSTREAM_JOB code=$LONGSHORE_UPSTREAM_EXIT_CODE trigger=$LONGSHORE_TRIGGER\"']\n"
	write(t, dir, "load/job.yaml", upstream+"triggers:\n  - after: {job: extract}\n")
	write(t, dir, "alert/job.yaml", upstream+"triggers:\n  - after: {job: extract, status: [failed, timed_out]}\n")
	return dir
}

// afterRun is what `runs get --json` says of an after-triggered run.
type afterRun struct {
	ID      string `json:"id"`
	Status  string `json:"status"`
	Trigger struct {
		Kind          string `json:"kind"`
		UpstreamRunID string `json:"upstreamRunId"`
		UpstreamJob   string `json:"upstreamJob"`
	} `json:"trigger"`
}

// downstreamOf lists the runs of job whose trigger names upstream.
func (e *engine) downstreamOf(job, upstream string) []afterRun {
	e.t.Helper()
	var out []afterRun
	for _, r := range e.list("--job", job) {
		got := e.cli("runs", "get", r.ID, "--json")
		var a afterRun
		if err := json.Unmarshal([]byte(got.stdout), &a); err != nil {
			e.t.Fatalf("runs get %s --json: %v\n%s", r.ID, err, got.stdout)
		}
		if a.Trigger.UpstreamRunID == upstream {
			out = append(out, a)
		}
	}
	return out
}

func TestAJobAfterAnotherRunsOnceItsUpstreamEnds(t *testing.T) {
	e := startEngine(t, chainJobs(t), t.TempDir())

	t.Run("a success starts the job after it, told the upstream run", func(t *testing.T) {
		got := e.cli("run", "extract", "--wait")
		if got.code != 0 {
			t.Fatalf("run extract --wait = %d\n%s\n%s", got.code, got.stdout, got.stderr)
		}
		up := strings.TrimSpace(strings.SplitN(got.stdout, "\n", 2)[0])
		var loads []afterRun
		eventually(t, "a run of load after "+up+" finishes", func() bool {
			loads = e.downstreamOf("load", up)
			return len(loads) == 1 && isTerminal(loads[0].Status)
		})
		l := loads[0]
		if l.Status != "succeeded" || l.Trigger.Kind != "after" || l.Trigger.UpstreamJob != "extract" {
			t.Errorf("load's run = %+v, want succeeded, after extract", l)
		}
		want := "upstream=" + up + " job=extract code=0 trigger=after\n"
		if logs := e.cli("logs", l.ID).stdout; logs != want {
			t.Errorf("load printed %q, want %q", logs, want)
		}
		if alerts := e.downstreamOf("alert", up); len(alerts) != 0 {
			t.Errorf("a success started alert: %+v", alerts)
		}
		// `longshore jobs` says the trigger in words.
		if jobs := e.cli("jobs").stdout; !strings.Contains(jobs, "after extract (succeeded)") || !strings.Contains(jobs, "after extract (failed, timed_out)") {
			t.Errorf("longshore jobs does not say the after triggers:\n%s", jobs)
		}
	})

	t.Run("a failure does not start the job after success", func(t *testing.T) {
		got := e.cli("run", "extract", "--env", "EXIT_CODE=3", "--wait")
		if got.code != 3 {
			t.Fatalf("run extract --wait = %d\n%s\n%s", got.code, got.stdout, got.stderr)
		}
		up := strings.TrimSpace(strings.SplitN(got.stdout, "\n", 2)[0])
		var alerts []afterRun
		eventually(t, "a run of alert after "+up+" finishes", func() bool {
			alerts = e.downstreamOf("alert", up)
			return len(alerts) == 1 && isTerminal(alerts[0].Status)
		})
		if logs := e.cli("logs", alerts[0].ID).stdout; !strings.Contains(logs, "upstream="+up+" job=extract code=3 ") {
			t.Errorf("alert printed %q", logs)
		}
		// Downstream runs are stored before the upstream's end is: once
		// alert's run is there, any run of load would be too.
		if loads := e.downstreamOf("load", up); len(loads) != 0 {
			t.Errorf("a failure started load: %+v", loads)
		}
	})
}
