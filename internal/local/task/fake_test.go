package task

import (
	"context"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/longshore/longshore/internal/dispatch"
	"github.com/longshore/longshore/internal/run"
)

// fixedNow is the clock of the supervisors under test.
var fixedNow = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

// fakeBackend makes fakeHandles; its function fields, when set, replace
// what it does by default.
type fakeBackend struct {
	// change adjusts each handle Create makes.
	change func(h *fakeHandle)
	// find answers Find; Lost when nil.
	find func(rec Started) (Found, error)
	left []Handle

	mu      sync.Mutex
	created []*fakeHandle
}

var _ Backend = (*fakeBackend)(nil)

func (b *fakeBackend) Kind() string { return "fake" }

func (b *fakeBackend) Create(_ context.Context, t dispatch.Task) (Handle, error) {
	h := newFakeHandle(t.Run.ID)
	if b.change != nil {
		b.change(h)
	}
	b.mu.Lock()
	b.created = append(b.created, h)
	b.mu.Unlock()
	return h, nil
}

func (b *fakeBackend) creates() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.created)
}

func (b *fakeBackend) Parse(ref string) (string, bool) {
	id, ok := strings.CutPrefix(ref, "fake:")
	return id, ok && run.ValidID(id)
}

func (b *fakeBackend) Find(_ context.Context, rec Started) (Found, error) {
	if b.find == nil {
		return Found{State: Lost}, nil
	}
	return b.find(rec)
}

func (b *fakeBackend) Leftovers(context.Context) ([]Handle, error) { return b.left, nil }

// fakeHandle is a task that ends when told to, or when signalled: 143 on
// SIGTERM (unless it ignores it), 137 on SIGKILL (unless it ignores every
// signal).
type fakeHandle struct {
	ref        string
	own        any
	output     string
	startErr   error
	ignoreTerm bool
	ignoreAll  bool
	exit       chan Exit

	mu      sync.Mutex
	signals []syscall.Signal
	started bool
	removed bool
}

var _ Handle = (*fakeHandle)(nil)

func newFakeHandle(runID string) *fakeHandle {
	return &fakeHandle{ref: "fake:" + runID, exit: make(chan Exit, 1)}
}

func (h *fakeHandle) Ref() string { return h.ref }
func (h *fakeHandle) Record() any { return h.own }

func (h *fakeHandle) Start(context.Context) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.started = true
	return h.startErr
}

func (h *fakeHandle) Wait(ctx context.Context, out Output) (Exit, error) {
	_, _ = out.Stdout.Write([]byte(h.output))
	select {
	case ex := <-h.exit:
		return ex, nil
	case <-ctx.Done():
		return Exit{}, ctx.Err()
	}
}

func (h *fakeHandle) Drain() {}

func (h *fakeHandle) Kill(sig syscall.Signal) {
	h.mu.Lock()
	h.signals = append(h.signals, sig)
	h.mu.Unlock()
	switch {
	case h.ignoreAll:
	case sig == syscall.SIGKILL:
		h.end(137)
	case sig == syscall.SIGTERM && !h.ignoreTerm:
		h.end(143)
	}
}

func (h *fakeHandle) Remove() {
	h.mu.Lock()
	h.removed = true
	h.mu.Unlock()
	h.end(137)
}

// end ends the task with code, unless it has ended.
func (h *fakeHandle) end(code int) {
	select {
	case h.exit <- Exit{Code: &code, StopCode: run.StopCodeEssentialExited, Reason: "the fake exited"}:
	default:
	}
}

func (h *fakeHandle) sent() []syscall.Signal {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]syscall.Signal(nil), h.signals...)
}

func (h *fakeHandle) wasRemoved() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.removed
}
