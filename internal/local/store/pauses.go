package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/longshore/longshore/internal/dispatch"
)

// pauseCache keeps every job's pause state in memory once read: the
// engine's data folder is locked to one engine, which is the only writer.
type pauseCache struct {
	mu     sync.Mutex
	loaded bool
	m      map[string]dispatch.Pause
}

// GetPause returns a job's runtime pause state, and false when it has none.
func (s *Store) GetPause(ctx context.Context, jobName string) (dispatch.Pause, bool, error) {
	c := &s.pauses
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.loaded {
		all, err := s.ListPauses(ctx)
		if err != nil {
			return dispatch.Pause{}, false, err
		}
		c.m = make(map[string]dispatch.Pause, len(all))
		for _, p := range all {
			c.m[p.Job] = p
		}
		c.loaded = true
	}
	p, ok := c.m[jobName]
	return p, ok, nil
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
	c := &s.pauses
	c.mu.Lock()
	if c.loaded {
		c.m[p.Job] = p
	}
	c.mu.Unlock()
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
