package store

import (
	"context"
	"database/sql"
	"fmt"
)

// migrations are the steps from one schema version to the next:
// migrations[i] takes a database at version i (PRAGMA user_version) to
// version i+1. Append new steps; never change a released one.
var migrations = []string{
	// 1: runs and marks.
	`
CREATE TABLE runs (
	id         TEXT    NOT NULL PRIMARY KEY,
	key        TEXT    NOT NULL UNIQUE,  -- the idempotency key
	job        TEXT    NOT NULL,
	status     TEXT    NOT NULL,
	created_at INTEGER NOT NULL,          -- Unix nanoseconds
	unreported INTEGER NOT NULL,         -- 1: terminal, not notified, no next attempt
	revision   INTEGER NOT NULL,
	body       TEXT    NOT NULL          -- the whole run.Run as JSON
);
CREATE INDEX runs_by_job_status ON runs (job, status, created_at, id);
CREATE INDEX runs_by_status     ON runs (status, created_at, id);
CREATE INDEX runs_by_job        ON runs (job, created_at, id);
CREATE INDEX runs_by_created    ON runs (created_at, id);
CREATE INDEX runs_unreported    ON runs (created_at, id) WHERE unreported = 1;

CREATE TABLE marks (
	name TEXT    NOT NULL PRIMARY KEY,
	at   INTEGER NOT NULL                -- Unix nanoseconds
) WITHOUT ROWID;
`,
	// 2: the runners' records of each run's task.
	`
CREATE TABLE records (
	run_id TEXT NOT NULL,
	name   TEXT NOT NULL,                -- e.g. task.json, exit.json
	body   BLOB NOT NULL,
	PRIMARY KEY (run_id, name)
) WITHOUT ROWID;
`,
	// 3: the jobs paused or resumed at runtime (longshore pause, resume).
	`
CREATE TABLE pauses (
	job  TEXT NOT NULL PRIMARY KEY,
	body TEXT NOT NULL                   -- the whole dispatch.Pause as JSON
) WITHOUT ROWID;
`,
	// 4: the slots of jobs with a concurrency bound and of the engine's
	// --max-running: the runs holding one.
	`
CREATE TABLE slots (
	key    TEXT NOT NULL,                -- job#<name>, or deployment
	run_id TEXT NOT NULL,
	PRIMARY KEY (key, run_id)
) WITHOUT ROWID;
`,
}

// migrate brings the schema to the latest version in one transaction. It
// refuses a database written by a newer Longshore.
func migrate(ctx context.Context, db *sql.DB) error {
	tx, err := db.BeginTx(ctx, nil) // BEGIN IMMEDIATE: see _txlock
	if err != nil {
		return fmt.Errorf("migrate schema: %w", err)
	}
	defer tx.Rollback()
	var version int
	if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return fmt.Errorf("migrate schema: %w", err)
	}
	if version > len(migrations) {
		return fmt.Errorf("migrate schema: the database is at schema version %d, newer than this Longshore knows (%d)",
			version, len(migrations))
	}
	if version == len(migrations) {
		return nil
	}
	for v := version; v < len(migrations); v++ {
		if _, err := tx.ExecContext(ctx, migrations[v]); err != nil {
			return fmt.Errorf("migrate schema to version %d: %w", v+1, err)
		}
	}
	// PRAGMA takes no parameters; the value is an integer we made.
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", len(migrations))); err != nil {
		return fmt.Errorf("migrate schema: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migrate schema: %w", err)
	}
	return nil
}
