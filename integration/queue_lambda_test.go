package integration

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/longshore/longshore/internal/api"
	"github.com/longshore/longshore/internal/aws/handler"
	"github.com/longshore/longshore/internal/deploy"
	"github.com/longshore/longshore/internal/run"
)

// launchAtOnce invokes n launcher instances at the same moment, each with
// one direct invoke of jobName, as n simultaneous triggers reach n
// instances of the function, and returns the runs they made in the order
// their triggers arrived.
func (d *deployment) launchAtOnce(jobName string, n int) []run.Run {
	d.t.Helper()
	launchers := make([]*function, n)
	for i := range launchers {
		launchers[i] = d.start("launcher")
	}
	var wg sync.WaitGroup
	ids := make([]string, n)
	errs := make([]error, n)
	for i, l := range launchers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := l.call([]byte(`{"job": "` + jobName + `"}`))
			switch {
			case err != nil:
				errs[i] = err
			case res.failed:
				errs[i] = fmt.Errorf("%s: %s", res.errorType, res.errorMessage)
			default:
				var resp api.RunResponse
				errs[i] = json.Unmarshal(res.body, &resp)
				ids[i] = resp.ID
			}
		}()
	}
	wg.Wait()
	runs := make([]run.Run, n)
	for i := range ids {
		if errs[i] != nil {
			d.t.Fatalf("launch %d of %s: %v", i, jobName, errs[i])
		}
		runs[i] = d.run(ids[i])
	}
	slices.SortFunc(runs, run.ArrivalOrder)
	return runs
}

func byStatus(runs []run.Run) map[run.Status][]run.Run {
	out := map[run.Status][]run.Run{}
	for _, r := range runs {
		out[r.Status] = append(out[r.Status], r)
	}
	return out
}

func TestLambdaSimultaneousTriggersOfABoundedJobStartExactlyItsBoundAndTheRestInTurn(t *testing.T) {
	d := newDeployment(t)
	jobs := t.TempDir()
	write(t, jobs, "batch/job.yaml", "image: {uri: busybox}\nconcurrency: {max: 2}\ntriggers: [invoke]\n")
	d.env = append(d.env, deploy.EnvCatalog+"="+jobs)

	runs := d.launchAtOnce("batch", 8)
	got := byStatus(runs)
	if len(got[run.StatusStarting]) != 2 || len(got[run.StatusQueued]) != 6 {
		t.Fatalf("8 simultaneous triggers of a max-2 job: %d starting, %d queued; want 2 and 6", len(got[run.StatusStarting]), len(got[run.StatusQueued]))
	}
	if n := len(d.aws.Calls("RunTask")); n != 2 {
		t.Errorf("%d RunTask calls, want 2", n)
	}
	for _, r := range got[run.StatusQueued] {
		if !strings.HasPrefix(r.Reason, "waiting: runs ") || !strings.Contains(r.Reason, "concurrency allows 2 at once") {
			t.Errorf("queued run %s says %q", r.ID, r.Reason)
		}
	}

	// A run ends: the tracker that handles its STOPPED event starts the
	// oldest queued run, and only that one.
	tracker := d.start("tracker")
	var res handler.TrackResult
	tracker.ok(d.taskEvent("ecs-task-stopped-exit-0.json", got[run.StatusStarting][0]), &res)
	if res.Status != run.StatusSucceeded {
		t.Fatalf("tracked %+v, want succeeded", res)
	}
	oldest := got[run.StatusQueued][0]
	if r := d.run(oldest.ID); r.Status != run.StatusStarting || r.Reason != "" {
		t.Errorf("the oldest queued run is %s %q once a slot freed; want starting, its waiting reason gone", r.Status, r.Reason)
	}
	if n := len(d.aws.Calls("RunTask")); n != 3 {
		t.Errorf("%d RunTask calls after one run ended, want 3", n)
	}
	for _, r := range got[run.StatusQueued][1:] {
		if now := d.run(r.ID); now.Status != run.StatusQueued {
			t.Errorf("queued run %s is %s; want still queued behind the oldest", r.ID, now.Status)
		}
	}
}

func TestLambdaTheDeploymentsMaxRunningKeepsRunsQueuedAcrossJobs(t *testing.T) {
	d := newDeployment(t)
	jobs := t.TempDir()
	write(t, jobs, "a/job.yaml", "image: {uri: busybox}\ntriggers: [invoke]\n")
	write(t, jobs, "b/job.yaml", "image: {uri: busybox}\ntriggers: [invoke]\n")
	d.env = append(d.env, deploy.EnvCatalog+"="+jobs, deploy.EnvMaxRunning+"=3")

	runs := append(d.launchAtOnce("a", 4), d.launchAtOnce("b", 2)...)
	got := byStatus(runs)
	if len(got[run.StatusStarting]) != 3 || len(got[run.StatusQueued]) != 3 || len(d.aws.Calls("RunTask")) != 3 {
		t.Fatalf("6 triggers under maxRunning 3: %d starting, %d queued, %d RunTask calls; want 3, 3, 3",
			len(got[run.StatusStarting]), len(got[run.StatusQueued]), len(d.aws.Calls("RunTask")))
	}
	for _, r := range got[run.StatusQueued] {
		if r.Reason != "waiting: 3 runs are active in this deployment, its maxRunning; starts when one ends" {
			t.Errorf("queued run %s of %s says %q", r.ID, r.Job, r.Reason)
		}
	}
	tracker := d.start("tracker")
	var res handler.TrackResult
	tracker.ok(d.taskEvent("ecs-task-stopped-exit-0.json", got[run.StatusStarting][0]), &res)
	if n := len(d.aws.Calls("RunTask")); n != 4 {
		t.Errorf("%d RunTask calls after one run ended, want 4", n)
	}
}
