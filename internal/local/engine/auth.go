package engine

import (
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"regexp"
	"strings"
)

// tokenCookie carries the token for the dashboard's own requests.
const tokenCookie = "longshore_token"

// MinTokenLen is the shortest token the engine accepts.
const MinTokenLen = 16

// loopback reports whether addr (host:port) binds only this machine.
func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// checkToken refuses an engine that listens beyond this machine without a
// token, or with one too short to be one.
func checkToken(cfg Config) error {
	var wide []string
	for _, a := range []struct{ flag, addr string }{{"--addr", cfg.Addr}, {"--s3-addr", cfg.S3Addr}, {"--sqs-addr", cfg.SQSAddr}} {
		if !loopback(a.addr) {
			wide = append(wide, a.flag+" "+a.addr)
		}
	}
	switch {
	case len(wide) > 0 && cfg.Token == "":
		return fmt.Errorf("%s listens beyond this machine: give a token with --token or LONGSHORE_TOKEN (at least %d characters); every request must then carry it", strings.Join(wide, ", "), MinTokenLen)
	case cfg.Token != "" && len(cfg.Token) < MinTokenLen:
		return fmt.Errorf("the token is %d characters: use at least %d", len(cfg.Token), MinTokenLen)
	}
	return nil
}

// sigV4Credential finds the access key id of an AWS Signature Version 4
// Authorization header, or of a presigned URL.
var sigV4Credential = regexp.MustCompile(`Credential=([^/,\s]+)/`)

// withToken makes every request to h carry the token: as
// "Authorization: Bearer TOKEN" for the runs API, or, for the S3 and SQS
// endpoints that AWS SDKs call, as the access key id the request is signed
// with (AWS_ACCESS_KEY_ID=TOKEN). With no token, h is returned as it is.
func withToken(token string, h http.Handler) http.Handler {
	if token == "" {
		return h
	}
	want := []byte(token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// A browser opens the dashboard once with ?token=...: the token goes
		// into a cookie for the page's own requests, and out of the address.
		if q := r.URL.Query().Get("token"); q != "" && r.Method == http.MethodGet &&
			subtle.ConstantTimeCompare([]byte(q), want) == 1 {
			http.SetCookie(w, &http.Cookie{Name: tokenCookie, Value: q, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode})
			http.Redirect(w, r, r.URL.Path, http.StatusSeeOther)
			return
		}
		got := ""
		auth := r.Header.Get("Authorization")
		if bearer, ok := strings.CutPrefix(auth, "Bearer "); ok {
			got = bearer
		} else if m := sigV4Credential.FindStringSubmatch(auth + " Credential=" + r.URL.Query().Get("X-Amz-Credential")); m != nil {
			got = m[1]
		} else if c, err := r.Cookie(tokenCookie); err == nil {
			got = c.Value
		}
		if subtle.ConstantTimeCompare([]byte(got), want) != 1 {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("WWW-Authenticate", `Bearer realm="longshore"`)
			w.WriteHeader(http.StatusUnauthorized)
			json.NewEncoder(w).Encode(map[string]string{"error": "this engine needs its token: send Authorization: Bearer TOKEN (LONGSHORE_TOKEN for the CLI), or sign with AWS_ACCESS_KEY_ID=TOKEN for S3 and SQS"})
			return
		}
		h.ServeHTTP(w, r)
	})
}
