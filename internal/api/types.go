// Package api is Longshore's HTTP interface to runs: the JSON contract of a
// run, the handler the local engine serves (a Lambda-compatible invoke and a
// small REST API) and the client the CLI uses.
package api

import (
	"time"

	"github.com/longshore/longshore/internal/job"
	"github.com/longshore/longshore/internal/run"
)

// Run is a run as users and scripts see it (`longshore runs get ID --json`).
// Cause and ExitCode are null when they do not apply.
type Run struct {
	ID            string            `json:"id"`
	Job           string            `json:"job"`
	Status        run.Status        `json:"status"`
	Cause         *run.Cause        `json:"cause"`
	ExitCode      *int              `json:"exitCode"`
	Reason        string            `json:"reason"`
	Attempt       int               `json:"attempt"`
	Trigger       run.Trigger       `json:"trigger"`
	CreatedAt     time.Time         `json:"createdAt"`
	StartedAt     *time.Time        `json:"startedAt"`
	StoppedAt     *time.Time        `json:"stoppedAt"`
	UpdatedAt     time.Time         `json:"updatedAt"`
	PreviousRunID string            `json:"previousRunId,omitempty"`
	NextRunID     string            `json:"nextRunId,omitempty"`
	NotBefore     *time.Time        `json:"notBefore,omitempty"`
	Containers    []run.Container   `json:"containers,omitempty"`
	Env           map[string]string `json:"env,omitempty"`
	Command       []string          `json:"command,omitempty"`
	TaskRef       string            `json:"taskRef,omitempty"`
	// Capacity, when set, is the capacity this attempt starts on instead
	// of its job's: on-demand for the retry of a spot-then-on-demand job
	// that Fargate Spot interrupted.
	Capacity job.Capacity `json:"capacity,omitempty"`
	// CostUSD is what the run's task cost on Fargate at list prices, in US
	// dollars to the micro-dollar, recorded when the run finished (0 when
	// it never started; absent when not recorded). CostBasis is "fargate"
	// on AWS and "fargate-estimate" for a local run (what it would have
	// cost on Fargate); CostRegion is the Region whose prices it used.
	CostUSD    *float64 `json:"costUSD,omitempty"`
	CostBasis  string   `json:"costBasis,omitempty"`
	CostRegion string   `json:"costRegion,omitempty"`
	// TaskCapacity is the capacity the run's task ran on (on-demand or
	// spot), when its runner said (ECS does).
	TaskCapacity job.Capacity `json:"taskCapacity,omitempty"`
	// Notifications are the delivery attempts of the job's notifications
	// for this run, when the host records them (the local engine does).
	Notifications []Notification `json:"notifications,omitempty"`
}

// Notification is one delivery attempt of a job's notification (job.Notify)
// for a run: its target ("webhook https://...", "sns arn:..."), when it was
// tried, how it went (delivered, retrying, gave up, not delivered locally)
// and why it did not go through.
type Notification struct {
	Target string    `json:"target"`
	At     time.Time `json:"at"`
	Status string    `json:"status"`
	Error  string    `json:"error,omitempty"`
}

// FromRun builds the contract view of a stored run.
func FromRun(r run.Run) Run {
	v := Run{
		ID: r.ID, Job: r.Job, Status: r.Status, ExitCode: r.ExitCode, Reason: r.Reason, Attempt: r.Attempt,
		Trigger: r.Trigger, CreatedAt: r.CreatedAt.UTC(), StartedAt: utc(r.StartedAt), StoppedAt: utc(r.StoppedAt),
		UpdatedAt: r.UpdatedAt.UTC(), PreviousRunID: r.PreviousRunID, NextRunID: r.NextRunID, NotBefore: utc(r.NotBefore),
		Containers: r.Containers, Env: r.Env, Command: r.Command, TaskRef: r.TaskRef, Capacity: r.Capacity,
		CostUSD: r.CostUSD, CostBasis: r.CostBasis, CostRegion: r.CostRegion, TaskCapacity: r.TaskCapacity,
	}
	if r.Cause != run.CauseNone {
		c := r.Cause
		v.Cause = &c
	}
	return v
}

func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// RunRequest starts a one-off run. It is the payload of the launcher's
// direct invoke, on AWS and locally alike.
type RunRequest struct {
	Job string `json:"job"`
	// Env adds to and overrides the job's environment.
	Env map[string]string `json:"env,omitempty"`
	// Command replaces the job's command (for a local process: extra arguments).
	Command []string `json:"command,omitempty"`
	// Key makes the request idempotent: the same key twice is one run.
	Key      string        `json:"key,omitempty"`
	Callback *run.Callback `json:"callback,omitempty"`
	// WaitSeconds asks the answer to wait, up to this long, for the run to finish.
	WaitSeconds int `json:"waitSeconds,omitempty"`
}

