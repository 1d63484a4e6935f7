package engine

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestAnEngineBeyondThisMachineNeedsAToken(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"loopback addresses need none", Config{Addr: "127.0.0.1:1", S3Addr: "[::1]:2", SQSAddr: "localhost:3"}, ""},
		{"all interfaces without a token are refused", Config{Addr: "0.0.0.0:8750", S3Addr: "127.0.0.1:2", SQSAddr: "127.0.0.1:3"},
			"--addr 0.0.0.0:8750 listens beyond this machine: give a token with --token or LONGSHORE_TOKEN"},
		{"a short token is refused", Config{Addr: ":8750", S3Addr: "127.0.0.1:2", SQSAddr: "127.0.0.1:3", Token: "abc"},
			"the token is 3 characters: use at least 16"},
		{"all interfaces with a token are fine", Config{Addr: ":8750", S3Addr: ":8751", SQSAddr: ":8752", Token: "0123456789abcdef"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkToken(tt.cfg)
			if (err == nil) != (tt.want == "") || (err != nil && !strings.HasPrefix(err.Error(), tt.want)) {
				t.Errorf("checkToken = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestEveryRequestMustCarryTheToken(t *testing.T) {
	const token = "0123456789abcdef"
	h := withToken(token, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusTeapot) }))
	sigv4 := "AWS4-HMAC-SHA256 Credential=%s/20261122/us-east-1/sqs/aws4_request, SignedHeaders=host, Signature=abc"
	tests := []struct {
		name   string
		header string
		target string
		cookie string
		want   int
	}{
		{"no token is refused", "", "/v1/runs", "", http.StatusUnauthorized},
		{"a bearer token is let through", "Bearer " + token, "/v1/runs", "", http.StatusTeapot},
		{"a wrong bearer token is refused", "Bearer 0123456789abcdeX", "/v1/runs", "", http.StatusUnauthorized},
		{"an AWS signature with the token as access key is let through", strings.Replace(sigv4, "%s", token, 1), "/", "", http.StatusTeapot},
		{"an AWS signature with another access key is refused", strings.Replace(sigv4, "%s", "AKIAEXAMPLE", 1), "/", "", http.StatusUnauthorized},
		{"a presigned URL with the token is let through", "", "/uploads/x?X-Amz-Credential=" + token + "%2F20261122%2Fus-east-1%2Fs3%2Faws4_request", "", http.StatusTeapot},
		{"the dashboard's cookie is let through", "", "/v1/runs", token, http.StatusTeapot},
		{"the token in the address becomes a cookie", "", "/?token=" + token, "", http.StatusSeeOther},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, tt.target, nil)
			if tt.header != "" {
				r.Header.Set("Authorization", tt.header)
			}
			if tt.cookie != "" {
				r.AddCookie(&http.Cookie{Name: tokenCookie, Value: tt.cookie})
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != tt.want {
				t.Errorf("%s = %d, want %d", tt.target, w.Code, tt.want)
			}
			if w.Code == http.StatusSeeOther && (w.Header().Get("Location") != "/" || !strings.Contains(w.Header().Get("Set-Cookie"), "HttpOnly")) {
				t.Errorf("redirect to %q, cookie %q", w.Header().Get("Location"), w.Header().Get("Set-Cookie"))
			}
		})
	}
}
