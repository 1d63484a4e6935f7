package cli

import (
	"fmt"
	"log/slog"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/longshore/longshore/internal/deploy"
	"github.com/longshore/longshore/internal/job"
	"github.com/longshore/longshore/internal/local/container"
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
Runs are kept in SQLite under --data and survive restarts.

Each job runs in a container when a container engine answers (DOCKER_HOST,
/var/run/docker.sock, or Podman's socket: $XDG_RUNTIME_DIR/podman/podman.sock
or /run/podman/podman.sock) and the job has an image: image.build is built
from the job's folder, image.uri is used when it is on this machine (a job
with a local.command runs as a process instead when it is not; one without
is pulled). Otherwise a job runs as a host process with its local.command.
The banner says which runner each job uses; --runner process or --runner
container forces one for every job. Containers get the job's cpu and memory
as limits, and the host's network unless --network none.

Everything listens on 127.0.0.1 unless told otherwise. Secrets are read from
LONGSHORE_SECRET_<NAME> variables or from --secrets (lines of
"reference=value", e.g. "ssm:/prod/db/password=..."; the file must be
readable by its owner only) and are never printed or stored.

SIGINT or SIGTERM shuts down cleanly: runs still going are stopped (SIGTERM,
then SIGKILL after --grace) and recorded as cancelled; no container is left.
After a crash, the next start takes over the containers still running.`,
		Example: `  longshore local
  longshore local --jobs ./jobs --data /tmp/longshore --addr 127.0.0.1:9000
  longshore local --runner process
  longshore local --max-running 8
  DOCKER_HOST=unix:///run/podman/podman.sock longshore local --runner container --network none`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if cfg.MaxRunning < 0 || cfg.MaxRunning > deploy.MaxMaxRunning {
				return usageError("--max-running %d: give a number of runs from 1 to %d, or 0 for no bound", cfg.MaxRunning, deploy.MaxMaxRunning)
			}
			if cfg.Token == "" {
				cfg.Token = a.Getenv("LONGSHORE_TOKEN")
			}
			if cfg.Region == "" {
				cfg.Region = a.Getenv("AWS_REGION")
			}
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
	f.StringVar(&cfg.Token, "token", "", "a token every request must carry; required to listen beyond 127.0.0.1 (default $LONGSHORE_TOKEN)")
	f.DurationVar(&cfg.StartingDeadline, "starting-deadline", scheduler.DefaultStartingDeadline, "how late a schedule missed while the engine was down may still start")
	f.DurationVar(&cfg.Grace, "grace", engine.DefaultGrace, "time between SIGTERM and SIGKILL when a run is stopped")
	f.StringVar(&cfg.Runner, "runner", engine.RunnerAuto, "how jobs run: auto (a container when an engine answers and the job has an image, else a process), process or container")
	f.StringVar(&cfg.Network, "network", container.NetworkHost, "the containers' network: host (jobs reach the local endpoints on 127.0.0.1) or none")
	f.StringVar(&cfg.Region, "region", "", "price runs at this AWS Region's Fargate list prices: what each would have cost on Fargate (default $AWS_REGION, else us-east-1)")
	f.Var(&keepFlag{d: &cfg.HistoryKeep}, "history-keep", "how long finished runs and their output are kept when their job's history.keep does not say, such as 30d (default 90d)")
	f.IntVar(&cfg.MaxRunning, "max-running", 0, "at most this many runs at once across every job; runs past it wait, queued (0: no bound)")
	f.BoolVarP(&verbose, "verbose", "v", false, "log more")
	f.Float64Var(&cfg.TimeScale, "time-scale", 1, "run the engine's clock this many times faster (for trying schedules)")
	f.MarkHidden("time-scale")
	return cmd
}

// keepFlag reads --history-keep: a duration such as 720h or 30d, from 1h to
// 3650d.
type keepFlag struct{ d *time.Duration }

func (k *keepFlag) String() string {
	if k.d == nil || *k.d == 0 {
		return ""
	}
	return job.FormatDays(*k.d)
}

func (k *keepFlag) Set(v string) error {
	d, err := job.ParseDuration(v)
	if err != nil {
		return err
	}
	if d < job.MinHistoryKeep || d > job.MaxHistoryKeep {
		return fmt.Errorf("%s is out of range: keep runs from 1h to 3650d", v)
	}
	*k.d = d
	return nil
}

func (k *keepFlag) Type() string { return "duration" }
