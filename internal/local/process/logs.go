package process

import (
	"io"
	"os"
	"strconv"
	"sync"
)

// copyBuffer is the size of each stream's copy buffer (a pipe's capacity):
// the only memory a stream takes, however much the process writes.
const copyBuffer = 64 << 10

// copyBuffers are reused from one stream to the next: a buffer per stream
// of every run would be most of what the engine allocates.
var copyBuffers = sync.Pool{New: func() any { b := make([]byte, copyBuffer); return &b }}

// truncatedLine is written once to a log whose stream went past the cap.
func truncatedLine(limit int64) string {
	return "[longshore: output truncated after " + strconv.FormatInt(limit, 10) + " bytes]\n"
}

// copyCapped copies src to dst until src ends (EOF, or its read deadline
// passes), writing at most limit bytes; past the cap the rest is read and
// dropped, so the process never blocks on a full pipe, and a single
// truncation line is written on a line of its own. A failing dst (a full
// disk) stops the writing, not the draining.
func copyCapped(dst io.Writer, src *os.File, limit int64) {
	pooled := copyBuffers.Get().(*[]byte)
	defer copyBuffers.Put(pooled)
	buf := *pooled
	var written int64
	truncated, failed := false, false
	lastNewline := true
	for {
		n, err := src.Read(buf)
		if n > 0 && !truncated && !failed {
			chunk := buf[:n]
			if rest := limit - written; int64(n) > rest {
				chunk, truncated = chunk[:rest], true
			}
			if len(chunk) > 0 {
				w, werr := dst.Write(chunk)
				written += int64(w)
				failed = werr != nil
				lastNewline = chunk[len(chunk)-1] == '\n'
			}
			if truncated && !failed {
				line := truncatedLine(limit)
				if !lastNewline {
					line = "\n" + line
				}
				_, _ = io.WriteString(dst, line)
			}
		}
		if err != nil {
			// EOF: every writer is gone; a passed deadline: the process has
			// exited and what remains holding the pipe is not waited for.
			return
		}
	}
}
