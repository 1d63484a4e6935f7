package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/longshore/longshore/internal/run"
)

// Ended selects the runs DeleteEnded deletes: those of Job (or, when Job is
// empty, of every job but NotJobs) created before Before that have ended
// before it and whose outcome has been reported, oldest first, from After on.
type Ended struct {
	Job     string
	NotJobs []string
	Before  time.Time
	After   Position
	Limit   int
}

// Position is where a DeleteEnded stopped: the creation time and id of the
// last run it looked at. The zero Position starts from the oldest run.
type Position struct {
	CreatedAt int64
	ID        string
}

// DeleteEnded deletes up to q.Limit runs q selects, with their records, in
// one short write, and returns them (their output files are the caller's
// to delete) and the position to go on from; done is true when no run
// older than q.Before is left to look at. Runs still going, or ended but
// not yet reported, are passed over and kept.
func (s *Store) DeleteEnded(ctx context.Context, q Ended) (deleted []run.Run, next Position, done bool, err error) {
	if q.Limit <= 0 {
		q.Limit = 100
	}
	before := unixNanos(q.Before)
	where := []string{"created_at < ?", "(created_at, id) > (?, ?)"}
	args := []any{before, q.After.CreatedAt, q.After.ID}
	index := "runs_by_created"
	switch {
	case q.Job != "":
		where = append(where, "job = ?")
		args = append(args, q.Job)
		index = "runs_by_job"
	case len(q.NotJobs) > 0:
		where = append(where, "job NOT IN (?"+strings.Repeat(", ?", len(q.NotJobs)-1)+")")
		for _, j := range q.NotJobs {
			args = append(args, j)
		}
	}
	args = append(args, q.Limit)
	rows, err := s.r.QueryContext(ctx, `SELECT created_at, id, revision, body, unreported FROM runs INDEXED BY `+index+`
WHERE `+strings.Join(where, " AND ")+` ORDER BY created_at, id LIMIT ?`, args...)
	if err != nil {
		return nil, q.After, false, fmt.Errorf("list ended runs: %w", err)
	}
	next = q.After
	seen := 0
	var gone []run.Run
	for rows.Next() {
		var rev int64
		var body []byte
		var pending int
		if err := rows.Scan(&next.CreatedAt, &next.ID, &rev, &body, &pending); err != nil {
			rows.Close()
			return nil, q.After, false, fmt.Errorf("list ended runs: %w", err)
		}
		seen++
		r, err := decode(rev, body)
		if err != nil || pending == 1 || !r.Status.Terminal() || !endedBefore(r, q.Before) {
			continue
		}
		gone = append(gone, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, q.After, false, fmt.Errorf("list ended runs: %w", err)
	}
	if len(gone) > 0 {
		ids := make([]any, len(gone))
		for i, r := range gone {
			ids[i] = r.ID
		}
		in := "(?" + strings.Repeat(", ?", len(ids)-1) + ")"
		err = s.exec(ctx, func(ctx context.Context, tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, `DELETE FROM records WHERE run_id IN `+in, ids...); err != nil {
				return err
			}
			// Only runs still as they were read: one changed meanwhile is
			// looked at again next time.
			_, err := tx.ExecContext(ctx, `DELETE FROM runs WHERE unreported = 0 AND id IN `+in, ids...)
			return err
		})
		if err != nil {
			return nil, q.After, false, fmt.Errorf("delete %d ended runs: %w", len(gone), s.full(err))
		}
		for _, r := range gone {
			s.recent.forget(r.ID)
		}
	}
	return gone, next, seen < q.Limit, nil
}

// endedBefore reports whether a finished run ended before t.
func endedBefore(r run.Run, t time.Time) bool {
	end := r.UpdatedAt
	if r.StoppedAt != nil && r.StoppedAt.After(end) {
		end = *r.StoppedAt
	}
	return end.Before(t)
}
