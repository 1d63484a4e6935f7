package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/longshore/longshore/internal/dispatch"
	"github.com/longshore/longshore/internal/dispatch/storetest"
	"github.com/longshore/longshore/internal/run"
)

var ctx = context.Background()

// at is the fixed time the runs of these tests are created at.
var at = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

func open(t testing.TB, path string) *Store {
	t.Helper()
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func newStore(t testing.TB) *Store {
	t.Helper()
	return open(t, filepath.Join(t.TempDir(), "longshore.db"))
}

// newRun is a queued run of job hello with the given id, key and creation time.
func newRun(id, key string, created time.Time) run.Run {
	return run.Run{ID: id, Job: "hello", Key: key, Attempt: 1, Status: run.StatusQueued,
		Trigger: run.Trigger{Kind: run.TriggerInvoke}, CreatedAt: created, UpdatedAt: created}
}

func asJSON(t testing.TB, r run.Run) string {
	t.Helper()
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) dispatch.RunStore { return newStore(t) })
}

func TestSlotsContract(t *testing.T) {
	storetest.RunSlots(t, func(t *testing.T) dispatch.Slots { return newStore(t) })
}

func TestReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "longshore.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	code := 0
	r, _, err := s.Create(ctx, newRun("r-0000000000000001", "k1", at))
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	r.Status, r.ExitCode, r.Reason = run.StatusSucceeded, &code, "exited with code 0"
	r.StartedAt, r.StoppedAt = &at, &at
	want, err := s.Update(ctx, r)
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	fired := time.Date(2026, 11, 22, 9, 59, 0, 123456789, time.UTC)
	if err := s.SetMark(ctx, "schedule/hello", fired); err != nil {
		t.Fatalf("SetMark: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	s = open(t, path)
	got, err := s.Get(ctx, want.ID)
	if err != nil {
		t.Fatalf("Get after reopening: %v", err)
	}
	if a, b := asJSON(t, got), asJSON(t, want); a != b {
		t.Errorf("after reopening read\n%s\nwant\n%s", a, b)
	}
	page, _, err := s.List(ctx, dispatch.Query{Unreported: true})
	if err != nil || len(page) != 1 || page[0].ID != want.ID {
		t.Errorf("unreported after reopening = %v, %v; want [%s]", page, err, want.ID)
	}
	mark, ok, err := s.Mark(ctx, "schedule/hello")
	if err != nil || !ok || !mark.Equal(fired) {
		t.Errorf("mark after reopening = %v, %v, %v; want %v", mark, ok, err, fired)
	}
	// The next update still goes from the stored revision.
	got.Reason = "again"
	if _, err := s.Update(ctx, got); err != nil {
		t.Errorf("Update after reopening: %v", err)
	}
}

func TestMarks(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		paris = time.FixedZone("CET", 3600)
	}
	tests := []struct {
		name string
		set  []time.Time // SetMark calls in order; none leaves the mark unknown
		want time.Time
	}{
		{name: "an unknown mark is not there"},
		{name: "a mark reads back what was set",
			set: []time.Time{at}, want: at},
		{name: "a second set overwrites the first",
			set: []time.Time{at, at.Add(time.Hour)}, want: at.Add(time.Hour)},
		{name: "a mark may move back in time",
			set: []time.Time{at, at.Add(-time.Hour)}, want: at.Add(-time.Hour)},
		{name: "nanoseconds survive",
			set:  []time.Time{time.Date(2026, 1, 2, 3, 4, 5, 999999999, time.UTC)},
			want: time.Date(2026, 1, 2, 3, 4, 5, 999999999, time.UTC)},
		{name: "a time in another zone reads back as the same instant in UTC",
			set:  []time.Time{time.Date(2026, 7, 1, 12, 0, 0, 1, paris)},
			want: time.Date(2026, 7, 1, 12, 0, 0, 1, paris).UTC()},
		{name: "a time before 1970 survives",
			set:  []time.Time{time.Date(1969, 12, 31, 23, 59, 59, 5, time.UTC)},
			want: time.Date(1969, 12, 31, 23, 59, 59, 5, time.UTC)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStore(t)
			for _, v := range tt.set {
				if err := s.SetMark(ctx, "schedule/hello", v); err != nil {
					t.Fatalf("SetMark(%v): %v", v, err)
				}
			}
			got, ok, err := s.Mark(ctx, "schedule/hello")
			if err != nil {
				t.Fatalf("Mark: %v", err)
			}
			if ok != (len(tt.set) > 0) {
				t.Fatalf("Mark found = %v after %d sets", ok, len(tt.set))
			}
			if got != tt.want { // == : the same instant, location and no monotonic reading
				t.Errorf("Mark = %v (%v), want %v", got, got.Location(), tt.want)
			}
			if other, ok, _ := s.Mark(ctx, "schedule/other"); ok {
				t.Errorf("another name reads %v", other)
			}
		})
	}
}

