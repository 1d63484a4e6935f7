package bench

import (
	"context"
	"errors"
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

// All runs every measurement and returns the rows measured, with the errors
// of the measurements that failed (the others are still made).
func All(ctx context.Context, o Options) ([]Row, error) {
	if o.Log == nil {
		o.Log = io.Discard
	}
	n, conc, rounds, jobs, samples := 1000, 50, 5, 1000, 200
	burst := 10000
	withRuns, bigRuns := 100_000, 1_000_000
	if o.Quick {
		n, rounds, jobs, samples, burst = 200, 1, 100, 30, 1000
		withRuns, bigRuns = 10_000, 20_000
	}
	var rows []Row
	var errs []error
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
		{"throughput", func() ([]Row, error) { r, err := Throughput(ctx, o.Bin, n, conc, rounds); return []Row{r}, err }},
		{"history", func() ([]Row, error) { return History(ctx, o.Bin, n, conc, rounds, withRuns, bigRuns) }},
		{"trigger latency", func() ([]Row, error) { return Latency(ctx, o.Bin, jobs, samples) }},
		{"containers", func() ([]Row, error) { return Containers(ctx, o.Bin, rounds) }},
		{"schedule firing", func() ([]Row, error) { return Firing(ctx, o.Bin, jobs) }},
		{"memory", func() ([]Row, error) { return Memory(ctx, o.Bin, 1000, 100) }},
		{"burst drain", func() ([]Row, error) { return Burst(ctx, burst) }},
		{"calls and cost", func() ([]Row, error) { return Calls(ctx) }},
		{"lambda binaries", func() ([]Row, error) { return Lambdas(ctx) }},
		{"lambda handlers", func() ([]Row, error) { return Handlers(ctx) }},
	} {
		if o.Only != "" && !strings.Contains(s.name, o.Only) {
			continue
		}
		if err := step(s.name, s.f); err != nil {
			fmt.Fprintf(o.Log, "bench: %v\n", err)
			errs = append(errs, err)
		}
	}
	return rows, errors.Join(errs...)
}

