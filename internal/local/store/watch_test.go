package store

import (
	"path/filepath"
	"testing"

	"github.com/longshore/longshore/internal/run"
)

func TestAWatcherIsHandedTheRunAsItIsWritten(t *testing.T) {
	s := newStore(t)
	r, _, err := s.Create(ctx, newRun("r-0000000000000001", "k1", at))
	if err != nil {
		t.Fatal(err)
	}
	runs, stop := s.Watch(r.ID)
	defer stop()
	other, stopOther := s.Watch("r-0000000000000002")
	defer stopOther()

	r.Status = run.StatusRunning
	if r, err = s.Update(ctx, r); err != nil {
		t.Fatal(err)
	}
	select {
	case got := <-runs:
		if got.Status != run.StatusRunning || got.Revision != r.Revision {
			t.Errorf("handed %s at revision %d, want running at %d", got.Status, got.Revision, r.Revision)
		}
	default:
		t.Fatal("the watcher was handed nothing after an update")
	}

	// A watcher that lags finds the newest revision.
	r.Status = run.StatusSucceeded
	if r, err = s.Update(ctx, r); err != nil {
		t.Fatal(err)
	}
	r.Notified = true
	if r, err = s.Update(ctx, r); err != nil {
		t.Fatal(err)
	}
	select {
	case got := <-runs:
		if !got.Notified || got.Revision != r.Revision {
			t.Errorf("a lagging watcher found revision %d, want %d", got.Revision, r.Revision)
		}
	default:
		t.Fatal("the lagging watcher was handed nothing")
	}
	select {
	case got := <-other:
		t.Errorf("the watcher of another run was handed %s", got.ID)
	default:
	}

	// Once stopped, a watcher is handed nothing more.
	stop()
	r.Reason = "again"
	if _, err := s.Update(ctx, r); err != nil {
		t.Fatal(err)
	}
	select {
	case got := <-runs:
		t.Errorf("a stopped watcher was handed revision %d", got.Revision)
	default:
	}
}

func TestRecords(t *testing.T) {
	tests := []struct {
		name   string
		set    []string // SetRecord calls in order, for run r-1 and name task.json
		want   string
		wantOK bool
	}{
		{name: "an unknown record is not there"},
		{name: "a record reads back what was set", set: []string{`{"pid":1}`}, want: `{"pid":1}`, wantOK: true},
		{name: "a second set replaces the first", set: []string{`{"pid":1}`, `{"pid":2}`}, want: `{"pid":2}`, wantOK: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "longshore.db")
			s := open(t, path)
			for _, v := range tt.set {
				if err := s.SetRecord(ctx, "r-1", "task.json", []byte(v)); err != nil {
					t.Fatal(err)
				}
			}
			// Records outlive the store that wrote them.
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			s = open(t, path)
			got, ok, err := s.Record(ctx, "r-1", "task.json")
			if err != nil || ok != tt.wantOK || string(got) != tt.want {
				t.Errorf("Record = %q, %v, %v; want %q, %v", got, ok, err, tt.want, tt.wantOK)
			}
			for _, other := range [][2]string{{"r-1", "exit.json"}, {"r-2", "task.json"}} {
				if got, ok, _ := s.Record(ctx, other[0], other[1]); ok {
					t.Errorf("record %s of %s reads %q", other[1], other[0], got)
				}
			}
		})
	}
}
