package main

import (
	"fmt"
	"io"
	"os"
	"runtime/pprof"
)

// cpuProfileEnv names a file to write a CPU profile of the whole command
// to, for `go tool pprof`: a debugging aid, off unless set, e.g.
//
//	LONGSHORE_CPU_PROFILE=/tmp/local.pprof longshore local
//
// The profile is complete when the command returns (for `longshore local`,
// after SIGINT or SIGTERM).
const cpuProfileEnv = "LONGSHORE_CPU_PROFILE"

// startCPUProfile starts a CPU profile into path, when path is set, and
// returns the function that finishes it. A profile that cannot be taken is
// said on stderr and the command runs without it.
func startCPUProfile(path string, stderr io.Writer) (stop func()) {
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err != nil {
		fmt.Fprintf(stderr, "longshore: %s: %v\n", cpuProfileEnv, err)
		return func() {}
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		fmt.Fprintf(stderr, "longshore: %s: %v\n", cpuProfileEnv, err)
		f.Close()
		return func() {}
	}
	return func() {
		pprof.StopCPUProfile()
		if err := f.Close(); err != nil {
			fmt.Fprintf(stderr, "longshore: %s: %v\n", cpuProfileEnv, err)
		}
	}
}
