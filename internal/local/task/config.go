package task

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/longshore/longshore/internal/run"
)

// Config is what every local runner is configured with.
type Config struct {
	// JobsDir is the jobs folder; a job's folder is JobsDir/<spec.Dir>.
	JobsDir string
	// DataDir holds each run's folder: DataDir/runs/<run id>/ with
	// stdout.log and stderr.log, and task.json, exit.json and stop.json
	// unless Records keeps them.
	DataDir string
	// Records, when set, keeps the records of each task's start, stop and
	// end instead of files (a file costs more than a row of a database).
	Records Records
	// Secrets resolves the jobs' secrets; a job with secrets cannot start
	// without it.
	Secrets Secrets
	// Observe is called with each phase change of a task: running right
	// after the start (Version 1), stopped at its end (Version 2); and with
	// the end of a task taken over from an earlier engine. Calls for one
	// task come in order, from a goroutine of their own: a slow Observe
	// delays nothing but the next report of the same task.
	Observe func(ctx context.Context, ts run.TaskState)
	// Grace is the time between SIGTERM and SIGKILL; DefaultGrace when zero.
	Grace time.Duration
	// Now tells the time of the observations; time.Now when nil.
	Now func() time.Time
	// MaxLogBytes caps each output stream; what comes after is dropped
	// and a single "[longshore: output truncated after N bytes]" line
	// written. DefaultMaxLogBytes when zero or less.
	MaxLogBytes int64
}

// Resolve returns c with its folders absolute and its defaults filled in,
// and creates DataDir/runs.
func (c Config) Resolve() (Config, error) {
	if c.JobsDir == "" || c.DataDir == "" {
		return c, errors.New("the jobs folder and the data folder are required")
	}
	var err error
	if c.JobsDir, err = filepath.Abs(c.JobsDir); err != nil {
		return c, fmt.Errorf("jobs folder: %w", err)
	}
	if c.DataDir, err = filepath.Abs(c.DataDir); err != nil {
		return c, fmt.Errorf("data folder: %w", err)
	}
	if err := os.MkdirAll(filepath.Join(c.DataDir, "runs"), 0o700); err != nil {
		return c, fmt.Errorf("create runs folder: %w", err)
	}
	if c.Grace <= 0 {
		c.Grace = DefaultGrace
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.MaxLogBytes <= 0 {
		c.MaxLogBytes = DefaultMaxLogBytes
	}
	return c, nil
}
