package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Mark returns the time stored under name, in UTC, and false when there is
// none. The local engine keeps, for example, the last time each schedule
// fired.
func (s *Store) Mark(ctx context.Context, name string) (time.Time, bool, error) {
	var ns int64
	err := s.q.mark.QueryRowContext(ctx, name).Scan(&ns)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, fmt.Errorf("read mark %s: %w", name, err)
	}
	return time.Unix(0, ns).UTC(), true, nil
}

// SetMark stores t under name, replacing what was there, to the
// nanosecond. t must lie between the years 1678 and 2262.
func (s *Store) SetMark(ctx context.Context, name string, t time.Time) error {
	if t.Before(minTime) || t.After(maxTime) {
		return fmt.Errorf("set mark %s: %s is out of range (1678 to 2262)", name, t)
	}
	err := s.exec(ctx, func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.StmtContext(ctx, s.q.setMark).ExecContext(ctx, name, t.UnixNano())
		return err
	})
	if err != nil {
		return fmt.Errorf("set mark %s: %w", name, s.full(err))
	}
	return nil
}
