package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/longshore/longshore/internal/dispatch"
)

// GetPause returns a job's runtime pause state, and false when it has none.
func (s *Store) GetPause(ctx context.Context, jobName string) (dispatch.Pause, bool, error) {
	var body string
	err := s.r.QueryRowContext(ctx, `SELECT body FROM pauses WHERE job = ?`, jobName).Scan(&body)
	if errors.Is(err, sql.ErrNoRows) {
		return dispatch.Pause{}, false, nil
	}
	if err != nil {
		return dispatch.Pause{}, false, fmt.Errorf("read pause of %s: %w", jobName, err)
	}
	var p dispatch.Pause
	if err := json.Unmarshal([]byte(body), &p); err != nil {
		return dispatch.Pause{}, false, fmt.Errorf("read pause of %s: %w", jobName, err)
	}
	return p, true, nil
}

// SetPause replaces a job's runtime pause state.
func (s *Store) SetPause(ctx context.Context, p dispatch.Pause) error {
	body, err := json.Marshal(p)
	if err != nil {
		return err
	}
	err = s.exec(ctx, func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO pauses (job, body) VALUES (?, ?)
ON CONFLICT (job) DO UPDATE SET body = excluded.body`, p.Job, string(body))
		return err
	})
	if err != nil {
		return fmt.Errorf("set pause of %s: %w", p.Job, s.full(err))
	}
	return nil
}

// ListPauses returns every job's runtime pause state.
func (s *Store) ListPauses(ctx context.Context) ([]dispatch.Pause, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT body FROM pauses ORDER BY job`)
	if err != nil {
		return nil, fmt.Errorf("list pauses: %w", err)
	}
	defer rows.Close()
	var out []dispatch.Pause
	for rows.Next() {
		var body string
		var p dispatch.Pause
		if err := rows.Scan(&body); err != nil {
			return nil, fmt.Errorf("list pauses: %w", err)
		}
		if err := json.Unmarshal([]byte(body), &p); err != nil {
			return nil, fmt.Errorf("list pauses: %w", err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}
