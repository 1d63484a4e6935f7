package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os/signal"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/longshore/longshore/internal/api"
	"github.com/longshore/longshore/internal/job"
	"github.com/longshore/longshore/internal/run"
)

// Exit codes of `longshore run --wait` beyond the run's own exit code.
const (
	ExitTimedOut     = 124
	ExitNeverStarted = 125
	ExitInterrupted  = 130 // the CLI itself was interrupted while waiting
)

// pollEvery is how often a waiting or following command asks a local
// engine: a request is cheap there.
const pollEvery = 200 * time.Millisecond

// Pacing of a waiting or following command against a deployment, where
// every question is a function invocation (and ECS or CloudWatch Logs calls
// behind it): every awsPollFirst during the first awsPollSteady, while a
// Fargate task usually starts, then half as often again each time up to
// awsPollMost. `run --wait --aws` so makes 30 invocations in its first
// minute, then fewer, down to 2 a minute on a long run.
const (
	awsPollFirst  = 2 * time.Second
	awsPollSteady = time.Minute
	awsPollMost   = 30 * time.Second
)

// pacer says how long to wait before the next question.
type pacer struct {
	first, steady, most time.Duration
	waited, cur         time.Duration
}

// next returns the wait before the next question and counts it as waited.
func (p *pacer) next() time.Duration {
	switch {
	case p.cur == 0 || p.waited < p.steady:
		p.cur = p.first
	default:
		p.cur = min(p.cur*3/2, p.most)
	}
	p.waited += p.cur
	return p.cur
}

// pace is how a command waiting on backend b asks it again.
func pace(b backend) *pacer {
	if _, ok := b.(awsBackend); ok {
		return &pacer{first: awsPollFirst, steady: awsPollSteady, most: awsPollMost}
	}
	return &pacer{first: pollEvery, steady: time.Duration(1<<63 - 1), most: pollEvery}
}

// after waits as the App is told to (time.After by default).
func (a *App) after(d time.Duration) <-chan time.Time {
	if a.After != nil {
		return a.After(d)
	}
	return time.After(d)
}

// tailLines is how much output `run --wait` prints once the run is over.
const tailLines = 20

func (a *App) client(cmd *cobra.Command) (*api.Client, error) {
	if onAWS, _ := cmd.Flags().GetBool("aws"); onAWS {
		return nil, usageError("%s does not work with --aws yet: it needs a local engine's API", cmd.CommandPath())
	}
	ep, _ := cmd.Flags().GetString("endpoint")
	if ep == "" {
		ep = a.Getenv("LONGSHORE_ENDPOINT")
	}
	c, err := api.NewClient(ep)
	if err != nil {
		return nil, usageError("%v", err)
	}
	c.Token = a.Getenv("LONGSHORE_TOKEN")
	return c, nil
}

// apiError turns an API failure into a CLI error: one line, exit 1 (2 for
// a request the engine refused as malformed).
func apiError(err error) error {
	var se *api.StatusError
	if errors.As(err, &se) {
		code := ExitFailure
		if se.Status == 400 {
			code = ExitUsage
		}
		return &exitError{code: code, err: errors.New(se.Message)}
	}
	return &exitError{code: ExitFailure, err: err}
}

// runError is apiError for a command about one run: an unknown run says
// how to find the right id.
func runError(err error, id string) error {
	var se *api.StatusError
	if errors.As(err, &se) && se.Status == http.StatusNotFound {
		return &exitError{code: ExitFailure, err: fmt.Errorf("run %s not found: list runs with `longshore runs` (or `longshore runs --job JOB`)", id)}
	}
	return apiError(err)
}

// jobError is apiError for a command naming a job: an unknown job says
// where the catalog is.
func jobError(err error) error {
	var se *api.StatusError
	if errors.As(err, &se) && strings.Contains(se.Message, "unknown job") {
		return &exitError{code: ExitUsage, err: fmt.Errorf("%s: see the catalog with `longshore jobs`", se.Message)}
	}
	return apiError(err)
}

