package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/longshore/longshore/internal/api"
	"github.com/longshore/longshore/internal/aws/remoteapi"
	"github.com/longshore/longshore/internal/dashboard"
	"github.com/longshore/longshore/internal/deploy"
)

// defaultDashboardAddr is where `dashboard --aws` listens: this machine
// only, on a port the system picks.
const defaultDashboardAddr = "127.0.0.1:0"

func (a *App) dashboardCommand() *cobra.Command {
	var (
		asJSON bool
		onAWS  bool
		addr   string
	)
	cmd := &cobra.Command{
		Use:   "dashboard [--aws [--prefix P] [--addr HOST:PORT]] [--json]",
		Short: "Print the address of the engine's web dashboard, or serve a deployment's",
		Long: `Print the address of the dashboard that "longshore local" serves beside its
runs API: jobs with their next runs and last outcomes, a live list of runs,
each run's timeline, reason and output, and a chart of each job's runs.
Nothing is opened: copy the address into a browser.

It checks that an engine answers at --endpoint (or LONGSHORE_ENDPOINT) and
that it serves the dashboard.

With --aws, serve the same dashboard for a deployment on AWS from this
machine: a small web server on --addr (a loopback address; by default
127.0.0.1 and a free port) that answers the dashboard's requests by
invoking the deployment's launcher and api functions with your AWS
credentials and region, so IAM decides what you may see, start and stop.
It prints its address and serves until Ctrl-C. The jobs listed are the
catalog this longshore was built with; their runs, outcomes and output come
from the deployment named by --prefix (or LONGSHORE_PREFIX, default
"longshore"). A run's output is its one CloudWatch Logs stream, stderr
included, shown as one.`,
		Example: `  longshore dashboard
  longshore dashboard --endpoint http://127.0.0.1:9000
  xdg-open "$(longshore dashboard)"
  longshore dashboard --aws                         # serve it, print its address, Ctrl-C to stop
  AWS_PROFILE=prod longshore dashboard --aws --prefix staging --addr 127.0.0.1:8760`,
		Args:              cobra.NoArgs,
		ValidArgsFunction: cobra.NoFileCompletions,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if onAWS {
				return a.serveAWSDashboard(cmd, addr, asJSON)
			}
			if cmd.Flags().Changed("addr") {
				return usageError("--addr is for --aws: the dashboard of longshore local is served at its own address (see --endpoint)")
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
	cmd.Flags().BoolVar(&asJSON, "json", false, `print {"url": ...} (with --aws, and "prefix")`)
	cmd.Flags().BoolVar(&onAWS, "aws", false, "serve the dashboard of a deployment on AWS from this machine, with your AWS credentials")
	cmd.Flags().StringVar(&addr, "addr", defaultDashboardAddr, "with --aws: the loopback address to serve on (port 0: a free one)")
	return cmd
}

// serveAWSDashboard serves the dashboard of a deployment until SIGINT or
// SIGTERM.
func (a *App) serveAWSDashboard(cmd *cobra.Command, addr string, asJSON bool) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return usageError("--addr %q is not HOST:PORT, such as %s", addr, defaultDashboardAddr)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return usageError("--addr %q is not a loopback address: the dashboard acts with your AWS credentials, so it serves this machine only (use 127.0.0.1 or ::1)", addr)
	}
	b, err := a.runs(cmd)
	if err != nil {
		return err
	}
	dep, ok := b.(awsBackend)
	if !ok {
		return &exitError{code: ExitFailure, err: errors.New("dashboard --aws: no deployment to talk to")}
	}
	prefix, _ := cmd.Flags().GetString("prefix")
	if prefix == "" {
		prefix = a.Getenv("LONGSHORE_PREFIX")
	}
	if prefix == "" {
		prefix = deploy.DefaultPrefix
	}
	// Ask before serving, so that missing credentials, a wrong prefix or a
	// refusal show here rather than in the browser. The catalog shown is the
	// one the deployment runs, read from it.
	cat, err := dep.c.Catalog(cmd.Context())
	if err != nil {
		return apiError(fmt.Errorf("read the job catalog of deployment %q: %w", prefix, err))
	}

	ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return &exitError{code: ExitFailure, err: fmt.Errorf("listen on %s: %w", addr, err)}
	}
	srv := &http.Server{
		Handler: remoteapi.New(remoteapi.Options{
			Deployment: dep.c,
			Pauser:     dep.c,
			Jobs:       remoteapi.CatalogJobs(cat, prefix),
			UI:         dashboard.Handler(),
			Now:        a.Now,
			Log:        slog.New(slog.NewTextHandler(a.Stderr, nil)),
		}),
		ReadHeaderTimeout: 10 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	url := "http://" + ln.Addr().String() + "/"
	if asJSON {
		err = writeJSON(a.Stdout, map[string]string{"url": url, "prefix": prefix})
	} else {
		_, err = fmt.Fprintln(a.Stdout, url)
	}
	fmt.Fprintf(a.Stderr, "longshore dashboard: deployment %q through its launcher and api functions, with your AWS credentials; Ctrl-C stops it\n", prefix)

	if err == nil {
		select {
		case <-ctx.Done():
		case err = <-served:
			err = &exitError{code: ExitFailure, err: fmt.Errorf("serve the dashboard on %s: %w", url, err)}
		}
	}
	shutdown, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	srv.Shutdown(shutdown)
	return err
}
