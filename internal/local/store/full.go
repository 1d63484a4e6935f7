package store

import (
	"errors"
	"syscall"

	sqlite3 "modernc.org/sqlite/lib"
)

// ErrDiskFull is wrapped by the errors of writes refused because the disk
// holding the database has no space left. Such a write changed nothing:
// SQLite rolled it back, and the database is whole. Once space is freed,
// the same store writes again.
var ErrDiskFull = errors.New("disk full")

// diskFullError says which disk is full, and wraps both ErrDiskFull and
// SQLite's own error.
type diskFullError struct {
	dir string
	err error
}

func (e *diskFullError) Error() string {
	return "the disk holding " + e.dir + " is full: free some space there, then try again (" + e.err.Error() + ")"
}

func (e *diskFullError) Unwrap() []error { return []error{ErrDiskFull, e.err} }

// noSpace returns err as a diskFullError naming dir when it comes from a
// disk without space: SQLITE_FULL (SQLite's word for ENOSPC), ENOSPC
// itself, or an I/O error on a disk that has no free block left (growing
// the WAL index on a full disk fails as SQLITE_IOERR_SHMSIZE). Other
// errors are returned as they are.
func noSpace(dir string, err error) error {
	if err == nil {
		return nil
	}
	var already *diskFullError
	if errors.As(err, &already) {
		return err
	}
	code := sqliteCode(err) & 0xff
	if code == sqlite3.SQLITE_FULL || errors.Is(err, syscall.ENOSPC) || (code == sqlite3.SQLITE_IOERR && noFreeBlocks(dir)) {
		return &diskFullError{dir: dir, err: err}
	}
	return err
}

// full is noSpace for this store's folder.
func (s *Store) full(err error) error { return noSpace(s.dir, err) }
