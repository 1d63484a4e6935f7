package container

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/moby/moby/client"
)

// How often Podman looks at a container for its own wait endpoint. Its
// Docker-compatible wait looks every 250 ms, which adds up to a quarter
// second (often half) to every run; its own API takes the interval as a
// parameter. A container is looked at every libpodWaitFast during its
// first libpodFastFor (most short tasks end then), and every
// libpodWaitSlow after, so that a task running for hours does not keep
// Podman busy.
const (
	libpodWaitFast = 10 * time.Millisecond
	libpodFastFor  = 2 * time.Second
	libpodWaitSlow = 250 * time.Millisecond
)

// libpod talks to the Podman-only part of a Podman service's API: the
// wait that is told how often to look. Docker has no such endpoint: with
// Docker the runner keeps the Docker API's wait, which Docker answers as
// the container exits.
type libpod struct {
	http *http.Client
	base string // http://d/v4.0.0/libpod, whatever the host; the transport dials the engine
}

// isPodman reports whether the engine that answers c is Podman.
func isPodman(ctx context.Context, c *client.Client) bool {
	ctx, cancel := context.WithTimeout(ctx, pingTimeout)
	defer cancel()
	v, err := c.ServerVersion(ctx, client.ServerVersionOptions{})
	if err != nil {
		return false
	}
	for _, comp := range v.Components {
		if strings.Contains(strings.ToLower(comp.Name), "podman") {
			return true
		}
	}
	return strings.Contains(strings.ToLower(v.Platform.Name), "podman")
}

// newLibpod returns a client of the Podman service at host (unix:// or
// tcp://), or nil for another kind of address.
func newLibpod(host string) *libpod {
	u, err := url.Parse(host)
	if err != nil {
		return nil
	}
	var dial func(ctx context.Context, _, _ string) (net.Conn, error)
	switch u.Scheme {
	case "unix":
		dial = func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", u.Path)
		}
	case "tcp":
		dial = func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "tcp", u.Host)
		}
	default:
		return nil
	}
	return &libpod{http: &http.Client{Transport: &http.Transport{DialContext: dial}}, base: "http://d/v4.0.0/libpod"}
}

// wait returns once the container is no longer running (stopped or
// exited), or ctx is done.
func (l *libpod) wait(ctx context.Context, id string) error {
	fast, cancel := context.WithTimeout(ctx, libpodFastFor)
	err := l.waitEvery(fast, id, libpodWaitFast)
	cancel()
	if err == nil || ctx.Err() != nil || fast.Err() == nil {
		return err
	}
	return l.waitEvery(ctx, id, libpodWaitSlow)
}

// waitEvery waits for the container with Podman looking every interval.
func (l *libpod) waitEvery(ctx context.Context, id string, interval time.Duration) error {
	q := url.Values{"condition": {"stopped", "exited"}, "interval": {interval.String()}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, l.base+"/containers/"+url.PathEscape(id)+"/wait?"+q.Encode(), nil)
	if err != nil {
		return err
	}
	resp, err := l.http.Do(req)
	if err != nil {
		return fmt.Errorf("wait for container %s: %w", id, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Message string `json:"message"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&e)
		return fmt.Errorf("wait for container %s: %s: %s", id, resp.Status, e.Message)
	}
	return nil
}
