package store

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	sqlite3 "modernc.org/sqlite/lib"

	"github.com/longshore/longshore/internal/dispatch"
	"github.com/longshore/longshore/internal/run"
)

// Page sizes of List.
const (
	DefaultLimit = 50
	MaxLimit     = 1000
)

// Create implements dispatch.RunStore: it stores r with revision 1 unless a
// run with the same idempotency key exists, which it then returns with
// created=false. A run whose id is taken by a run with another key is an error.
func (s *Store) Create(ctx context.Context, r run.Run) (run.Run, bool, error) {
	r.Revision = 1
	body, err := json.Marshal(r)
	if err != nil {
		return run.Run{}, false, fmt.Errorf("create run %s: %w", r.ID, err)
	}
	var existing *run.Run
	err = s.exec(ctx, func(ctx context.Context, tx *sql.Tx) error {
		existing = nil
		res, err := tx.StmtContext(ctx, s.q.create).ExecContext(ctx,
			r.ID, r.Key, r.Job, string(r.Status), unixNanos(r.CreatedAt), unreported(r), r.Revision, body)
		n, err := rowsAffected(res, err)
		if err != nil || n == 1 {
			return err
		}
		// The key is taken. Runs are never deleted: the run holding it is
		// there to read, in this transaction.
		got, err := get(ctx, tx.StmtContext(ctx, s.q.byKeyW), r.Key)
		if err != nil {
			return fmt.Errorf("read the run with key %q: %w", r.Key, err)
		}
		existing = &got
		return nil
	})
	switch {
	case sqliteCode(err) == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
		return run.Run{}, false, fmt.Errorf("create run %s: the id is taken by a run with another idempotency key", r.ID)
	case err != nil:
		return run.Run{}, false, fmt.Errorf("create run %s: %w", r.ID, s.full(err))
	case existing != nil:
		return *existing, false, nil
	}
	s.written(r.ID, r.Revision, body)
	return r, true, nil
}

// Get implements dispatch.RunStore.
func (s *Store) Get(ctx context.Context, id string) (run.Run, error) {
	if kept, ok := s.recent.get(id); ok {
		return decode(kept.rev, kept.body)
	}
	r, err := get(ctx, s.q.byID, id)
	if err != nil {
		return run.Run{}, fmt.Errorf("get run %s: %w", id, err)
	}
	return r, nil
}

// get reads one run with a statement selecting revision and body;
// ErrNotFound when there is none.
func get(ctx context.Context, st *sql.Stmt, arg string) (run.Run, error) {
	var rev int64
	var body []byte
	err := st.QueryRowContext(ctx, arg).Scan(&rev, &body)
	if errors.Is(err, sql.ErrNoRows) {
		return run.Run{}, dispatch.ErrNotFound
	}
	if err != nil {
		return run.Run{}, err
	}
	return decode(rev, body)
}

// Update implements dispatch.RunStore: it replaces the run if its stored
// revision is still r.Revision and returns it with the next revision.
func (s *Store) Update(ctx context.Context, r run.Run) (run.Run, error) {
	from := r.Revision
	r.Revision = from + 1
	body, err := json.Marshal(r)
	if err != nil {
		return run.Run{}, fmt.Errorf("update run %s: %w", r.ID, err)
	}
	var refused error // why nothing changed
	err = s.exec(ctx, func(ctx context.Context, tx *sql.Tx) error {
		refused = nil
		// The job and the creation time do not change in the life of a
		// run: leaving them out of SET spares rewriting their index entries.
		res, err := tx.StmtContext(ctx, s.q.update).ExecContext(ctx, string(r.Status), unreported(r), r.Revision, body,
			r.ID, from, r.Key, r.Job, unixNanos(r.CreatedAt))
		if n, err := rowsAffected(res, err); err != nil || n == 1 {
			return err
		}
		// Nothing changed: say why.
		var key string
		var rev int64
		err = tx.StmtContext(ctx, s.q.headW).QueryRowContext(ctx, r.ID).Scan(&key, &rev)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			refused = dispatch.ErrNotFound
			return nil
		case err != nil:
			return err
		case rev != from:
			refused = fmt.Errorf("revision %d is stored, not %d: %w", rev, from, dispatch.ErrConflict)
			return nil
		case key != r.Key:
			refused = fmt.Errorf("the idempotency key cannot change (%q to %q)", key, r.Key)
			return nil
		}
		// The job or the creation time changed after all.
		res, err = tx.StmtContext(ctx, s.q.updateAll).ExecContext(ctx, r.Job, string(r.Status), unixNanos(r.CreatedAt), unreported(r), r.Revision, body,
			r.ID, from, r.Key)
		if n, err := rowsAffected(res, err); err != nil {
			return err
		} else if n == 0 {
			refused = dispatch.ErrConflict
		}
		return nil
	})
	if err != nil {
		return run.Run{}, fmt.Errorf("update run %s: %w", r.ID, s.full(err))
	}
	if refused != nil {
		return run.Run{}, fmt.Errorf("update run %s: %w", r.ID, refused)
	}
	s.written(r.ID, r.Revision, body)
	return r, nil
}