// RunResponse answers a RunRequest: the run (finished if the wait was long
// enough) and whether the key had already made it.
type RunResponse struct {
	Run
	Duplicate bool `json:"duplicate"`
}

// RunList is a page of runs, newest first.
type RunList struct {
	Runs []Run `json:"runs"`
	// Next continues the list; empty on the last page.
	Next string `json:"next,omitempty"`
}

// Job is a job of the catalog as the API lists it.
type Job struct {
	Name        string   `json:"name"`
	Description string   `json:"description,omitempty"`
	Triggers    []string `json:"triggers"`
	Runner      string   `json:"runner,omitempty"`
	// Concurrency is the job's policy as a job file writes it briefly
	// ("forbid", "max 2, overflow queue"); absent for allow.
	Concurrency string `json:"concurrency,omitempty"`
	// NextFire is the soonest next fire time of all the job's schedules.
	NextFire *time.Time `json:"nextFire,omitempty"`
	// Schedules are the job's schedule triggers, each read in its own
	// timezone, with its next fire time. The engine fills them.
	Schedules []Schedule `json:"schedules,omitempty"`
	// LastRun is the job's newest run (of any status); nil when the job has
	// never run. The handler fills it from Options.Runs when Options.Jobs
	// leaves it nil.
	LastRun *RunSummary `json:"lastRun,omitempty"`
	// CostUSD30d sums the cost (costUSD) of the job's finished runs created
	// in the last 30 days, over CostRuns30d runs; CostPartial is set when
	// there were more runs than were read (at most CostPages pages), the sum
	// then being a floor. CostBasis is the runs' costBasis. Absent when the
	// jobs were listed without costs.
	CostUSD30d  *float64 `json:"costUSD30d,omitempty"`
	CostRuns30d int      `json:"costRuns30d,omitempty"`
	CostPartial bool     `json:"costPartial,omitempty"`
	CostBasis   string   `json:"costBasis,omitempty"`
	// Paused: the job's schedules do not fire and its other triggers are
	// recorded as runs that did not start. PausedSince is absent when the
	// job file says paused: true.
	Paused       bool       `json:"paused,omitempty"`
	PausedReason string     `json:"pausedReason,omitempty"`
	PausedSince  *time.Time `json:"pausedSince,omitempty"`
}

// Schedule is one schedule trigger of a job.
type Schedule struct {
	// Expression is the EventBridge Scheduler expression: cron(...), rate(...) or at(...).
	Expression string `json:"expression"`
	// Timezone is the IANA zone the expression is read in ("UTC" when the job names none).
	Timezone string `json:"timezone"`
	// NextFire is the next fire time, in UTC; nil when the schedule has no more.
	NextFire *time.Time `json:"nextFire"`
}

// RunSummary is the part of a run that a list of jobs shows.
type RunSummary struct {
	ID        string     `json:"id"`
	Status    run.Status `json:"status"`
	Cause     *run.Cause `json:"cause"`
	ExitCode  *int       `json:"exitCode"`
	Reason    string     `json:"reason,omitempty"`
	Attempt   int        `json:"attempt"`
	CreatedAt time.Time  `json:"createdAt"`
	StartedAt *time.Time `json:"startedAt"`
	StoppedAt *time.Time `json:"stoppedAt"`
}

// Summary is the summary of a run.
func (r Run) Summary() RunSummary {
	return RunSummary{ID: r.ID, Status: r.Status, Cause: r.Cause, ExitCode: r.ExitCode, Reason: r.Reason,
		Attempt: r.Attempt, CreatedAt: r.CreatedAt, StartedAt: r.StartedAt, StoppedAt: r.StoppedAt}
}

// Error is the body of every error answer.
type Error struct {
	Message string `json:"error"`
}

// Header names of the logs endpoint.
const (
	// HeaderLogOffset is the offset to ask for next.
	HeaderLogOffset = "X-Longshore-Log-Offset"
	// HeaderRunDone is "true" once the run has finished: no more output will come.
	HeaderRunDone = "X-Longshore-Run-Done"
	// HeaderLogStart is the offset the answer's output starts at (the asked
	// offset, or where the last `tail` bytes begin).
	HeaderLogStart = "X-Longshore-Log-Start"
	// HeaderLogStreams, when LogStreamsCombined, says that stdout carries
	// everything the run wrote, stderr included, and stderr stays empty: a
	// deployment on AWS keeps both in one log stream. The local engine
	// keeps them apart and does not send it.
	HeaderLogStreams = "X-Longshore-Log-Streams"
)

// LogStreamsCombined is the value of HeaderLogStreams for output kept as one stream.
const LogStreamsCombined = "combined"