func (a *App) runCommand() *cobra.Command {
	var (
		envs     []string
		key      string
		wait     bool
		progress string
	)
	cmd := &cobra.Command{
		Use:   "run JOB [--env K=V]... [--key KEY] [--wait] [-- ARGS...]",
		Short: "Start a one-off run of a job",
		Long: `Start a one-off run of a job and print its id. With --wait, follow it (and
its retries) to the end, print the tail of its output, and exit with its
exit code: the job's own, 124 when it timed out, 125 when it never started,
1 for any other end without an exit code (cancelled, interrupted, lost).

--env refuses a variable named like a secret (API_TOKEN, DB_PASSWORD, ...):
overrides are stored with the run; declare it in the job's secrets: instead.

--key makes the request idempotent: the same key again returns the same run.
Arguments after -- replace the job's command (for a local process, they are
added to local.command).

While waiting, the run's status is one line redrawn in place when stderr is a
terminal, and one line per change otherwise (--progress plain|live forces
either).`,
		Example: `  # start a run and print its id
  longshore run hello

  # wait for it, then exit with its exit code
  longshore run hello --env EXIT_CODE=3 --wait; echo $?

  # the same key twice is one run; arguments after -- go to the job
  longshore run nightly-report --key report-2026-11-22 -- --since 48h`,
		Args:              cobra.MinimumNArgs(1),
		ValidArgsFunction: a.completeJobArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := validProgress(progress); err != nil {
				return err
			}
			dash := cmd.ArgsLenAtDash()
			if dash == 0 {
				return usageError("name the job before --: longshore run JOB -- ARGS")
			}
			if dash < 0 && len(args) > 1 || dash > 1 {
				return usageError("run takes one job; put the job's arguments after --")
			}
			req := api.RunRequest{Job: args[0], Key: key}
			if dash > 0 {
				req.Command = args[dash:]
			}
			for _, kv := range envs {
				k, v, ok := strings.Cut(kv, "=")
				if !ok || k == "" {
					return usageError("--env %q: write NAME=value", kv)
				}
				if req.Env == nil {
					req.Env = map[string]string{}
				}
				req.Env[k] = v
			}
			// Refused here too, so that the value never leaves this
			// machine, whatever the engine or deployment checks.
			if err := job.CheckOverrideEnv(req.Env); err != nil {
				return usageError("%v", err)
			}
			c, err := a.runs(cmd)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			got, err := c.Start(ctx, req)
			if err != nil {
				return jobError(err)
			}
			fmt.Fprintln(a.Stdout, got.ID)
			if got.Duplicate {
				fmt.Fprintf(a.Stderr, "%s: the key %q had already started this run\n", got.ID, key)
			}
			if !wait {
				return nil
			}
			ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			p := newProgress(a.Stderr, progress, a.Getenv, a.Now)
			final, err := a.follow(ctx, c, got.Run, p)
			p.end()
			if ctx.Err() != nil {
				fmt.Fprintf(a.Stderr, "stopped waiting; the run goes on: longshore stop %s\n", final.ID)
				return silentExit(ExitInterrupted)
			}
			if err != nil {
				return apiError(err)
			}
			a.tail(ctx, c, final.ID)
			return silentExit(exitCodeOf(final))
		},
	}
	cmd.Flags().StringArrayVarP(&envs, "env", "e", nil, "set an environment variable, NAME=value (repeatable)")
	cmd.Flags().StringVar(&key, "key", "", "idempotency key: the same key again is the same run")
	cmd.Flags().BoolVarP(&wait, "wait", "w", false, "follow the run to its end and exit with its exit code")
	cmd.Flags().StringVar(&progress, "progress", progressAuto, "how --wait shows the run: auto (live on a terminal), plain or live")
	cmd.RegisterFlagCompletionFunc("progress", cobra.FixedCompletions([]string{progressAuto, progressPlain, progressLive}, cobra.ShellCompDirectiveNoFileComp))
	cmd.RegisterFlagCompletionFunc("env", cobra.NoFileCompletions)
	cmd.RegisterFlagCompletionFunc("key", cobra.NoFileCompletions)
	return cmd
}

