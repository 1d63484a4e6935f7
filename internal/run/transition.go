package run

import "fmt"

// Terminal reports whether the status is final: succeeded, failed,
// timed_out or cancelled. A run in a terminal status never changes status
// again.
func (s Status) Terminal() bool {
	switch s {
	case StatusSucceeded, StatusFailed, StatusTimedOut, StatusCancelled:
		return true
	}
	return false
}

// Valid reports whether s is one of the seven statuses.
func (s Status) Valid() bool {
	_, ok := transitions[s]
	return ok
}

// transitions lists, for every status, the statuses a run may move to next.
// Terminal statuses have an empty set: they never move.
var transitions = map[Status]map[Status]bool{
	StatusQueued: {
		StatusStarting:  true,
		StatusFailed:    true,
		StatusCancelled: true,
	},
	StatusStarting: {
		StatusRunning:   true,
		StatusSucceeded: true,
		StatusFailed:    true,
		StatusTimedOut:  true,
		StatusCancelled: true,
	},
	StatusRunning: {
		StatusSucceeded: true,
		StatusFailed:    true,
		StatusTimedOut:  true,
		StatusCancelled: true,
	},
	StatusSucceeded: {},
	StatusFailed:    {},
	StatusTimedOut:  {},
	StatusCancelled: {},
}

// CanTransition reports whether a run may move from one status to another.
// Staying in the same status is not a transition and returns false.
func CanTransition(from, to Status) bool {
	return transitions[from][to]
}

// TransitionError is returned when a change would move a run along a
// transition that the lifecycle does not allow.
type TransitionError struct {
	RunID    string
	From, To Status
}

func (e *TransitionError) Error() string {
	return fmt.Sprintf("run %s: cannot go from %s to %s", e.RunID, e.From, e.To)
}
