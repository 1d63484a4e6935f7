package cli

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/longshore/longshore/internal/api"
	"github.com/longshore/longshore/internal/run"
)

// completeTimeout bounds what shell completion waits for an engine: a
// completion that hangs is worse than none.
const completeTimeout = 2 * time.Second

// completeRuns is how many run ids completion offers, newest first.
const completeRuns = 100

// extendRoot adds the commands of this file's siblings (jobs, dashboard,
// completion) and the root's examples.
func (a *App) extendRoot(root *cobra.Command) {
	root.Example = `  longshore init my-jobs                   # a jobs/ folder with one example job
  longshore local                          # start the engine on this machine
  longshore jobs                           # the catalog, its triggers and next runs
  longshore run hello --wait               # run a job, exit with its exit code
  longshore runs --status failed           # what failed
  longshore logs r-0123456789abcdef -f     # follow a run's output
  longshore dashboard                      # where to see it all in a browser
  longshore deploy                         # run the same catalog on AWS Fargate`
	root.AddCommand(a.jobsCommand(), a.dashboardCommand())
	root.AddCommand(a.backfillCommand())
	root.AddCommand(a.pauseCommand(), a.resumeCommand())
	// cobra's completion command writes to the output known when it is made.
	root.SetOut(a.Stdout)
	root.InitDefaultCompletionCmd()
	for _, c := range root.Commands() {
		if c.Name() != "completion" {
			continue
		}
		c.Long = `Print the script that completes longshore's commands, flags, job names and
run ids in your shell. Job names and run ids come from the engine at
--endpoint (or LONGSHORE_ENDPOINT) when one answers.`
		c.Example = `  source <(longshore completion bash)
  longshore completion zsh > "${fpath[1]}/_longshore"
  longshore completion fish > ~/.config/fish/completions/longshore.fish`
		for _, sh := range c.Commands() {
			if sh.Example == "" {
				sh.Example = fmt.Sprintf("  longshore completion %s --help    # where to put the script", sh.Name())
			}
		}
	}
}

// completionClient is the engine's client for completion, or nil.
func (a *App) completionClient(cmd *cobra.Command) *api.Client {
	c, err := a.client(cmd)
	if err != nil {
		return nil
	}
	return c
}

// completeJobs offers the names of the catalog's jobs.
func (a *App) completeJobs(cmd *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	c := a.completionClient(cmd)
	if c == nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	ctx, cancel := context.WithTimeout(cmd.Context(), completeTimeout)
	defer cancel()
	jobs, err := c.Jobs(ctx)
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	var out []string
	for _, j := range jobs {
		if strings.HasPrefix(j.Name, toComplete) {
			out = append(out, j.Name+"\t"+oneLine(j.Description))
		}
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

// completeJobArg completes the job of `run JOB` and nothing after it.
func (a *App) completeJobArg(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	return a.completeJobs(cmd, args, toComplete)
}

// completeRunIDs offers the ids of recent runs (in these statuses, when
// given), each described by its job and status.
func (a *App) completeRunIDs(statuses []string) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		c := a.completionClient(cmd)
		if c == nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		ctx, cancel := context.WithTimeout(cmd.Context(), completeTimeout)
		defer cancel()
		list, err := c.List(ctx, api.ListOptions{Status: statuses, Limit: completeRuns})
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		var out []string
		for _, r := range list.Runs {
			if strings.HasPrefix(r.ID, toComplete) {
				desc := fmt.Sprintf("%s %s", r.Job, r.Status)
				if r.ExitCode != nil {
					desc += fmt.Sprintf(" (exit %d)", *r.ExitCode)
				}
				out = append(out, r.ID+"\t"+desc+", "+r.CreatedAt.Local().Format("Jan 2 15:04"))
			}
		}
		// Keep the engine's order (newest first) rather than the shell's.
		return out, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveKeepOrder
	}
}

// completeStatuses offers the run statuses, also after a comma.
func completeStatuses(_ *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	head := ""
	if i := strings.LastIndex(toComplete, ","); i >= 0 {
		head = toComplete[:i+1]
	}
	var out []string
	for _, s := range []run.Status{run.StatusQueued, run.StatusStarting, run.StatusRunning, run.StatusSucceeded,
		run.StatusFailed, run.StatusTimedOut, run.StatusCancelled} {
		if strings.HasPrefix(head+string(s), toComplete) {
			out = append(out, head+string(s))
		}
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

func oneLine(s string) string {
	s = strings.TrimSpace(strings.ReplaceAll(s, "\n", " "))
	if len(s) > 60 {
		s = s[:57] + "..."
	}
	return s
}
