package engine

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
)

// bodyFiles keeps the trigger bodies too large for a run's environment
// (dispatch.BodyStore): one file a run in the data folder, which its task
// reads through the file:// URI it gets in LONGSHORE_SQS_BODY_URI. A
// process's single environment variable is limited too (128 KiB on Linux),
// so one machine passes large bodies as AWS does, by reference.
type bodyFiles struct{ dir string }

func (b bodyFiles) PutBody(_ context.Context, jobName, runID string, body []byte) (string, error) {
	dir, err := filepath.Abs(filepath.Join(b.dir, jobName))
	if err != nil {
		return "", fmt.Errorf("keep the body of run %s: %w", runID, err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("keep the body of run %s: %w", runID, err)
	}
	path := filepath.Join(dir, runID+".body")
	tmp, err := os.CreateTemp(dir, runID+".*.tmp")
	if err != nil {
		return "", fmt.Errorf("keep the body of run %s: %w", runID, err)
	}
	_, werr := tmp.Write(body)
	cerr := tmp.Close()
	if werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(tmp.Name(), path)
	}
	if werr != nil {
		os.Remove(tmp.Name())
		return "", fmt.Errorf("keep the body of run %s: %w", runID, werr)
	}
	return (&url.URL{Scheme: "file", Path: path}).String(), nil
}
