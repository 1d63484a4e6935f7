package cli

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/longshore/longshore/internal/api"
	"github.com/longshore/longshore/internal/aws/remoteapi"
	"github.com/longshore/longshore/internal/run"
	"github.com/longshore/longshore/internal/schedule"
)

// jobs lists the catalog of the engine, or with --aws of the deployment,
// each job with its newest run.
func (a *App) jobs(cmd *cobra.Command) ([]api.Job, error) {
	if onAWS, _ := cmd.Flags().GetBool("aws"); onAWS {
		b, err := a.runs(cmd)
		if err != nil {
			return nil, err
		}
		dep := b.(awsBackend)
		cat, err := dep.c.Catalog(cmd.Context())
		if err != nil {
			return nil, apiError(fmt.Errorf("read the job catalog of the deployment: %w", err))
		}
		jobs := remoteapi.CatalogJobs(cat, dep.c.Prefix())(a.Now())
		// The costs' first page of each job gives its newest run too.
		if name, err := remoteapi.WithCosts(cmd.Context(), dep.c, jobs, a.Now()); err != nil {
			return nil, apiError(fmt.Errorf("list the runs of job %s: %w", name, err))
		}
		if name, err := remoteapi.WithLastRuns(cmd.Context(), dep.c, jobs); err != nil {
			return nil, apiError(fmt.Errorf("list the runs of job %s: %w", name, err))
		}
		if err := remoteapi.WithPauses(cmd.Context(), dep.c, jobs); err != nil {
			return nil, apiError(fmt.Errorf("read which jobs of the deployment are paused: %w", err))
		}
		return jobs, nil
	}
	c, err := a.client(cmd)
	if err != nil {
		return nil, err
	}
	jobs, err := c.Jobs(cmd.Context())
	if err != nil {
		return nil, apiError(err)
	}
	return jobs, nil
}