func TestSetMarkOutOfRangeIsRefused(t *testing.T) {
	s := newStore(t)
	for _, v := range []time.Time{{}, time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC)} {
		if err := s.SetMark(ctx, "m", v); err == nil || !strings.Contains(err.Error(), "set mark m") {
			t.Errorf("SetMark(%v) = %v, want an error naming the mark", v, err)
		}
	}
}

func TestListCursor(t *testing.T) {
	s := newStore(t)
	for i := range 3 {
		if _, _, err := s.Create(ctx, newRun(fmt.Sprintf("r-%016x", i+1), fmt.Sprint("k", i), at)); err != nil {
			t.Fatal(err)
		}
	}
	_, good, err := s.List(ctx, dispatch.Query{Limit: 1})
	if err != nil || good == "" {
		t.Fatalf("List = %q, %v; want a cursor", good, err)
	}
	tests := []struct {
		name   string
		cursor string
	}{
		{"garbage is refused", "not a cursor!"},
		{"a cursor of the fake store is refused", "1795428000000000000/r-0000000000000001"},
		{"base64 of no separator is refused", "MTIz"},                // "123"
		{"base64 of a time that is not a number is refused", "eDpy"}, // "x:r"
		{"base64 of an empty id is refused", "MTI6"},                 // "12:"
		{"a cut cursor is refused", good[:len(good)-1] + "*"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			page, next, err := s.List(ctx, dispatch.Query{Cursor: tt.cursor})
			if !errors.Is(err, ErrBadCursor) {
				t.Fatalf("List = %d runs, %q, %v; want ErrBadCursor", len(page), next, err)
			}
			if !strings.Contains(err.Error(), "list runs: bad cursor") {
				t.Errorf("error %q does not say what is wrong", err)
			}
		})
	}
}

func TestListLimits(t *testing.T) {
	s := newStore(t)
	for i := range DefaultLimit + 1 {
		r := newRun(fmt.Sprintf("r-%016x", i+1), fmt.Sprint("k", i), at.Add(time.Duration(i)*time.Second))
		if _, _, err := s.Create(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name     string
		limit    int
		want     int
		wantNext bool
	}{
		{"no limit gives the default page", 0, DefaultLimit, true},
		{"a negative limit gives the default page", -1, DefaultLimit, true},
		{"a limit above the runs gives them all and no cursor", 100, DefaultLimit + 1, false},
		{"a limit of exactly the runs gives no cursor", DefaultLimit + 1, DefaultLimit + 1, false},
		{"a limit past the maximum is the maximum", MaxLimit + 1, DefaultLimit + 1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			page, next, err := s.List(ctx, dispatch.Query{Limit: tt.limit})
			if err != nil {
				t.Fatal(err)
			}
			if len(page) != tt.want || (next != "") != tt.wantNext {
				t.Errorf("List = %d runs, next %q; want %d runs, a next cursor %v", len(page), next, tt.want, tt.wantNext)
			}
		})
	}
}

