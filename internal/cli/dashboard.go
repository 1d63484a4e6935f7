package cli

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/longshore/longshore/internal/api"
)

func (a *App) dashboardCommand() *cobra.Command {
	var (
		asJSON bool
		onAWS  bool
	)
	cmd := &cobra.Command{
		Use:   "dashboard [--json]",
		Short: "Print the address of the engine's web dashboard",
		Long: `Print the address of the dashboard that "longshore local" serves beside its
runs API: jobs with their next runs and last outcomes, a live list of runs,
each run's timeline, reason and output, and a chart of each job's runs.
Nothing is opened: copy the address into a browser.

It checks that an engine answers at --endpoint (or LONGSHORE_ENDPOINT) and
that it serves the dashboard.

--aws, the dashboard of a deployment on AWS (reading runs through the api
function with your credentials), is not built yet: it says so and exits 2.`,
		Example: `  longshore dashboard
  longshore dashboard --endpoint http://127.0.0.1:9000
  xdg-open "$(longshore dashboard)"`,
		Args:              cobra.NoArgs,
		ValidArgsFunction: cobra.NoFileCompletions,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if onAWS {
				return usageError("dashboard --aws is not available yet: the dashboard of a deployment on AWS is planned; for now, use the one of longshore local")
			}
			c, err := a.client(cmd)
			if err != nil {
				return err
			}
			url, err := c.DashboardURL(cmd.Context())
			if errors.Is(err, api.ErrNoDashboard) {
				return &exitError{code: ExitFailure, err: fmt.Errorf("the engine at %s answers but serves no dashboard (an engine older than this longshore): restart longshore local with this one", c.Base)}
			}
			if err != nil {
				return apiError(err)
			}
			if asJSON {
				return writeJSON(a.Stdout, map[string]string{"url": url})
			}
			fmt.Fprintln(a.Stdout, url)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, `print {"url": ...}`)
	cmd.Flags().BoolVar(&onAWS, "aws", false, "the dashboard of a deployment on AWS (not available yet)")
	return cmd
}
