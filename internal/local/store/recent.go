package store

import "sync"

// recentRuns is how many of the runs last written a Store keeps in memory.
const recentRuns = 2048

// recent keeps the runs this Store wrote last, as committed, so that reading
// one back (the core reads a run before each change of it) needs no query.
// The engine's data folder is locked to one engine, so no other writer can
// make an entry stale.
type recent struct {
	mu    sync.Mutex
	runs  map[string]recentRun
	order []string // ids in the order first kept, the oldest first
}

type recentRun struct {
	rev  int64
	body []byte
}

// put keeps a run committed at rev with body, unless a later revision is kept.
func (c *recent) put(id string, rev int64, body []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.runs == nil {
		c.runs = make(map[string]recentRun, recentRuns)
	}
	if old, ok := c.runs[id]; ok {
		if old.rev < rev {
			c.runs[id] = recentRun{rev, body}
		}
		return
	}
	if len(c.order) >= recentRuns {
		delete(c.runs, c.order[0])
		c.order = c.order[1:]
	}
	c.runs[id] = recentRun{rev, body}
	c.order = append(c.order, id)
}

// get returns a kept run's revision and body.
func (c *recent) get(id string) (recentRun, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	r, ok := c.runs[id]
	return r, ok
}

// written records a run just committed: kept, and handed to its watchers.
func (s *Store) written(id string, rev int64, body []byte) {
	s.recent.put(id, rev, body)
	s.watch.written(id, rev, body)
}

// forget drops a run deleted from the store.
func (c *recent) forget(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.runs[id]; !ok {
		return
	}
	delete(c.runs, id)
	for i, kept := range c.order {
		if kept == id {
			c.order = append(c.order[:i], c.order[i+1:]...)
			break
		}
	}
}