// WriteDoc writes the rows to path as docs/benchmarks.md, with the date and
// the machine they were measured on, and the measurements that failed
// (failed, from All), if any.
func WriteDoc(path string, rows []Row, failed error) error {
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
	var unmet []string
	for _, r := range rows {
		if r.Target != "" && !r.Met {
			unmet = append(unmet, r.Name)
		}
	}
	if len(unmet) == 0 {
		fmt.Fprintln(&b, "Every target in the table is met.")
	} else {
		fmt.Fprintln(&b, "Targets not met in this run: "+strings.Join(unmet, "; ")+".")
	}
	if failed != nil {
		fmt.Fprintln(&b)
		fmt.Fprintln(&b, "Not measured in this run, for an error:")
		fmt.Fprintln(&b)
		errs := []error{failed}
		if j, ok := failed.(interface{ Unwrap() []error }); ok {
			errs = j.Unwrap()
		}
		for _, err := range errs {
			fmt.Fprintf(&b, "- %s\n", firstLine(err.Error(), 300))
		}
	}
	fmt.Fprintln(&b)
	fmt.Fprintln(&b, design)
	fmt.Fprintln(&b)
	fmt.Fprintln(&b, notes)
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

// design says what the figures rest on.
const design = `## What the figures rest on

- **A run costs two writes.** Its id derives from its trigger's idempotency key, so creating it is one
  conditional write (DynamoDB: PutItem if absent; SQLite: an insert on a unique key). It is created as
  ` + "`starting`" + ` and its task is started with no second write: the task's events record it. When it ends, the
  outcome is reported (or the next attempt created) before the one write that records both. On AWS the
  tracker only receives STOPPED events; ` + "`--aws`" + ` and the dashboard read a started run's live state from ECS
  (not billed) when asked. A run that outlasts the reconciler's quiet period (10 minutes) gets two more writes,
  its task found (ListTasks by startedBy) and recorded, then its running state; after that the reconciler
  describes it (DescribeTasks, a hundred runs a call) without writing, however long it runs.
- **Locally nothing polls and writes go together.** A request waiting for a run is woken by the store when the
  run is written; concurrent writes share one SQLite transaction (a group commit); a run just written is read
  back from memory; a process's start and exit records are rows in the store, and its log files are made on
  the first byte. A CPU profile of the engine
  (` + "`LONGSHORE_CPU_PROFILE=FILE longshore local`" + `) before these changes showed 88% of its time in system
  calls, 63% creating files; after them about 0.6 ms of engine CPU per run remains: starting the process
  (fork/exec and reading its start time) about a third, SQLite writes a quarter, the core's bookkeeping the rest.
- **Schedules due together are stored together.** The scheduler stores the runs of every schedule due in the
  minute first (one group commit), then starts them 16 at a time; marks are read from the store once.
- **The functions every run invokes are small, and the indexes keep whole runs.** The launcher and the tracker
  have Lambda's least memory, 128 MB: they peak at about 21 MiB, and most of an invocation is spent waiting for
  DynamoDB, ECS and EventBridge, billed by the millisecond at the memory's price (measured when it was halved from 256 MB: the calls of a
  run went from $7.93 per million, 0.11x Step Functions, to $6.99, 0.09x). A run's item is under 1 KB (465 B created,
  about 850 B finished), so each index write is one unit whatever the index projects. Projecting only the keys
  would save the by-job index's update when a run ends (1 WRU, $0.63 per million runs) and a copy of the run in
  storage, but every run listed through an index would then be read whole: about five times the reads for the
  reconciler, which lists the runs going every minute, for ` + "`runs --aws`" + `, and for the dashboard's Jobs page, which
  lists up to 1,000 runs of each job every 4 s to sum their cost.`

// notes explains how each figure is measured.
const notes = `## How each figure is measured

- **local throughput**: ` + "`longshore local`" + ` with the process runner; 50 clients each start a run of ` + "`true`" + `
  through the runs API and wait for its exit code (` + "`waitSeconds`" + `), until 1,000 have finished. The baseline is
  a Go program in the bench starting and reaping the same 1,000 ` + "`true`" + ` processes with os/exec, 50 at a time (the
  floor: faster than ` + "`xargs -P 50`" + ` here). Five rounds, each the engine's 1,000 runs then the floor's; the row is
  the round of median ratio, with the range. Where the engine's time goes (` + "`LONGSHORE_CPU_PROFILE`" + `): about
  0.6 ms of CPU a run, of which SQLite about a third (five writes a run: the run created, its task's start record,
  its running state, its task's end record and its end; group commits share the transactions), fork and exec a
  sixth, HTTP and JSON most of the rest. What would change it: fewer writes a run (the task's records kept in the
  run's row, written with the run's own changes), a SQLite driver in C rather than one translated to Go, and a
  binary encoding of runs.
- **flat with history**: the same 1,000 runs on an engine whose data folder already holds 100,000 finished runs
  (a once-a-minute job's 70 days, and a few other jobs), against an engine on an empty folder, in alternating
  rounds. Then with 1,000,000 runs stored: ` + "`runs --job`" + ` (the newest 50 of the job with most runs), what the
  dashboard's Jobs page asks (the catalog with each job's cost over 30 days, then each job's last 24 runs), and the
  engine's memory after these.
- **containers**: a FROM scratch image of a static program that exits 0, run by ` + "`longshore run --wait`" + ` (the
  CLI, against an engine with ` + "`--runner container --network host`" + `) and by ` + "`podman run --rm`" + ` with the same
  cpu, memory and network, in alternating rounds; then 20 of each, 5 at a time. Where the time goes: Podman's
  Docker-compatible wait looks at a container every 250 ms, and its followed log stream ends about 400 ms after
  the container (or never): the runner now waits through Podman's own wait endpoint (every 10 ms for a task's
  first 2 s, every 250 ms after) and reads the output once more when the container has stopped instead of
  waiting for the stream, which took one run from about 0.5 s to about 0.19 s. What is left beside ` + "`podman run`" + `'s
  own work is the engine API's round trips (8 calls a run) and the container's removal (about 18 ms), which is
  done before the run is reported ended so that nothing is left behind then.
- **trigger to start**: from just before the client sends the trigger (runs API, S3 PutObject with the AWS SDK,
  SQS SendMessage with the AWS SDK) to the run's ` + "`startedAt`" + ` (the moment its process was started), with
  1,000 jobs in the catalog; one trigger at a time.
- **schedule firing**: every job of a 1,000-job catalog on ` + "`rate(1 minute)`" + `; the firing error is the run's
  ` + "`createdAt`" + ` (the trigger recorded, as EventBridge Scheduler's invocation is on AWS) minus the scheduled minute,
  over all runs of one minute. The start error is ` + "`startedAt`" + ` (the process started) minus the minute, beside
  ` + "`xargs -P 16`" + ` starting the same 1,000 processes (16 is the scheduler's parallelism): 1,000 forks take time.
- **memory**: the engine's resident set size (VmRSS) with 1,000 runs queued (second attempts of runs of ` + "`false`" + `,
  due an hour later), 100 runs of ` + "`sleep`" + ` going and the 1,000 failed first attempts stored. A Lambda's memory is
  its peak RSS after init (VmHWM of the real bootstrap) plus what one event allocates: the Go benchmarks of
  internal/aws/handler (` + "`make bench`" + ` runs them after the table) give the bytes per event and per SQS batch.
- **burst drain**: the core services on a simulated clock, a runner throttled by a token bucket of 20 starts per
  second (burst 100) with 5% capacity errors; the bound is the time the bucket needs for all starts.
- **calls per run and cost**: measured from the deployment. The bench synthesizes the CDK app and reads each
  function's memory, architecture and environment and the runs table's indexes from the template. The launcher's and
  the tracker's real bootstraps (built for this machine) run under a fake Lambda Runtime API with that environment,
  against the table as the template declares it (in dynalite, behind a meter) and fakes of ECS and EventBridge. One
  successful run is a direct invoke of the launcher, then its task's STOPPED event to the tracker (the one task event
  the deployed rule delivers), in new function instances, so the job's pause state is read once. The meter reads
  each written item before and after (reads of its own, not counted) and counts write units as DynamoDB bills them:
  the item's size rounded up to 1 KB and, in each global secondary index, a put when the item gains the index's keys,
  a delete when it loses one, a delete and a put when a key changes, an update when only a projected attribute
  changes, each by the size of the index entry (the table's key, the index's keys and the projected attributes);
  reads by what was read, 4 KB a unit, half for an eventually consistent read. Lambda bills each invocation's
  duration at the template's memory: the bootstrap's CPU time per invocation (the median of the warm runs, from
  /proc) scaled to the share of a vCPU the memory buys (one at 1,769 MB), plus the time spent waiting for AWS's
  answers, which cannot be measured here and is assumed on the slow side (DynamoDB 10 ms a request, PutEvents 30 ms,
  RunTask 500 ms: at 128 MB each 100 ms is $0.17 per million runs). ECS does not bill its API. Prices are public
  us-east-1 list prices, dated, in internal/bench/prices.go. The baseline is a Step Functions standard workflow with
  one ` + "`ecs:runTask.sync`" + ` task (AWS Copilot's jobs): three state transitions at $25 per million. The target compares
  the calls; the next row adds what a run costs beyond them: the log lines of its two invocations (the functions'
  own, measured, and Lambda's start and report records) and its result event copied into the results log group, at
  $0.50 per GB ingested, and its item stored for its history.keep in the table (with point-in-time recovery) and in
  each index that holds it, with DynamoDB's 100 bytes per item. The last rows show what an index projecting only its
  keys would change, and meter the reconciler's minute with 50 runs going and an api list of a page of 50 runs.
  ` + "`integration`" + `'s TestLambdaASuccessfulRunMakesFiveBillableCallsBeyondRunTask counts the same run at moto through the
  real function binaries and fails if it is not 5.
- **lambda binaries**: ` + "`make build`" + ` sizes (arm64, stripped); cold start is the time from starting each real
  bootstrap (built for this machine) under a fake Lambda Runtime API to its first answer.
- **lambda handlers**: the Go benchmarks of internal/aws/handler, one per event kind, each event a new trigger
  (or a new run's end) through the Handle method the function's main gives the Lambda runtime, over in-memory
  ports: the CPU time and allocations of the function's own work, without the AWS calls' latency. The list
  figure is dominated by the in-memory store's sorting.`

// firstLine is the first line of s, up to n bytes.
func firstLine(s string, n int) string {
	s, _, _ = strings.Cut(s, "\n")
	if len(s) > n {
		s = s[:n] + "..."
	}
	return strings.ReplaceAll(s, "|", "\\|")
}

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
