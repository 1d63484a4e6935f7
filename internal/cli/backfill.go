package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/longshore/longshore/internal/api"
	"github.com/longshore/longshore/internal/deploy"
	"github.com/longshore/longshore/internal/dispatch"
	"github.com/longshore/longshore/internal/run"
	"github.com/longshore/longshore/internal/schedule"
)

// backfillParallel is how many schedule payloads a backfill on AWS hands
// the launcher at once.
const backfillParallel = 10

// backfillExecution is the execution id of a backfill's schedule payloads
// (EventBridge Scheduler's is unique per firing); the launcher only logs it.
const backfillExecution = "longshore-backfill"

func (a *App) backfillCommand() *cobra.Command {
	var (
		from, to       string
		dryRun, asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "backfill JOB --from TIME --to TIME [--dry-run]",
		Short: "Create the runs a job's schedules would have started in a past window",
		Long: fmt.Sprintf(`Create one run for every time the schedule triggers of JOB fired, or would
have fired, from --from (included) to --to (excluded): after an outage, or
for a job added late. TIME is RFC 3339 (2026-12-01T06:00:00Z,
2026-12-01T07:00:00+01:00) or a date, 2026-12-01, meaning midnight UTC.

Each time gets the idempotency key a real firing of that time has (the job
and the scheduled minute), so a time that did fire, or was backfilled
before, makes no second run: backfilling twice creates nothing new. The
summary says "N created, M already there". The runs are started by the
engine (or the deployment's launcher) as any firing is, so the job's
concurrency applies: with concurrency {max: 2} the runs past the first two
wait, queued, and start in order as runs end; under forbid, a time whose run
would overlap another is recorded as skipped, exactly as a firing would be.

--dry-run lists the times, in the schedule's timezone and in UTC, and
creates nothing. A window holding more than %d times is refused, saying
how many: backfill a narrower window, or one window after another. Times
after now are refused.

The times are those of "longshore schedule next": a cron is read in its
timezone (a wall time skipped by a daylight-saving change does not fire, a
repeated one fires once); rate(...) counts from 1970-01-01T00:00Z, as
"longshore local" fires it (EventBridge Scheduler counts a rate from the
schedule's creation, so on AWS the times of a rate may differ from those it
fired, and those firings are then not recognised); at(...) fires once, if
its time is in the window.

With --aws, the runs are made by the deployment's launcher, handed for each
time the payload EventBridge Scheduler sends (its scheduleArn marked
"backfill:"), %d at a time.`, run.MaxBackfill, backfillParallel),
		Example: `  longshore backfill nightly-report --from 2026-11-20 --to 2026-11-23 --dry-run
  longshore backfill nightly-report --from 2026-11-20 --to 2026-11-23
  longshore backfill ingest --from 2026-12-01T06:00:00Z --to 2026-12-01T09:30:00Z --aws
  longshore backfill nightly-report --from 2026-11-01 --to 2026-12-01 --json | jq '.created | length'`,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: a.completeJobArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			if from == "" || to == "" {
				return usageError("backfill needs --from and --to: the window of scheduled times to create runs for, e.g. --from 2026-11-20 --to 2026-11-23")
			}
			start, err := parseBackfillTime("--from", from)
			if err != nil {
				return err
			}
			end, err := parseBackfillTime("--to", to)
			if err != nil {
				return err
			}
			req := api.BackfillRequest{From: start, To: end, DryRun: dryRun}
			var resp api.BackfillResponse
			onAWS, _ := cmd.Flags().GetBool("aws")
			if onAWS {
				resp, err = a.backfillAWS(cmd, args[0], req)
			} else {
				resp, err = a.backfillLocal(cmd, args[0], req)
			}
			if err != nil {
				return err
			}
			if asJSON {
				if err := writeJSON(a.Stdout, resp); err != nil {
					return err
				}
			} else if err := a.printBackfill(resp, onAWS); err != nil {
				return err
			}
			if resp.Failed > 0 {
				return &exitError{code: ExitFailure, err: fmt.Errorf("%d of the %d times of the backfill of %s made no run; backfill the same window again to retry them (the others are not made twice)",
					resp.Failed, len(resp.Times), resp.Job)}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&from, "from", "", "the window's start, included: RFC 3339, or a date (midnight UTC)")
	cmd.Flags().StringVar(&to, "to", "", "the window's end, excluded: RFC 3339, or a date (midnight UTC)")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "list the times, create nothing")
	cmd.Flags().BoolVar(&asJSON, "json", false, `print JSON: {"times": [...], "created": [ids], "existing": [ids], ...}`)
	return cmd
}

// parseBackfillTime reads RFC 3339, or a date meaning midnight UTC.
func parseBackfillTime(flag, s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	return time.Time{}, usageError("%s %q is neither an RFC 3339 time (2026-12-01T06:00:00Z) nor a date (2026-12-01, midnight UTC)", flag, s)
}

func (a *App) backfillLocal(cmd *cobra.Command, name string, req api.BackfillRequest) (api.BackfillResponse, error) {
	c, err := a.client(cmd)
	if err != nil {
		return api.BackfillResponse{}, err
	}
	resp, err := c.Backfill(cmd.Context(), name, req)
	if err != nil {
		return api.BackfillResponse{}, apiError(err)
	}
	return resp, nil
}

