package cli

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/longshore/longshore/internal/schedule"
)

// MaxNext bounds `schedule next -n`.
const MaxNext = 1000

func (a *App) scheduleCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "schedule",
		Short:   "Work with EventBridge Scheduler expressions",
		Example: `  longshore schedule next 'cron(0 3 * * ? *)' --tz Europe/Berlin -n 3`,
	}
	var (
		tz     string
		from   string
		n      int
		asJSON bool
	)
	next := &cobra.Command{
		Use:   "next EXPR [--tz ZONE] [--from RFC3339] [-n N]",
		Short: "Print the next fire times of a schedule expression, in UTC",
		Long: `Print the next N fire times of an EventBridge Scheduler expression, one per
line, as RFC3339 in UTC. Fewer lines are printed when the schedule ends
(an at() expression, a year field). The expression is read exactly as
EventBridge Scheduler reads it:

  cron(minutes hours day-of-month month day-of-week year)
      day-of-week 1-7 with 1 = SUNDAY, or SUN-SAT; one of day-of-month and
      day-of-week must be "?"; L, W and # as in AWS's documentation
  rate(N minute|minutes|hour|hours|day|days)
      anchored at 1970-01-01T00:00:00Z (AWS anchors at the schedule's creation)
  at(yyyy-mm-ddThh:mm:ss)

Exits 2 with a message for an invalid expression. --json prints the times as
a JSON array of strings.`,
		Example: `  longshore schedule next 'cron(0 9 ? * MON-FRI *)' --tz Europe/Berlin
  longshore schedule next 'cron(0 12 L * ? *)' -n 3
  longshore schedule next 'rate(15 minutes)' --from 2026-11-23T10:07:00Z --json`,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: cobra.NoFileCompletions,
		RunE: func(cmd *cobra.Command, args []string) error {
			sched, err := schedule.Parse(args[0])
			if err != nil {
				return usageError("%v", err)
			}
			loc, err := schedule.LoadLocation(tz)
			if err != nil {
				return usageError("--tz: %v", err)
			}
			start := a.Now()
			if from != "" {
				if start, err = time.Parse(time.RFC3339, from); err != nil {
					return usageError("--from %q is not an RFC3339 time: write it like 2026-11-23T09:00:00Z", from)
				}
			}
			if n < 1 || n > MaxNext {
				return usageError("-n %d is out of range: use 1 to %d", n, MaxNext)
			}
			t := start
			times := []string{}
			for range n {
				var ok bool
				if t, ok = sched.Next(t, loc); !ok {
					break
				}
				times = append(times, t.UTC().Format(time.RFC3339))
			}
			if asJSON {
				return writeJSON(a.Stdout, times)
			}
			for _, s := range times {
				fmt.Fprintln(a.Stdout, s)
			}
			return nil
		},
	}
	next.Flags().StringVar(&tz, "tz", "", "IANA timezone the expression is read in (default UTC)")
	next.Flags().StringVar(&from, "from", "", "list fire times after this RFC3339 time (default now)")
	next.Flags().IntVarP(&n, "count", "n", 5, "how many fire times to print")
	next.Flags().BoolVar(&asJSON, "json", false, "print a JSON array")
	cmd.AddCommand(next)
	return cmd
}
