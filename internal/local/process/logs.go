package process

import (
	"io"
	"os"
	"sync"
)

// copyBuffer is the size of each stream's copy buffer (a pipe's capacity):
// the only memory a stream takes, however much the process writes.
const copyBuffer = 64 << 10

// copyBuffers are reused from one stream to the next: a buffer per stream
// of every run would be most of what the engine allocates.
var copyBuffers = sync.Pool{New: func() any { b := make([]byte, copyBuffer); return &b }}

// copyOutput copies src to dst (a task.Log, which never fails and drops
// what is past its cap) until src ends: EOF, or its read deadline passes.
// The process never blocks on a full pipe.
func copyOutput(dst io.Writer, src *os.File) {
	pooled := copyBuffers.Get().(*[]byte)
	defer copyBuffers.Put(pooled)
	buf := *pooled
	for {
		n, err := src.Read(buf)
		if n > 0 {
			_, _ = dst.Write(buf[:n])
		}
		if err != nil {
			// EOF: every writer is gone; a passed deadline: the process has
			// exited and what remains holding the pipe is not waited for.
			return
		}
	}
}
