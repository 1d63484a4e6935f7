package remoteapi_test

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/longshore/longshore/internal/api"
	"github.com/longshore/longshore/internal/aws/remoteapi"
)

const (
	running  = "r-00000000000000b2"
	finished = "r-00000000000000b1"
)

// chunk is an answer of the logs endpoint, read as the dashboard reads it.
type chunk struct {
	text           string
	start, next    int64
	done, combined bool
}

func logs(t *testing.T, h http.Handler, id, query string) chunk {
	t.Helper()
	a := do(t, h, "GET", "/v1/runs/"+id+"/logs?"+query, "")
	if a.status != 200 {
		t.Fatalf("logs %s?%s = %s", id, query, a)
	}
	start, err1 := strconv.ParseInt(a.header.Get(api.HeaderLogStart), 10, 64)
	next, err2 := strconv.ParseInt(a.header.Get(api.HeaderLogOffset), 10, 64)
	if err1 != nil || err2 != nil || a.header.Get("Content-Type") != "text/plain; charset=utf-8" {
		t.Fatalf("logs %s?%s: headers %v", id, query, a.header)
	}
	if next-start != int64(len(a.body)) {
		t.Fatalf("logs %s?%s: %d bytes from %d to %d", id, query, len(a.body), start, next)
	}
	return chunk{text: a.body, start: start, next: next, done: a.header.Get(api.HeaderRunDone) == "true",
		combined: a.header.Get(api.HeaderLogStreams) == api.LogStreamsCombined}
}

// follow reads on from offset as the dashboard does, until nothing more
// comes, and returns what it read and where it ended.
func follow(t *testing.T, h http.Handler, id string, offset int64) (string, int64, bool) {
	t.Helper()
	var b strings.Builder
	for range 100000 {
		c := logs(t, h, id, fmt.Sprintf("offset=%d", offset))
		if c.start != offset {
			t.Fatalf("asked from %d, answered from %d", offset, c.start)
		}
		b.WriteString(c.text)
		moved := c.next != offset
		offset = c.next
		if c.done || !moved {
			return b.String(), offset, c.done
		}
	}
	t.Fatal("the output never ends")
	return "", 0, false
}

func lines(n int, format string) []string {
	var out []string
	for i := range n {
		out = append(out, fmt.Sprintf(format, i))
	}
	return out
}

func TestTheTailIsTheLastBytesOfTheWholeStream(t *testing.T) {
	tests := []struct {
		name     string
		lines    []string
		pageSize int
		tail     int64
		id       string
	}{
		{"a tail longer than the output is all of it", []string{"hello from Fargate", "exiting with 3"}, 3, 1000, finished},
		{"a tail shorter than the output cuts into a line", lines(20, "line %02d"), 3, 20, finished},
		{"a tail of exactly one page", lines(9, "%d"), 3, 6, finished},
		{"a tail over many pages", lines(200, "the %03dth line of a chatty job"), 7, 300, running},
		{"a tail of a run that wrote nothing", nil, 3, 1000, finished},
		{"a tail of a line longer than the tail", []string{strings.Repeat("x", 500)}, 3, 10, running},
		{"a tail of multibyte text cuts bytes, not characters", []string{"größe ✓", "ende ✓"}, 1, 5, finished},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newDeployment()
			d.pageSize = tt.pageSize
			d.write(tt.id, tt.lines...)
			full := d.output(tt.id)
			c := logs(t, newHandler(d, remoteapi.Options{}), tt.id, fmt.Sprintf("stream=stdout&tail=%d", tt.tail))
			want := full[max(0, int64(len(full))-tt.tail):]
			if c.text != want || c.next != int64(len(full)) || c.start != int64(len(full)-len(want)) {
				t.Errorf("tail %d = %q from %d to %d, want %q from %d to %d", tt.tail, c.text, c.start, c.next, want, len(full)-len(want), len(full))
			}
			if c.done != (tt.id == finished) || !c.combined {
				t.Errorf("done %v, combined %v", c.done, c.combined)
			}
		})
	}
}

