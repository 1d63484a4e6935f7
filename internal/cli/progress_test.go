package cli

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/longshore/longshore/internal/api"
	"github.com/longshore/longshore/internal/run"
)

func TestProgressIsPlainLinesUnlessLive(t *testing.T) {
	started := now.Add(-75 * time.Second)
	stopped := now
	code := 3
	cause := run.CauseExit
	steps := []api.Run{
		{ID: "r-1", Job: "hello", Attempt: 1, Status: run.StatusStarting, CreatedAt: now.Add(-80 * time.Second)},
		{ID: "r-1", Job: "hello", Attempt: 1, Status: run.StatusRunning, CreatedAt: now.Add(-80 * time.Second), StartedAt: &started},
		{ID: "r-1", Job: "hello", Attempt: 1, Status: run.StatusRunning, CreatedAt: now.Add(-80 * time.Second), StartedAt: &started},
		{ID: "r-1", Job: "hello", Attempt: 1, Status: run.StatusFailed, Cause: &cause, ExitCode: &code, Reason: "exited with code 3",
			CreatedAt: now.Add(-80 * time.Second), StartedAt: &started, StoppedAt: &stopped},
	}
	tests := []struct {
		name, mode string
		env        map[string]string
		want       string
	}{
		{"piped: one line per change, as scripts read them", progressAuto, nil,
			"r-1 hello (attempt 1): starting\nr-1 hello (attempt 1): running\nr-1 hello (attempt 1): failed, exit code 3: exited with code 3\n"},
		{"plain when asked", progressPlain, nil,
			"r-1 hello (attempt 1): starting\nr-1 hello (attempt 1): running\nr-1 hello (attempt 1): failed, exit code 3: exited with code 3\n"},
		{"live: one line redrawn in place, the outcome kept and coloured", progressLive, nil,
			"\r\x1b[K⠙ r-1 hello (attempt 1): starting for 1m20s" +
				"\r\x1b[K⠹ r-1 hello (attempt 1): running for 1m15s" +
				"\r\x1b[K⠸ r-1 hello (attempt 1): running for 1m15s" +
				"\r\x1b[K\x1b[31mr-1 hello (attempt 1): failed, exit code 3: exited with code 3\x1b[0m\n"},
		{"live without colour under NO_COLOR", progressLive, map[string]string{"NO_COLOR": "1"},
			"\r\x1b[K⠙ r-1 hello (attempt 1): starting for 1m20s" +
				"\r\x1b[K⠹ r-1 hello (attempt 1): running for 1m15s" +
				"\r\x1b[K⠸ r-1 hello (attempt 1): running for 1m15s" +
				"\r\x1b[Kr-1 hello (attempt 1): failed, exit code 3: exited with code 3\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			p := newProgress(&buf, tt.mode, func(k string) string { return tt.env[k] }, func() time.Time { return now })
			for _, r := range steps {
				p.show(r)
			}
			p.end()
			if buf.String() != tt.want {
				t.Errorf("progress wrote\n%q\nwant\n%q", buf.String(), tt.want)
			}
		})
	}
}

func TestRunWaitFollowsTheRunWithTheProgressAsked(t *testing.T) {
	for _, mode := range []string{progressPlain, progressLive} {
		t.Run(mode, func(t *testing.T) {
			e := newEngine(t, false)
			go func() {
				for {
					runs := e.store.Runs()
					if len(runs) != 1 {
						time.Sleep(5 * time.Millisecond)
						continue
					}
					if _, started := e.runner.Task(runs[0].ID); started {
						time.Sleep(300 * time.Millisecond)
						e.finish(t, runs[0].ID, 3)
						return
					}
					time.Sleep(5 * time.Millisecond)
				}
			}()
			got := longshore(t, e.srv.URL, "run", "hello", "--wait", "--progress", mode)
			if got.code != 3 {
				t.Fatalf("run --wait = %s", got)
			}
			last := lines(got.stderr)[len(lines(got.stderr))-1]
			if !strings.Contains(last, "hello (attempt 1): failed, exit code 3: exited with code 3") {
				t.Errorf("the last line is %q", last)
			}
			if live := strings.Contains(got.stderr, "\r\x1b[K"); live != (mode == progressLive) {
				t.Errorf("%s progress drew live lines: %v\n%q", mode, live, got.stderr)
			}
		})
	}
}

func TestShortDurationsReadLikeAClock(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{-time.Second, "0s"}, {45 * time.Second, "45s"}, {12*time.Minute + 5*time.Second, "12m05s"},
		{7*time.Hour + 3*time.Minute, "7h03m"}, {55 * time.Hour, "2d7h"},
	}
	for _, tt := range tests {
		if got := shortDuration(tt.d); got != tt.want {
			t.Errorf("shortDuration(%s) = %q, want %q", tt.d, got, tt.want)
		}
	}
}
