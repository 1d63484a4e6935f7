package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/longshore/longshore/internal/dispatch"
	"github.com/longshore/longshore/internal/run"
)

func TestConcurrentWritesAllLandAndEachIsAnswered(t *testing.T) {
	s := newStore(t)
	const n = 200
	var wg sync.WaitGroup
	errs := make(chan error, 3*n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, created, err := s.Create(ctx, newRun(fmt.Sprintf("r-%016x", i), fmt.Sprintf("k%d", i), at))
			if err != nil || !created {
				errs <- fmt.Errorf("Create %d = %v, %v", i, created, err)
				return
			}
			r.Status = run.StatusRunning
			if _, err := s.Update(ctx, r); err != nil {
				errs <- fmt.Errorf("Update %d: %v", i, err)
			}
			// A stale revision is refused, however the writes were grouped.
			if _, err := s.Update(ctx, r); !errors.Is(err, dispatch.ErrConflict) {
				errs <- fmt.Errorf("second Update %d from revision 1 = %v, want a conflict", i, err)
			}
			if err := s.SetRecord(ctx, r.ID, "task.json", []byte(fmt.Sprint(i))); err != nil {
				errs <- fmt.Errorf("SetRecord %d: %v", i, err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	runs, _, err := s.List(ctx, dispatch.Query{Status: []run.Status{run.StatusRunning}, Limit: MaxLimit})
	if err != nil || len(runs) != n {
		t.Fatalf("List of running runs = %d runs, %v; want %d", len(runs), err, n)
	}
	for i := range n {
		body, ok, err := s.Record(ctx, fmt.Sprintf("r-%016x", i), "task.json")
		if err != nil || !ok || string(body) != fmt.Sprint(i) {
			t.Errorf("Record %d = %q, %v, %v", i, body, ok, err)
		}
	}
}

func TestAGroupOfWrites(t *testing.T) {
	insert := func(s *Store, id, key string) func(context.Context, *sql.Tx) error {
		return func(ctx context.Context, tx *sql.Tx) error {
			r := newRun(id, key, at)
			_, err := tx.StmtContext(ctx, s.q.create).ExecContext(ctx, r.ID, r.Key, r.Job, string(r.Status), unixNanos(r.CreatedAt), 0, 1, asJSON(t, r))
			return err
		}
	}
	broken := func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, "INSERT INTO nowhere VALUES (1)")
		return err
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	tests := []struct {
		name string
		// writes of the group, by the run id they insert; "" is a write
		// failing outside a constraint.
		ids     []string
		ctxs    map[int]context.Context
		wantErr []string // per write: "" or a part of its error
		want    []string // the runs stored after the group
	}{
		{name: "writes grouped in one transaction are all committed",
			ids: []string{"r-1", "r-2", "r-3"}, wantErr: []string{"", "", ""}, want: []string{"r-1", "r-2", "r-3"}},
		{name: "a write refused by a constraint fails alone",
			ids: []string{"r-1", "r-1", "r-3"}, wantErr: []string{"", "UNIQUE", ""}, want: []string{"r-1", "r-3"}},
		{name: "after any other failure the others are run on their own",
			ids: []string{"r-1", "", "r-3"}, wantErr: []string{"", "no such table", ""}, want: []string{"r-1", "r-3"}},
		{name: "a write whose caller gave up before it ran is not run",
			ids: []string{"r-1", "r-2", "r-3"}, ctxs: map[int]context.Context{1: cancelled},
			wantErr: []string{"", "context canceled", ""}, want: []string{"r-1", "r-3"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t, filepath.Join(t.TempDir(), "longshore.db"))
			var group []*write
			for i, id := range tt.ids {
				do := broken
				if id != "" {
					do = insert(s, id, "key-"+fmt.Sprint(i))
				}
				wctx := ctx
				if c, ok := tt.ctxs[i]; ok {
					wctx = c
				}
				group = append(group, &write{ctx: wctx, do: do, done: make(chan error, 1)})
			}
			s.commitGroup(group)
			for i, w := range group {
				err := <-w.done
				switch {
				case tt.wantErr[i] == "" && err != nil:
					t.Errorf("write %d: %v", i, err)
				case tt.wantErr[i] != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr[i])):
					t.Errorf("write %d = %v, want an error with %q", i, err, tt.wantErr[i])
				}
			}
			var got []string
			for _, id := range []string{"r-1", "r-2", "r-3"} {
				if _, err := s.Get(ctx, id); err == nil {
					got = append(got, id)
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("stored %v, want %v", got, tt.want)
			}
		})
	}
}

func TestAWriteAfterCloseIsRefused(t *testing.T) {
	s, err := Open(ctx, filepath.Join(t.TempDir(), "longshore.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.SetRecord(ctx, "r-1", "task.json", []byte("{}")); !errors.Is(err, errClosed) {
		t.Errorf("SetRecord after Close = %v, want %v", err, errClosed)
	}
}
