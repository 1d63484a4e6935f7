package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	sqlite3 "modernc.org/sqlite/lib"

	"github.com/longshore/longshore/internal/run"
)

// CreateAll stores runs as Create stores each, in one transaction: runs due
// together (the schedules of one minute) are recorded with one commit. It
// answers for each run in order: the run stored or the one holding its key
// (created false), or the error of that run alone.
func (s *Store) CreateAll(ctx context.Context, runs []run.Run) ([]run.Run, []bool, []error) {
	out := make([]run.Run, len(runs))
	created := make([]bool, len(runs))
	errs := make([]error, len(runs))
	bodies := make([][]byte, len(runs))
	for i := range runs {
		runs[i].Revision = 1
		if bodies[i], errs[i] = json.Marshal(runs[i]); errs[i] != nil {
			errs[i] = fmt.Errorf("create run %s: %w", runs[i].ID, errs[i])
		}
	}
	err := s.exec(ctx, func(ctx context.Context, tx *sql.Tx) error {
		insert, byKey := tx.StmtContext(ctx, s.q.create), tx.StmtContext(ctx, s.q.byKeyW)
		for i, r := range runs {
			if bodies[i] == nil {
				continue
			}
			out[i], created[i], errs[i] = r, false, nil
			res, err := insert.ExecContext(ctx, r.ID, r.Key, r.Job, string(r.Status), unixNanos(r.CreatedAt), unreported(r), r.Revision, bodies[i])
			n, err := rowsAffected(res, err)
			switch {
			case sqliteCode(err) == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
				// The statement failed alone; the transaction goes on.
				out[i] = run.Run{}
				errs[i] = fmt.Errorf("create run %s: the id is taken by a run with another idempotency key", r.ID)
			case err != nil:
				return err
			case n == 1:
				created[i] = true
			default:
				got, err := get(ctx, byKey, r.Key)
				if err != nil {
					return fmt.Errorf("read the run with key %q: %w", r.Key, err)
				}
				out[i] = got
			}
		}
		return nil
	})
	for i := range runs {
		switch {
		case bodies[i] == nil:
		case err != nil:
			out[i], created[i], errs[i] = run.Run{}, false, fmt.Errorf("create run %s: %w", runs[i].ID, s.full(err))
		case created[i]:
			s.written(runs[i].ID, runs[i].Revision, bodies[i])
		}
	}
	return out, created, errs
}
