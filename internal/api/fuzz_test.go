package api_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzRequests sends arbitrary bodies and paths to the API: it never
// panics, always answers JSON, and refuses what it cannot read with a 4xx
// that says why.
func FuzzRequests(f *testing.F) {
	for _, s := range []struct{ method, path, body string }{
		{"POST", "/v1/runs", `{"job":"hello","env":{"A":"1"},"key":"k","waitSeconds":0}`},
		{"POST", "/v1/runs", `{"job":"hello","command":["a","b"]}`},
		{"POST", "/2015-03-31/functions/launcher/invocations", `{"job":"nope"}`},
		{"POST", "/v1/runs", `{"job":"hello","env":{"LONGSHORE_RUN_ID":"x"}}`},
		{"GET", "/v1/runs?status=failed,queued&limit=3&job=hello", ""},
		{"GET", "/v1/runs/r-0000000000000001/logs?offset=-1", ""},
		{"POST", "/v1/runs/r-0000000000000001/stop", ""},
		{"PUT", "/v1/jobs", "{}"},
	} {
		f.Add(s.method, s.path, s.body)
	}
	w := newWorld(f)
	f.Fuzz(func(t *testing.T, method, path, body string) {
		if !strings.HasPrefix(path, "/") || strings.ContainsAny(path, " \r\n\t#") || !validMethod(method) {
			return
		}
		req, err := http.NewRequest(method, "http://x"+path, strings.NewReader(body))
		if err != nil {
			return
		}
		if strings.Contains(body, `"waitSeconds"`) {
			return // a waiting request may legitimately take long
		}
		rec := httptest.NewRecorder()
		w.handler.ServeHTTP(rec, req)
		res := rec.Result()
		if res.StatusCode >= 500 {
			t.Fatalf("%s %s %q = %d %s", method, path, body, res.StatusCode, rec.Body.String())
		}
		if res.Header.Get("Content-Type") == "application/json" {
			var v any
			if rec.Body.Len() > 0 && json.Unmarshal(rec.Body.Bytes(), &v) != nil {
				t.Fatalf("%s %s answered broken JSON %q", method, path, rec.Body.String())
			}
		}
		if res.StatusCode >= 400 {
			// The runs API says {"error": ...}; the Lambda API {"Message": ...} as AWS does.
			var e struct {
				Error   string `json:"error"`
				Message string `json:"Message"`
			}
			if json.Unmarshal(rec.Body.Bytes(), &e) != nil || e.Error+e.Message == "" {
				t.Fatalf("%s %s = %d without a message: %q", method, path, res.StatusCode, rec.Body.String())
			}
		}
	})
}

func validMethod(m string) bool {
	switch m {
	case "GET", "POST", "PUT", "DELETE", "PATCH", "HEAD":
		return true
	}
	return false
}
