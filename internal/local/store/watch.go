package store

import (
	"sync"

	"github.com/longshore/longshore/internal/run"
)

// watchers hand each run written to those waiting for it: a request
// waiting for a run's end learns of it at once, without reading it.
type watchers struct {
	mu sync.Mutex
	m  map[string][]chan run.Run // by run id
}

// Watch returns a channel that receives the run id as each later Create or
// Update through this Store stores it, and a function that releases the
// channel. A receiver that lags finds the newest revision written (the
// channel holds one run). Writes committed before Watch returns are not
// sent: read the run after Watch, then wait. Writes by other processes on
// the same database are not seen.
func (s *Store) Watch(id string) (runs <-chan run.Run, stop func()) {
	return s.watch.add(id)
}

func (w *watchers) add(id string) (<-chan run.Run, func()) {
	ch := make(chan run.Run, 1)
	w.mu.Lock()
	if w.m == nil {
		w.m = map[string][]chan run.Run{}
	}
	w.m[id] = append(w.m[id], ch)
	w.mu.Unlock()
	return ch, func() { w.remove(id, ch) }
}

func (w *watchers) remove(id string, ch chan run.Run) {
	w.mu.Lock()
	defer w.mu.Unlock()
	list := w.m[id]
	for i, c := range list {
		if c == ch {
			list[i] = list[len(list)-1]
			list = list[:len(list)-1]
			break
		}
	}
	if len(list) == 0 {
		delete(w.m, id)
	} else {
		w.m[id] = list
	}
}

// written hands the run id, just committed at revision rev with body, to
// every watcher of the run, in place of an older revision the watcher has
// not taken yet. Each watcher gets a run of its own, decoded from body.
func (w *watchers) written(id string, rev int64, body []byte) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, ch := range w.m[id] {
		select {
		case old := <-ch:
			if old.Revision > rev {
				ch <- old
				continue
			}
		default:
		}
		r, err := decode(rev, body)
		if err != nil {
			continue // the watcher reads it at its next poll
		}
		ch <- r
	}
}
