package api

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/longshore/longshore/internal/run"
)

// waitFinal follows a run and its retries until the last attempt finishes
// or the wait is over, and returns the latest attempt. It takes each
// attempt as Changes hands it over, and reads it every Poll.
func (h *handler) waitFinal(ctx context.Context, r run.Run, wait time.Duration) (run.Run, error) {
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	tick := time.NewTicker(h.o.Poll)
	defer tick.Stop()
	final := func(r run.Run) bool { return r.Status.Terminal() && r.NextRunID == "" }
	for !final(r) {
		id := r.ID
		if r.NextRunID != "" {
			id = r.NextRunID
		}
		// Watch before reading, so that no write after the read goes unseen.
		runs, stop := h.watch(id)
		next, err := h.o.Runs.Get(ctx, id)
		for err == nil {
			r = next
			if final(r) || r.NextRunID != "" {
				break
			}
			select {
			case <-ctx.Done():
				stop()
				return r, nil
			case got := <-runs:
				if got.Revision > r.Revision {
					next = got
				}
			case <-tick.C:
				next, err = h.o.Runs.Get(ctx, id)
			}
		}
		stop()
		if err != nil {
			if ctx.Err() != nil {
				return r, nil
			}
			return r, fmt.Errorf("follow run %s: %w", id, err)
		}
	}
	return r, nil
}

// changeWaiting is a GET of a run asked to wait while the run is as the
// caller last saw it: ?waitSeconds=N&status=S answers once the run's
// status is not S, or it has a next attempt, or N seconds have passed.
type changeWaiting struct {
	d      time.Duration
	status run.Status
}

// MaxChangeWait bounds a GET's waitSeconds.
const MaxChangeWait = 60

func changeWait(r *http.Request) (changeWaiting, error) {
	q := r.URL.Query()
	ws := q.Get("waitSeconds")
	if ws == "" {
		return changeWaiting{}, nil
	}
	n, err := strconv.Atoi(ws)
	if err != nil || n < 0 || n > MaxChangeWait {
		return changeWaiting{}, fmt.Errorf("waitSeconds %q is out of range: use 0 to %d", ws, MaxChangeWait)
	}
	st := run.Status(q.Get("status"))
	if !st.Valid() {
		return changeWaiting{}, fmt.Errorf("status %q is unknown: with waitSeconds, give the status the run had when last read", st)
	}
	return changeWaiting{d: time.Duration(n) * time.Second, status: st}, nil
}

// waitChange waits, at most w.d, until the run is no longer as the caller
// saw it, and returns it as it is then.
func (h *handler) waitChange(ctx context.Context, r run.Run, w changeWaiting, runs <-chan run.Run) run.Run {
	ctx, cancel := context.WithTimeout(ctx, w.d)
	defer cancel()
	tick := time.NewTicker(h.o.Poll)
	defer tick.Stop()
	for r.Status == w.status && r.NextRunID == "" {
		select {
		case <-ctx.Done():
			return r
		case got := <-runs:
			if got.Revision > r.Revision {
				r = got
			}
		case <-tick.C:
			if next, err := h.o.Runs.Get(ctx, r.ID); err == nil {
				r = next
			}
		}
	}
	return r
}
