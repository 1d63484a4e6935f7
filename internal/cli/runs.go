package cli

import (
	"bufio"
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
	"github.com/longshore/longshore/internal/run"
)

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
