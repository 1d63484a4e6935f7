package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/longshore/longshore/internal/api"
)

// pauser is a backend that pauses and resumes jobs.
type pauser interface {
	Pause(ctx context.Context, job, reason string) (api.PauseResponse, error)
	Resume(ctx context.Context, job string) (api.PauseResponse, error)
}

func (a *App) pauser(cmd *cobra.Command) (pauser, error) {
	b, err := a.runs(cmd)
	if err != nil {
		return nil, err
	}
	p, ok := b.(pauser)
	if !ok {
		return nil, &exitError{code: ExitFailure, err: fmt.Errorf("this backend does not pause jobs")}
	}
	return p, nil
}

func (a *App) pauseCommand() *cobra.Command {
	var reason string
	cmd := &cobra.Command{
		Use:   "pause JOB [--reason TEXT]",
		Short: "Pause a job: its schedules stop firing, its other triggers are recorded but not run",
		Long: `Pause a job until "longshore resume". While it is paused, its schedules do
not fire, and each S3 object, SQS message, invoke or chained run that arrives for it
is recorded as a run that did not start ("did not start: job paused"),
cancelled: SQS messages are acknowledged, their body kept in the run.
"longshore runs JOB" lists them. Resuming replays nothing; use
"longshore backfill" for the schedule times a pause skipped.

A job file can say paused: true to deploy the job paused; a pause or
resume here overrides it for as long as the file's paused stays as it was.

With --aws, the deployment's functions see the pause within 10 seconds and
the reconciler disables the job's EventBridge Scheduler schedules within a
minute (disabled, not deleted: resume enables them as they were).`,
		Example: `  longshore pause nightly-report --reason "warehouse migration"
  longshore jobs nightly-report   # state: paused since ...
  longshore pause nightly-report --aws   # on a deployment: its schedules are disabled within a minute`,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: a.completeJobArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := a.pauser(cmd)
			if err != nil {
				return err
			}
			st, err := p.Pause(cmd.Context(), args[0], reason)
			if err != nil {
				return apiError(err)
			}
			fmt.Fprintf(a.Stdout, "%s: %s\n", st.Job, pauseWords(st.Paused, st.PausedSince, st.PausedReason, a.Now()))
			return nil
		},
	}
	cmd.Flags().StringVar(&reason, "reason", "", "why the job is paused (shown by longshore jobs and in the skipped runs' reason)")
	return cmd
}

func (a *App) resumeCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "resume JOB",
		Short: "Resume a paused job; nothing skipped while it was paused is replayed",
		Long: `Resume a paused job: its schedules fire again from their next time and its
triggers start runs. What arrived while it was paused stays recorded as runs
that did not start; nothing is replayed (see "longshore backfill").`,
		Example:           `  longshore resume nightly-report`,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: a.completeJobArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := a.pauser(cmd)
			if err != nil {
				return err
			}
			st, err := p.Resume(cmd.Context(), args[0])
			if err != nil {
				return apiError(err)
			}
			fmt.Fprintf(a.Stdout, "%s: %s\n", st.Job, pauseWords(st.Paused, st.PausedSince, st.PausedReason, a.Now()))
			return nil
		},
	}
}

// pauseWords says whether a job is paused: "paused since 10:02 (reason)".
func pauseWords(paused bool, since *time.Time, reason string, now time.Time) string {
	if !paused {
		return "active"
	}
	s := "paused"
	if since != nil {
		s += " since " + pauseTime(*since, now)
	}
	if reason != "" {
		s += " (" + reason + ")"
	}
	return s
}

func pauseTime(t, now time.Time) string {
	t, now = t.Local(), now.Local()
	if t.Format(time.DateOnly) == now.Format(time.DateOnly) {
		return t.Format("15:04")
	}
	return t.Format("2006-01-02 15:04")
}
