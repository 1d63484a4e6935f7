package container

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/moby/moby/client"
)

// pingTimeout bounds the wait for an engine's answer when looking for one.
const pingTimeout = 3 * time.Second

// api is the part of the Docker Engine API client the runner uses;
// *client.Client is one.
type api interface {
	ImageInspect(ctx context.Context, image string, opts ...client.ImageInspectOption) (client.ImageInspectResult, error)
	ImageBuild(ctx context.Context, buildContext io.Reader, options client.ImageBuildOptions) (client.ImageBuildResult, error)
	ImagePull(ctx context.Context, ref string, options client.ImagePullOptions) (client.ImagePullResponse, error)
	ContainerCreate(ctx context.Context, options client.ContainerCreateOptions) (client.ContainerCreateResult, error)
	ContainerStart(ctx context.Context, containerID string, options client.ContainerStartOptions) (client.ContainerStartResult, error)
	ContainerKill(ctx context.Context, containerID string, options client.ContainerKillOptions) (client.ContainerKillResult, error)
	ContainerWait(ctx context.Context, containerID string, options client.ContainerWaitOptions) client.ContainerWaitResult
	ContainerLogs(ctx context.Context, containerID string, options client.ContainerLogsOptions) (client.ContainerLogsResult, error)
	ContainerInspect(ctx context.Context, containerID string, options client.ContainerInspectOptions) (client.ContainerInspectResult, error)
	ContainerList(ctx context.Context, options client.ContainerListOptions) (client.ContainerListResult, error)
	ContainerRemove(ctx context.Context, containerID string, options client.ContainerRemoveOptions) (client.ContainerRemoveResult, error)
	Info(ctx context.Context, options client.InfoOptions) (client.SystemInfoResult, error)
}

var _ api = (*client.Client)(nil)

// Engine is a container engine that answered on the Docker Engine API:
// Docker, or Podman's Docker-compatible service. The API version is
// negotiated down to the engine's (Podman 4 speaks 1.41).
type Engine struct {
	host    string
	version string
	c       *client.Client
	// podman is Podman's own API beside the Docker one, when the engine is
	// Podman.
	podman *libpod
}

// Host is the engine's address (unix:///run/podman/podman.sock).
func (e *Engine) Host() string { return e.host }

// APIVersion is the API version both sides speak.
func (e *Engine) APIVersion() string { return e.version }

// Close closes the connections to the engine.
func (e *Engine) Close() error { return e.c.Close() }

// Hosts returns the addresses where an engine may answer, in the order
// they are tried: DOCKER_HOST alone when it is set; otherwise Docker's
// socket, then Podman's for this user ($XDG_RUNTIME_DIR/podman/podman.sock)
// and for root (/run/podman/podman.sock).
func Hosts(getenv func(string) string) []string {
	if h := getenv("DOCKER_HOST"); h != "" {
		return []string{h}
	}
	hosts := []string{"unix:///var/run/docker.sock"}
	if d := getenv("XDG_RUNTIME_DIR"); d != "" {
		hosts = append(hosts, "unix://"+strings.TrimSuffix(d, "/")+"/podman/podman.sock")
	}
	return append(hosts, "unix:///run/podman/podman.sock")
}

// Connect asks the engine at host for its API version and returns it, or
// says why it does not answer.
func Connect(ctx context.Context, host string) (*Engine, error) {
	c, err := client.New(client.WithHost(host), client.WithAPIVersionNegotiation())
	if err != nil {
		return nil, fmt.Errorf("container engine at %s: %w", host, err)
	}
	ctx, cancel := context.WithTimeout(ctx, pingTimeout)
	defer cancel()
	if _, err := c.Ping(ctx, client.PingOptions{NegotiateAPIVersion: true}); err != nil {
		_ = c.Close()
		return nil, fmt.Errorf("container engine at %s: %w", host, err)
	}
	e := &Engine{host: host, version: c.ClientVersion(), c: c}
	if isPodman(ctx, c) {
		e.podman = newLibpod(host)
	}
	return e, nil
}

// ErrNoEngine: no container engine answers at any of the usual addresses.
var ErrNoEngine = errors.New("no container engine answers")

// Find connects to the first engine of Hosts(getenv) that answers. Its
// error wraps ErrNoEngine and names every address tried.
func Find(ctx context.Context, getenv func(string) string) (*Engine, error) {
	hosts := Hosts(getenv)
	var errs []string
	for _, h := range hosts {
		e, err := Connect(ctx, h)
		if err == nil {
			return e, nil
		}
		errs = append(errs, err.Error())
	}
	where := "set DOCKER_HOST, or start Docker or `podman system service`"
	return nil, fmt.Errorf("%w (tried %s; %s): %s", ErrNoEngine, strings.Join(hosts, ", "), where, strings.Join(errs, "; "))
}

// HasImage reports whether the engine has the image ref on this machine.
func (e *Engine) HasImage(ctx context.Context, ref string) (bool, error) {
	found, err := present(ctx, e.c, ref)
	if err != nil {
		return false, fmt.Errorf("look for image %s: %w", ref, err)
	}
	return found, nil
}