func TestCreateRefuses(t *testing.T) {
	s := newStore(t)
	first, _, err := s.Create(ctx, newRun("r-0000000000000001", "k1", at))
	if err != nil {
		t.Fatal(err)
	}

	got, created, err := s.Create(ctx, newRun("r-0000000000000001", "k1", at.Add(time.Second)))
	if err != nil || created || got.ID != first.ID || !got.CreatedAt.Equal(at) {
		t.Errorf("the same run again = %v, %v, %v; want the first, not created", got.ID, created, err)
	}

	_, created, err = s.Create(ctx, newRun("r-0000000000000001", "k2", at))
	if err == nil || created || !strings.Contains(err.Error(), "create run r-0000000000000001: the id is taken") {
		t.Errorf("a taken id with another key = %v, %v; want an error", created, err)
	}
	if page, _, err := s.List(ctx, dispatch.Query{}); err != nil || len(page) != 1 {
		t.Errorf("%d runs stored (%v), want 1", len(page), err)
	}
}

func TestUpdateRefuses(t *testing.T) {
	tests := []struct {
		name   string
		change func(r *run.Run)
		is     error // nil: an error that is neither ErrConflict nor ErrNotFound
		says   string
	}{
		{"a change of key is refused", func(r *run.Run) { r.Key = "other" }, nil, "the idempotency key cannot change"},
		{"an unknown run is not found", func(r *run.Run) { r.ID = "r-00000000000000ff" }, dispatch.ErrNotFound, "update run r-00000000000000ff"},
		{"a revision from the future conflicts", func(r *run.Run) { r.Revision += 5 }, dispatch.ErrConflict, "revision 1 is stored, not 6"},
		{"a revision from the past conflicts", func(r *run.Run) { r.Revision = 0 }, dispatch.ErrConflict, "revision 1 is stored, not 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStore(t)
			r, _, err := s.Create(ctx, newRun("r-0000000000000001", "k1", at))
			if err != nil {
				t.Fatal(err)
			}
			u := r
			u.Status = run.StatusRunning
			tt.change(&u)
			_, err = s.Update(ctx, u)
			switch {
			case err == nil:
				t.Fatal("Update succeeded")
			case tt.is != nil && !errors.Is(err, tt.is):
				t.Errorf("Update = %v, want %v", err, tt.is)
			case tt.is == nil && (errors.Is(err, dispatch.ErrConflict) || errors.Is(err, dispatch.ErrNotFound)):
				t.Errorf("Update = %v, want neither a conflict nor not found", err)
			}
			if err != nil && !strings.Contains(err.Error(), tt.says) {
				t.Errorf("error %q does not say %q", err, tt.says)
			}
			if got, _ := s.Get(ctx, r.ID); got.Status != run.StatusQueued || got.Revision != r.Revision {
				t.Errorf("stored run changed to %s rev %d", got.Status, got.Revision)
			}
		})
	}
}

func TestUpdateOfTheJobOrCreationTimeIsStoredAndListed(t *testing.T) {
	s := newStore(t)
	r, _, err := s.Create(ctx, newRun("r-0000000000000001", "k1", at))
	if err != nil {
		t.Fatal(err)
	}
	r.Job, r.CreatedAt = "renamed", at.Add(time.Hour)
	up, err := s.Update(ctx, r)
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	if up.Revision != r.Revision+1 {
		t.Errorf("revision %d after update from %d", up.Revision, r.Revision)
	}
	page, _, err := s.List(ctx, dispatch.Query{Job: "renamed"})
	if err != nil || len(page) != 1 || !page[0].CreatedAt.Equal(r.CreatedAt) || page[0].Revision != up.Revision {
		t.Errorf("List of the new job = %v, %v", page, err)
	}
	if page, _, _ := s.List(ctx, dispatch.Query{Job: "hello"}); len(page) != 0 {
		t.Errorf("the old job still lists %d runs", len(page))
	}
	stale := r
	stale.Job = "again"
	if _, err := s.Update(ctx, stale); !errors.Is(err, dispatch.ErrConflict) {
		t.Errorf("a stale update changing the job = %v, want ErrConflict", err)
	}
}

