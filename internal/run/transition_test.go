package run

import (
	"errors"
	"fmt"
	"testing"
)

var allStatuses = []Status{
	StatusQueued, StatusStarting, StatusRunning,
	StatusSucceeded, StatusFailed, StatusTimedOut, StatusCancelled,
}

func TestCanTransition(t *testing.T) {
	allowed := map[[2]Status]bool{
		{StatusQueued, StatusStarting}:    true,
		{StatusQueued, StatusFailed}:      true,
		{StatusQueued, StatusCancelled}:   true,
		{StatusStarting, StatusRunning}:   true,
		{StatusStarting, StatusSucceeded}: true,
		{StatusStarting, StatusFailed}:    true,
		{StatusStarting, StatusTimedOut}:  true,
		{StatusStarting, StatusCancelled}: true,
		{StatusRunning, StatusSucceeded}:  true,
		{StatusRunning, StatusFailed}:     true,
		{StatusRunning, StatusTimedOut}:   true,
		{StatusRunning, StatusCancelled}:  true,
	}
	for _, from := range allStatuses {
		for _, to := range allStatuses {
			want := allowed[[2]Status{from, to}]
			if got := CanTransition(from, to); got != want {
				t.Errorf("CanTransition(%s, %s) = %v, want %v", from, to, got, want)
			}
		}
	}
}

func TestTransitionRules(t *testing.T) {
	tests := []struct {
		name     string
		from, to Status
		want     bool
	}{
		{"a queued run cannot succeed without starting", StatusQueued, StatusSucceeded, false},
		{"a queued run cannot time out", StatusQueued, StatusTimedOut, false},
		{"a running run never goes back to starting", StatusRunning, StatusStarting, false},
		{"a succeeded run never goes back to running", StatusSucceeded, StatusRunning, false},
		{"a failed run cannot become succeeded", StatusFailed, StatusSucceeded, false},
		{"a cancelled run cannot be cancelled again", StatusCancelled, StatusCancelled, false},
		{"staying running is not a transition", StatusRunning, StatusRunning, false},
		{"an unknown status goes nowhere", Status("paused"), StatusRunning, false},
		{"nothing moves to an unknown status", StatusRunning, Status("paused"), false},
		{"a task that stops before reporting running can still succeed", StatusStarting, StatusSucceeded, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := CanTransition(tt.from, tt.to); got != tt.want {
				t.Errorf("CanTransition(%s, %s) = %v, want %v", tt.from, tt.to, got, tt.want)
			}
		})
	}
}

func TestStatusTerminalAndValid(t *testing.T) {
	terminal := map[Status]bool{StatusSucceeded: true, StatusFailed: true, StatusTimedOut: true, StatusCancelled: true}
	for _, s := range allStatuses {
		if got := s.Terminal(); got != terminal[s] {
			t.Errorf("%s.Terminal() = %v, want %v", s, got, terminal[s])
		}
		if !s.Valid() {
			t.Errorf("%s.Valid() = false, want true", s)
		}
	}
	for _, s := range []Status{"", "paused", "SUCCEEDED", "timed-out"} {
		if s.Valid() {
			t.Errorf("%q.Valid() = true, want false", s)
		}
		if s.Terminal() {
			t.Errorf("%q.Terminal() = true, want false", s)
		}
	}
}

func TestTransitionErrorNamesTheRunAndBothStatuses(t *testing.T) {
	var err error = fmt.Errorf("update run: %w", &TransitionError{RunID: "r-0123456789abcdef", From: StatusSucceeded, To: StatusRunning})
	want := "update run: run r-0123456789abcdef: cannot go from succeeded to running"
	if err.Error() != want {
		t.Errorf("error = %q, want %q", err, want)
	}
	var te *TransitionError
	if !errors.As(err, &te) || te.To != StatusRunning {
		t.Errorf("errors.As did not find the *TransitionError in %v", err)
	}
}
