// Package enginetest gives the tests of one test binary one container
// engine: the one DOCKER_HOST or a usual socket names (CI starts Podman's
// service and sets DOCKER_HOST), or else a Podman service of the binary's
// own, started on first use with the settings containersConf holds (runc as
// the runtime when it is installed, pinned ulimits). Without an engine
// the tests that need one are skipped, or fail when LONGSHORE_REQUIRE_ALL=1.
package enginetest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// RequireVar makes tests that need an engine fail, not skip, without one.
const RequireVar = "LONGSHORE_REQUIRE_ALL"

// startTimeout bounds the wait for a Podman service to answer.
const startTimeout = 60 * time.Second

// containersConf is the Podman configuration of the service started here
// when CONTAINERS_CONF names none: pinned ulimits, and runc as the runtime
// when it is installed (crun fails on hybrid cgroups here).
const containersConf = `[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
`

const runcConf = `
[engine]
runtime = "runc"
`

var (
	once    sync.Once
	host    string
	findErr error
	stopFn  func()
)

// Host returns the address of the test binary's engine (as DOCKER_HOST
// writes it); it skips the test (or fails it under LONGSHORE_REQUIRE_ALL=1)
// when there is none.
func Host(tb testing.TB) string {
	tb.Helper()
	once.Do(func() { host, stopFn, findErr = start() })
	if findErr != nil {
		if os.Getenv(RequireVar) == "1" {
			tb.Fatalf("a container engine is required (%s=1): %v", RequireVar, findErr)
		}
		tb.Skipf("no container engine: %v", findErr)
	}
	return host
}

// Main runs the tests, then stops the Podman service started for them if
// there is one, and removes its folder: call it from TestMain. Without it,
// the service ends with the test binary (Pdeathsig), and the next test
// binary that starts one removes the folder it left.
func Main(m *testing.M) int {
	code := m.Run()
	if stopFn != nil {
		stopFn()
	}
	return code
}

// start finds an engine: DOCKER_HOST's, else one answering on a usual
// socket, else a Podman service started here.
func start() (string, func(), error) {
	if h := os.Getenv("DOCKER_HOST"); h != "" {
		if strings.HasPrefix(h, "unix://") {
			if err := ping(h); err != nil {
				return "", nil, fmt.Errorf("DOCKER_HOST=%s does not answer: %w", h, err)
			}
		}
		return h, nil, nil
	}
	sockets := []string{"/var/run/docker.sock", "/run/podman/podman.sock"}
	if d := os.Getenv("XDG_RUNTIME_DIR"); d != "" {
		sockets = append(sockets, filepath.Join(d, "podman", "podman.sock"))
	}
	for _, s := range sockets {
		if ping("unix://"+s) == nil {
			return "unix://" + s, nil, nil
		}
	}
	podman, err := exec.LookPath("podman")
	if err != nil {
		return "", nil, fmt.Errorf("DOCKER_HOST is not set, no engine answers on %s, and podman is not installed (apt-get install podman runc)",
			strings.Join(sockets, ", "))
	}
	return startPodman(podman)
}

// ping asks the engine at a unix:// address whether it answers.
func ping(host string) error {
	path, ok := strings.CutPrefix(host, "unix://")
	if !ok {
		return fmt.Errorf("%s is not a unix socket", host)
	}
	c := &http.Client{Timeout: 3 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", path)
		},
	}}
	defer c.CloseIdleConnections()
	res, err := c.Get("http://engine/_ping")
	if err != nil {
		return err
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("%s answers %s", host, res.Status)
	}
	return nil
}

// podmanDirs is the pattern of the folders of the services started here.
const podmanDirs = "longshore-podman-*"

// startPodman starts `podman system service` on a socket of its own.
func startPodman(podman string) (string, func(), error) {
	sweep()
	dir, err := os.MkdirTemp("", podmanDirs)
	if err != nil {
		return "", nil, fmt.Errorf("start podman: %w", err)
	}
	conf := os.Getenv("CONTAINERS_CONF")
	if conf == "" {
		conf = filepath.Join(dir, "containers.conf")
		text := containersConf
		if _, err := exec.LookPath("runc"); err == nil {
			text += runcConf
		}
		if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
			os.RemoveAll(dir)
			return "", nil, fmt.Errorf("start podman: %w", err)
		}
	}
	logFile, err := os.Create(filepath.Join(dir, "service.log"))
	if err != nil {
		os.RemoveAll(dir)
		return "", nil, fmt.Errorf("start podman: %w", err)
	}
	defer logFile.Close()
	host := "unix://" + filepath.Join(dir, "podman.sock")
	cmd := exec.Command(podman, "system", "service", "--time=0", host)
	cmd.Env = append(os.Environ(), "CONTAINERS_CONF="+conf)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// The service ends with the test binary: Pdeathsig follows the thread
	// that started it, so that thread never ends.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		started <- cmd.Start()
		select {}
	}()
	if err := <-started; err != nil {
		os.RemoveAll(dir)
		return "", nil, fmt.Errorf("start podman: %w", err)
	}
	_ = os.WriteFile(filepath.Join(dir, "pid"), []byte(strconv.Itoa(cmd.Process.Pid)), 0o644)
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	stop := func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
		}
		os.RemoveAll(dir)
	}

	deadline := time.Now().Add(startTimeout)
	for {
		err := ping(host)
		if err == nil {
			return host, stop, nil
		}
		select {
		case <-exited:
			log, _ := os.ReadFile(logFile.Name())
			os.RemoveAll(dir)
			return "", nil, fmt.Errorf("podman system service exited: %s", log)
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			stop()
			return "", nil, errors.Join(fmt.Errorf("podman system service did not answer within %v", startTimeout), err)
		}
	}
}

// sweep removes the folders of services that ended with a test binary
// that could not remove them (one without Main).
func sweep() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), podmanDirs))
	for _, d := range dirs {
		b, err := os.ReadFile(filepath.Join(d, "pid"))
		if err != nil {
			continue // starting, or not one of ours
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err == nil && pid > 0 && syscall.Kill(pid, 0) != nil {
			os.RemoveAll(d)
		}
	}
}