// follow reports the status changes of a run and its retries until the
// last attempt has finished, and returns that attempt.
func (a *App) follow(ctx context.Context, c backend, r api.Run, p *progress) (api.Run, error) {
	every := pace(c)
	for {
		p.show(r)
		if r.Status.Terminal() && r.NextRunID == "" {
			return r, nil
		}
		id := r.ID
		if r.Status.Terminal() {
			id = r.NextRunID
		}
		select {
		case <-ctx.Done():
			return r, ctx.Err()
		case <-a.after(every.next()):
		}
		next, err := c.Get(ctx, id)
		if err != nil {
			if ctx.Err() != nil {
				return r, ctx.Err()
			}
			return r, err
		}
		r = next
	}
}

func statusLine(r api.Run) string {
	s := fmt.Sprintf("%s %s (attempt %d): %s", r.ID, r.Job, r.Attempt, r.Status)
	if r.ExitCode != nil {
		s += fmt.Sprintf(", exit code %d", *r.ExitCode)
	}
	if r.Status.Terminal() && r.Reason != "" {
		s += ": " + r.Reason
	}
	if r.Status == run.StatusQueued && r.NotBefore != nil {
		s += " until " + r.NotBefore.Format(time.RFC3339)
	}
	return s
}

// exitCodeOf maps a finished run to the CLI's exit code.
func exitCodeOf(r api.Run) int {
	switch {
	case r.Status == run.StatusTimedOut:
		return ExitTimedOut
	case r.Cause != nil && *r.Cause == run.CauseStart:
		return ExitNeverStarted
	case r.ExitCode != nil && (r.Status == run.StatusSucceeded || r.Status == run.StatusFailed):
		return *r.ExitCode
	case r.Status == run.StatusSucceeded:
		return 0
	}
	return ExitFailure
}

// tail prints the last lines of a run's output.
func (a *App) tail(ctx context.Context, c backend, id string) {
	var out, errw bytes.Buffer
	var cur logCursor
	for {
		next, done, err := c.Logs(ctx, id, cur, &out, &errw)
		if err != nil || done || next == cur {
			break
		}
		cur = next
		for _, b := range []*bytes.Buffer{&out, &errw} {
			if b.Len() > 1<<20 {
				b.Next(b.Len() - 1<<20)
			}
		}
	}
	for _, s := range []struct {
		stream string
		buf    *bytes.Buffer
		w      io.Writer
	}{{"stdout", &out, a.Stdout}, {"stderr", &errw, a.Stderr}} {
		lines := strings.Split(strings.TrimRight(s.buf.String(), "\n"), "\n")
		if len(lines) == 1 && lines[0] == "" {
			continue
		}
		if len(lines) > tailLines {
			fmt.Fprintf(a.Stderr, "... (%d earlier lines of %s: longshore logs %s)\n", len(lines)-tailLines, s.stream, id)
			lines = lines[len(lines)-tailLines:]
		}
		fmt.Fprintln(s.w, strings.Join(lines, "\n"))
	}
}

