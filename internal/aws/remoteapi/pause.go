package remoteapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/longshore/longshore/internal/api"
	"github.com/longshore/longshore/internal/aws/remote"
)

// Pauser pauses and resumes a deployment's jobs (remote.Client).
type Pauser interface {
	Pause(ctx context.Context, jobName, reason string) (api.PauseResponse, error)
	Resume(ctx context.Context, jobName string) (api.PauseResponse, error)
	Pauses(ctx context.Context) ([]api.PauseResponse, error)
}

var _ Pauser = (*remote.Client)(nil)

// pause serves POST /v1/jobs/{name}/pause through the api function.
func (s *server) pause(w http.ResponseWriter, r *http.Request) {
	var req api.PauseRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, api.MaxBodyBytes))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil && !errors.Is(err, io.EOF) {
		api.WriteError(w, http.StatusBadRequest, fmt.Sprintf(`request body is not a pause request: %v; send {"reason": TEXT} or nothing`, err))
		return
	}
	name := r.PathValue("name")
	got, err := s.o.Pauser.Pause(r.Context(), name, req.Reason)
	if err != nil {
		s.fail(w, "pause "+name, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, got)
}

// resume serves POST /v1/jobs/{name}/resume through the api function.
func (s *server) resume(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	got, err := s.o.Pauser.Resume(r.Context(), name)
	if err != nil {
		s.fail(w, "resume "+name, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, got)
}

// WithPauses sets whether each job is paused, since when and why, from one
// call of the api function.
func WithPauses(ctx context.Context, dep Pauser, jobs []api.Job) error {
	states, err := dep.Pauses(ctx)
	if err != nil {
		return err
	}
	byJob := make(map[string]api.PauseResponse, len(states))
	for _, st := range states {
		byJob[st.Job] = st
	}
	for i := range jobs {
		st := byJob[jobs[i].Name]
		jobs[i].Paused, jobs[i].PausedReason, jobs[i].PausedSince = st.Paused, st.PausedReason, st.PausedSince
	}
	return nil
}
