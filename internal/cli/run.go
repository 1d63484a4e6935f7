package cli

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/longshore/longshore/internal/api"
	"github.com/longshore/longshore/internal/job"
	"github.com/longshore/longshore/internal/run"
)

// Exit codes of `longshore run --wait` beyond the run's own exit code.
const (
	ExitTimedOut     = 124
	ExitNeverStarted = 125
	ExitInterrupted  = 130 // the CLI itself was interrupted while waiting
)

// pollEvery is how often a waiting or following command asks a local
// engine: a request is cheap there.
const pollEvery = 200 * time.Millisecond

// Pacing of a waiting or following command against a deployment, where
// every question is a function invocation (and ECS or CloudWatch Logs calls
// behind it): every awsPollFirst during the first awsPollSteady, while a
// Fargate task usually starts, then half as often again each time up to
// awsPollMost. `run --wait --aws` so makes 30 invocations in its first
// minute, then fewer, down to 2 a minute on a long run.
const (
	awsPollFirst  = 2 * time.Second
	awsPollSteady = time.Minute
	awsPollMost   = 30 * time.Second
)

// pacer says how long to wait before the next question.
type pacer struct {
	first, steady, most time.Duration
	waited, cur         time.Duration
}

// next returns the wait before the next question and counts it as waited.
func (p *pacer) next() time.Duration {
	switch {
	case p.cur == 0 || p.waited < p.steady:
		p.cur = p.first
	default:
		p.cur = min(p.cur*3/2, p.most)
	}
	p.waited += p.cur
	return p.cur
}

// pace is how a command waiting on backend b asks it again.
func pace(b backend) *pacer {
	if _, ok := b.(awsBackend); ok {
		return &pacer{first: awsPollFirst, steady: awsPollSteady, most: awsPollMost}
	}
	return &pacer{first: pollEvery, steady: time.Duration(1<<63 - 1), most: pollEvery}
}

// after waits as the App is told to (time.After by default).
func (a *App) after(d time.Duration) <-chan time.Time {
	if a.After != nil {
		return a.After(d)
	}
	return time.After(d)
}

// tailLines is how much output `run --wait` prints once the run is over.
const tailLines = 20

func (a *App) runCommand() *cobra.Command {
	var (
		envs     []string
		key      string
		wait     bool
		progress string
	)
	cmd := &cobra.Command{
		Use:   "run JOB [--env K=V]... [--key KEY] [--wait] [-- ARGS...]",
		Short: "Start a one-off run of a job",
		Long: `Start a one-off run of a job and print its id. With --wait, follow it (and
its retries) to the end, print the tail of its output, and exit with its
exit code: the job's own, 124 when it timed out, 125 when it never started,
1 for any other end without an exit code (cancelled, interrupted, lost).

--env refuses a variable named like a secret (API_TOKEN, DB_PASSWORD, ...):
overrides are stored with the run; declare it in the job's secrets: instead.

--key makes the request idempotent: the same key again returns the same run.
Arguments after -- replace the job's command (for a local process, they are
added to local.command).

While waiting, the run's status is one line redrawn in place when stderr is a
terminal, and one line per change otherwise (--progress plain|live forces
either).`,
		Example: `  # start a run and print its id
  longshore run hello

  # wait for it, then exit with its exit code
  longshore run hello --env EXIT_CODE=3 --wait; echo $?

  # the same key twice is one run; arguments after -- go to the job
  longshore run nightly-report --key report-2026-11-22 -- --since 48h`,
		Args:              cobra.MinimumNArgs(1),
		ValidArgsFunction: a.completeJobArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := validProgress(progress); err != nil {
				return err
			}
			dash := cmd.ArgsLenAtDash()
			if dash == 0 {
				return usageError("name the job before --: longshore run JOB -- ARGS")
			}
			if dash < 0 && len(args) > 1 || dash > 1 {
				return usageError("run takes one job; put the job's arguments after --")
			}
			req := api.RunRequest{Job: args[0], Key: key}
			if dash > 0 {
				req.Command = args[dash:]
			}
			for _, kv := range envs {
				k, v, ok := strings.Cut(kv, "=")
				if !ok || k == "" {
					return usageError("--env %q: write NAME=value", kv)
				}
				if req.Env == nil {
					req.Env = map[string]string{}
				}
				req.Env[k] = v
			}
			// Refused here too, so that the value never leaves this
			// machine, whatever the engine or deployment checks.
			if err := job.CheckOverrideEnv(req.Env); err != nil {
				return usageError("%v", err)
			}
			c, err := a.runs(cmd)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			got, err := c.Start(ctx, req)
			if err != nil {
				return jobError(err)
			}
			fmt.Fprintln(a.Stdout, got.ID)
			if got.Duplicate {
				fmt.Fprintf(a.Stderr, "%s: the key %q had already started this run\n", got.ID, key)
			}
			if !wait {
				return nil
			}
			ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			p := newProgress(a.Stderr, progress, a.Getenv, a.Now)
			final, err := a.follow(ctx, c, got.Run, p)
			p.end()
			if ctx.Err() != nil {
				fmt.Fprintf(a.Stderr, "stopped waiting; the run goes on: longshore stop %s\n", final.ID)
				return silentExit(ExitInterrupted)
			}
			if err != nil {
				return apiError(err)
			}
			a.tail(ctx, c, final.ID)
			return silentExit(exitCodeOf(final))
		},
	}
	cmd.Flags().StringArrayVarP(&envs, "env", "e", nil, "set an environment variable, NAME=value (repeatable)")
	cmd.Flags().StringVar(&key, "key", "", "idempotency key: the same key again is the same run")
	cmd.Flags().BoolVarP(&wait, "wait", "w", false, "follow the run to its end and exit with its exit code")
	cmd.Flags().StringVar(&progress, "progress", progressAuto, "how --wait shows the run: auto (live on a terminal), plain or live")
	cmd.RegisterFlagCompletionFunc("progress", cobra.FixedCompletions([]string{progressAuto, progressPlain, progressLive}, cobra.ShellCompDirectiveNoFileComp))
	cmd.RegisterFlagCompletionFunc("env", cobra.NoFileCompletions)
	cmd.RegisterFlagCompletionFunc("key", cobra.NoFileCompletions)
	return cmd
}

