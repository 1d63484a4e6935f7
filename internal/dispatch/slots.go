package dispatch

import (
	"context"
	"slices"
	"sync"
)

// Slots count the active runs of a job, and of the whole deployment, so
// that no more than a bound start at once however many triggers arrive
// together: each key holds at most max run ids, taken and freed by
// conditional writes on one record (one DynamoDB item per key on AWS, one
// transaction locally), never by counting an index that may lag.
// Every adapter passes the suite in package storetest.
type Slots interface {
	// TakeSlot gives run id one of the max slots of key. It returns true
	// when the run holds one, taken now or before (taking twice holds one),
	// and otherwise false with the ids of the runs holding them all.
	TakeSlot(ctx context.Context, key, runID string, max int) (held bool, holders []string, err error)
	// FreeSlot gives back the slot run id holds of key, and reports
	// whether it held one: freeing twice frees once.
	FreeSlot(ctx context.Context, key, runID string) (freed bool, err error)
	// SlotHolders lists the ids of the runs holding slots of key.
	SlotHolders(ctx context.Context, key string) ([]string, error)
}

// Slot keys: one per job with a concurrency bound (JobSlots), one for the
// deployment's maxRunning (DeploymentSlots).
const (
	jobSlotPrefix   = "job#"
	DeploymentSlots = "deployment"
)

// JobSlots is the key of a job's slots.
func JobSlots(jobName string) string { return jobSlotPrefix + jobName }

// MemorySlots are Slots kept in memory, for a host that is one process
// and keeps nothing across restarts (tests, the fakes).
type MemorySlots struct {
	mu   sync.Mutex
	held map[string]map[string]bool
}

// TakeSlot implements Slots.
func (m *MemorySlots) TakeSlot(_ context.Context, key, runID string, max int) (bool, []string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.held == nil {
		m.held = map[string]map[string]bool{}
	}
	ids := m.held[key]
	if ids[runID] {
		return true, nil, nil
	}
	if len(ids) >= max {
		return false, sortedIDs(ids), nil
	}
	if ids == nil {
		ids = map[string]bool{}
		m.held[key] = ids
	}
	ids[runID] = true
	return true, nil, nil
}

// FreeSlot implements Slots.
func (m *MemorySlots) FreeSlot(_ context.Context, key, runID string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.held[key][runID] {
		return false, nil
	}
	delete(m.held[key], runID)
	return true, nil
}

// SlotHolders implements Slots.
func (m *MemorySlots) SlotHolders(_ context.Context, key string) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return sortedIDs(m.held[key]), nil
}

func sortedIDs(set map[string]bool) []string {
	out := make([]string, 0, len(set))
	for id := range set {
		out = append(out, id)
	}
	slices.Sort(out)
	return out
}
