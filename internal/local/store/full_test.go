//go:build linux

package store

import (
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/longshore/longshore/internal/dispatch"
	"github.com/longshore/longshore/internal/run"
)

// smallDisk mounts a tmpfs of the given size (such as "2m") in a temporary
// folder and unmounts it when the test ends. Mounting needs root: without
// it the test is skipped, unless LONGSHORE_REQUIRE_ALL=1 asks for every
// test to run.
func smallDisk(t *testing.T, size string) string {
	t.Helper()
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size="+size+",mode=0700"); err != nil {
		if os.Getenv("LONGSHORE_REQUIRE_ALL") == "1" {
			t.Fatalf("mount a %s tmpfs on %s (LONGSHORE_REQUIRE_ALL=1): %v", size, dir, err)
		}
		t.Skipf("a small disk needs a tmpfs mount, which needs root (uid %d): %v", os.Getuid(), err)
	}
	// Registered before any store is opened, so it runs after they close.
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, 0); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
	return dir
}

// disk is a small filesystem that a test fills and frees.
type disk struct {
	t      *testing.T
	dir    string
	filler string
}

// fill takes every free byte of the disk with a file of its own. The
// database's write-ahead log is first checkpointed and emptied through a
// connection of the test's, so that no space it already holds is left for
// the next write.
func (d *disk) fill(db string) {
	d.t.Helper()
	if db != "" {
		c, err := sql.Open("sqlite", dsn(db))
		if err != nil {
			d.t.Fatal(err)
		}
		if _, err := c.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
			d.t.Fatalf("checkpoint before filling the disk: %v", err)
		}
		c.Close()
	}
	f, err := os.OpenFile(d.filler, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		d.t.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, 64<<10)
	for len(chunk) > 0 {
		if _, err := f.Write(chunk); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				d.t.Fatalf("fill the disk: %v", err)
			}
			chunk = chunk[:len(chunk)/2]
		}
	}
}

// free gives the disk's space back.
func (d *disk) free() {
	d.t.Helper()
	if err := os.Remove(d.filler); err != nil && !errors.Is(err, os.ErrNotExist) {
		d.t.Fatal(err)
	}
}

