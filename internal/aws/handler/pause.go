package handler

import (
	"context"
	"errors"
	"fmt"

	"github.com/longshore/longshore/internal/api"
)

// PausesPage is every job's pause state, by job name order.
type PausesPage struct {
	Jobs []api.PauseResponse `json:"jobs"`
}

// setPause pauses or resumes a job: its pause state is recorded, and every
// function drops its schedule triggers and records its other triggers as
// runs that did not start within host.PauseCacheTTL; the reconciler then
// disables its schedules (or enables them) within a minute
// (schedules.Sync), so that they stop firing at all.
func (a *API) setPause(ctx context.Context, req APIRequest) (api.PauseResponse, error) {
	if a.o.Pauses == nil || a.o.Jobs == nil {
		return api.PauseResponse{}, errors.New("this deployment's api function keeps no pause state")
	}
	spec, ok := a.o.Jobs.Get(req.Job)
	if !ok {
		return api.PauseResponse{}, badRequest(fmt.Sprintf("unknown job %q", req.Job))
	}
	paused := req.Op == OpPause
	st, err := a.o.Pauses.Pause(ctx, spec.Name, paused, req.Reason)
	if err != nil {
		return api.PauseResponse{}, err
	}
	return api.PauseView(spec.Name, st), nil
}

// pauses answers every job's pause state.
func (a *API) pauses(ctx context.Context) (PausesPage, error) {
	out := PausesPage{Jobs: []api.PauseResponse{}}
	if a.o.Pauses == nil || a.o.Jobs == nil {
		return out, nil
	}
	for _, spec := range a.o.Jobs.Jobs() {
		st, err := a.o.Pauses.PauseState(ctx, spec.Name)
		if err != nil {
			return PausesPage{}, err
		}
		out.Jobs = append(out.Jobs, api.PauseView(spec.Name, st))
	}
	return out, nil
}
