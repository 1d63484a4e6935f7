package bench

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"
)

// Options of a benchmark run.
type Options struct {
	// Bin is the longshore binary to measure.
	Bin string
	// Quick makes every measurement smaller, to try the harness.
	Quick bool
	// Log receives progress lines.
	Log io.Writer
	// Only, when set, runs only the measurements whose name contains it.
	Only string
}

// All runs every measurement and returns the rows measured so far, with
// the first error that stopped it.
func All(ctx context.Context, o Options) ([]Row, error) {
	if o.Log == nil {
		o.Log = io.Discard
	}
	n, conc, jobs, samples := 1000, 50, 1000, 200
	burst := 10000
	if o.Quick {
		n, jobs, samples, burst = 200, 100, 30, 1000
	}
	var rows []Row
	step := func(name string, f func() ([]Row, error)) error {
		fmt.Fprintf(o.Log, "bench: %s...\n", name)
		start := time.Now()
		got, err := f()
		rows = append(rows, got...)
		fmt.Fprintf(o.Log, "bench: %s took %s\n", name, time.Since(start).Round(time.Millisecond))
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		return nil
	}
	for _, s := range []struct {
		name string
		f    func() ([]Row, error)
	}{
		{"throughput", func() ([]Row, error) { r, err := Throughput(ctx, o.Bin, n, conc); return []Row{r}, err }},
		{"trigger latency", func() ([]Row, error) { return Latency(ctx, o.Bin, jobs, samples) }},
		{"schedule firing", func() ([]Row, error) { return Firing(ctx, o.Bin, jobs) }},
		{"memory", func() ([]Row, error) { return Memory(ctx, o.Bin, 100, 1000) }},
		{"burst drain", func() ([]Row, error) { return Burst(ctx, burst) }},
		{"calls and cost", func() ([]Row, error) { return Calls(ctx) }},
		{"lambda binaries", func() ([]Row, error) { return Lambdas(ctx) }},
	} {
		if o.Only != "" && !strings.Contains(s.name, o.Only) {
			continue
		}
		if err := step(s.name, s.f); err != nil {
			return rows, err
		}
	}
	return rows, nil
}

// WriteDoc writes the rows to path as docs/benchmarks.md, with the date and
// the machine they were measured on.
func WriteDoc(path string, rows []Row) error {
	var b strings.Builder
	fmt.Fprintln(&b, "# Benchmarks")
	fmt.Fprintln(&b)
	fmt.Fprintln(&b, "Measured by `make bench` (cmd/longshore-bench): each figure beside its baseline, in the same run,")
	fmt.Fprintln(&b, "so the ratios hold on a shared machine where absolute times drift. `make test` never fails on speed.")
	fmt.Fprintln(&b)
	fmt.Fprintf(&b, "- date: %s\n", time.Now().UTC().Format("2006-01-02 15:04 MST"))
	fmt.Fprintf(&b, "- machine: %s, %d cores, %s\n", cpuModel(), runtime.NumCPU(), memTotal())
	fmt.Fprintf(&b, "- %s\n", goVersion())
	fmt.Fprintln(&b)
	Markdown(&b, rows)
	fmt.Fprintln(&b)
	fmt.Fprintln(&b, notes)
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

// notes explains how each figure is measured.
const notes = `## How each figure is measured

- **local throughput**: ` + "`longshore local`" + ` with the process runner; 50 clients each start a run of ` + "`true`" + `
  through the runs API and wait for its exit code (` + "`waitSeconds`" + `), until 1,000 have finished. The baseline is
  ` + "`xargs -P 50 -n 1 true`" + ` over the same 1,000 lines: the cost of forking and executing the same processes.
- **trigger to start**: from just before the client sends the trigger (runs API, S3 PutObject with the AWS SDK,
  SQS SendMessage with the AWS SDK) to the run's ` + "`startedAt`" + ` (the moment its process was started), with
  1,000 jobs in the catalog; one trigger at a time.
- **schedule firing**: every job of a 1,000-job catalog on ` + "`rate(1 minute)`" + `; the firing error is the run's
  ` + "`createdAt`" + ` (the trigger recorded, as EventBridge Scheduler's invocation is on AWS) minus the scheduled minute,
  over all runs of one minute. The start error is ` + "`startedAt`" + ` (the process started) minus the minute, beside
  ` + "`xargs -P 16`" + ` starting the same 1,000 processes (16 is the scheduler's parallelism): 1,000 forks take time.
- **memory**: the engine's resident set size (VmRSS) with 100 runs of ` + "`sleep`" + ` going and 1,000 finished runs stored.
- **burst drain**: the core services on a simulated clock, a runner throttled by a token bucket of 20 starts per
  second (burst 100) with 5% capacity errors; the bound is the time the bucket needs for all starts.
- **calls per run and cost**: the billable AWS API calls one successful run makes beyond RunTask (a direct invoke,
  then the task's STOPPED event, the one task event the deployed rule delivers), counted through the core's ports
  with the adapters' calls per port operation. ` + "`integration`" + `'s
  TestLambdaASuccessfulRunMakesFourBillableCallsBeyondRunTask counts the same run at the fakes through the real
  function binaries and fails if it is not 4. ECS's ListTasks and DescribeTasks, which ` + "`--aws`" + ` uses to show a
  started run, are not billed. The two Lambda invocations that carry the calls are priced in the cost row, with
  public us-east-1 prices, beside a Step Functions standard workflow using ` + "`ecs:runTask.sync`" + ` (AWS Copilot's jobs).
- **lambda binaries**: ` + "`make build`" + ` sizes (arm64, stripped); cold start is the time from starting each real
  bootstrap (built for this machine) under a fake Lambda Runtime API to its first answer.`

func cpuModel() string {
	b, _ := os.ReadFile("/proc/cpuinfo")
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "model name"); ok {
			return strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
		}
	}
	return runtime.GOARCH
}

func memTotal() string {
	b, _ := os.ReadFile("/proc/meminfo")
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "MemTotal:"); ok {
			var kb int64
			fmt.Sscan(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), &kb)
			return fmt.Sprintf("%.0f GiB", float64(kb)/(1<<20))
		}
	}
	return "memory unknown"
}

func goVersion() string {
	out, err := exec.Command("go", "version").Output()
	if err != nil {
		return runtime.Version()
	}
	return strings.TrimSpace(string(out))
}
