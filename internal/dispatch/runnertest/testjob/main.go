// Command testjob is the program the TaskRunner contract suite runs: a
// static binary (CGO_ENABLED=0) that behaves as its environment says, so
// that every runner can run it — as a process, or as the entrypoint of a
// FROM scratch image. In the order it does them:
//
//	RUNNERTEST_IGNORE_TERM=1   ignore SIGTERM (otherwise SIGTERM exits 143, as a shell's child would)
//	RUNNERTEST_ENV=1           print the environment, sorted, one NAME=value a line; the values of
//	                           the names listed in RUNNERTEST_HASH (comma-separated) as sha256:<hex>
//	RUNNERTEST_ARGS=1          print "args:" then each argument in brackets: args:[a][b c]
//	RUNNERTEST_CGROUP=1        print the CPU and memory limits of its cgroup (v1 or v2 files)
//	RUNNERTEST_NET=1           print the names of its network interfaces: interfaces=lo,eth0
//	RUNNERTEST_STDERR=text     print text to stderr
//	RUNNERTEST_OUTPUT=N        write N bytes of 'x' to stdout, then N to stderr
//	RUNNERTEST_ALLOCATE_MIB=N  allocate and touch N MiB of memory
//	RUNNERTEST_WAIT=1          print "ready", then wait for SIGUSR1 (print "got SIGUSR1") or SIGTERM
//	RUNNERTEST_EXIT=N          exit with N (0 when unset)
//
// "ready" is printed on its own line once the signals are set up, so a test
// that reads it from the task's log can signal the task safely.
package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"
)

func main() {
	os.Exit(run())
}

func run() int {
	code, err := strconv.Atoi(getenv("RUNNERTEST_EXIT", "0"))
	if err != nil {
		fmt.Fprintf(os.Stderr, "testjob: RUNNERTEST_EXIT=%q is not a number\n", os.Getenv("RUNNERTEST_EXIT"))
		return 2
	}
	signals := make(chan os.Signal, 4)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGUSR1)
	ignoreTerm := os.Getenv("RUNNERTEST_IGNORE_TERM") == "1"

	if os.Getenv("RUNNERTEST_ENV") == "1" {
		printEnv(strings.Split(os.Getenv("RUNNERTEST_HASH"), ","))
	}
	if os.Getenv("RUNNERTEST_ARGS") == "1" {
		var b strings.Builder
		b.WriteString("args:")
		for _, a := range os.Args[1:] {
			b.WriteString("[" + a + "]")
		}
		fmt.Println(b.String())
	}
	if os.Getenv("RUNNERTEST_CGROUP") == "1" {
		printCgroup()
	}
	if os.Getenv("RUNNERTEST_NET") == "1" {
		var names []string
		ifs, _ := net.Interfaces()
		for _, i := range ifs {
			names = append(names, i.Name)
		}
		fmt.Println("interfaces=" + strings.Join(names, ","))
	}
	if s := os.Getenv("RUNNERTEST_STDERR"); s != "" {
		fmt.Fprintln(os.Stderr, s)
	}
	if n, _ := strconv.Atoi(os.Getenv("RUNNERTEST_OUTPUT")); n > 0 {
		chunk := []byte(strings.Repeat("x", 64<<10))
		for _, f := range []*os.File{os.Stdout, os.Stderr} {
			for left := n; left > 0; left -= len(chunk) {
				if _, err := f.Write(chunk[:min(left, len(chunk))]); err != nil {
					return 3
				}
			}
		}
	}
	if n, _ := strconv.Atoi(os.Getenv("RUNNERTEST_ALLOCATE_MIB")); n > 0 {
		fmt.Printf("allocating %d MiB\n", n)
		hold := make([][]byte, 0, n)
		for range n {
			b := make([]byte, 1<<20)
			for i := 0; i < len(b); i += 4096 {
				b[i] = 1
			}
			hold = append(hold, b)
		}
		fmt.Printf("allocated %d MiB\n", len(hold))
	}
	if os.Getenv("RUNNERTEST_WAIT") == "1" {
		fmt.Println("ready")
		for sig := range signals {
			if sig == syscall.SIGUSR1 {
				fmt.Println("got SIGUSR1")
				break
			}
			if !ignoreTerm {
				fmt.Println("terminated")
				return 128 + int(syscall.SIGTERM)
			}
			fmt.Println("ignoring SIGTERM")
		}
	}
	return code
}

func getenv(name, def string) string {
	if v, ok := os.LookupEnv(name); ok {
		return v
	}
	return def
}

// printEnv prints the environment sorted, hashing the values of hidden names.
func printEnv(hidden []string) {
	env := os.Environ()
	slices.Sort(env)
	for _, kv := range env {
		name, value, _ := strings.Cut(kv, "=")
		if slices.Contains(hidden, name) {
			sum := sha256.Sum256([]byte(value))
			value = "sha256:" + hex.EncodeToString(sum[:])
		}
		fmt.Println(name + "=" + value)
	}
}

// printCgroup prints "cpu-quota=<µs per period>/<period µs>" and
// "memory-limit=<bytes>" from the cgroup v2 or v1 files, "none" for no limit.
func printCgroup() {
	if b, err := os.ReadFile("/sys/fs/cgroup/cpu.max"); err == nil {
		f := strings.Fields(string(b))
		if len(f) == 2 {
			fmt.Printf("cpu-quota=%s/%s\n", noLimit(f[0]), f[1])
		}
	} else {
		quota := readTrim("/sys/fs/cgroup/cpu/cpu.cfs_quota_us")
		period := readTrim("/sys/fs/cgroup/cpu/cpu.cfs_period_us")
		fmt.Printf("cpu-quota=%s/%s\n", noLimit(quota), period)
	}
	if v := readTrim("/sys/fs/cgroup/memory.max"); v != "" {
		fmt.Printf("memory-limit=%s\n", noLimit(v))
	} else {
		fmt.Printf("memory-limit=%s\n", noLimit(readTrim("/sys/fs/cgroup/memory/memory.limit_in_bytes")))
	}
}

func readTrim(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// noLimit spells the ways cgroups say "no limit" as "none".
func noLimit(v string) string {
	switch {
	case v == "max", v == "-1", v == "":
		return "none"
	case len(v) >= 18: // v1's "no limit" is a page-rounded 2^63-1
		return "none"
	}
	return v
}
