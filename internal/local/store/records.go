package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// Record returns the record name of the run runID, and false when there is
// none. The local runners keep their records of each run's task here
// (its start, its end): a record costs a row, not a file.
func (s *Store) Record(ctx context.Context, runID, name string) ([]byte, bool, error) {
	var body []byte
	err := s.q.record.QueryRowContext(ctx, runID, name).Scan(&body)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("read record %s of run %s: %w", name, runID, err)
	}
	return body, true, nil
}

// SetRecord stores body as the record name of the run runID, replacing
// what was there. Once it returns, the record outlives a crash of the
// engine (see Open on synchronous=NORMAL).
func (s *Store) SetRecord(ctx context.Context, runID, name string, body []byte) error {
	err := s.exec(ctx, func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.StmtContext(ctx, s.q.setRecord).ExecContext(ctx, runID, name, body)
		return err
	})
	if err != nil {
		return fmt.Errorf("set record %s of run %s: %w", name, runID, s.full(err))
	}
	return nil
}
