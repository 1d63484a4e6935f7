package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/longshore/longshore/internal/job"
	"github.com/longshore/longshore/internal/local/store"
	"github.com/longshore/longshore/internal/run"
)

// How the engine deletes the runs that have outlived their job's
// history.keep: every historyEvery, in batches of historyBatch runs, each
// deleted in one short write, with historyPause between batches so that
// the writes of runs going on are never held up for long.
const (
	historyEvery = time.Hour
	historyBatch = 200
	historyPause = 20 * time.Millisecond
)

// endedRuns deletes ended runs (store.Store).
type endedRuns interface {
	DeleteEnded(ctx context.Context, q store.Ended) ([]run.Run, store.Position, bool, error)
}

// history deletes the finished runs of each job once they are older than
// the job's history.keep (keep, the engine's --history-keep, when the job
// does not say), with their output and kept trigger bodies; the runs of
// jobs no longer in the catalog are kept as long as keep.
type history struct {
	runs    endedRuns
	jobs    []*job.Spec
	keep    time.Duration
	dataDir string
	clock   Clock
	log     *slog.Logger
}

// loop prunes at once and then every historyEvery, until ctx is done.
func (h *history) loop(ctx context.Context) {
	for {
		n, err := h.prune(ctx)
		if err != nil && ctx.Err() == nil {
			h.log.Warn("delete old runs", "err", err)
		}
		if n > 0 {
			h.log.Info("old runs deleted", "runs", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-h.clock.After(historyEvery):
		}
	}
}

// prune deletes what has outlived its keep now, and returns how many runs.
func (h *history) prune(ctx context.Context) (int, error) {
	now := h.clock.Now()
	deleted := 0
	var errs []error
	names := make([]string, 0, len(h.jobs))
	for _, spec := range h.jobs {
		names = append(names, spec.Name)
		keep := h.keep
		if k := spec.History.Keep.D(); k > 0 {
			keep = k
		}
		n, err := h.pruneOf(ctx, store.Ended{Job: spec.Name, Before: now.Add(-keep)})
		deleted += n
		errs = append(errs, err)
	}
	n, err := h.pruneOf(ctx, store.Ended{NotJobs: names, Before: now.Add(-h.keep)})
	return deleted + n, errors.Join(append(errs, err)...)
}

func (h *history) pruneOf(ctx context.Context, q store.Ended) (int, error) {
	q.Limit = historyBatch
	deleted := 0
	for {
		gone, next, done, err := h.runs.DeleteEnded(ctx, q)
		if err != nil {
			return deleted, err
		}
		deleted += len(gone)
		for _, r := range gone {
			if err := h.removeFiles(r); err != nil {
				h.log.Warn("delete the files of an old run", "run", r.ID, "err", err)
			}
		}
		if done {
			return deleted, nil
		}
		q.After = next
		select {
		case <-ctx.Done():
			return deleted, ctx.Err()
		case <-h.clock.After(historyPause):
		}
	}
}

// removeFiles deletes a deleted run's output and its kept trigger body.
func (h *history) removeFiles(r run.Run) error {
	if !run.ValidID(r.ID) {
		return fmt.Errorf("run id %q is not one Longshore makes: its files are left alone", r.ID)
	}
	err := os.RemoveAll(filepath.Join(h.dataDir, "runs", r.ID))
	if r.Trigger.BodyURI != "" {
		if rerr := os.Remove(filepath.Join(h.dataDir, "bodies", r.Job, r.ID+".body")); rerr != nil && !errors.Is(rerr, os.ErrNotExist) {
			err = errors.Join(err, rerr)
		}
	}
	return err
}