// changeWaiter is a backend that answers a run once it has changed (the
// local engine's runs API), so that following one needs no polling.
type changeWaiter interface {
	GetChanged(ctx context.Context, id string, status run.Status, wait time.Duration) (api.Run, error)
}

// changeWait is how long one question of a changeWaiter may wait; a live
// status line, which counts the seconds, asks every second.
const (
	changeWait     = 30 * time.Second
	changeWaitLive = time.Second
)

// follow reports the status changes of a run and its retries until the
// last attempt has finished, and returns that attempt.
func (a *App) follow(ctx context.Context, c backend, r api.Run, p *progress) (api.Run, error) {
	every := pace(c)
	waiter, waits := c.(changeWaiter)
	for {
		p.show(r)
		if r.Status.Terminal() && r.NextRunID == "" {
			return r, nil
		}
		id := r.ID
		if r.Status.Terminal() {
			id = r.NextRunID
		}
		var next api.Run
		var err error
		if waits && id == r.ID {
			wait := changeWait
			if p.live {
				wait = changeWaitLive
			}
			next, err = waiter.GetChanged(ctx, id, r.Status, wait)
		} else {
			select {
			case <-ctx.Done():
				return r, ctx.Err()
			case <-a.after(every.next()):
			}
			next, err = c.Get(ctx, id)
		}
		if err != nil {
			if ctx.Err() != nil {
				return r, ctx.Err()
			}
			return r, err
		}
		r = next
	}
}

func statusLine(r api.Run) string {
	s := fmt.Sprintf("%s %s (attempt %d): %s", r.ID, r.Job, r.Attempt, r.Status)
	if r.ExitCode != nil {
		s += fmt.Sprintf(", exit code %d", *r.ExitCode)
	}
	if r.Status.Terminal() && r.Reason != "" {
		s += ": " + r.Reason
	}
	if r.Status == run.StatusQueued && r.NotBefore != nil {
		s += " until " + r.NotBefore.Format(time.RFC3339)
	}
	return s
}

// exitCodeOf maps a finished run to the CLI's exit code.
func exitCodeOf(r api.Run) int {
	switch {
	case r.Status == run.StatusTimedOut:
		return ExitTimedOut
	case r.Cause != nil && *r.Cause == run.CauseStart:
		return ExitNeverStarted
	case r.ExitCode != nil && (r.Status == run.StatusSucceeded || r.Status == run.StatusFailed):
		return *r.ExitCode
	case r.Status == run.StatusSucceeded:
		return 0
	}
	return ExitFailure
}

// tail prints the last lines of a run's output.
func (a *App) tail(ctx context.Context, c backend, id string) {
	var out, errw bytes.Buffer
	var cur logCursor
	for {
		next, done, err := c.Logs(ctx, id, cur, &out, &errw)
		if err != nil || done || next == cur {
			break
		}
		cur = next
		for _, b := range []*bytes.Buffer{&out, &errw} {
			if b.Len() > 1<<20 {
				b.Next(b.Len() - 1<<20)
			}
		}
	}
	for _, s := range []struct {
		stream string
		buf    *bytes.Buffer
		w      io.Writer
	}{{"stdout", &out, a.Stdout}, {"stderr", &errw, a.Stderr}} {
		lines := strings.Split(strings.TrimRight(s.buf.String(), "\n"), "\n")
		if len(lines) == 1 && lines[0] == "" {
			continue
		}
		if len(lines) > tailLines {
			fmt.Fprintf(a.Stderr, "... (%d earlier lines of %s: longshore logs %s)\n", len(lines)-tailLines, s.stream, id)
			lines = lines[len(lines)-tailLines:]
		}
		fmt.Fprintln(s.w, strings.Join(lines, "\n"))
	}
}
