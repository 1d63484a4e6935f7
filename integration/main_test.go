// Package integration runs Longshore as its users do: the real binary,
// built once for the whole suite, against real files and processes.
package integration

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// longshore is the path of the binary built for this run.
var longshore string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "longshore-it-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	longshore = filepath.Join(dir, "longshore")
	build := exec.Command("go", "build", "-o", longshore, "../cmd/longshore")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build longshore:", err)
		os.Exit(1)
	}
	// The example jobs run their static binaries, as `make examples` builds them.
	for _, j := range []string{"hello", "nightly-report", "thumbnail", "orders", "soak"} {
		build := exec.Command("go", "build", "-o", "../jobs/"+j+"/"+j, "../jobs/"+j)
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			fmt.Fprintf(os.Stderr, "build the %s example: %v\n", j, err)
			os.Exit(1)
		}
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// result is what a command printed and how it exited.
type result struct {
	stdout, stderr string
	code           int
}

// cli runs the binary with args in dir ("" for this folder).
func cli(t *testing.T, dir string, args ...string) result {
	t.Helper()
	return cliIn(t, dir, nil, args...)
}

// cliIn runs the binary in dir with extra environment variables.
func cliIn(t *testing.T, dir string, env []string, args ...string) result {
	t.Helper()
	return runBinary(t, longshore, dir, env, args...)
}

// runBinary runs a longshore binary in dir with extra environment variables.
func runBinary(t *testing.T, bin, dir string, env []string, args ...string) result {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run longshore %v: %v", args, err)
	}
	return result{out.String(), errb.String(), code}
}
