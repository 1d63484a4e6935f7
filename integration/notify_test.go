package integration

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func TestAFailedRunNotifiesItsWebhookSignedAndTheRunShowsTheDelivery(t *testing.T) {
	const secret = "s3cr3t-for-the-hook"
	var mu sync.Mutex
	var got []map[string]any
	var signatures []string
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var m map[string]any
		if json.Unmarshal(body, &m) != nil {
			http.Error(w, "not JSON", http.StatusBadRequest)
			return
		}
		mac := hmac.New(sha256.New, []byte(secret))
		mac.Write(body)
		mu.Lock()
		got = append(got, m)
		signatures = append(signatures, r.Header.Get("X-Longshore-Signature")+" "+hex.EncodeToString(mac.Sum(nil)))
		mu.Unlock()
	}))
	t.Cleanup(hook.Close)

	jobs := t.TempDir()
	write(t, jobs, "nightly/job.yaml", `local:
  command: [sh, -c, 'echo failing; exit 3']
notify:
  - on: [failed]
    webhook: {url: `+hook.URL+`/hook, secret: 'ssm:/team/hook-secret'}
`)
	write(t, jobs, "quiet/job.yaml", `local:
  command: [sh, -c, 'exit 3']
notify:
  - on: [succeeded]
    webhook: {url: `+hook.URL+`/never}
`)
	// The webhook's secret, as local secrets are given (LONGSHORE_SECRET_<NAME> or the secrets file).
	secrets := filepath.Join(t.TempDir(), "secrets.env")
	if err := os.WriteFile(secrets, []byte("ssm:/team/hook-secret="+secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	e := startEngine(t, jobs, t.TempDir(), "--runner", "process", "--secrets", secrets)

	for _, name := range []string{"quiet", "nightly"} {
		if r := e.cli("run", name, "--wait"); r.code != 3 {
			t.Fatalf("run %s --wait: exit %d %s", name, r.code, r.stderr)
		}
	}
	var id string
	eventually(t, "the webhook is called once", func() bool {
		mu.Lock()
		defer mu.Unlock()
		if len(got) == 1 {
			id, _ = got[0]["runId"].(string)
		}
		return len(got) == 1
	})
	mu.Lock()
	m, sig := got[0], signatures[0]
	mu.Unlock()
	if m["job"] != "nightly" || m["status"] != "failed" || m["exitCode"] != float64(3) || !strings.Contains(m["text"].(string), "nightly") {
		t.Errorf("the webhook got %v", m)
	}
	if parts := strings.Fields(sig); len(parts) != 2 || parts[0] != "sha256="+parts[1] {
		t.Errorf("signature header and HMAC of the body: %q", sig)
	}
	eventually(t, "the run shows its delivery", func() bool {
		r := e.cli("runs", "get", id, "--json")
		var v struct {
			Notifications []struct{ Target, Status string }
		}
		return json.Unmarshal([]byte(r.stdout), &v) == nil && len(v.Notifications) == 1 &&
			strings.HasSuffix(v.Notifications[0].Target, "/hook") && v.Notifications[0].Status == "delivered"
	})
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 1 {
		t.Errorf("the webhook was called %d times; the job notifying only on success must not call it", len(got))
	}
}
