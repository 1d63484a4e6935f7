package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// statements are the fixed queries of the store, prepared once per
// connection: parsing SQL is a good part of the cost of a small statement.
type statements struct {
	// On the writer.
	create    *sql.Stmt
	update    *sql.Stmt
	updateAll *sql.Stmt
	setMark   *sql.Stmt
	setRecord *sql.Stmt
	byKeyW    *sql.Stmt // byKey and head, inside a write transaction
	headW     *sql.Stmt
	// On the readers.
	byID   *sql.Stmt
	mark   *sql.Stmt
	record *sql.Stmt
}

func (s *Store) prepare(ctx context.Context) error {
	for _, p := range []struct {
		st    **sql.Stmt
		db    *sql.DB
		query string
	}{
		{&s.q.create, s.w, `
INSERT INTO runs (id, key, job, status, created_at, unreported, revision, body)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (key) DO NOTHING`},
		{&s.q.update, s.w, `
UPDATE runs SET status = ?, unreported = ?, revision = ?, body = ?
WHERE id = ? AND revision = ? AND key = ? AND job = ? AND created_at = ?`},
		{&s.q.updateAll, s.w, `
UPDATE runs SET job = ?, status = ?, created_at = ?, unreported = ?, revision = ?, body = ?
WHERE id = ? AND revision = ? AND key = ?`},
		{&s.q.setMark, s.w, `
INSERT INTO marks (name, at) VALUES (?, ?)
ON CONFLICT (name) DO UPDATE SET at = excluded.at`},
		{&s.q.setRecord, s.w, `
INSERT INTO records (run_id, name, body) VALUES (?, ?, ?)
ON CONFLICT (run_id, name) DO UPDATE SET body = excluded.body`},
		{&s.q.byKeyW, s.w, `SELECT revision, body FROM runs WHERE key = ?`},
		{&s.q.headW, s.w, `SELECT key, revision FROM runs WHERE id = ?`},
		{&s.q.byID, s.r, `SELECT revision, body FROM runs WHERE id = ?`},
		{&s.q.mark, s.r, `SELECT at FROM marks WHERE name = ?`},
		{&s.q.record, s.r, `SELECT body FROM records WHERE run_id = ? AND name = ?`},
	} {
		st, err := p.db.PrepareContext(ctx, p.query)
		if err != nil {
			return fmt.Errorf("prepare %q: %w", p.query, err)
		}
		*p.st = st
	}
	return nil
}

func (q *statements) close() error {
	var errs []error
	for _, st := range []*sql.Stmt{q.create, q.update, q.updateAll, q.setMark, q.setRecord, q.byKeyW, q.headW, q.byID, q.mark, q.record} {
		if st != nil {
			errs = append(errs, st.Close())
		}
	}
	return errors.Join(errs...)
}