func TestReadingFromAnyOffsetGivesTheSameBytes(t *testing.T) {
	tests := []struct {
		name       string
		pageSize   int
		emptyEvery int
		fresh      bool // each offset asked of a handler that has read nothing
	}{
		{"on from the marks of earlier answers", 3, 0, false},
		{"on from the start, with no marks", 4, 0, true},
		{"past empty pages that go on", 2, 3, false},
		{"past empty pages, with no marks", 5, 2, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newDeployment()
			d.pageSize, d.emptyEvery = tt.pageSize, tt.emptyEvery
			d.write(finished, lines(23, "line %d: ünïcode")...)
			full := d.output(finished)
			h := newHandler(d, remoteapi.Options{})
			got, end, done := follow(t, h, finished, 0)
			if got != full || end != int64(len(full)) || !done {
				t.Fatalf("followed from 0: %q to %d, done %v; want %q", got, end, done, full)
			}
			for off := range int64(len(full)) + 1 {
				if tt.fresh {
					h = newHandler(d, remoteapi.Options{})
				}
				c := logs(t, h, finished, fmt.Sprintf("offset=%d", off))
				if !strings.HasPrefix(full[off:], c.text) || (c.text == "" && off < int64(len(full))) {
					t.Fatalf("offset %d = %q, want the start of %q", off, c.text, full[off:])
				}
				if c.done != (off == int64(len(full))) {
					t.Errorf("offset %d: done %v", off, c.done)
				}
			}
		})
	}
}

func TestFollowingARunAsksOncePerAnswer(t *testing.T) {
	d := newDeployment()
	d.write(running, "starting")
	h := newHandler(d, remoteapi.Options{})

	first := logs(t, h, running, "tail=65536")
	if first.text != "starting\n" || first.start != 0 || first.done {
		t.Fatalf("tail: %+v", first)
	}
	offset := first.next
	for i := range 10 {
		d.write(running, fmt.Sprintf("step %d", i))
		before := d.count("logs")
		c := logs(t, h, running, fmt.Sprintf("offset=%d", offset))
		if c.text != fmt.Sprintf("step %d\n", i) || c.start != offset || c.done {
			t.Fatalf("step %d: %+v", i, c)
		}
		if calls := d.count("logs") - before; calls != 1 {
			t.Errorf("step %d took %d calls of the deployment, want 1", i, calls)
		}
		offset = c.next
	}
	quiet := logs(t, h, running, fmt.Sprintf("offset=%d", offset))
	if quiet.text != "" || quiet.next != offset || quiet.done {
		t.Errorf("nothing new: %+v", quiet)
	}
	d.finish(running)
	end := logs(t, h, running, fmt.Sprintf("offset=%d", offset))
	if end.text != "" || end.next != offset || !end.done {
		t.Errorf("after the run finished: %+v", end)
	}
}

func TestATailAfterFollowingReadsWhatCameBeforeTheLastMark(t *testing.T) {
	d := newDeployment()
	d.pageSize = 2
	d.write(finished, lines(30, "line %02d")...)
	full := d.output(finished)
	h := newHandler(d, remoteapi.Options{})
	if got, _, _ := follow(t, h, finished, 0); got != full {
		t.Fatalf("followed: %q", got)
	}
	before := d.count("logs")
	c := logs(t, h, finished, "tail=50")
	if want := full[len(full)-50:]; c.text != want || c.start != int64(len(full)-50) || !c.done {
		t.Errorf("tail = %q from %d, done %v; want %q", c.text, c.start, c.done, want)
	}
	if calls := d.count("logs") - before; calls > 8 {
		t.Errorf("the tail took %d calls: it should start near the end, not at the start", calls)
	}
}