func (a *App) jobsCommand() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "jobs [JOB] [--json]",
		Short: "List the engine's job catalog: triggers, next runs, last runs, costs",
		Long: `List the jobs of the engine's catalog: each with its triggers, its next
scheduled run (in the schedule's own timezone), its last run and the cost of
its finished runs of the last 30 days (on Fargate at list prices; locally,
what they would have cost). With a job's
name, show that job in full. --json prints what the engine's /v1/jobs
answers: an array of jobs, or one job.

The catalog is the one the engine loaded; "longshore validate" checks the
files on disk. With --aws, the catalog is the one the deployment runs, read
from its api function, each job with its newest run there.`,
		Example: `  longshore jobs
  longshore jobs nightly-report
  longshore jobs --aws --prefix staging
  longshore jobs --json | jq -r '.[] | select(.lastRun.status == "failed") | .name'`,
		Args:              cobra.MaximumNArgs(1),
		ValidArgsFunction: a.completeJobArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			jobs, err := a.jobs(cmd)
			if err != nil {
				return err
			}
			now := a.Now()
			if len(args) == 1 {
				for _, j := range jobs {
					if j.Name == args[0] {
						if asJSON {
							return writeJSON(a.Stdout, j)
						}
						describeJob(a.Stdout, j, now)
						return nil
					}
				}
				names := make([]string, 0, len(jobs))
				for _, j := range jobs {
					names = append(names, j.Name)
				}
				return &exitError{code: ExitFailure, err: fmt.Errorf("the engine has no job %q: its catalog has %s", args[0], strings.Join(names, ", "))}
			}
			if asJSON {
				if jobs == nil {
					jobs = []api.Job{}
				}
				return writeJSON(a.Stdout, jobs)
			}
			if len(jobs) == 0 {
				fmt.Fprintln(a.Stderr, "the engine's catalog is empty: add jobs/<name>/job.yaml files and restart longshore local")
				return nil
			}
			tw := tabwriter.NewWriter(a.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tTRIGGERS\tNEXT RUN\tLAST RUN\tCOST 30D")
			basis := ""
			for _, j := range jobs {
				next := "-"
				if s, ok := soonestSchedule(j); ok {
					next = fireWords(*s.NextFire, s.Timezone, now)
				}
				if j.Paused {
					next = pauseWords(true, j.PausedSince, j.PausedReason, now)
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", j.Name, strings.Join(j.Triggers, ", "), next, lastRunWords(j.LastRun, now),
					jobCostWord(j.CostUSD30d, j.CostRuns30d, j.CostPartial))
				if basis == "" && j.CostBasis != "" {
					basis = costBasisWords(j.CostBasis, "")
				}
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			if basis != "" {
				fmt.Fprintf(a.Stderr, "COST 30D: the finished runs created in the last 30 days, %s\n", basis)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// describeJob prints one job in full.
func describeJob(w io.Writer, j api.Job, now time.Time) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	row := func(k, v string) {
		if v != "" {
			fmt.Fprintf(tw, "%s:\t%s\n", k, v)
		}
	}
	row("name", j.Name)
	row("description", j.Description)
	row("runs as", j.Runner)
	row("concurrency", j.Concurrency)
	if j.Paused {
		row("state", pauseWords(true, j.PausedSince, j.PausedReason, now))
	}
	for i, t := range j.Triggers {
		k := ""
		if i == 0 {
			k = "triggers"
		}
		fmt.Fprintf(tw, "%s\t%s\n", colon(k), t)
	}
	for _, s := range schedulesOf(j) {
		v := "no more fire times"
		if s.NextFire != nil {
			v = fireWords(*s.NextFire, s.Timezone, now)
			if loc, err := schedule.LoadLocation(s.Timezone); err == nil && loc.String() != time.Local.String() {
				v += "; " + s.NextFire.In(time.Local).Format("15:04 MST") + " here"
			}
		}
		row("next "+s.Expression, v)
	}
	if j.CostUSD30d != nil {
		row("cost, 30 days", fmt.Sprintf("%s over %d finished runs", jobCostWord(j.CostUSD30d, j.CostRuns30d, j.CostPartial), j.CostRuns30d))
	}
	if j.LastRun != nil {
		row("last run", j.LastRun.ID+": "+lastRunWords(j.LastRun, now))
		if j.LastRun.Reason != "" && j.LastRun.Status.Terminal() && j.LastRun.Status != run.StatusSucceeded {
			row("reason", j.LastRun.Reason)
		}
	} else {
		row("last run", "never")
	}
	tw.Flush()
}

func colon(k string) string {
	if k == "" {
		return ""
	}
	return k + ":"
}

// schedulesOf is the job's schedules as the engine lists them, or, from an
// engine that lists none, read from its trigger words.
func schedulesOf(j api.Job) []api.Schedule {
	if len(j.Schedules) > 0 {
		return j.Schedules
	}
	var out []api.Schedule
	for _, t := range j.Triggers {
		rest, ok := strings.CutPrefix(t, "schedule ")
		if !ok {
			continue
		}
		expr, zone := rest, "UTC"
		if i := strings.LastIndex(rest, ")"); i >= 0 {
			expr, zone = rest[:i+1], strings.TrimSpace(rest[i+1:])
		}
		if zone == "" {
			zone = "UTC"
		}
		out = append(out, api.Schedule{Expression: expr, Timezone: zone})
	}
	if len(out) == 1 {
		out[0].NextFire = j.NextFire
	}
	return out
}

// soonestSchedule is the job's next scheduled run.
func soonestSchedule(j api.Job) (api.Schedule, bool) {
	all := schedulesOf(j)
	sort.SliceStable(all, func(a, b int) bool {
		if all[a].NextFire == nil || all[b].NextFire == nil {
			return all[b].NextFire == nil && all[a].NextFire != nil
		}
		return all[a].NextFire.Before(*all[b].NextFire)
	})
	if len(all) > 0 && all[0].NextFire != nil {
		return all[0], true
	}
	if j.NextFire != nil {
		return api.Schedule{Timezone: "UTC", NextFire: j.NextFire}, true
	}
	return api.Schedule{}, false
}

// fireWords writes a fire time in its zone, with how far off it is:
// "2026-11-24 03:00 CET (in 7h03m)".
func fireWords(at time.Time, zone string, now time.Time) string {
	loc, err := schedule.LoadLocation(zone)
	if err != nil {
		loc = time.UTC
	}
	when := "in " + shortDuration(at.Sub(now))
	if at.Before(now) {
		when = "due now"
	}
	return fmt.Sprintf("%s (%s)", at.In(loc).Format("2006-01-02 15:04 MST"), when)
}

// lastRunWords says how a job's last run went: "failed, exit 3, 2m ago".
func lastRunWords(r *api.RunSummary, now time.Time) string {
	if r == nil {
		return "-"
	}
	parts := []string{string(r.Status)}
	switch {
	case r.Cause != nil && *r.Cause == run.CauseStart:
		parts = append(parts, "never started")
	case r.ExitCode != nil:
		parts = append(parts, fmt.Sprintf("exit %d", *r.ExitCode))
	}
	switch {
	case r.Status.Terminal() && r.StoppedAt != nil:
		parts = append(parts, age(now.Sub(*r.StoppedAt))+" ago")
	case r.Status == run.StatusRunning && r.StartedAt != nil:
		parts[0] += " for " + shortDuration(now.Sub(*r.StartedAt))
	default:
		parts = append(parts, "for "+shortDuration(now.Sub(r.CreatedAt)))
	}
	return strings.Join(parts, ", ")
}

// age writes how long ago something was, as kubectl does: 45s, 5m, 3h, 2d.
func age(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", max(0, int(d.Seconds())))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d.Hours()))
	}
	return fmt.Sprintf("%dd", int(d.Hours()/24))
}