// rowsAffected is the count of rows an Exec changed.
func rowsAffected(res sql.Result, err error) (int64, error) {
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// List implements dispatch.RunStore: runs matching q, newest first by
// creation time then id, a page at a time (DefaultLimit, at most MaxLimit).
func (s *Store) List(ctx context.Context, q dispatch.Query) ([]run.Run, string, error) {
	query, args, limit, err := listQuery(q)
	if err != nil {
		return nil, "", fmt.Errorf("list runs: %w", err)
	}
	rows, err := s.r.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, "", fmt.Errorf("list runs: %w", err)
	}
	defer rows.Close()
	page := make([]run.Run, 0, min(limit, 64))
	var lastAt int64
	more := false
	for rows.Next() {
		if len(page) == limit {
			more = true
			break
		}
		var rev, at int64
		var body sql.RawBytes
		if err := rows.Scan(&rev, &body, &at); err != nil {
			return nil, "", fmt.Errorf("list runs: %w", err)
		}
		r, err := decode(rev, body)
		if err != nil {
			return nil, "", fmt.Errorf("list runs: %w", err)
		}
		page = append(page, r)
		lastAt = at
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("list runs: %w", err)
	}
	next := ""
	if more {
		next = encodeCursor(lastAt, page[len(page)-1].ID)
	}
	return page, next, nil
}

// listQuery is the SQL of List for q, its arguments and the page size.
func listQuery(q dispatch.Query) (string, []any, int, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = DefaultLimit
	}
	limit = min(limit, MaxLimit)

	var where []string
	var args []any
	if q.Job != "" {
		where = append(where, "job = ?")
		args = append(args, q.Job)
	}
	if len(q.Status) > 0 {
		where = append(where, "status IN (?"+strings.Repeat(", ?", len(q.Status)-1)+")")
		for _, st := range q.Status {
			args = append(args, string(st))
		}
	}
	if q.Unreported {
		where = append(where, "unreported = 1") // as in the index runs_unreported
	}
	if q.Cursor != "" {
		at, id, err := decodeCursor(q.Cursor)
		if err != nil {
			return "", nil, 0, err
		}
		where = append(where, "(created_at, id) < (?, ?)")
		args = append(args, at, id)
	}
	query := "SELECT revision, body, created_at FROM runs"
	if q.Job != "" && len(q.Status) > 0 {
		// Without statistics the planner would walk every run of the job in
		// runs_by_job to skip sorting; the statuses asked for are mostly the
		// few active ones, which runs_by_job_status finds directly.
		query += " INDEXED BY runs_by_job_status"
	}
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	// One more than the page tells whether there is a next one.
	query += " ORDER BY created_at DESC, id DESC LIMIT ?"
	args = append(args, limit+1)
	return query, args, limit, nil
}

// ErrBadCursor: a List cursor that no List returned.
var ErrBadCursor = errors.New("bad cursor")

// encodeCursor makes the opaque cursor after the run created at (Unix
// nanoseconds) with that id.
func encodeCursor(at int64, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(at, 10) + ":" + id))
}

func decodeCursor(c string) (int64, string, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return 0, "", fmt.Errorf("%w %q: not from a previous list", ErrBadCursor, c)
	}
	ns, id, ok := strings.Cut(string(b), ":")
	if !ok || id == "" {
		return 0, "", fmt.Errorf("%w %q: not from a previous list", ErrBadCursor, c)
	}
	at, err := strconv.ParseInt(ns, 10, 64)
	if err != nil {
		return 0, "", fmt.Errorf("%w %q: not from a previous list", ErrBadCursor, c)
	}
	return at, id, nil
}

// decode reads a stored run; the revision column is the authority.
func decode(rev int64, body []byte) (run.Run, error) {
	var r run.Run
	if err := json.Unmarshal(body, &r); err != nil {
		return run.Run{}, fmt.Errorf("decode stored run: %w", err)
	}
	r.Revision = rev
	return r, nil
}

// unreported is the rule of dispatch.Query.Unreported, kept in a column so
// an index can serve it.
func unreported(r run.Run) bool {
	return r.Status.Terminal() && !r.Notified && r.NextRunID == ""
}

// unixNanos is t in Unix nanoseconds, for ordering. Times outside the years
// 1678 to 2262 (the zero time among them) are clamped to the ends of int64:
// they still sort before or after every other time, then by id.
func unixNanos(t time.Time) int64 {
	switch {
	case t.Before(minTime):
		return math.MinInt64
	case t.After(maxTime):
		return math.MaxInt64
	}
	return t.UnixNano()
}

var (
	minTime = time.Unix(0, math.MinInt64)
	maxTime = time.Unix(0, math.MaxInt64)
)
