package cli

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/longshore/longshore/internal/api"
	"github.com/longshore/longshore/internal/run"
)

// Progress modes of `run --wait`.
const (
	progressAuto  = "auto"  // live on a terminal, plain otherwise
	progressPlain = "plain" // one line per status change
	progressLive  = "live"  // one line redrawn in place
)

// spinner frames of the live line.
var spinner = []string{"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"}

// progress reports a followed run on stderr. Plain: a line each time the
// status line changes (scripts and logs read these). Live: one line
// redrawn in place with a spinner and the time so far; the outcome of each
// attempt stays as a plain line.
type progress struct {
	w     io.Writer
	live  bool
	color bool
	now   func() time.Time
	last  string // plain: the last line printed
	drawn bool   // live: a line is on screen, unterminated
	frame int
}

func newProgress(w io.Writer, mode string, getenv func(string) string, now func() time.Time) *progress {
	live := mode == progressLive || (mode == progressAuto && isTerminal(w) && getenv("TERM") != "dumb")
	return &progress{w: w, live: live, color: live && getenv("NO_COLOR") == "", now: now}
}

// isTerminal tells whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// show reports the run as last seen.
func (p *progress) show(r api.Run) {
	line := statusLine(r)
	if !p.live {
		if line != p.last {
			fmt.Fprintln(p.w, line)
			p.last = line
		}
		return
	}
	if r.Status.Terminal() {
		p.clear()
		fmt.Fprintln(p.w, p.paint(r.Status, line))
		return
	}
	p.frame++
	fmt.Fprintf(p.w, "\r\033[K%s %s", spinner[p.frame%len(spinner)], liveLine(r, p.now()))
	p.drawn = true
}

// end leaves the terminal on a fresh line.
func (p *progress) end() {
	p.clear()
}

func (p *progress) clear() {
	if p.drawn {
		fmt.Fprint(p.w, "\r\033[K")
		p.drawn = false
	}
}

// liveLine is the status line with the time spent in the current status.
func liveLine(r api.Run, now time.Time) string {
	s := fmt.Sprintf("%s %s (attempt %d): %s", r.ID, r.Job, r.Attempt, r.Status)
	switch {
	case r.Status == run.StatusRunning && r.StartedAt != nil:
		s += " for " + shortDuration(now.Sub(*r.StartedAt))
	case r.Status == run.StatusQueued && r.NotBefore != nil:
		s += ", retry in " + shortDuration(r.NotBefore.Sub(now))
	default:
		s += " for " + shortDuration(now.Sub(r.CreatedAt))
	}
	return s
}

// paint colours a final line by its outcome.
func (p *progress) paint(s run.Status, line string) string {
	if !p.color {
		return line
	}
	code := map[run.Status]string{run.StatusSucceeded: "32", run.StatusFailed: "31", run.StatusTimedOut: "33"}[s]
	if code == "" {
		return line
	}
	return "\033[" + code + "m" + line + "\033[0m"
}

// shortDuration writes a duration as people read it on a status line:
// 0s, 45s, 12m05s, 7h03m, 2d7h.
func shortDuration(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	s := int(d.Seconds())
	switch {
	case s < 60:
		return fmt.Sprintf("%ds", s)
	case s < 3600:
		return fmt.Sprintf("%dm%02ds", s/60, s%60)
	case s < 86400:
		return fmt.Sprintf("%dh%02dm", s/3600, s%3600/60)
	}
	return fmt.Sprintf("%dd%dh", s/86400, s%86400/3600)
}

// validProgress checks the --progress flag.
func validProgress(mode string) error {
	switch mode {
	case progressAuto, progressPlain, progressLive:
		return nil
	}
	return usageError("--progress %q is unknown: use %s", mode, strings.Join([]string{progressAuto, progressPlain, progressLive}, ", "))
}
