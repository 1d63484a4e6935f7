package cli

import (
	"log/slog"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/longshore/longshore/internal/local/engine"
	"github.com/longshore/longshore/internal/local/scheduler"
)

func (a *App) localCommand() *cobra.Command {
	var cfg engine.Config
	var verbose bool
	cmd := &cobra.Command{
		Use:   "local [--jobs DIR] [--data DIR] [--addr HOST:PORT]",
		Short: "Run the whole system on this machine: schedules, S3, SQS and one-off runs",
		Long: `Run Longshore on this machine with the job catalog in --jobs: every schedule
fires in its timezone, an S3-compatible endpoint starts runs for matching
uploads, an SQS-compatible endpoint starts one run per message, and the runs
API (with a Lambda-compatible invoke of the launcher) starts one-off runs.
Runs are kept in SQLite under --data and survive restarts; each job runs as
a host process with its local.command.

Everything listens on 127.0.0.1 unless told otherwise. Secrets are read from
LONGSHORE_SECRET_<NAME> variables or from --secrets (lines of
"reference=value", e.g. "ssm:/prod/db/password=..."; the file must be
readable by its owner only) and are never printed or stored.

SIGINT or SIGTERM shuts down cleanly: runs still going are stopped (SIGTERM,
then SIGKILL after --grace) and recorded as cancelled.`,
		Example: `  longshore local
  longshore local --jobs ./jobs --data /tmp/longshore --addr 127.0.0.1:9000`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			level := slog.LevelInfo
			if verbose {
				level = slog.LevelDebug
			}
			cfg.Out = a.Stdout
			cfg.Log = slog.New(slog.NewTextHandler(a.Stderr, &slog.HandlerOptions{Level: level}))
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			if err := engine.Run(ctx, cfg); err != nil {
				return &exitError{code: ExitFailure, err: err}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.JobsDir, "jobs", "jobs", "the jobs folder")
	f.StringVar(&cfg.DataDir, "data", engine.DefaultData, "the data folder (database, run output, uploads)")
	f.StringVar(&cfg.Addr, "addr", engine.DefaultAddr, "address of the runs API and the Lambda-compatible invoke")
	f.StringVar(&cfg.S3Addr, "s3-addr", engine.DefaultS3Addr, "address of the S3-compatible endpoint")
	f.StringVar(&cfg.SQSAddr, "sqs-addr", engine.DefaultSQSAddr, "address of the SQS-compatible endpoint")
	f.StringVar(&cfg.SecretsFile, "secrets", "", "file of local secret values (default DATA/secrets.env)")
	f.DurationVar(&cfg.StartingDeadline, "starting-deadline", scheduler.DefaultStartingDeadline, "how late a schedule missed while the engine was down may still start")
	f.DurationVar(&cfg.Grace, "grace", engine.DefaultGrace, "time between SIGTERM and SIGKILL when a run is stopped")
	f.BoolVarP(&verbose, "verbose", "v", false, "log more")
	f.Float64Var(&cfg.TimeScale, "time-scale", 1, "run the engine's clock this many times faster (for trying schedules)")
	f.MarkHidden("time-scale")
	return cmd
}
