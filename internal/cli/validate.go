package cli

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/longshore/longshore/internal/job"
)

func (a *App) validateCommand() *cobra.Command {
	var (
		dir    string
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "validate [--jobs DIR] [--json]",
		Short: "Check every job file of the catalog",
		Long: `Check every jobs/<name>/job.yaml of the catalog. Prints one line per problem,
as "path/to/job.yaml: field: what is wrong and what is allowed", and exits 1;
exits 0 when the whole catalog is valid. Warnings (allowed, but probably
unwise, such as a permission on every resource) go to stderr as
"warning: path/to/job.yaml: field: message" and do not change the exit code.
A one-time schedule at(...) that has already passed is a problem. --json prints
{"folder", "jobs": [names], "problems": [{"path", "field", "message"}], "warnings": [same]}
with the same exit code.`,
		Example: `  longshore validate
  longshore validate --jobs ./my-jobs
  longshore validate --json | jq -r '.problems[].message'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := os.Stat(dir)
			if err != nil || !st.IsDir() {
				return usageError("jobs folder %q not found: give the folder holding <name>/job.yaml files with --jobs", dir)
			}
			cat, err := job.Load(os.DirFS(dir), dir, job.Options{Now: a.Now})
			var pe *job.ProblemsError
			var warnings []job.Problem
			switch {
			case cat != nil:
				warnings = cat.Warnings()
			case errors.As(err, &pe):
				warnings = pe.Warnings
			}
			if asJSON && (err == nil || pe != nil) {
				out := validation{Folder: dir, Jobs: []string{}, Problems: []problem{}, Warnings: problemsJSON(warnings)}
				if pe != nil {
					out.Problems = problemsJSON(pe.Problems)
				} else {
					for _, s := range cat.Jobs() {
						out.Jobs = append(out.Jobs, s.Name)
					}
				}
				if err := writeJSON(a.Stdout, out); err != nil {
					return err
				}
				if pe != nil {
					return silentExit(ExitFailure)
				}
				return nil
			}
			if pe != nil {
				for _, p := range pe.Problems {
					fmt.Fprintln(a.Stdout, p.String())
				}
				a.printWarnings(warnings)
				fmt.Fprintf(a.Stderr, "%d problem(s) in %s\n", len(pe.Problems), dir)
				return silentExit(ExitFailure)
			}
			if err != nil {
				return &exitError{code: ExitFailure, err: err}
			}
			a.printWarnings(warnings)
			fmt.Fprintf(a.Stdout, "%s: %d job(s) valid\n", dir, len(cat.Jobs()))
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "jobs", "jobs", "the jobs folder")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON")
	cmd.RegisterFlagCompletionFunc("jobs", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return nil, cobra.ShellCompDirectiveFilterDirs
	})
	return cmd
}

// validation is `validate --json`.
type validation struct {
	Folder   string    `json:"folder"`
	Jobs     []string  `json:"jobs"`
	Problems []problem `json:"problems"`
	Warnings []problem `json:"warnings"`
}

type problem struct {
	Path    string `json:"path"`
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
}

// problemsJSON lists problems (or warnings) as `validate --json` shows them: never null.
func problemsJSON(ps []job.Problem) []problem {
	out := make([]problem, 0, len(ps))
	for _, p := range ps {
		out = append(out, problem{Path: p.Path, Field: p.Field, Message: p.Message})
	}
	return out
}

// printWarnings writes each warning on stderr as "warning: <problem line>".
func (a *App) printWarnings(ws []job.Problem) {
	for _, w := range ws {
		fmt.Fprintln(a.Stderr, "warning: "+w.String())
	}
}
