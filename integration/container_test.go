package integration

import (
	"context"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/moby/moby/client"

	"github.com/longshore/longshore/internal/dispatch/runnertest"
	"github.com/longshore/longshore/internal/local/container"
	"github.com/longshore/longshore/internal/local/container/enginetest"
)

// withContainerEngine points the engines this test starts at the test
// binary's container engine, and returns a client of it.
func withContainerEngine(t *testing.T) *client.Client {
	t.Helper()
	host := enginetest.Host(t)
	t.Setenv("DOCKER_HOST", host)
	c, err := client.New(client.WithHost(host), client.WithAPIVersionNegotiation())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// containersOf lists the containers (running or not) of the engine over data.
func containersOf(t *testing.T, c *client.Client, data string) []string {
	t.Helper()
	abs, err := filepath.Abs(data)
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.ContainerList(context.Background(), client.ContainerListOptions{
		All: true, Filters: make(client.Filters).Add("label", "longshore.owner="+container.Owner(abs)),
	})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, s := range res.Items {
		out = append(out, s.ID[:12]+" "+string(s.State)+" run "+s.Labels["longshore.run"])
	}
	return out
}

// containerJobs writes a catalog of one job, waiter, that runs the runner
// test program in a container built from its folder: it says "ready", then
// waits for SIGUSR1 (and exits 7) or SIGTERM (and exits 143).
func containerJobs(t *testing.T, timeout string) string {
	t.Helper()
	dir := t.TempDir()
	runnertest.WriteJob(t, dir)
	write(t, dir, runnertest.ProgramName+"/job.yaml", "name: waiter\nimage: {build: .}\n"+
		"environment: {RUNNERTEST_WAIT: '1', RUNNERTEST_EXIT: '7'}\ntimeout: "+timeout+"\n")
	return dir
}

func TestTheExampleHelloExitsWithItsExitCodeFromAContainer(t *testing.T) {
	c := withContainerEngine(t)
	data := t.TempDir()
	e := startEngine(t, "jobs", data, "--runner", "container")
	if !strings.Contains(e.output(), "hello            container: image built from jobs/hello") {
		t.Errorf("the banner does not say hello runs in a container:\n%s", e.output())
	}
	got := e.cli("run", "hello", "--env", "EXIT_CODE=3", "--wait")
	if got.code != 3 {
		t.Fatalf("run hello --wait = exit %d\nstdout %s\nstderr %s\nengine:\n%s", got.code, got.stdout, got.stderr, e.output())
	}
	id := strings.TrimSpace(strings.SplitN(got.stdout, "\n", 2)[0])
	for _, want := range []string{"LONGSHORE_RUN_ID=" + id, "GREETING=hello from Longshore", "hello: exiting with 3"} {
		if !strings.Contains(got.stdout, want) {
			t.Errorf("the output does not say %s:\n%s", want, got.stdout)
		}
	}
	if r := e.get(id); r.Status != "failed" || r.Cause == nil || *r.Cause != "exit" || r.ExitCode == nil || *r.ExitCode != 3 {
		t.Errorf("run = %+v, want failed with exit code 3", r)
	}
	e.stop(syscall.SIGTERM)
	if left := containersOf(t, c, data); len(left) > 0 {
		t.Errorf("containers left after the engine stopped: %q", left)
	}
}

func TestAContainerPastItsTimeoutIsStopped(t *testing.T) {
	withContainerEngine(t)
	e := startEngine(t, containerJobs(t, "1s"), t.TempDir(), "--runner", "container", "--network", "none")
	began := time.Now()
	got := e.cli("run", "waiter", "--wait")
	id := strings.TrimSpace(strings.SplitN(got.stdout, "\n", 2)[0])
	if got.code != 124 {
		t.Fatalf("run waiter --wait = exit %d (%s)\nengine:\n%s", got.code, got.stderr, e.output())
	}
	if r := e.get(id); r.Status != "timed_out" {
		t.Errorf("run = %+v, want timed_out", r)
	}
	if logs := e.cli("logs", id).stdout; logs != "ready\nterminated\n" {
		t.Errorf("logs = %q: the container was not stopped with SIGTERM", logs)
	}
	t.Logf("a 1s timeout ended the run after %v", time.Since(began))
}

func TestAfterKill9TheNextEngineFollowsAContainerToItsRealExitCode(t *testing.T) {
	c := withContainerEngine(t)
	jobs, data := containerJobs(t, "1h"), t.TempDir()
	e := startEngine(t, jobs, data, "--runner", "container")
	id := strings.TrimSpace(e.cli("run", "waiter").stdout)
	eventually(t, "the container says it is ready", func() bool {
		return e.get(id).Status == "running" && e.cli("logs", id).stdout == "ready\n"
	})
	e.stop(syscall.SIGKILL)
	left := containersOf(t, c, data)
	if len(left) != 1 {
		t.Fatalf("containers after kill -9: %q, want the run's, still running", left)
	}

	again := startEngine(t, jobs, data, "--runner", "container")
	if r := again.get(id); r.Status != "running" {
		t.Errorf("after the restart the run is %s (%s), want still running", r.Status, r.Reason)
	}
	// The container finishes on its own now: SIGUSR1 makes it exit 7.
	if _, err := c.ContainerKill(context.Background(), strings.Fields(left[0])[0], client.ContainerKillOptions{Signal: "SIGUSR1"}); err != nil {
		t.Fatal(err)
	}
	r := again.finished(id)
	if r.Status != "failed" || r.ExitCode == nil || *r.ExitCode != 7 {
		t.Errorf("run = %+v, want failed with the container's exit code 7", r)
	}
	if logs := again.cli("logs", id).stdout; logs != "ready\ngot SIGUSR1\n" {
		t.Errorf("logs = %q: not resumed where the first engine left them", logs)
	}
	eventually(t, "no container is left", func() bool { return len(containersOf(t, c, data)) == 0 })
}