// backfillAWS decides the times from the deployed catalog and hands the
// launcher, for each, the payload the job's schedule sends when it fires.
func (a *App) backfillAWS(cmd *cobra.Command, name string, req api.BackfillRequest) (api.BackfillResponse, error) {
	b, err := a.runs(cmd)
	if err != nil {
		return api.BackfillResponse{}, err
	}
	dep := b.(awsBackend)
	cat, err := dep.c.Catalog(cmd.Context())
	if err != nil {
		return api.BackfillResponse{}, apiError(fmt.Errorf("read the job catalog of the deployment: %w", statusOf(err)))
	}
	times, err := run.BackfillTimes(cat.Jobs(), name, req.From, req.To, a.Now(), run.MaxBackfill)
	var be *run.BackfillError
	switch {
	case errors.As(err, &be) && be.UnknownJob:
		return api.BackfillResponse{}, &exitError{code: ExitFailure, err: fmt.Errorf("the deployment %s has no job %q: %w", dep.c.Prefix(), name, err)}
	case errors.As(err, &be):
		return api.BackfillResponse{}, usageError("%v", err)
	case err != nil:
		return api.BackfillResponse{}, &exitError{code: ExitFailure, err: err}
	}
	if req.DryRun {
		return api.BackfillAnswer(name, req, times, nil, nil), nil
	}
	runs := make([]dispatch.Launched, len(times))
	errs := make([]error, len(times))
	sem := make(chan struct{}, backfillParallel)
	var wg sync.WaitGroup
	for i, f := range times {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			runs[i], errs[i] = scheduleOnAWS(cmd.Context(), dep, name, f)
		}()
	}
	wg.Wait()
	return api.BackfillAnswer(name, req, times, runs, errs), nil
}

// scheduleOnAWS hands the launcher the payload of one firing.
func scheduleOnAWS(ctx context.Context, dep awsBackend, name string, f run.Firing) (dispatch.Launched, error) {
	p := deploy.SchedulePayload{
		Job:           name,
		ScheduledTime: f.At.UTC().Format(time.RFC3339),
		ScheduleArn:   "backfill:" + deploy.ScheduleGroupName(dep.c.Prefix()) + "/" + deploy.ScheduleName(dep.c.Prefix(), name, f.Trigger),
		ExecutionID:   backfillExecution,
	}
	res, err := dep.c.Schedule(ctx, p)
	if err != nil {
		return dispatch.Launched{}, statusOf(err)
	}
	for _, r := range res.Runs {
		if r.Job == name {
			return dispatch.Launched{Run: run.Run{ID: r.ID, Job: r.Job, Status: r.Status}, Duplicate: r.Duplicate}, nil
		}
	}
	return dispatch.Launched{}, fmt.Errorf("the launcher answered no run of %s for %s", name, p.ScheduledTime)
}

// printBackfill prints a backfill's times, one a line, and its summary.
func (a *App) printBackfill(resp api.BackfillResponse, onAWS bool) error {
	window := fmt.Sprintf("from %s to %s", resp.From.Format(time.RFC3339), resp.To.Format(time.RFC3339))
	if len(resp.Times) == 0 {
		fmt.Fprintf(a.Stdout, "%s: no schedule time %s: nothing to backfill\n", resp.Job, window)
		return nil
	}
	rates := false
	tw := tabwriter.NewWriter(a.Stdout, 0, 4, 2, ' ', 0)
	if resp.DryRun {
		fmt.Fprintln(tw, "SCHEDULED\tUTC\tSCHEDULE")
	} else {
		fmt.Fprintln(tw, "SCHEDULED\tUTC\tRUN\tRESULT")
	}
	for _, t := range resp.Times {
		rates = rates || strings.HasPrefix(t.Schedule, "rate(")
		local := t.Local
		if loc, err := schedule.LoadLocation(t.Timezone); err == nil {
			local = t.At.In(loc).Format("2006-01-02 15:04 MST")
		}
		sched := t.Schedule
		if t.Timezone != "" && t.Timezone != "UTC" {
			sched += " " + t.Timezone
		}
		utc := t.At.UTC().Format(time.RFC3339)
		switch {
		case resp.DryRun:
			fmt.Fprintf(tw, "%s\t%s\t%s\n", local, utc, sched)
		case t.Error != "":
			fmt.Fprintf(tw, "%s\t%s\t-\tfailed: %s\n", local, utc, t.Error)
		case t.Existing:
			fmt.Fprintf(tw, "%s\t%s\t%s\talready there (%s)\n", local, utc, t.Run, t.Status)
		default:
			fmt.Fprintf(tw, "%s\t%s\t%s\tcreated (%s)\n", local, utc, t.Run, t.Status)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if resp.DryRun {
		fmt.Fprintf(a.Stdout, "%d times %s (dry run: nothing created)\n", len(resp.Times), window)
	} else {
		summary := fmt.Sprintf("%d created, %d already there", len(resp.Created), len(resp.Existing))
		if resp.Failed > 0 {
			summary += fmt.Sprintf(", %d failed", resp.Failed)
		}
		fmt.Fprintln(a.Stdout, summary)
	}
	if rates {
		note := "note: the times of a rate(...) schedule are counted from 1970-01-01T00:00Z, as longshore local fires it"
		if onAWS {
			note += "; EventBridge Scheduler counts from the schedule's creation, so they may not be the times it fired there, and a backfill over times that did fire can add runs"
		}
		fmt.Fprintln(a.Stderr, note)
	}
	return nil
}
