// Package jsonfile keeps the small JSON records the local runners write
// beside a run's output (task.json, exit.json, stop.json): written
// atomically, read back whole.
package jsonfile

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// Write writes v to dir/name atomically: a temporary file in dir renamed
// over name. It is not fsynced, on the same grounds as the local store's
// synchronous=NORMAL: a record must survive the engine's crash, which the
// page cache does; a power loss also ends the processes it describes.
func Write(dir, name string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode %s: %w", name, err)
	}
	f, err := os.CreateTemp(dir, "."+name+".*")
	if err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	tmp := f.Name()
	_, err = f.Write(append(data, '\n'))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, filepath.Join(dir, name))
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("write %s in %s: %w", name, dir, err)
	}
	return nil
}

// Read reads dir/name into v; the error wraps fs.ErrNotExist when the file
// does not exist.
func Read(dir, name string, v any) error {
	data, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("read %s: %w", filepath.Join(dir, name), err)
	}
	return nil
}
