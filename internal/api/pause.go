package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/longshore/longshore/internal/dispatch"
)

// Pauser pauses and resumes jobs (dispatch.Service).
type Pauser interface {
	Pause(ctx context.Context, jobName string, paused bool, reason string) (dispatch.PauseState, error)
	PauseState(ctx context.Context, jobName string) (dispatch.PauseState, error)
}

// PauseRequest is the body of POST /v1/jobs/{name}/pause (optional).
type PauseRequest struct {
	Reason string `json:"reason,omitempty"`
}

// PauseResponse is a job's pause state after a pause or a resume.
type PauseResponse struct {
	Job          string     `json:"job"`
	Paused       bool       `json:"paused"`
	PausedReason string     `json:"pausedReason,omitempty"`
	PausedSince  *time.Time `json:"pausedSince,omitempty"`
}

// PauseView is a job's pause state as the API shows it.
func PauseView(jobName string, st dispatch.PauseState) PauseResponse {
	out := PauseResponse{Job: jobName, Paused: st.Paused, PausedReason: st.Reason}
	if st.Paused && !st.Since.IsZero() {
		t := st.Since.UTC()
		out.PausedSince = &t
	}
	return out
}

// WithPause fills a job's pause fields.
func WithPause(ctx context.Context, j *Job, p Pauser) error {
	st, err := p.PauseState(ctx, j.Name)
	if err != nil {
		return err
	}
	v := PauseView(j.Name, st)
	j.Paused, j.PausedReason, j.PausedSince = v.Paused, v.PausedReason, v.PausedSince
	return nil
}

func (h *handler) pause(w http.ResponseWriter, r *http.Request)  { h.setPause(w, r, true) }
func (h *handler) resume(w http.ResponseWriter, r *http.Request) { h.setPause(w, r, false) }

func (h *handler) setPause(w http.ResponseWriter, r *http.Request, paused bool) {
	if h.o.Pauser == nil {
		WriteError(w, http.StatusNotFound, "this server does not pause jobs")
		return
	}
	var req PauseRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil && !errors.Is(err, io.EOF) {
		WriteError(w, http.StatusBadRequest, fmt.Sprintf(`request body is not a pause request: %v; send {"reason": TEXT} or nothing`, err))
		return
	}
	name := r.PathValue("name")
	st, err := h.o.Pauser.Pause(r.Context(), name, paused, req.Reason)
	if err != nil {
		WriteError(w, statusOf(err), err.Error())
		return
	}
	WriteJSON(w, http.StatusOK, PauseView(name, st))
}

// Pause pauses a job: its schedules stop firing and its other triggers are
// recorded as runs that did not start, until Resume.
func (c *Client) Pause(ctx context.Context, job, reason string) (PauseResponse, error) {
	var out PauseResponse
	_, err := c.do(ctx, http.MethodPost, "/v1/jobs/"+url.PathEscape(job)+"/pause", PauseRequest{Reason: reason}, &out)
	return out, err
}

// Resume resumes a paused job. Nothing skipped while it was paused is replayed.
func (c *Client) Resume(ctx context.Context, job string) (PauseResponse, error) {
	var out PauseResponse
	_, err := c.do(ctx, http.MethodPost, "/v1/jobs/"+url.PathEscape(job)+"/resume", nil, &out)
	return out, err
}