func TestALongStreamIsReadAFewPagesAtATime(t *testing.T) {
	d := newDeployment()
	d.pageSize = 2
	d.write(finished, lines(100, "line %03d")...)
	full := d.output(finished)
	h := newHandler(d, remoteapi.Options{LogPages: 4})

	c := logs(t, h, finished, "tail=20")
	if c.done || c.next >= int64(len(full)) || c.text != full[c.start:c.next] {
		t.Fatalf("a tail past the pages of one request: %q from %d to %d, done %v", c.text, c.start, c.next, c.done)
	}
	if calls := d.count("logs"); calls != 4 {
		t.Errorf("one request took %d calls, want 4", calls)
	}
	rest, end, done := follow(t, h, finished, c.next)
	if full[c.start:c.next]+rest != full[c.start:] || end != int64(len(full)) || !done {
		t.Errorf("followed on: ends at %d of %d, done %v", end, len(full), done)
	}

	// An offset far from any mark is reached over several requests.
	fresh := newHandler(d, remoteapi.Options{LogPages: 4})
	far := int64(len(full) - 10)
	var got chunk
	for range 20 {
		if got = logs(t, fresh, finished, fmt.Sprintf("offset=%d", far)); got.text != "" {
			break
		}
		if got.next != far || got.done {
			t.Fatalf("on the way to %d: %+v", far, got)
		}
	}
	if got.text != full[far:] {
		t.Errorf("offset %d = %q, want %q", far, got.text, full[far:])
	}
}

func TestRunsForgottenForRoomAreReadAgain(t *testing.T) {
	d := newDeployment()
	d.write(finished, lines(12, "finished %d")...)
	d.write(running, lines(12, "running %d")...)
	h := newHandler(d, remoteapi.Options{LogRuns: 1})
	for i := range 3 {
		for _, id := range []string{finished, running} {
			c := logs(t, h, id, "offset=40")
			if want := d.output(id)[40:]; !strings.HasPrefix(want, c.text) || c.text == "" {
				t.Errorf("round %d, %s: %q, want the start of %q", i, id, c.text, want)
			}
		}
	}
}

func TestManyMarksStillReachEveryOffset(t *testing.T) {
	d := newDeployment()
	d.pageSize = 1
	d.write(running, lines(1500, "%d")...)
	full := d.output(running)
	h := newHandler(d, remoteapi.Options{LogPages: 10000})
	if got, _, _ := follow(t, h, running, 0); got != full {
		t.Fatal("followed: not the whole output")
	}
	for off := int64(0); off < int64(len(full)); off += 97 {
		before := d.count("logs")
		c := logs(t, h, running, fmt.Sprintf("offset=%d", off))
		if !strings.HasPrefix(full[off:], c.text) || c.text == "" {
			t.Errorf("offset %d = %q", off, c.text)
		}
		// 1500 one-line pages over 512 marks: about 3 pages between marks.
		if calls := d.count("logs") - before; calls > 6 {
			t.Errorf("offset %d took %d calls: the marks kept are too far apart", off, calls)
		}
	}
}

func TestStderrIsEmptyBecauseStdoutHasItAll(t *testing.T) {
	tests := []struct {
		name  string
		id    string
		query string
		start int64
		done  bool
	}{
		{"the tail of a running run's stderr", running, "stream=stderr&tail=65536", 0, false},
		{"a running run's stderr on from an offset", running, "stream=stderr&offset=12", 12, false},
		{"a finished run's stderr is done", finished, "stream=stderr&offset=0", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newDeployment()
			d.write(tt.id, "to stderr, in the one stream")
			c := logs(t, newHandler(d, remoteapi.Options{}), tt.id, tt.query)
			if c.text != "" || c.start != tt.start || c.next != tt.start || c.done != tt.done || !c.combined {
				t.Errorf("%s: %+v", tt.query, c)
			}
			if d.count("logs") != 0 {
				t.Errorf("read the log stream for stderr")
			}
		})
	}
}