func (a *App) runsCommand() *cobra.Command {
	var (
		jobName string
		status  []string
		asJSON  bool
		limit   int
	)
	cmd := &cobra.Command{
		Use:   "runs [--job JOB] [--status STATUS] [--json]",
		Short: "List runs, newest first",
		Long: `List runs, newest first: status, exit code, cause, trigger, attempt, when it
was created, how long it ran and what it cost on Fargate at list prices (for
a local run: what it would have cost). --json prints the same runs as a JSON array
of the objects "runs get --json" prints.`,
		Example: `  longshore runs
  longshore runs --job hello --status failed,timed_out
  longshore runs --json | jq -r '.[] | select(.exitCode != 0) | .id'
  longshore runs get r-0123456789abcdef --json`,
		Args:              cobra.NoArgs,
		ValidArgsFunction: cobra.NoFileCompletions,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := a.runs(cmd)
			if err != nil {
				return err
			}
			if limit < 1 || limit > api.MaxListLimit {
				return usageError("--limit %d is out of range: use 1 to %d", limit, api.MaxListLimit)
			}
			list, err := c.List(cmd.Context(), api.ListOptions{Job: jobName, Status: status, Limit: limit})
			if err != nil {
				return apiError(err)
			}
			if asJSON {
				return writeJSON(a.Stdout, list.Runs)
			}
			tw := tabwriter.NewWriter(a.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tJOB\tSTATUS\tEXIT\tCAUSE\tTRIGGER\tATTEMPT\tCREATED\tDURATION\tCOST")
			basis := ""
			for _, r := range list.Runs {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\n", r.ID, r.Job, r.Status, exitWord(r), causeWord(r),
					r.Trigger.Kind, r.Attempt, r.CreatedAt.Local().Format("2006-01-02 15:04:05"), duration(r), usdWord(r.CostUSD))
				if basis == "" && r.CostUSD != nil {
					basis = costBasisWords(r.CostBasis, r.CostRegion)
				}
			}
			tw.Flush()
			if basis != "" {
				fmt.Fprintf(a.Stderr, "COST: %s\n", basis)
			}
			if list.Next != "" {
				fmt.Fprintf(a.Stderr, "more runs: raise --limit (now %d)\n", limit)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&jobName, "job", "", "only runs of this job")
	cmd.Flags().StringSliceVar(&status, "status", nil, "only runs in these statuses (queued, starting, running, succeeded, failed, timed_out, cancelled)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.Flags().IntVar(&limit, "limit", 50, "at most this many runs")
	cmd.RegisterFlagCompletionFunc("job", a.completeJobs)
	cmd.RegisterFlagCompletionFunc("status", completeStatuses)
	cmd.RegisterFlagCompletionFunc("limit", cobra.NoFileCompletions)
	cmd.AddCommand(a.runsGetCommand())
	return cmd
}

func (a *App) runsGetCommand() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "get ID [--json]",
		Short: "Show one run",
		Example: `  longshore runs get r-0123456789abcdef
  longshore runs get r-0123456789abcdef --json | jq .exitCode`,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: a.completeRunIDs(nil),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.runs(cmd)
			if err != nil {
				return err
			}
			r, err := c.Get(cmd.Context(), args[0])
			if err != nil {
				return runError(err, args[0])
			}
			if asJSON {
				return writeJSON(a.Stdout, r)
			}
			tw := tabwriter.NewWriter(a.Stdout, 0, 4, 2, ' ', 0)
			row := func(k, v string) {
				if v != "" {
					fmt.Fprintf(tw, "%s:\t%s\n", k, v)
				}
			}
			row("id", r.ID)
			row("job", r.Job)
			row("status", string(r.Status))
			row("cause", causeWord(r))
			row("exit code", exitWord(r))
			row("reason", r.Reason)
			row("attempt", fmt.Sprint(r.Attempt))
			row("trigger", triggerWord(r.Trigger))
			row("created", stamp(&r.CreatedAt))
			row("started", stamp(r.StartedAt))
			row("stopped", stamp(r.StoppedAt))
			row("duration", duration(r))
			if r.CostUSD != nil {
				row("cost", fmt.Sprintf("$%.6f (%s)", *r.CostUSD, costBasisWords(r.CostBasis, r.CostRegion)))
			}
			row("previous attempt", r.PreviousRunID)
			row("next attempt", r.NextRunID)
			row("notifications", notificationsWord(r.Notifications))
			tw.Flush()
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the run as one JSON object")
	return cmd
}

func (a *App) logsCommand() *cobra.Command {
	var follow bool
	cmd := &cobra.Command{
		Use:   "logs ID [--follow]",
		Short: "Print a run's output (stdout to stdout, stderr to stderr)",
		Long: `Print a run's output: what it wrote to stdout goes to stdout, what it wrote
to stderr goes to stderr, so both can be redirected apart. With --follow,
keep printing until the run has finished. The output is raw bytes: there is
no --json.`,
		Example: `  longshore logs r-0123456789abcdef
  longshore logs r-0123456789abcdef --follow
  longshore logs r-0123456789abcdef 2>/dev/null | tail -n 5`,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: a.completeRunIDs(nil),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.runs(cmd)
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			if _, err := c.Get(ctx, args[0]); err != nil {
				return runError(err, args[0])
			}
			var cur logCursor
			every := pace(c)
			for {
				next, done, err := c.Logs(ctx, args[0], cur, a.Stdout, a.Stderr)
				if err != nil {
					if ctx.Err() != nil {
						return nil
					}
					return apiError(err)
				}
				cur = next
				if !follow || done {
					return nil
				}
				select {
				case <-ctx.Done():
					return nil
				case <-a.after(every.next()):
				}
			}
		},
	}
	cmd.Flags().BoolVarP(&follow, "follow", "f", false, "keep printing output until the run ends")
	return cmd
}

