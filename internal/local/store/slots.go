package store

import (
	"context"
	"database/sql"
	"fmt"
)

// TakeSlot implements dispatch.Slots: in one write transaction, so that
// runs taking slots at once are counted one after the other.
func (s *Store) TakeSlot(ctx context.Context, key, runID string, max int) (bool, []string, error) {
	var held bool
	var holders []string
	err := s.exec(ctx, func(ctx context.Context, tx *sql.Tx) error {
		held, holders = false, nil
		ids, err := slotHolders(ctx, tx, key)
		if err != nil {
			return err
		}
		for _, id := range ids {
			if id == runID {
				held = true
				return nil
			}
		}
		if len(ids) >= max {
			holders = ids
			return nil
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO slots (key, run_id) VALUES (?, ?)`, key, runID); err != nil {
			return err
		}
		held = true
		return nil
	})
	if err != nil {
		return false, nil, fmt.Errorf("take a slot of %s for run %s: %w", key, runID, s.full(err))
	}
	return held, holders, nil
}

// FreeSlot implements dispatch.Slots.
func (s *Store) FreeSlot(ctx context.Context, key, runID string) (bool, error) {
	var freed bool
	err := s.exec(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM slots WHERE key = ? AND run_id = ?`, key, runID)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		freed = n > 0
		return err
	})
	if err != nil {
		return false, fmt.Errorf("free the slot of %s held by run %s: %w", key, runID, s.full(err))
	}
	return freed, nil
}

// SlotHolders implements dispatch.Slots.
func (s *Store) SlotHolders(ctx context.Context, key string) ([]string, error) {
	ids, err := slotHolders(ctx, s.r, key)
	if err != nil {
		return nil, fmt.Errorf("list the holders of slots %s: %w", key, err)
	}
	return ids, nil
}

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func slotHolders(ctx context.Context, q querier, key string) ([]string, error) {
	rows, err := q.QueryContext(ctx, `SELECT run_id FROM slots WHERE key = ? ORDER BY run_id`, key)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}
