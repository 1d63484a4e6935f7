package api

import (
	"fmt"
	"net/http"
	"strings"
)

// Routes are the handlers of the runs API. The local engine (NewHandler) and
// `dashboard --aws` (package remoteapi) serve the same paths through Serve.
type Routes struct {
	List, Start, Get, Logs, Stop, Jobs http.HandlerFunc
	// Invoke, when set, serves Lambda's Invoke API (POST
	// /2015-03-31/functions/{name}/invocations).
	Invoke http.HandlerFunc
	// Backfill, when set, serves POST /v1/jobs/{name}/backfill.
	Backfill http.HandlerFunc
	// Pause and Resume, when set, serve POST /v1/jobs/{name}/pause and /resume.
	Pause, Resume http.HandlerFunc
	// UI serves every other GET and HEAD (the dashboard), when set.
	UI http.Handler
	// Instead ends the answer to a request refused for coming from a page
	// of another origin: what to use instead.
	Instead string
}

// invocationPath is the path of Lambda's Invoke API.
const invocationPath = "/2015-03-31/functions/{name}/invocations"

// Serve routes the runs API: each path by its method (a JSON 405 for
// another), GET /healthz, the UI for other GETs, a JSON 404 for the rest.
// Requests that change something (POST) are refused when a browser sends
// them from another origin (http.CrossOriginProtection), so that no web
// page can start or stop runs through a user's browser; other clients (the
// CLI, the AWS SDK, curl) send no such headers and are not affected.
func Serve(rt Routes) http.Handler {
	mux := http.NewServeMux()
	if rt.Invoke != nil {
		mux.HandleFunc(invocationPath, Methods(map[string]http.HandlerFunc{http.MethodPost: rt.Invoke}))
	}
	mux.HandleFunc("/v1/runs", Methods(map[string]http.HandlerFunc{http.MethodGet: rt.List, http.MethodPost: rt.Start}))
	mux.HandleFunc("/v1/runs/{id}", Methods(map[string]http.HandlerFunc{http.MethodGet: rt.Get}))
	mux.HandleFunc("/v1/runs/{id}/logs", Methods(map[string]http.HandlerFunc{http.MethodGet: rt.Logs}))
	mux.HandleFunc("/v1/runs/{id}/stop", Methods(map[string]http.HandlerFunc{http.MethodPost: rt.Stop}))
	mux.HandleFunc("/v1/jobs", Methods(map[string]http.HandlerFunc{http.MethodGet: rt.Jobs}))
	if rt.Backfill != nil {
		mux.HandleFunc("/v1/jobs/{name}/backfill", Methods(map[string]http.HandlerFunc{http.MethodPost: rt.Backfill}))
	}
	if rt.Pause != nil {
		mux.HandleFunc("/v1/jobs/{name}/pause", Methods(map[string]http.HandlerFunc{http.MethodPost: rt.Pause}))
	}
	if rt.Resume != nil {
		mux.HandleFunc("/v1/jobs/{name}/resume", Methods(map[string]http.HandlerFunc{http.MethodPost: rt.Resume}))
	}
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if rt.UI != nil && (r.Method == http.MethodGet || r.Method == http.MethodHead) && !apiPath(r.URL.Path) {
			rt.UI.ServeHTTP(w, r)
			return
		}
		WriteError(w, http.StatusNotFound, fmt.Sprintf("no such endpoint: %s %s", r.Method, r.URL.Path))
	})
	csrf := http.NewCrossOriginProtection()
	csrf.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		WriteError(w, http.StatusForbidden, fmt.Sprintf("%s %s came from a page of another origin and was refused: %s", r.Method, r.URL.Path, rt.Instead))
	}))
	return csrf.Handler(mux)
}

// apiPath tells whether a path belongs to the API rather than to the UI.
func apiPath(p string) bool {
	return p == "/v1" || strings.HasPrefix(p, "/v1/") || strings.HasPrefix(p, "/2015-03-31/") ||
		p == "/healthz" || strings.HasPrefix(p, "/healthz/")
}