func TestOpen(t *testing.T) {
	dir := t.TempDir()
	notDB := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(notDB, []byte(strings.Repeat("these are not the pages of a database\n", 200)), 0o600); err != nil {
		t.Fatal(err)
	}
	newer := filepath.Join(dir, "newer.db")
	s := open(t, newer)
	if _, err := s.w.ExecContext(ctx, "PRAGMA user_version = 99"); err != nil {
		t.Fatal(err)
	}
	s.Close()

	tests := []struct {
		name string
		path string
		says string
	}{
		{"a file that is not a database is refused", notDB, "not a SQLite database"},
		{"a directory that does not exist is refused", filepath.Join(dir, "missing", "longshore.db"), "does not exist"},
		{"a directory is refused", dir, "is a directory"},
		{"an in-memory database is refused", ":memory:", "needs the path of a database file"},
		{"a schema newer than this code is refused", newer, "schema version 99, newer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Open(ctx, tt.path)
			if err == nil {
				s.Close()
				t.Fatal("Open succeeded")
			}
			if !strings.HasPrefix(err.Error(), "open run store "+tt.path+": ") || !strings.Contains(err.Error(), tt.says) {
				t.Errorf("Open = %q, want the path and %q", err, tt.says)
			}
		})
	}
	if b, _ := os.ReadFile(notDB); !strings.HasPrefix(string(b), "these are not") {
		t.Error("Open changed the file that is not a database")
	}
}

func TestOpenAtAPathNeedingEscapes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a dir?x=1#%20", "runs.db")
	if err := os.Mkdir(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	s := open(t, path)
	if _, _, err := s.Create(ctx, newRun("r-0000000000000001", "k1", at)); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Errorf("the database is not where asked: %v", err)
	}
}

func TestPragmas(t *testing.T) {
	s := newStore(t)
	tests := []struct {
		name   string
		db     string
		pragma string
		want   string
	}{
		{"the file is in WAL mode", "read", "journal_mode", "wal"},
		{"the writer waits for locks", "write", "busy_timeout", "5000"},
		{"readers wait for locks", "read", "busy_timeout", "5000"},
		{"the writer syncs at checkpoints (NORMAL)", "write", "synchronous", "1"},
		{"readers cannot write", "read", "query_only", "1"},
		{"the schema is at the latest version", "read", "user_version", fmt.Sprint(len(migrations))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := s.r
			if tt.db == "write" {
				db = s.w
			}
			var got string
			if err := db.QueryRowContext(ctx, "PRAGMA "+tt.pragma).Scan(&got); err != nil {
				t.Fatal(err)
			}
			if !strings.EqualFold(got, tt.want) {
				t.Errorf("PRAGMA %s = %s, want %s", tt.pragma, got, tt.want)
			}
		})
	}
}

func TestListUsesAnIndex(t *testing.T) {
	s := newStore(t)
	active := []run.Status{run.StatusQueued, run.StatusStarting, run.StatusRunning}
	tests := []struct {
		name  string
		q     dispatch.Query
		index string
	}{
		{"all runs", dispatch.Query{}, "runs_by_created"},
		{"the runs of a job", dispatch.Query{Job: "hello"}, "runs_by_job"},
		{"the active runs", dispatch.Query{Status: active}, "runs_by_status"},
		{"the active runs of a job", dispatch.Query{Job: "hello", Status: active}, "runs_by_job_status"},
		{"the unreported runs", dispatch.Query{Unreported: true}, "runs_unreported"},
		{"the next page of active runs", dispatch.Query{Status: active, Cursor: encodeCursor(1, "r-1")}, "runs_by_status"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plan := s.explain(t, tt.q)
			if !strings.Contains(plan, "USING INDEX "+tt.index+" ") && !strings.Contains(plan, "USING INDEX "+tt.index+"\n") {
				t.Errorf("plan does not use %s:\n%s", tt.index, plan)
			}
		})
	}
}

// explain returns the query plan of the List query for q.
func (s *Store) explain(t *testing.T, q dispatch.Query) string {
	t.Helper()
	query, args, _, err := listQuery(q)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := s.r.QueryContext(ctx, "EXPLAIN QUERY PLAN "+query, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan strings.Builder
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan.WriteString(detail + "\n")
	}
	return plan.String()
}

