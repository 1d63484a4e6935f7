package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/longshore/longshore/internal/dispatch"
	"github.com/longshore/longshore/internal/run"
)

// BackfillFunc creates the runs of a job's schedule times in a window (the
// local engine: its scheduler's Backfill).
type BackfillFunc func(ctx context.Context, job string, req BackfillRequest) (BackfillResponse, error)

// BackfillRequest asks for the runs a job's schedules would have started
// from From (included) to To (excluded), or with DryRun only their times.
type BackfillRequest struct {
	From   time.Time `json:"from"`
	To     time.Time `json:"to"`
	DryRun bool      `json:"dryRun,omitempty"`
}

// BackfillTime is one time of a backfill and, unless a dry run, its run.
type BackfillTime struct {
	// At is the scheduled time in UTC, Local the same time in the
	// schedule's zone.
	At       time.Time `json:"at"`
	Local    string    `json:"local"`
	Schedule string    `json:"schedule"`
	Timezone string    `json:"timezone"`
	// Run is the time's run, Existing true when the time had made it
	// before (a firing, or an earlier backfill).
	Run      string     `json:"run,omitempty"`
	Status   run.Status `json:"status,omitempty"`
	Existing bool       `json:"existing,omitempty"`
	// Error says why the time's run could not be stored.
	Error string `json:"error,omitempty"`
}

// BackfillResponse answers a backfill: every time, and the ids of the runs
// it created and of those that were already there.
type BackfillResponse struct {
	Job      string         `json:"job"`
	From     time.Time      `json:"from"`
	To       time.Time      `json:"to"`
	DryRun   bool           `json:"dryRun"`
	Times    []BackfillTime `json:"times"`
	Created  []string       `json:"created"`
	Existing []string       `json:"existing"`
	// Failed counts the times whose run could not be stored (see their Error).
	Failed int `json:"failed"`
}

// BackfillAnswer builds the answer to a backfill of job from its times and,
// unless a dry run, the launcher's answer to each (runs and errs in the
// times' order).
func BackfillAnswer(job string, req BackfillRequest, times []run.Firing, runs []dispatch.Launched, errs []error) BackfillResponse {
	out := BackfillResponse{Job: job, From: req.From.UTC(), To: req.To.UTC(), DryRun: req.DryRun,
		Times: make([]BackfillTime, len(times)), Created: []string{}, Existing: []string{}}
	for i, f := range times {
		t := BackfillTime{At: f.At.UTC(), Local: f.Local().Format(time.RFC3339), Schedule: f.Schedule, Timezone: f.Timezone}
		switch {
		case i >= len(runs):
		case i < len(errs) && errs[i] != nil:
			t.Error = errs[i].Error()
			out.Failed++
		case runs[i].Duplicate:
			t.Run, t.Status, t.Existing = runs[i].Run.ID, runs[i].Run.Status, true
			out.Existing = append(out.Existing, runs[i].Run.ID)
		default:
			t.Run, t.Status = runs[i].Run.ID, runs[i].Run.Status
			out.Created = append(out.Created, runs[i].Run.ID)
		}
		out.Times[i] = t
	}
	return out
}

// backfill serves POST /v1/jobs/{name}/backfill.
func (h *handler) backfill(w http.ResponseWriter, r *http.Request) {
	var req BackfillRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		WriteError(w, http.StatusBadRequest, fmt.Sprintf(`request body is not a backfill request: %v; send {"from": RFC3339, "to": RFC3339, "dryRun": BOOL}`, err))
		return
	}
	if req.From.IsZero() || req.To.IsZero() {
		WriteError(w, http.StatusBadRequest, `a backfill needs "from" and "to" (RFC 3339 times)`)
		return
	}
	if h.o.Backfill == nil {
		WriteError(w, http.StatusNotFound, "this server does not backfill: use longshore local, or --aws for a deployment")
		return
	}
	resp, err := h.o.Backfill(r.Context(), r.PathValue("name"), req)
	var be *run.BackfillError
	switch {
	case errors.As(err, &be) && be.UnknownJob:
		WriteError(w, http.StatusNotFound, err.Error())
	case errors.As(err, &be):
		WriteError(w, http.StatusBadRequest, err.Error())
	case err != nil:
		WriteError(w, statusOf(err), err.Error())
	default:
		WriteJSON(w, http.StatusOK, resp)
	}
}

// Backfill creates the runs of a job's schedule times from req.From to
// req.To (or lists the times, with DryRun).
func (c *Client) Backfill(ctx context.Context, job string, req BackfillRequest) (BackfillResponse, error) {
	var out BackfillResponse
	_, err := c.do(ctx, http.MethodPost, "/v1/jobs/"+url.PathEscape(job)+"/backfill", req, &out)
	return out, err
}
