package integration

import (
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// timesOf reads a run's start and stop times.
func (e *engine) timesOf(id string) (created, started, stopped time.Time) {
	e.t.Helper()
	got := e.cli("runs", "get", id, "--json")
	var r struct{ CreatedAt, StartedAt, StoppedAt *time.Time }
	if got.code != 0 || json.Unmarshal([]byte(got.stdout), &r) != nil {
		e.t.Fatalf("runs get %s = %d %q %q", id, got.code, got.stdout, got.stderr)
	}
	at := func(t *time.Time) time.Time {
		if t == nil {
			return time.Time{}
		}
		return *t
	}
	return at(r.CreatedAt), at(r.StartedAt), at(r.StoppedAt)
}

// startAtOnce starts n runs of a job from n CLIs at the same moment and
// returns their ids in the order the engine created them.
func (e *engine) startAtOnce(jobName string, n int) []string {
	e.t.Helper()
	var wg sync.WaitGroup
	got := make([]result, n)
	for i := range n {
		wg.Add(1)
		go func() { defer wg.Done(); got[i] = e.cli("run", jobName) }()
	}
	wg.Wait()
	ids := make([]string, n)
	for i, g := range got {
		if g.code != 0 {
			e.t.Fatalf("run %s = %d: %s", jobName, g.code, g.stderr)
		}
		ids[i] = strings.TrimSpace(g.stdout)
	}
	created := map[string]time.Time{}
	for _, id := range ids {
		created[id], _, _ = e.timesOf(id)
	}
	slices.SortFunc(ids, func(a, b string) int {
		if c := created[a].Compare(created[b]); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	return ids
}

func (e *engine) statuses(ids []string) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = e.get(id).Status
	}
	return out
}

func TestABoundedJobRunsAtMostItsBoundAndStartsQueuedRunsInOrderAsSlotsFree(t *testing.T) {
	jobs := t.TempDir()
	write(t, jobs, "batch/job.yaml", "concurrency: {max: 2}\nlocal:\n  command: [sleep, '60']\ntriggers: [invoke]\n")
	e := startEngine(t, jobs, t.TempDir(), "--runner", "process")
	t.Cleanup(func() { e.stop(syscall.SIGTERM) }) // the runs still going are stopped, not left behind

	// Five triggers at once: exactly two run, whichever took the slots.
	ids := e.startAtOnce("batch", 5)
	var running, queued []string
	eventually(t, "two runs are running and three queued", func() bool {
		running, queued = nil, nil
		for i, st := range e.statuses(ids) {
			switch st {
			case "running":
				running = append(running, ids[i])
			case "queued":
				queued = append(queued, ids[i])
			}
		}
		return len(running) == 2 && len(queued) == 3
	})
	for _, id := range queued {
		if r := e.get(id); !strings.HasPrefix(r.Reason, "waiting: runs ") || !strings.Contains(r.Reason, "concurrency allows 2 at once") {
			t.Errorf("queued run %s says %q", id, r.Reason)
		}
	}
	if got := e.cli("jobs", "batch"); !regexp.MustCompile(`(?m)^concurrency:\s+max 2, overflow queue$`).MatchString(got.stdout) {
		t.Errorf("jobs batch does not show the policy:\n%s", got.stdout)
	}
	if listed := e.list("--job", "batch", "--status", "queued"); len(listed) != 3 {
		t.Errorf("runs --status queued lists %d runs, want 3", len(listed))
	}

	// A slot frees: the oldest queued run starts, and only it (queued holds
	// them in the order they were created).
	if got := e.cli("stop", running[0]); got.code != 0 {
		t.Fatalf("stop %s: %s", running[0], got.stderr)
	}
	eventually(t, "the oldest queued run starts once a slot frees", func() bool {
		return slices.Equal(e.statuses(queued), []string{"running", "queued", "queued"})
	})
	_, _, freed := e.timesOf(running[0])
	_, started, _ := e.timesOf(queued[0])
	t.Logf("the queued run started %v after the slot freed (run stopped at %s, next started at %s)",
		started.Sub(freed), freed.Format(time.RFC3339Nano), started.Format(time.RFC3339Nano))
	if r := e.get(queued[0]); r.Reason != "" {
		t.Errorf("the started run still says %q", r.Reason)
	}

	// A queued run cancelled frees no slot; the next slot goes to the next
	// queued run still waiting.
	if got := e.cli("stop", queued[2]); got.code != 0 {
		t.Fatalf("stop %s: %s", queued[2], got.stderr)
	}
	if got := e.cli("stop", running[1]); got.code != 0 {
		t.Fatalf("stop %s: %s", running[1], got.stderr)
	}
	eventually(t, "the last queued run starts", func() bool {
		return slices.Equal(e.statuses(queued), []string{"running", "running", "cancelled"})
	})
}

func TestMaxRunningKeepsRunsOfEveryJobQueuedUntilOneEnds(t *testing.T) {
	jobs := t.TempDir()
	write(t, jobs, "long/job.yaml", "local:\n  command: [sleep, '60']\ntriggers: [invoke]\n")
	write(t, jobs, "quick/job.yaml", "local:\n  command: [sh, -c, 'echo quick']\ntriggers: [invoke]\n")
	e := startEngine(t, jobs, t.TempDir(), "--runner", "process", "--max-running", "1")
	t.Cleanup(func() { e.stop(syscall.SIGTERM) })

	long := strings.TrimSpace(e.cli("run", "long").stdout)
	eventually(t, "the long run runs", func() bool { return e.get(long).Status == "running" })
	quick := strings.TrimSpace(e.cli("run", "quick").stdout)
	if r := e.get(quick); r.Status != "queued" || r.Reason != "waiting: 1 run is active in this deployment, its maxRunning; starts when one ends" {
		t.Errorf("a run past --max-running is %s %q; want queued, saying why", r.Status, r.Reason)
	}
	if got := e.cli("stop", long); got.code != 0 {
		t.Fatalf("stop: %s", got.stderr)
	}
	if r := e.finished(quick); r.Status != "succeeded" {
		t.Errorf("the queued run ended %s once the slot freed, want succeeded", r.Status)
	}
	if got := e.cli("local", "--history-keep", "10m"); got.code != 2 || !strings.Contains(got.stderr, "10m is out of range: keep runs from 1h to 3650d") {
		t.Errorf("local --history-keep 10m = %d: %s", got.code, got.stderr)
	}
	if got := e.cli("local", "--max-running", "-1"); got.code != 2 || !strings.Contains(got.stderr, "--max-running -1: give a number of runs from 1 to 5000, or 0 for no bound") {
		t.Errorf("local --max-running -1 = %d: %s", got.code, got.stderr)
	}
}