// integrity runs PRAGMA integrity_check on the database at path through a
// connection of its own.
func integrity(t *testing.T, path string) {
	t.Helper()
	c, err := sql.Open("sqlite", dsn(path, "_query_only=1"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var got string
	if err := c.QueryRowContext(ctx, "PRAGMA integrity_check").Scan(&got); err != nil || got != "ok" {
		t.Fatalf("integrity_check of %s = %q, %v", path, got, err)
	}
}

// saysTheDiskIsFull: the error is ErrDiskFull and its message says so,
// naming the folder of the database.
func saysTheDiskIsFull(t *testing.T, err error, dir string) {
	t.Helper()
	if err == nil {
		t.Fatal("the write succeeded on a full disk")
	}
	if !errors.Is(err, ErrDiskFull) || !strings.Contains(err.Error(), "the disk holding "+dir+" is full") {
		t.Fatalf("error %q (%T) does not say that the disk holding %s is full", err, errors.Unwrap(err), dir)
	}
}

func TestAFullDiskRefusesWritesClearlyAndRecovers(t *testing.T) {
	dir := smallDisk(t, "2m")
	d := &disk{t: t, dir: dir, filler: filepath.Join(dir, "filler")}
	path := filepath.Join(dir, "longshore.db")
	s := open(t, path)
	// A run body that needs a few pages of its own.
	big := map[string]string{"PAYLOAD": strings.Repeat("x", 24<<10)}
	first := newRun("r-0000000000000001", "k1", at)
	first.Env = big
	stored, _, err := s.Create(ctx, first)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SetMark(ctx, "schedule/nightly", at); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name string
		// write tries a write and returns what to check once it failed
		// (nothing must have changed) and once it succeeded.
		write    func() error
		refused  func(t *testing.T)
		accepted func(t *testing.T)
	}{
		{
			name: "creating a run",
			write: func() error {
				r := newRun("r-0000000000000002", "k2", at)
				r.Env = big
				_, _, err := s.Create(ctx, r)
				return err
			},
			refused: func(t *testing.T) {
				if _, err := s.Get(ctx, "r-0000000000000002"); !errors.Is(err, dispatch.ErrNotFound) {
					t.Errorf("the refused run can be read: %v", err)
				}
			},
			accepted: func(t *testing.T) {
				if r, err := s.Get(ctx, "r-0000000000000002"); err != nil || r.Env["PAYLOAD"] != big["PAYLOAD"] {
					t.Errorf("the created run reads back as %+v, %v", r.ID, err)
				}
			},
		},
		{
			name: "updating a run",
			write: func() error {
				r, err := s.Get(ctx, first.ID)
				if err != nil {
					return err
				}
				r.Status, r.Env = run.StatusStarting, map[string]string{"PAYLOAD": strings.Repeat("y", 48<<10)}
				_, err = s.Update(ctx, r)
				return err
			},
			refused: func(t *testing.T) {
				if r, err := s.Get(ctx, first.ID); err != nil || r.Revision != stored.Revision || r.Status != run.StatusQueued {
					t.Errorf("after a refused update the run is %s at revision %d, %v", r.Status, r.Revision, err)
				}
			},
			accepted: func(t *testing.T) {
				if r, err := s.Get(ctx, first.ID); err != nil || r.Revision != stored.Revision+1 || r.Status != run.StatusStarting {
					t.Errorf("after the update the run is %s at revision %d, %v", r.Status, r.Revision, err)
				}
			},
		},
		{
			name:  "setting a mark",
			write: func() error { return s.SetMark(ctx, "schedule/nightly", at.Add(24*60*60e9)) },
			refused: func(t *testing.T) {
				if got, ok, err := s.Mark(ctx, "schedule/nightly"); err != nil || !ok || !got.Equal(at) {
					t.Errorf("after a refused mark it reads %s, %v, %v", got, ok, err)
				}
			},
			accepted: func(t *testing.T) {
				if got, _, err := s.Mark(ctx, "schedule/nightly"); err != nil || !got.Equal(at.Add(24*60*60e9)) {
					t.Errorf("the mark reads %s, %v", got, err)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name+" on a full disk fails saying so, changes nothing, and works once space is freed", func(t *testing.T) {
			d.fill(path)
			saysTheDiskIsFull(t, tt.write(), dir)
			tt.refused(t)
			if runs, _, err := s.List(ctx, dispatch.Query{}); err != nil || len(runs) == 0 {
				t.Errorf("runs cannot be listed on a full disk: %d, %v", len(runs), err)
			}
			integrity(t, path)

			d.free()
			if err := tt.write(); err != nil {
				t.Fatalf("with space again: %v", err)
			}
			tt.accepted(t)
			integrity(t, path)
		})
	}

	t.Run("a store opened on a full disk says so", func(t *testing.T) {
		d.fill("")
		t.Cleanup(d.free)
		other := filepath.Join(dir, "other.db")
		s2, err := Open(ctx, other)
		if err == nil {
			s2.Close()
			t.Fatal("Open succeeded on a full disk")
		}
		saysTheDiskIsFull(t, err, dir)
		d.free()
		s2, err = Open(ctx, other)
		if err != nil {
			t.Fatalf("with space again, Open = %v", err)
		}
		s2.Close()
		integrity(t, other)
	})

	t.Run("the database reopens whole after all of it", func(t *testing.T) {
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		integrity(t, path)
		again := open(t, path)
		runs, _, err := again.List(ctx, dispatch.Query{})
		if err != nil || len(runs) != 2 {
			t.Fatalf("after reopening: %d run(s), %v", len(runs), err)
		}
	})
}

func TestRunsWrittenUntilTheDiskIsFullAreAllKept(t *testing.T) {
	dir := smallDisk(t, "2m")
	d := &disk{t: t, dir: dir, filler: filepath.Join(dir, "other-files")}
	if err := os.WriteFile(d.filler, make([]byte, 768<<10), 0o600); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "longshore.db")
	s := open(t, path)
	body := map[string]string{"PAYLOAD": strings.Repeat("z", 8<<10)}
	create := func(i int) error {
		r := newRun(fmt.Sprintf("r-%016x", i), fmt.Sprintf("k%d", i), at.Add(time.Duration(i)*time.Second))
		r.Env = body
		_, _, err := s.Create(ctx, r)
		return err
	}
	kept := 0
	var err error
	for ; kept < 10000; kept++ {
		if err = create(kept); err != nil {
			break
		}
	}
	saysTheDiskIsFull(t, err, dir)
	count := func(want int) {
		t.Helper()
		n := 0
		q := dispatch.Query{Limit: MaxLimit}
		for {
			page, next, err := s.List(ctx, q)
			if err != nil {
				t.Fatalf("list runs: %v", err)
			}
			for _, r := range page {
				if r.Env["PAYLOAD"] != body["PAYLOAD"] {
					t.Fatalf("run %s reads back without its body", r.ID)
				}
			}
			n += len(page)
			if next == "" {
				break
			}
			q.Cursor = next
		}
		if n != want {
			t.Fatalf("%d run(s) stored, want the %d acknowledged", n, want)
		}
	}
	count(kept)
	integrity(t, path)

	// Closing checkpoints the log into the database file, which cannot
	// grow now: the log is kept for the next open.
	if err := s.Close(); err != nil && !errors.Is(err, ErrDiskFull) {
		t.Fatalf("close on a full disk: %v", err)
	}
	integrity(t, path)
	if s, err = Open(ctx, path); err != nil {
		saysTheDiskIsFull(t, err, dir)
	} else {
		count(kept)
		s.Close()
	}

	d.free()
	s = open(t, path)
	count(kept)
	for i := kept; i < kept+10; i++ {
		if err := create(i); err != nil {
			t.Fatalf("with space again, create run %d: %v", i, err)
		}
	}
	count(kept + 10)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	integrity(t, path)
	s = open(t, path)
	count(kept + 10)
	t.Logf("%d run(s) of %d KiB filled the disk", kept, len(body["PAYLOAD"])>>10)
}
