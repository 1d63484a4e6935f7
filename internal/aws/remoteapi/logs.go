package remoteapi

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"sync"

	"github.com/longshore/longshore/internal/api"
)

// A deployment keeps a run's output in one CloudWatch Logs stream, stdout
// and stderr together, read from its start on with tokens (the api
// function's logs op). The dashboard reads output by byte offsets of two
// streams. The handler answers the whole log stream as stdout, each event
// a line ("message\n", as `longshore logs --aws` prints it), stderr as
// empty, and says so with api.HeaderLogStreams. It keeps, for each run, the
// token that goes on from each offset it has answered (a mark), so that
// following a run costs one call per answer; an offset it has no mark for
// (after a restart, or from another page) is read to from the nearest mark
// before it, and a tail is read to from the last mark — never more than
// Options.LogPages pages in one request.

// maxMarks bounds a run's marks; past it the mark closest to its
// neighbours is dropped, which keeps every offset reachable at the cost of
// reading a little more.
const maxMarks = 512

// mark is where in a run's log stream an offset of its output is: reading
// on with token gives the output from off on.
type mark struct {
	off   int64
	token string
}

// trail is what is known of one run's log stream.
type trail struct {
	mu    sync.Mutex
	marks []mark // sorted by off; marks[0] is {0, ""}, the start
	used  uint64
}

// floor is the last mark at or before off.
func (t *trail) floor(off int64) mark {
	i := sort.Search(len(t.marks), func(i int) bool { return t.marks[i].off > off })
	return t.marks[i-1]
}

func (t *trail) last() mark { return t.marks[len(t.marks)-1] }

// add records a mark; a newer token for a known offset replaces the older
// one (nothing lies between them, and the newer may have skipped a gap).
func (t *trail) add(m mark) {
	if m.off == 0 {
		return // the start is always read from its head
	}
	i := sort.Search(len(t.marks), func(i int) bool { return t.marks[i].off >= m.off })
	if i < len(t.marks) && t.marks[i].off == m.off {
		t.marks[i].token = m.token
		return
	}
	t.marks = append(t.marks, mark{})
	copy(t.marks[i+1:], t.marks[i:])
	t.marks[i] = m
	if len(t.marks) > maxMarks {
		// Drop the mark whose neighbours are closest, so the marks stay
		// about evenly spread over the output; the start and the last stay.
		drop := 1
		for j := 2; j < len(t.marks)-1; j++ {
			if t.marks[j+1].off-t.marks[j-1].off < t.marks[drop+1].off-t.marks[drop-1].off {
				drop = j
			}
		}
		t.marks = append(t.marks[:drop], t.marks[drop+1:]...)
	}
}

// positions holds the trails of the runs most recently read.
type positions struct {
	mu   sync.Mutex
	max  int
	tick uint64
	runs map[string]*trail
}

func newPositions(max int) *positions {
	if max <= 0 {
		max = 256
	}
	return &positions{max: max, runs: map[string]*trail{}}
}

// of is the trail of a run, locked; the caller unlocks it.
func (p *positions) of(id string) *trail {
	p.mu.Lock()
	p.tick++
	t, ok := p.runs[id]
	if !ok {
		if len(p.runs) >= p.max {
			var oldest string
			for k, v := range p.runs {
				if oldest == "" || v.used < p.runs[oldest].used {
					oldest = k
				}
			}
			delete(p.runs, oldest)
		}
		t = &trail{marks: []mark{{}}}
		p.runs[id] = t
	}
	t.used = p.tick
	p.mu.Unlock()
	t.mu.Lock()
	return t
}

// reading is output read from a run's log stream.
type reading struct {
	text  []byte
	start int64 // the offset text starts at
	at    mark  // where reading stopped: text ends at at.off
	// end: the stream had nothing more (for now); done: and the run has
	// finished, so nothing more will come.
	end, done bool
}

// read reads a run's stream from a mark on, page by page, recording a mark
// after each, until the stream has nothing more, the text reaches until
// (when until >= 0), or Options.LogPages pages have been read. It keeps
// only the text from keepFrom on and, when keepLast > 0, only the last
// keepLast bytes of it.
func (s *server) read(ctx context.Context, id string, t *trail, from mark, until, keepFrom, keepLast int64) (reading, error) {
	r := reading{start: from.off, at: from}
	trim := func() {
		cut := max(0, keepFrom-r.start)
		if keepLast > 0 {
			cut = max(cut, int64(len(r.text))-keepLast)
		}
		cut = min(cut, int64(len(r.text)))
		r.text = r.text[cut:]
		r.start += cut
	}
	for range s.o.LogPages {
		page, err := s.o.Deployment.Logs(ctx, id, r.at.token)
		if err != nil {
			return r, err
		}
		r.done = page.Done
		var b []byte
		for _, e := range page.Events {
			b = append(b, e.Message...)
			b = append(b, '\n')
		}
		moved := page.Next != "" && page.Next != r.at.token
		if len(b) == 0 {
			// CloudWatch may answer an empty page short of the end, with a
			// token that goes on: follow it.
			if moved {
				r.at.token = page.Next
				t.add(r.at)
			}
			if moved && !page.Done {
				continue
			}
			r.end = true
			return r, nil
		}
		r.text = append(r.text, b...)
		r.at.off += int64(len(b))
		trim()
		if !moved {
			// Output with no token to go on from: it can be read again
			// from the earlier mark, but not on from here.
			r.end = true
			return r, nil
		}
		r.at.token = page.Next
		t.add(r.at)
		if until >= 0 && r.at.off >= until {
			return r, nil
		}
	}
	return r, nil
}

