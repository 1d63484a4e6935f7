package cli

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/longshore/longshore/internal/job"
)

func (a *App) validateCommand() *cobra.Command {
	var dir string
	cmd := &cobra.Command{
		Use:   "validate [--jobs DIR]",
		Short: "Check every job file of the catalog",
		Long: `Check every jobs/<name>/job.yaml of the catalog. Prints one line per problem,
as "path/to/job.yaml: field: what is wrong and what is allowed", and exits 1;
exits 0 when the whole catalog is valid.`,
		Example: `  longshore validate
  longshore validate --jobs ./my-jobs`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := os.Stat(dir)
			if err != nil || !st.IsDir() {
				return usageError("jobs folder %q not found: give the folder holding <name>/job.yaml files with --jobs", dir)
			}
			cat, err := job.Load(os.DirFS(dir), dir, job.Options{})
			var pe *job.ProblemsError
			if errors.As(err, &pe) {
				for _, p := range pe.Problems {
					fmt.Fprintln(a.Stdout, p.String())
				}
				fmt.Fprintf(a.Stderr, "%d problem(s) in %s\n", len(pe.Problems), dir)
				return silentExit(ExitFailure)
			}
			if err != nil {
				return &exitError{code: ExitFailure, err: err}
			}
			fmt.Fprintf(a.Stdout, "%s: %d job(s) valid\n", dir, len(cat.Jobs()))
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "jobs", "jobs", "the jobs folder")
	return cmd
}
