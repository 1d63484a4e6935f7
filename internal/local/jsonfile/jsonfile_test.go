package jsonfile_test

import (
	"errors"
	"io/fs"
	"os"
	"testing"

	"github.com/longshore/longshore/internal/local/jsonfile"
)

func TestARecordReadsBackAndLeavesNoTemporaryFile(t *testing.T) {
	dir := t.TempDir()
	type rec struct{ Code int }
	if err := jsonfile.Write(dir, "exit.json", rec{Code: 3}); err != nil {
		t.Fatal(err)
	}
	if err := jsonfile.Write(dir, "exit.json", rec{Code: 4}); err != nil {
		t.Fatal(err)
	}
	var got rec
	if err := jsonfile.Read(dir, "exit.json", &got); err != nil || got.Code != 4 {
		t.Errorf("Read = %+v, %v", got, err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("%d files in the folder, want exit.json alone", len(entries))
	}
	if err := jsonfile.Read(dir, "task.json", &got); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Read of a missing record = %v, want fs.ErrNotExist", err)
	}
}
