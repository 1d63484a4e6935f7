package container

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/longshore/longshore/internal/local/container/enginetest"
)

func TestOnPodmanAContainersEndIsSeenThroughPodmansOwnWait(t *testing.T) {
	e := engine(t)
	if !isPodman(context.Background(), e.c) {
		msg := "the test engine is not Podman: the runner keeps the Docker API's wait"
		if os.Getenv(enginetest.RequireVar) == "1" {
			t.Fatal(msg + " (" + enginetest.RequireVar + "=1: CI runs Podman)")
		}
		t.Skip(msg)
	}
	if e.podman == nil {
		t.Fatal("connected to Podman without its own API: every run would wait on the Docker API's quarter-second polls")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.podman.wait(ctx, "longshore-no-such-container"); err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("wait for a container that is not there = %v, want the engine's 404", err)
	}
}