// readLogs serves GET /v1/runs/{id}/logs?stream=&offset=|tail=.
func (s *server) readLogs(w http.ResponseWriter, r *http.Request) {
	id, ok := runID(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	stream := q.Get("stream")
	if stream == "" {
		stream = "stdout"
	}
	if stream != "stdout" && stream != "stderr" {
		api.WriteError(w, http.StatusBadRequest, fmt.Sprintf("stream %q is unknown: use stdout or stderr", stream))
		return
	}
	var offset, tail int64
	if o := q.Get("offset"); o != "" {
		n, err := strconv.ParseInt(o, 10, 64)
		if err != nil || n < 0 {
			api.WriteError(w, http.StatusBadRequest, fmt.Sprintf("offset %q is not a byte offset", o))
			return
		}
		offset = n
	}
	if tl := q.Get("tail"); tl != "" {
		n, err := strconv.ParseInt(tl, 10, 64)
		if err != nil || n < 1 || n > api.MaxLogChunk {
			api.WriteError(w, http.StatusBadRequest, fmt.Sprintf("tail %q is out of range: use 1 to %d bytes", tl, api.MaxLogChunk))
			return
		}
		if q.Get("offset") != "" {
			api.WriteError(w, http.StatusBadRequest, "give offset or tail, not both: tail reads the last bytes, offset reads on from a byte")
			return
		}
		tail = n
	}

	if stream == "stderr" {
		// Nothing is ever written here: stderr is in the stream answered as
		// stdout. The run is read to say honestly whether it is done.
		got, err := s.o.Deployment.Get(r.Context(), id)
		if err != nil {
			s.fail(w, "read run "+id, err)
			return
		}
		writeChunk(w, nil, offset, offset, got.Status.Terminal())
		return
	}

	t := s.logs.of(id)
	defer t.mu.Unlock()
	var (
		text  []byte
		start int64
		next  int64
		done  bool
		err   error
	)
	if tail > 0 {
		text, start, next, done, err = s.tail(r.Context(), id, t, tail)
	} else {
		text, start, next, done, err = s.from(r.Context(), id, t, offset)
	}
	if err != nil {
		s.fail(w, "read the output of run "+id, err)
		return
	}
	writeChunk(w, text, start, next, done)
}

// from is the output from offset on: one page when the offset is a mark,
// else what follows it once read to.
func (s *server) from(ctx context.Context, id string, t *trail, offset int64) (text []byte, start, next int64, done bool, err error) {
	r, err := s.read(ctx, id, t, t.floor(offset), offset+1, offset, 0)
	if err != nil {
		return nil, 0, 0, false, err
	}
	if r.at.off <= offset {
		// Not read to yet (the output is shorter, or the pages ran out):
		// nothing from here, as a file read past its end.
		return nil, offset, offset, r.done && r.end, nil
	}
	return r.text, r.start, r.at.off, r.done && r.end, nil
}

// tail is the last n bytes of the output read so far, read on to the end
// first.
func (s *server) tail(ctx context.Context, id string, t *trail, n int64) (text []byte, start, next int64, done bool, err error) {
	r, err := s.read(ctx, id, t, t.last(), -1, 0, n)
	if err != nil {
		return nil, 0, 0, false, err
	}
	end := r.at.off
	want := max(0, end-n)
	if r.start > want {
		// Less than n bytes were new: the rest is before the last mark,
		// read again from the mark before it.
		before, err := s.read(ctx, id, t, t.floor(want), r.start, want, 0)
		if err != nil {
			return nil, 0, 0, false, err
		}
		if before.start == want && before.at.off >= r.start {
			r.text = append(before.text[:r.start-want:r.start-want], r.text...)
			r.start = want
		}
	}
	return r.text, r.start, end, r.done && r.end, nil
}

func writeChunk(w http.ResponseWriter, text []byte, start, next int64, done bool) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set(api.HeaderLogStart, strconv.FormatInt(start, 10))
	w.Header().Set(api.HeaderLogOffset, strconv.FormatInt(next, 10))
	w.Header().Set(api.HeaderRunDone, strconv.FormatBool(done))
	w.Header().Set(api.HeaderLogStreams, api.LogStreamsCombined)
	w.WriteHeader(http.StatusOK)
	w.Write(text)
}
