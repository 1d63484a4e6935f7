package task

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/longshore/longshore/internal/dispatch/runnertest"
	"github.com/longshore/longshore/internal/local/jsonfile"
)

// ownRecord is what a backend keeps of its tasks, as the process runner does.
type ownRecord struct {
	PID   int    `json:"pid"`
	Ticks uint64 `json:"startTicks"`
}

func TestAStartRecordKeepsTheBackendsFieldsBesideItsOwn(t *testing.T) {
	h := &fakeHandle{ref: "fake:r-1", own: ownRecord{PID: 42, Ticks: 7}}
	rec, err := newStarted(h, "r-1", fixedNow)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := jsonfile.Write(dir, TaskFile, rec); err != nil {
		t.Fatal(err)
	}
	var flat map[string]any
	if err := jsonfile.Read(dir, TaskFile, &flat); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"ref", "runId", "startedAt", "pid", "startTicks"} {
		if _, ok := flat[name]; !ok {
			t.Errorf("task.json has no %s: %v", name, flat)
		}
	}
	var back Started
	if err := jsonfile.Read(dir, TaskFile, &back); err != nil {
		t.Fatal(err)
	}
	var own ownRecord
	if err := back.Decode(&own); err != nil {
		t.Fatal(err)
	}
	if back.Ref != "fake:r-1" || back.RunID != "r-1" || !back.StartedAt.Equal(fixedNow) || own != (ownRecord{PID: 42, Ticks: 7}) {
		t.Errorf("read back %+v and %+v", back, own)
	}
}

func TestAStartRecordAnEarlierVersionWroteIsRead(t *testing.T) {
	old := `{"ref": "proc:42:7:r-1", "runId": "r-1", "pid": 42, "startTicks": 7, "bootId": "b", "startedAt": "2026-11-22T10:00:00Z"}`
	var rec Started
	if err := json.Unmarshal([]byte(old), &rec); err != nil {
		t.Fatal(err)
	}
	var own ownRecord
	if err := rec.Decode(&own); err != nil || rec.Ref != "proc:42:7:r-1" || own.PID != 42 || !rec.StartedAt.Equal(fixedNow) {
		t.Errorf("read %+v, %+v, %v", rec, own, err)
	}
}

func TestRecords(t *testing.T) {
	tests := []struct {
		name  string
		store Records
	}{
		{"records kept as files in the run's folder", nil},
		{"records kept in a store", runnertest.NewRecords()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			r := records{dataDir: t.TempDir(), store: tt.store}
			var got stopRequest
			if err := r.read(ctx, "r-1", StopFile, &got); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("read before a write = %v, want fs.ErrNotExist", err)
			}
			want := stopRequest{Code: "UserInitiated", Reason: "why"}
			if err := r.write(ctx, "r-1", StopFile, want); err != nil {
				t.Fatal(err)
			}
			if err := r.read(ctx, "r-1", StopFile, &got); err != nil || got != want {
				t.Errorf("read = %+v, %v; want %+v", got, err, want)
			}
			_, statErr := os.Stat(filepath.Join(r.runDir("r-1"), StopFile))
			if (tt.store == nil) == errors.Is(statErr, fs.ErrNotExist) {
				t.Errorf("a file for the record: %v, with a store: %v", statErr, tt.store != nil)
			}
			r.remove(ctx, "r-1", StopFile)
			if err := r.read(ctx, "r-1", StopFile, &got); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("read after remove = %v, want fs.ErrNotExist", err)
			}
		})
	}
}

func TestRecordsInAStoreFallBackToTheRunsFolder(t *testing.T) {
	ctx := context.Background()
	dataDir := t.TempDir()
	files := records{dataDir: dataDir}
	if err := files.write(ctx, "r-1", ExitFile, stopRequest{Code: "older"}); err != nil {
		t.Fatal(err)
	}
	var got stopRequest
	if err := (records{dataDir: dataDir, store: runnertest.NewRecords()}).read(ctx, "r-1", ExitFile, &got); err != nil || got.Code != "older" {
		t.Errorf("read = %+v, %v; want the file's record", got, err)
	}
}
