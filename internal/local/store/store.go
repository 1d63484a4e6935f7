// Package store is the local host's dispatch.RunStore: runs, the marks the
// local engine keeps across restarts and the runners' records of each
// run's task, in one SQLite database file (modernc.org/sqlite, pure Go,
// through database/sql).
//
// The database is in WAL mode. Writes go through a single connection, so
// writers inside one process queue in Go instead of racing for SQLite's
// write lock, and the writes that queue together share one transaction (a
// group commit: see exec); reads go through a pool of read-only connections
// that WAL lets run beside the writer. Watch hands each run written to those
// waiting for it. busy_timeout covers the other processes that may open the
// same file (a CLI reading runs while the engine writes).
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	sqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/longshore/longshore/internal/dispatch"
)

var _ dispatch.RunStore = (*Store)(nil)

// busyTimeoutMS is how long a statement waits for a lock held by another
// process before it gives up with SQLITE_BUSY.
const busyTimeoutMS = 5000

// Store keeps runs and marks in a SQLite database.
type Store struct {
	path string
	// dir is the folder of the database file, which a full disk names.
	dir string
	// w is the only connection that writes: one open connection at most.
	w *sql.DB
	// r is a pool of read-only connections.
	r *sql.DB
	q statements
	// watch wakes those waiting for a run to be written.
	watch watchers
	// recent are the runs written last, read back without a query.
	recent recent
	// pauses are the jobs' pause states, read once and then kept as they
	// are written (every trigger reads its job's).
	pauses pauseCache
	// writes go to the committer (commitLoop) until closing is closed;
	// committerDone is closed when it has returned.
	writes        chan *write
	closing       chan struct{}
	stopCommitter sync.Once
	committerDone chan struct{}
}

// Open opens (creating if needed) the database at path, in WAL mode, and
// migrates its schema.
func Open(ctx context.Context, path string) (*Store, error) {
	abs, err := checkPath(path)
	if err != nil {
		return nil, fmt.Errorf("open run store %s: %w", path, err)
	}
	s := &Store{path: path, dir: filepath.Dir(abs)}
	// synchronous=NORMAL: in WAL mode a commit is written to the WAL but not
	// fsynced; the WAL is synced at each checkpoint. The database cannot be
	// corrupted by a crash, and an application crash loses nothing. A power
	// loss or OS crash may roll back the last commits, but it also kills the
	// processes and containers those runs tracked, and runs and marks roll
	// back together, so the engine finds a consistent earlier state and the
	// triggers fire again (every trigger is at-least-once by design). FULL
	// would add an fsync to every Create and Update of every run.
	s.w, err = sql.Open("sqlite", dsn(abs,
		"_pragma=busy_timeout("+fmt.Sprint(busyTimeoutMS)+")",
		"_pragma=journal_mode(WAL)",
		"_pragma=synchronous(NORMAL)",
		// Explicit transactions (the migration) take the write lock at
		// BEGIN, so two processes never deadlock upgrading a read lock.
		"_txlock=immediate",
	))
	if err != nil {
		return nil, fmt.Errorf("open run store %s: %w", path, err)
	}
	s.w.SetMaxOpenConns(1)
	s.w.SetMaxIdleConns(1)
	s.w.SetConnMaxLifetime(0)
	s.w.SetConnMaxIdleTime(0)
	if err := s.w.PingContext(ctx); err != nil {
		s.w.Close()
		return nil, fmt.Errorf("open run store %s: %w", path, s.full(describe(err)))
	}
	if err := s.checkWAL(ctx); err != nil {
		s.w.Close()
		return nil, fmt.Errorf("open run store %s: %w", path, s.full(err))
	}
	if err := migrate(ctx, s.w); err != nil {
		s.w.Close()
		return nil, fmt.Errorf("open run store %s: %w", path, s.full(describe(err)))
	}

	s.r, err = sql.Open("sqlite", dsn(abs,
		"_pragma=busy_timeout("+fmt.Sprint(busyTimeoutMS)+")",
		"_query_only=1",
	))
	if err != nil {
		s.w.Close()
		return nil, fmt.Errorf("open run store %s: %w", path, err)
	}
	readers := max(4, runtime.GOMAXPROCS(0))
	s.r.SetMaxOpenConns(readers)
	s.r.SetMaxIdleConns(readers)
	s.r.SetConnMaxLifetime(0)
	s.r.SetConnMaxIdleTime(0)
	if err := s.r.PingContext(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("open run store %s: %w", path, describe(err))
	}
	if err := s.prepare(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("open run store %s: %w", path, err)
	}
	s.writes, s.closing, s.committerDone = make(chan *write), make(chan struct{}), make(chan struct{})
	go s.commitLoop()
	return s, nil
}

// Close closes the database, once the writes under way are done; later
// writes fail. The last connection to close checkpoints the WAL into the
// database file.
func (s *Store) Close() error {
	if s.closing != nil {
		s.stopCommitter.Do(func() { close(s.closing) })
		<-s.committerDone
	}
	errs := []error{s.q.close()}
	if s.r != nil {
		errs = append(errs, s.r.Close())
	}
	errs = append(errs, s.w.Close())
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("close run store %s: %w", s.path, s.full(err))
	}
	return nil
}

// checkPath refuses what SQLite would fail on with a vague message, and
// returns the absolute path.
func checkPath(path string) (string, error) {
	if path == "" || path == ":memory:" || strings.HasPrefix(path, "file:") {
		return "", errors.New("the run store needs the path of a database file")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	dir := filepath.Dir(abs)
	if fi, err := os.Stat(dir); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return "", fmt.Errorf("directory %s does not exist", dir)
		}
		return "", err
	} else if !fi.IsDir() {
		return "", fmt.Errorf("%s is not a directory", dir)
	}
	if fi, err := os.Stat(abs); err == nil && fi.IsDir() {
		return "", errors.New("it is a directory, not a database file")
	}
	return abs, nil
}

// dsn is a SQLite URI for the file at abs with the driver's parameters.
// The path is escaped, so '?', '#' and '%' in it are taken literally.
func dsn(abs string, params ...string) string {
	p := filepath.ToSlash(abs)
	if !strings.HasPrefix(p, "/") {
		p = "/" + p // a Windows drive letter
	}
	u := url.URL{Scheme: "file", Path: p, RawQuery: strings.Join(params, "&")}
	return u.String()
}

// checkWAL makes sure the database is in WAL mode: without it, readers and
// the writer would block each other.
func (s *Store) checkWAL(ctx context.Context) error {
	var mode string
	if err := s.w.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return describe(err)
	}
	if !strings.EqualFold(mode, "wal") {
		return fmt.Errorf("journal mode is %s, not wal (is the file on a network file system?)", mode)
	}
	return nil
}

// describe replaces SQLite's message for a file that is not a database
// ("file is not a database (26)") with a plainer one.
func describe(err error) error {
	if sqliteCode(err)&0xff == sqlite3.SQLITE_NOTADB {
		return errors.New("the file is not a SQLite database")
	}
	return err
}

// sqliteCode is the extended result code of a SQLite error, 0 for others.
func sqliteCode(err error) int {
	var e *sqlite.Error
	if errors.As(err, &e) {
		return e.Code()
	}
	return 0
}