func (a *App) stopCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "stop ID",
		Short: "Stop a run (SIGTERM, then SIGKILL after the grace period)",
		Long: `Stop a run: a run still queued ends at once; a started one gets SIGTERM,
then SIGKILL after the engine's grace period, and ends cancelled.`,
		Example: `  longshore stop r-0123456789abcdef
  longshore runs --status running --json | jq -r '.[].id' | xargs -n1 longshore stop`,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: a.completeRunIDs([]string{"queued", "starting", "running"}),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.runs(cmd)
			if err != nil {
				return err
			}
			r, err := c.Stop(cmd.Context(), args[0])
			if err != nil {
				return runError(err, args[0])
			}
			if r.Status.Terminal() {
				fmt.Fprintf(a.Stdout, "%s: %s\n", r.ID, statusLine(r))
			} else {
				fmt.Fprintf(a.Stdout, "%s: stopping\n", r.ID)
			}
			return nil
		},
	}
}

func writeJSON(w io.Writer, v any) error {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return err
	}
	return bw.Flush()
}

func exitWord(r api.Run) string {
	if r.ExitCode == nil {
		return "-"
	}
	return fmt.Sprint(*r.ExitCode)
}

func causeWord(r api.Run) string {
	if r.Cause == nil {
		return "-"
	}
	return string(*r.Cause)
}

func triggerWord(t run.Trigger) string {
	switch t.Kind {
	case run.TriggerSchedule:
		if t.ScheduledTime != nil {
			return fmt.Sprintf("schedule %s at %s", t.Schedule, t.ScheduledTime.UTC().Format(time.RFC3339))
		}
	case run.TriggerS3:
		return fmt.Sprintf("s3 s3://%s/%s", t.Bucket, t.Key)
	case run.TriggerSQS:
		return fmt.Sprintf("sqs %s message %s", t.Queue, t.MessageID)
	case run.TriggerInvoke:
		if t.Caller != "" {
			return "invoke by " + t.Caller
		}
	case run.TriggerAfter:
		return fmt.Sprintf("after %s %s (run %s)", t.UpstreamJob, t.UpstreamStatus, t.UpstreamRunID)
	}
	return string(t.Kind)
}

func stamp(t *time.Time) string {
	if t == nil || t.IsZero() {
		return ""
	}
	return t.Local().Format(time.RFC3339)
}

func duration(r api.Run) string {
	if r.StartedAt == nil {
		return "-"
	}
	end := time.Now()
	if r.StoppedAt != nil {
		end = *r.StoppedAt
	}
	return end.Sub(*r.StartedAt).Round(time.Millisecond).String()
}

// notificationsWord is the latest state of each notification target of a
// run, on one line: "webhook https://x: delivered; sns arn:...: not
// delivered locally (SNS is AWS only)".
func notificationsWord(ns []api.Notification) string {
	var order []string
	last := map[string]api.Notification{}
	tries := map[string]int{}
	for _, n := range ns {
		if _, ok := last[n.Target]; !ok {
			order = append(order, n.Target)
		}
		last[n.Target] = n
		tries[n.Target]++
	}
	parts := make([]string, 0, len(order))
	for _, t := range order {
		n := last[t]
		w := t + ": " + n.Status
		if n.Error != "" {
			w += " (" + n.Error + ")"
		}
		if tries[t] > 1 {
			w += fmt.Sprintf(" after %d attempts", tries[t])
		}
		parts = append(parts, w)
	}
	return strings.Join(parts, "; ")
}
