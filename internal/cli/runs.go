package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/signal"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/longshore/longshore/internal/api"
	"github.com/longshore/longshore/internal/run"
)

// Exit codes of `longshore run --wait` beyond the run's own exit code.
const (
	ExitTimedOut     = 124
	ExitNeverStarted = 125
	ExitInterrupted  = 130 // the CLI itself was interrupted while waiting
)

// pollEvery is how often a waiting or following command asks the engine.
const pollEvery = 200 * time.Millisecond

// tailLines is how much output `run --wait` prints once the run is over.
const tailLines = 20

func (a *App) client(cmd *cobra.Command) (*api.Client, error) {
	ep, _ := cmd.Flags().GetString("endpoint")
	if ep == "" {
		ep = a.Getenv("LONGSHORE_ENDPOINT")
	}
	c, err := api.NewClient(ep)
	if err != nil {
		return nil, usageError("%v", err)
	}
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

func (a *App) runCommand() *cobra.Command {
	var (
		envs []string
		key  string
		wait bool
	)
	cmd := &cobra.Command{
		Use:   "run JOB [--env K=V]... [--key KEY] [--wait] [-- ARGS...]",
		Short: "Start a one-off run of a job",
		Long: `Start a one-off run of a job and print its id. With --wait, follow it (and
its retries) to the end, print the tail of its output, and exit with its
exit code: the job's own, 124 when it timed out, 125 when it never started,
1 for any other end without an exit code (cancelled, interrupted, lost).

--key makes the request idempotent: the same key again returns the same run.
Arguments after -- replace the job's command (for a local process, they are
added to local.command).`,
		Example: `  longshore run hello
  longshore run hello --env EXIT_CODE=3 --wait
  longshore run nightly-report --key report-2026-11-22 -- --since 48h`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
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
			c, err := a.client(cmd)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			got, err := c.Start(ctx, req)
			if err != nil {
				return apiError(err)
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
			final, err := a.follow(ctx, c, got.Run)
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
	return cmd
}

// follow prints the status changes of a run and its retries until the last
// attempt has finished, and returns that attempt.
func (a *App) follow(ctx context.Context, c *api.Client, r api.Run) (api.Run, error) {
	last := ""
	for {
		if line := statusLine(r); line != last {
			fmt.Fprintln(a.Stderr, line)
			last = line
		}
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
		case <-time.After(pollEvery):
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
func (a *App) tail(ctx context.Context, c *api.Client, id string) {
	for _, s := range []struct {
		stream string
		w      io.Writer
	}{{"stdout", a.Stdout}, {"stderr", a.Stderr}} {
		var buf bytes.Buffer
		var off int64
		for {
			var chunk bytes.Buffer
			next, done, err := c.Logs(ctx, id, s.stream, off, &chunk)
			if err != nil {
				break
			}
			buf.Write(chunk.Bytes())
			if buf.Len() > 1<<20 {
				buf.Next(buf.Len() - 1<<20)
			}
			if next == off || done {
				break
			}
			off = next
		}
		lines := strings.Split(strings.TrimRight(buf.String(), "\n"), "\n")
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
		Example: `  longshore runs
  longshore runs --job hello --status failed,timed_out
  longshore runs get r-0123456789abcdef --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := a.client(cmd)
			if err != nil {
				return err
			}
			list, err := c.List(cmd.Context(), api.ListOptions{Job: jobName, Status: status, Limit: limit})
			if err != nil {
				return apiError(err)
			}
			if asJSON {
				return writeJSON(a.Stdout, list.Runs)
			}
			tw := tabwriter.NewWriter(a.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tJOB\tSTATUS\tEXIT\tCAUSE\tTRIGGER\tATTEMPT\tCREATED\tDURATION")
			for _, r := range list.Runs {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\n", r.ID, r.Job, r.Status, exitWord(r), causeWord(r),
					r.Trigger.Kind, r.Attempt, r.CreatedAt.Local().Format("2006-01-02 15:04:05"), duration(r))
			}
			tw.Flush()
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
	cmd.AddCommand(a.runsGetCommand())
	return cmd
}

func (a *App) runsGetCommand() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:     "get ID [--json]",
		Short:   "Show one run",
		Example: `  longshore runs get r-0123456789abcdef --json`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client(cmd)
			if err != nil {
				return err
			}
			r, err := c.Get(cmd.Context(), args[0])
			if err != nil {
				return apiError(err)
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
			row("previous attempt", r.PreviousRunID)
			row("next attempt", r.NextRunID)
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
		Example: `  longshore logs r-0123456789abcdef
  longshore logs r-0123456789abcdef --follow`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client(cmd)
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			if _, err := c.Get(ctx, args[0]); err != nil {
				return apiError(err)
			}
			offsets := map[string]int64{}
			for {
				allDone := true
				for _, s := range []struct {
					stream string
					w      io.Writer
				}{{"stdout", a.Stdout}, {"stderr", a.Stderr}} {
					for {
						next, done, err := c.Logs(ctx, args[0], s.stream, offsets[s.stream], s.w)
						if err != nil {
							if ctx.Err() != nil {
								return nil
							}
							return apiError(err)
						}
						moved := next != offsets[s.stream]
						offsets[s.stream] = next
						if !done {
							allDone = false
						}
						if !moved {
							break
						}
					}
				}
				if !follow || allDone {
					return nil
				}
				select {
				case <-ctx.Done():
					return nil
				case <-time.After(pollEvery):
				}
			}
		},
	}
	cmd.Flags().BoolVarP(&follow, "follow", "f", false, "keep printing output until the run ends")
	return cmd
}

func (a *App) stopCommand() *cobra.Command {
	return &cobra.Command{
		Use:     "stop ID",
		Short:   "Stop a run (SIGTERM, then SIGKILL after the grace period)",
		Example: `  longshore stop r-0123456789abcdef`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client(cmd)
			if err != nil {
				return err
			}
			r, err := c.Stop(cmd.Context(), args[0])
			if err != nil {
				return apiError(err)
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
