package task

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strconv"
)

// truncatedLine is written once to a log whose stream went past the cap.
func truncatedLine(limit int64) string {
	return "[longshore: output truncated after " + strconv.FormatInt(limit, 10) + " bytes]\n"
}

// Log is one output stream of a task written to its file in the run's
// folder: at most limit bytes, then a single truncation line on a line of
// its own; the rest is read and dropped, so the task never blocks on its
// output. The file (and the run's folder) is created at the stream's first
// byte: a task that prints nothing costs no file.
//
// A stream may have to be read again from its start (a container engine's
// log stream broke off, or a new engine takes the task over): after
// Rewind, a pass skips what earlier passes handled, so the file gets every
// byte once. A failing file (a full disk) stops the writing, never the
// reading: Write never fails. One goroutine writes at a time.
type Log struct {
	dir, name string
	flag      int // os.O_TRUNC for a new log, os.O_APPEND for one resumed
	limit     int64
	f         *os.File

	seen   int64 // bytes of the stream handled by every pass so far
	cursor int64 // bytes of the stream read by this pass

	written     int64
	truncated   bool
	failed      bool
	lastNewline bool
}

// newLog is the log name of a run's folder dir, empty; its file is created
// at the first byte.
func newLog(dir, name string, limit int64) *Log {
	return &Log{dir: dir, name: name, flag: os.O_TRUNC, limit: limit, lastNewline: true}
}

// resumeLog is the log name of a run's folder dir that an earlier engine
// wrote: it goes on after its last byte, and skips as many bytes of the
// stream.
func resumeLog(dir, name string, limit int64) (*Log, error) {
	l := &Log{dir: dir, name: name, flag: os.O_APPEND, limit: limit, lastNewline: true}
	f, err := os.Open(filepath.Join(dir, name))
	if errors.Is(err, fs.ErrNotExist) {
		return l, nil
	}
	if err != nil {
		return nil, fmt.Errorf("open the log %s: %w", name, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("open the log %s: %w", name, err)
	}
	size := st.Size()
	l.seen, l.written = size, size
	if size > limit {
		// It ends with the truncation line: nothing more is written.
		l.truncated, l.seen = true, math.MaxInt64
	} else if size > 0 {
		last := make([]byte, 1)
		if _, err := f.ReadAt(last, size-1); err == nil || err == io.EOF {
			l.lastNewline = last[0] == '\n'
		}
	}
	return l, nil
}

// Rewind starts a new pass over the stream from its beginning.
func (l *Log) Rewind() { l.cursor = 0 }

// Write takes the next bytes of the stream; it never fails, so that the
// reader goes on reading.
func (l *Log) Write(p []byte) (int, error) {
	n := len(p)
	if skip := l.seen - l.cursor; skip > 0 {
		if int64(len(p)) <= skip {
			l.cursor += int64(len(p))
			return n, nil
		}
		p = p[skip:]
		l.cursor += skip
	}
	l.cursor += int64(len(p))
	l.seen += int64(len(p))
	if l.truncated || l.failed || len(p) == 0 {
		return n, nil
	}
	chunk := p
	if rest := l.limit - l.written; int64(len(chunk)) > rest {
		chunk, l.truncated = chunk[:rest], true
	}
	if len(chunk) > 0 {
		m, err := l.write(chunk)
		l.written += int64(m)
		l.failed = err != nil
		l.lastNewline = chunk[len(chunk)-1] == '\n'
	}
	if l.truncated && !l.failed {
		line := truncatedLine(l.limit)
		if !l.lastNewline {
			line = "\n" + line
		}
		_, _ = l.write([]byte(line))
	}
	return n, nil
}

// write writes to the file, creating it first if need be.
func (l *Log) write(p []byte) (int, error) {
	if l.f == nil {
		if err := os.MkdirAll(l.dir, 0o700); err != nil {
			return 0, err
		}
		f, err := os.OpenFile(filepath.Join(l.dir, l.name), os.O_WRONLY|os.O_CREATE|l.flag, 0o600)
		if err != nil {
			return 0, err
		}
		l.f = f
	}
	return l.f.Write(p)
}

// Close closes the file, if it was created.
func (l *Log) Close() error {
	if l.f == nil {
		return nil
	}
	return l.f.Close()
}

// Output is where a task's two streams go.
type Output struct {
	Stdout, Stderr *Log
}

// Rewind starts a new pass over both streams.
func (o Output) Rewind() {
	o.Stdout.Rewind()
	o.Stderr.Rewind()
}

// Close closes both logs.
func (o Output) Close() error {
	return errors.Join(o.Stdout.Close(), o.Stderr.Close())
}
