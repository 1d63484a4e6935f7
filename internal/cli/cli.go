// Package cli is the longshore command line: one cobra command per verb,
// errors as one line on stderr and documented exit codes.
package cli

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/longshore/longshore/internal/api"
	"github.com/longshore/longshore/internal/aws/remote"
	"github.com/longshore/longshore/internal/deploy"
)

// Exit codes shared by every command. `longshore run --wait` adds the run's
// own exit code, 124 (timed out) and 125 (never started).
const (
	ExitOK      = 0
	ExitFailure = 1 // the command ran and found problems
	ExitUsage   = 2 // bad arguments or input
)

// exitError carries an exit code through cobra to Main.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// usageError is a bad argument: exit 2.
func usageError(format string, args ...any) error {
	return &exitError{code: ExitUsage, err: fmt.Errorf(format, args...)}
}

// silentExit ends the command with a code and prints nothing more.
type silentExit int

func (s silentExit) Error() string { return fmt.Sprintf("exit %d", int(s)) }

// App holds what commands need from the outside world, so tests can give
// their own.
type App struct {
	Stdout, Stderr io.Writer
	Now            func() time.Time
	Getenv         func(string) string
	// After waits between the questions of a waiting or following command
	// (time.After when nil).
	After func(time.Duration) <-chan time.Time
	// AWS, when set, is the deployment --aws talks to (tests); otherwise
	// one is made from the caller's AWS configuration and --prefix.
	AWS *remote.Client
}

// Main runs the CLI with args (without the program name) and returns the
// process exit code.
func (a *App) Main(args []string) int {
	root := a.rootCommand()
	root.SetArgs(args)
	root.SetOut(a.Stdout)
	root.SetErr(a.Stderr)
	err := root.Execute()
	if err == nil {
		return ExitOK
	}
	var silent silentExit
	if errors.As(err, &silent) {
		return int(silent)
	}
	fmt.Fprintf(a.Stderr, "longshore: %v\n", err)
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	// cobra's own errors (unknown command or flag, wrong argument count) are usage errors.
	return ExitUsage
}

func (a *App) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "longshore",
		Short: "Run containers as jobs: on a schedule, on an upload, on a message, or on request",
		Long: `Longshore runs containers as jobs on AWS Fargate, or on this machine with
"longshore local", and reports every run's outcome and exit code.

A job is one file, jobs/<name>/job.yaml; see docs/job-spec.md.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().String("endpoint", "", "the engine's API (default $LONGSHORE_ENDPOINT or "+api.DefaultEndpoint+")")
	root.PersistentFlags().Bool("aws", false, "talk to the deployment on AWS (your AWS credentials and region) instead of a local engine")
	root.PersistentFlags().String("prefix", "", "with --aws: the deployment's name prefix (default $LONGSHORE_PREFIX or "+deploy.DefaultPrefix+")")
	root.AddCommand(a.validateCommand(), a.scheduleCommand(), a.localCommand(), a.runCommand(),
		a.runsCommand(), a.logsCommand(), a.stopCommand(),
		a.initCommand(), a.synthCommand(), a.diffCommand(), a.deployCommand(), a.destroyCommand())
	a.extendRoot(root)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return usageError("%v (see --help)", err)
	})
	return root
}
