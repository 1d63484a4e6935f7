package process

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/longshore/longshore/internal/dispatch/runnertest"
	"github.com/longshore/longshore/internal/local/task"
)

// Runs that do several hostile things at once: flood their output, fork,
// ignore SIGTERM. Each is covered alone in runner_test.go; here they come
// together, as a misbehaving job would.
func TestHostileRunsEndWithAllTheirProcessesAndCappedLogs(t *testing.T) {
	const limit = 64 << 10
	truncated := fmt.Sprintf("[longshore: output truncated after %d bytes]\n", limit)
	tests := []struct {
		name   string
		script string
		stop   bool
		exit   int
		// capped lists the logs that must hold the cap and then the truncation line.
		capped []string
	}{
		{
			name:   "a run that floods stdout and ignores SIGTERM is killed after the grace period",
			script: `trap '' TERM; echo ready > "$READY"; while :; do head -c 1048576 /dev/zero; done`,
			stop:   true, exit: 137, capped: []string{task.StdoutFile},
		},
		{
			name: "children that ignore SIGTERM and flood both streams die when their parent exits",
			script: `(trap '' TERM; exec yes out) & echo $! >> "$PIDS"; (trap '' TERM; exec yes err >&2) & echo $! >> "$PIDS"
				sleep 0.2; echo ready > "$READY"; exit 3`,
			exit: 3, capped: []string{task.StdoutFile, task.StderrFile},
		},
		{
			name: "twenty children that ignore SIGTERM are all killed when the run is stopped",
			script: `for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do (trap '' TERM; exec sleep 300) & echo $! >> "$PIDS"; done
				echo ready > "$READY"; wait`,
			stop: true, exit: 143,
		},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			r := f.runner(t, func(o *Options) { o.MaxLogBytes = limit })
			ready := fifo(t)
			pids := filepath.Join(t.TempDir(), "pids")
			tk := taskOf(i, shell(tt.script))
			tk.Env["READY"], tk.Env["PIDS"] = ready, pids
			ref := start(t, r, tk)
			readFIFO(t, ready)
			if tt.stop {
				if err := r.Stop(context.Background(), ref, "stopped by the test"); err != nil {
					t.Fatal(err)
				}
			}
			ts := ended(t, f.rec, runID(i))
			if got := runnertest.ExitCode(ts); got == nil || *got != tt.exit {
				t.Errorf("exit code = %s, want %d", runnertest.ShowCode(got), tt.exit)
			}
			waitGone(t, pidOf(t, ref))
			if b, err := os.ReadFile(pids); err == nil {
				for _, p := range strings.Fields(string(b)) {
					waitGone(t, atoi(t, p))
				}
			}
			for _, name := range tt.capped {
				// The cap, then the truncation line on a line of its own.
				got := readLog(t, f, i, name)
				rest, ok := strings.CutSuffix(got, truncated)
				if !ok || !strings.HasSuffix(rest, "\n") || (len(rest) != limit && len(rest) != limit+1) {
					t.Errorf("%s: %d bytes ending %q; want %d bytes then the truncation line", name, len(got), got[max(0, len(got)-60):], limit)
				}
			}
		})
	}
}
