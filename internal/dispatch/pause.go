package dispatch

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/longshore/longshore/internal/job"
	"github.com/longshore/longshore/internal/run"
)

// Pause is a job's pause or resume asked for at runtime (`longshore pause`,
// `longshore resume`).
type Pause struct {
	Job string
	// Paused: true after a pause, false after a resume.
	Paused bool
	// Reason is what the pause said (--reason), if anything.
	Reason string
	// At is when the pause or resume was asked for.
	At time.Time
	// FilePaused is the job file's `paused` when this was asked for: the
	// runtime state holds while the file still says the same (see Paused).
	FilePaused bool
}

// PauseStore keeps the runtime pause state of jobs (the local store's
// pauses table; on AWS one item per job in the runs table).
type PauseStore interface {
	// GetPause returns the job's runtime state, and false when it has none.
	GetPause(ctx context.Context, jobName string) (Pause, bool, error)
	// SetPause replaces the job's runtime state.
	SetPause(ctx context.Context, p Pause) error
}

// PauseLister is a PauseStore that can list every job's runtime state.
type PauseLister interface {
	ListPauses(ctx context.Context) ([]Pause, error)
}

// PauseState is whether a job is paused now, and since when and why.
type PauseState struct {
	Paused bool
	Reason string
	// Since is when it was paused at runtime; zero when paused by its job file.
	Since time.Time
}

// Paused decides whether a job is paused (pure). The job file's `paused`
// holds from the deploy; a runtime pause or resume overrides it for as long
// as the file's `paused` is the value it was when the pause or resume was
// asked for. So a runtime pause or resume survives deploys that leave the
// file's `paused` alone, and a deploy that changes `paused` wins over it.
func Paused(spec *job.Spec, p Pause, found bool) PauseState {
	if found && p.FilePaused == spec.Paused {
		if !p.Paused {
			return PauseState{}
		}
		return PauseState{Paused: true, Reason: p.Reason, Since: p.At}
	}
	if spec.Paused {
		return PauseState{Paused: true, Reason: "paused: true in " + spec.Name + "/job.yaml"}
	}
	return PauseState{}
}

// PauseAction is what a trigger of a job becomes.
type PauseAction int

const (
	// PauseLaunch: not paused, the run is launched.
	PauseLaunch PauseAction = iota
	// PauseRecord: the trigger is recorded as a run that did not start
	// (cancelled, with the pause's reason): an S3 object, an SQS message
	// (acknowledged, its body kept in the run), an invoke or a chained run.
	PauseRecord
	// PauseIgnore: nothing is recorded; a paused job's schedules do not fire.
	PauseIgnore
)

// Decide says what a trigger of a job in state st becomes (pure).
func Decide(st PauseState, kind run.TriggerKind) PauseAction {
	switch {
	case !st.Paused:
		return PauseLaunch
	case kind == run.TriggerSchedule:
		return PauseIgnore
	default:
		return PauseRecord
	}
}

// PausedReason is the reason of a run that did not start because its job
// was paused.
func PausedReason(st PauseState) string {
	if st.Reason == "" {
		return "did not start: job paused"
	}
	return "did not start: job paused (" + st.Reason + ")"
}

// PauseState reads whether a job is paused now.
func (s *Service) PauseState(ctx context.Context, jobName string) (PauseState, error) {
	spec, err := s.spec(jobName)
	if err != nil {
		return PauseState{}, err
	}
	return s.pauseState(ctx, spec)
}

func (s *Service) pauseState(ctx context.Context, spec *job.Spec) (PauseState, error) {
	if s.d.Pauses == nil {
		return Paused(spec, Pause{}, false), nil
	}
	p, found, err := s.d.Pauses.GetPause(ctx, spec.Name)
	if err != nil {
		return PauseState{}, fmt.Errorf("read whether %s is paused: %w", spec.Name, err)
	}
	return Paused(spec, p, found), nil
}

// Pause pauses a job (paused true) or resumes it (false) from now on.
// Nothing skipped while it was paused is replayed on resume.
func (s *Service) Pause(ctx context.Context, jobName string, paused bool, reason string) (PauseState, error) {
	spec, err := s.spec(jobName)
	if err != nil {
		return PauseState{}, err
	}
	if s.d.Pauses == nil {
		return PauseState{}, fmt.Errorf("this host keeps no pause state")
	}
	if !paused {
		reason = ""
	}
	if len(reason) > MaxPauseReason {
		return PauseState{}, &RequestError{Msg: fmt.Sprintf("a pause's reason takes at most %d characters", MaxPauseReason)}
	}
	p := Pause{Job: spec.Name, Paused: paused, Reason: reason, At: s.d.Now().UTC(), FilePaused: spec.Paused}
	if err := s.d.Pauses.SetPause(ctx, p); err != nil {
		return PauseState{}, fmt.Errorf("pause %s: %w", spec.Name, err)
	}
	s.d.Log.Info("job pause state", "job", spec.Name, "paused", paused, "reason", reason)
	return Paused(spec, p, true), nil
}

// MaxPauseReason bounds a pause's reason.
const MaxPauseReason = 500

// CachedPauses answers GetPause from memory for ttl after each read, so
// that a function reading the pause state for every trigger pays one read
// per job per ttl, not one per run. A pause or resume therefore takes
// effect within ttl in other processes (at once in this one: SetPause
// forgets the cached answer).
type CachedPauses struct {
	Store PauseStore
	TTL   time.Duration
	Now   Clock

	mu   sync.Mutex
	seen map[string]cachedPause
}

type cachedPause struct {
	p     Pause
	found bool
	at    time.Time
}

// GetPause implements PauseStore.
func (c *CachedPauses) GetPause(ctx context.Context, jobName string) (Pause, bool, error) {
	now := c.Now()
	c.mu.Lock()
	got, ok := c.seen[jobName]
	c.mu.Unlock()
	if ok && now.Sub(got.at) < c.TTL && !now.Before(got.at) {
		return got.p, got.found, nil
	}
	p, found, err := c.Store.GetPause(ctx, jobName)
	if err != nil {
		return p, found, err
	}
	c.mu.Lock()
	if c.seen == nil {
		c.seen = map[string]cachedPause{}
	}
	c.seen[jobName] = cachedPause{p: p, found: found, at: now}
	c.mu.Unlock()
	return p, found, nil
}

// SetPause implements PauseStore.
func (c *CachedPauses) SetPause(ctx context.Context, p Pause) error {
	c.mu.Lock()
	delete(c.seen, p.Job)
	c.mu.Unlock()
	return c.Store.SetPause(ctx, p)
}

// MemoryPauses keep pause states in memory, for a host that is one process
// and keeps nothing across restarts (tests, the fakes).
type MemoryPauses struct {
	mu sync.Mutex
	m  map[string]Pause
}

// GetPause implements PauseStore.
func (m *MemoryPauses) GetPause(_ context.Context, jobName string) (Pause, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	p, ok := m.m[jobName]
	return p, ok, nil
}

// SetPause implements PauseStore.
func (m *MemoryPauses) SetPause(_ context.Context, p Pause) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.m == nil {
		m.m = map[string]Pause{}
	}
	m.m[p.Job] = p
	return nil
}
