package container

import (
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
)

// truncatedLine is written once to a log whose stream went past the cap:
// the process runner's words, so both runners' logs read alike.
func truncatedLine(limit int64) string {
	return "[longshore: output truncated after " + strconv.FormatInt(limit, 10) + " bytes]\n"
}

// streamLog is one output stream of a container written to its log file:
// at most limit bytes, then a single truncation line on a line of its own;
// the rest is dropped. The engine's log stream may have to be read again
// from its start (the connection broke, or a new engine takes the
// container over): each pass skips what earlier passes handled, so the
// file gets every byte once. A failing file (a full disk) stops the
// writing, never the reading. One goroutine writes at a time.
type streamLog struct {
	f     *os.File
	limit int64

	seen   int64 // bytes of the stream handled by every pass so far
	cursor int64 // bytes of the stream read by this pass

	written     int64
	truncated   bool
	failed      bool
	lastNewline bool
}

// createLog creates (or empties) a run's log file.
func createLog(dir, name string, limit int64) (*streamLog, error) {
	f, err := os.OpenFile(filepath.Join(dir, name), os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open the log %s: %w", name, err)
	}
	return &streamLog{f: f, limit: limit, lastNewline: true}, nil
}

// resumeLog opens a run's log file that an earlier engine wrote, to go on
// after its last byte.
func resumeLog(dir, name string, limit int64) (*streamLog, error) {
	f, err := os.OpenFile(filepath.Join(dir, name), os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open the log %s: %w", name, err)
	}
	st, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("open the log %s: %w", name, err)
	}
	w := &streamLog{f: f, limit: limit, seen: st.Size(), written: st.Size(), lastNewline: true}
	if st.Size() > limit {
		// It ends with the truncation line: nothing more is written.
		w.truncated, w.seen = true, math.MaxInt64
	} else if st.Size() > 0 {
		last := make([]byte, 1)
		if _, err := f.ReadAt(last, st.Size()-1); err == nil || err == io.EOF {
			w.lastNewline = last[0] == '\n'
		}
	}
	return w, nil
}

// rewind starts a new pass over the stream from its beginning.
func (w *streamLog) rewind() { w.cursor = 0 }

// Write takes the next bytes of the stream; it never fails, so that the
// demultiplexer goes on reading.
func (w *streamLog) Write(p []byte) (int, error) {
	n := len(p)
	if skip := w.seen - w.cursor; skip > 0 {
		if int64(len(p)) <= skip {
			w.cursor += int64(len(p))
			return n, nil
		}
		p = p[skip:]
		w.cursor += skip
	}
	w.cursor += int64(len(p))
	w.seen += int64(len(p))
	if w.truncated || w.failed || len(p) == 0 {
		return n, nil
	}
	chunk := p
	if rest := w.limit - w.written; int64(len(chunk)) > rest {
		chunk, w.truncated = chunk[:rest], true
	}
	if len(chunk) > 0 {
		m, err := w.f.Write(chunk)
		w.written += int64(m)
		w.failed = err != nil
		w.lastNewline = chunk[len(chunk)-1] == '\n'
	}
	if w.truncated && !w.failed {
		line := truncatedLine(w.limit)
		if !w.lastNewline {
			line = "\n" + line
		}
		_, _ = io.WriteString(w.f, line)
	}
	return n, nil
}

func (w *streamLog) Close() error { return w.f.Close() }
