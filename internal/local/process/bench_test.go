package process

import (
	"testing"

	"github.com/longshore/longshore/internal/dispatch/runnertest"
	"github.com/longshore/longshore/internal/local/task"
)

// BenchmarkOutput measures the output path: 256 MiB written by a process,
// through its pipe and the capped copy, into stdout.log. Measured on this
// project's machines: 0.4 to 1.4 GB/s (noisy), about what the same process
// writing straight into a file gets (0.85 GB/s): the pipe costs little and
// keeps the cap enforceable, which a file handed to the child would not.
func BenchmarkOutput(b *testing.B) {
	const size = 256 << 20
	f := &fixture{jobs: b.TempDir(), data: b.TempDir(), rec: runnertest.NewRecorder()}
	r, err := New(Options{Config: task.Config{JobsDir: f.jobs, DataDir: f.data, Observe: f.rec.Observe, MaxLogBytes: size}})
	if err != nil {
		b.Fatal(err)
	}
	defer r.Shutdown(b.Context())
	spec := shell("head -c 268435456 /dev/zero")
	spec.Dir = ""
	b.SetBytes(size)
	for i := 0; b.Loop(); i++ {
		if _, err := r.Start(b.Context(), taskOf(i, spec)); err != nil {
			b.Fatal(err)
		}
		f.rec.Next(b, runID(i)) // running
		f.rec.Next(b, runID(i)) // stopped
		b.StopTimer()
		_ = removeRun(f, i)
		b.StartTimer()
	}
}
