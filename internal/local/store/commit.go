package store

import (
	"context"
	"database/sql"
	"errors"

	sqlite3 "modernc.org/sqlite/lib"
)

// maxGroup bounds how many writes share one transaction.
const maxGroup = 64

// errClosed: a write after Close.
var errClosed = errors.New("the run store is closed")

// A write is one change of the store: its statements, run in a
// transaction that it may share with the writes queued beside it. Once
// started, a write is not interrupted by the end of its context.
type write struct {
	ctx  context.Context
	do   func(ctx context.Context, tx *sql.Tx) error
	done chan error
}

// exec runs do in a write transaction and returns once it is committed
// (or failed). Writes queue for the one writing connection: those that
// queue while a transaction commits go together in the next one (a group
// commit), so that concurrent writers share the cost of a commit (a WAL
// frame per changed page, written once however many runs changed on it).
// do may run twice: alone, again, when a write beside it failed in a way
// that may have rolled the shared transaction back.
func (s *Store) exec(ctx context.Context, do func(ctx context.Context, tx *sql.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	w := &write{ctx: ctx, do: do, done: make(chan error, 1)}
	select {
	case s.writes <- w:
	case <-s.closing:
		return errClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	return <-w.done // taken: it is answered, committed or not
}

// commitLoop runs the queued writes, a group at a time, until Close.
func (s *Store) commitLoop() {
	defer close(s.committerDone)
	group := make([]*write, 0, maxGroup)
	for {
		select {
		case w := <-s.writes:
			group = append(group[:0], w)
		case <-s.closing:
			return
		}
	more:
		for len(group) < maxGroup {
			select {
			case w := <-s.writes:
				group = append(group, w)
			default:
				break more
			}
		}
		s.commitGroup(group)
	}
}

// commitGroup runs a group of writes in one transaction. A write that
// fails on a constraint changed nothing (SQLite undoes the statement) and
// fails alone; after any other failure, which may roll the transaction
// back, the group is rolled back and each write is run on its own.
func (s *Store) commitGroup(group []*write) {
	if len(group) == 1 {
		group[0].done <- s.commitOne(group[0])
		return
	}
	errs := make([]error, len(group))
	tx, err := s.w.BeginTx(context.Background(), nil)
	if err != nil {
		for _, w := range group {
			w.done <- err
		}
		return
	}
	for i, w := range group {
		if err := w.ctx.Err(); err != nil {
			errs[i] = err // never run
			continue
		}
		errs[i] = w.do(context.WithoutCancel(w.ctx), tx)
		if errs[i] != nil && sqliteCode(errs[i])&0xff != sqlite3.SQLITE_CONSTRAINT {
			_ = tx.Rollback()
			for _, w := range group {
				w.done <- s.commitOne(w)
			}
			return
		}
	}
	if err := tx.Commit(); err != nil {
		for _, w := range group {
			w.done <- err
		}
		return
	}
	for i, w := range group {
		w.done <- errs[i]
	}
}

// commitOne runs one write in a transaction of its own.
func (s *Store) commitOne(w *write) error {
	if err := w.ctx.Err(); err != nil {
		return err
	}
	tx, err := s.w.BeginTx(context.Background(), nil)
	if err != nil {
		return err
	}
	if err := w.do(context.WithoutCancel(w.ctx), tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}
