package process

// procRecord is what the start record of a task (task.json) keeps of its
// process, written once the process has started, before Start returns, so
// that a restarted engine neither starts the run again nor loses track of
// its process group.
type procRecord struct {
	PID    int    `json:"pid"`
	Ticks  uint64 `json:"startTicks"`
	BootID string `json:"bootId,omitempty"`
}