func TestTwoStoresOnOneFileDoNotSeeBusy(t *testing.T) {
	path := filepath.Join(t.TempDir(), "longshore.db")
	stores := []*Store{open(t, path), open(t, path)}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := stores[g%2]
			for i := range 25 {
				r, _, err := s.Create(ctx, newRun(fmt.Sprintf("r-%02d%014x", g, i), fmt.Sprint(g, "/", i), at))
				if err != nil {
					t.Errorf("Create: %v", err)
					return
				}
				r.Status = run.StatusStarting
				if _, err := s.Update(ctx, r); err != nil {
					t.Errorf("Update: %v", err)
					return
				}
				if _, _, err := s.List(ctx, dispatch.Query{Status: []run.Status{run.StatusStarting}, Limit: 5}); err != nil {
					t.Errorf("List: %v", err)
					return
				}
			}
		}()
	}
	wg.Wait()
	page, _, err := stores[0].List(ctx, dispatch.Query{Status: []run.Status{run.StatusStarting}, Limit: MaxLimit})
	if err != nil || len(page) != 200 {
		t.Errorf("List = %d runs, %v; want 200", len(page), err)
	}
}

func BenchmarkCreateUpdate(b *testing.B) {
	s := newStore(b)
	code := 0
	i := 0
	for b.Loop() {
		i++
		r, _, err := s.Create(ctx, newRun(fmt.Sprintf("r-%016x", i), fmt.Sprint("k", i), at.Add(time.Duration(i))))
		if err != nil {
			b.Fatal(err)
		}
		for _, st := range []run.Status{run.StatusStarting, run.StatusRunning, run.StatusSucceeded} {
			r.Status = st
			if st == run.StatusSucceeded {
				r.ExitCode, r.Reason = &code, "exited with code 0"
			}
			if r, err = s.Update(ctx, r); err != nil {
				b.Fatal(err)
			}
		}
		if _, err := s.Get(ctx, r.ID); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCreateUpdateParallel(b *testing.B) {
	s := newStore(b)
	var mu sync.Mutex
	n := 0
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			mu.Lock()
			n++
			i := n
			mu.Unlock()
			r, _, err := s.Create(ctx, newRun(fmt.Sprintf("r-%016x", i), fmt.Sprint("k", i), at.Add(time.Duration(i))))
			if err != nil {
				b.Fatal(err)
			}
			for _, st := range []run.Status{run.StatusStarting, run.StatusRunning, run.StatusSucceeded} {
				r.Status = st
				if r, err = s.Update(ctx, r); err != nil {
					b.Fatal(err)
				}
			}
			if _, err := s.Get(ctx, r.ID); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkListActive(b *testing.B) {
	s := newStore(b)
	const runs, active = 10_000, 100
	for i := range runs {
		r := newRun(fmt.Sprintf("r-%016x", i+1), fmt.Sprint("k", i), at.Add(time.Duration(i)*time.Second))
		r.Job = fmt.Sprint("job-", i%10)
		r.Status = run.StatusSucceeded
		if i%(runs/active) == 0 {
			r.Status = run.StatusRunning
		}
		if _, _, err := s.Create(ctx, r); err != nil {
			b.Fatal(err)
		}
	}
	statuses := []run.Status{run.StatusQueued, run.StatusStarting, run.StatusRunning}
	for _, bb := range []struct {
		name string
		q    dispatch.Query
		want int
	}{
		{"all jobs", dispatch.Query{Status: statuses}, active},
		{"one job", dispatch.Query{Job: "job-0", Status: statuses}, active},
		{"unreported", dispatch.Query{Unreported: true}, runs - active},
	} {
		b.Run(bb.name, func(b *testing.B) {
			for b.Loop() {
				q, got := bb.q, 0
				for {
					page, next, err := s.List(ctx, q)
					if err != nil {
						b.Fatal(err)
					}
					got += len(page)
					if next == "" || bb.want > active {
						break // unreported: the first page is what the engine reads each turn
					}
					q.Cursor = next
				}
				if bb.want <= active && got != bb.want {
					b.Fatalf("listed %d runs, want %d", got, bb.want)
				}
			}
		})
	}
}
