package dashboard_test

import (
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"path"
	"regexp"
	"strings"
	"testing"

	"github.com/longshore/longshore/internal/dashboard"
)

func get(t *testing.T, h http.Handler, method, target string, header ...string) *http.Response {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}

func body(t *testing.T, resp *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestTheDashboardAnswersEachPathWithTheRightFile(t *testing.T) {
	index, err := fs.ReadFile(dashboard.Assets(), "index.html")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, path string
		status     int
		typ        string
		index      bool   // the answer is index.html
		contains   string // else the body holds this
	}{
		{"the root is the jobs page", "/", 200, "text/html; charset=utf-8", true, ""},
		{"the jobs list routes in the browser", "/jobs", 200, "text/html; charset=utf-8", true, ""},
		{"a job routes in the browser", "/jobs/nightly-report", 200, "text/html; charset=utf-8", true, ""},
		{"the runs list routes in the browser", "/runs", 200, "text/html; charset=utf-8", true, ""},
		{"a run routes in the browser", "/runs/r-0123456789abcdef", 200, "text/html; charset=utf-8", true, ""},
		{"a filtered runs list routes in the browser", "/runs?job=hello&status=failed", 200, "text/html; charset=utf-8", true, ""},
		{"the entry module is JavaScript", "/assets/app.js", 200, "text/javascript; charset=utf-8", false, "import"},
		{"a page module is JavaScript", "/assets/views/run.js", 200, "text/javascript; charset=utf-8", false, "export function runPage"},
		{"the stylesheet is CSS", "/assets/app.css", 200, "text/css; charset=utf-8", false, "prefers-color-scheme: dark"},
		{"the icon is SVG", "/favicon.svg", 200, "image/svg+xml", false, "<svg"},
		{"a missing asset is a 404, not the page", "/assets/nope.js", 404, "text/plain; charset=utf-8", false, "no such dashboard file"},
		{"index.html is only served as a page", "/assets/index.html", 404, "text/plain; charset=utf-8", false, "no such dashboard file"},
		{"an unknown page is a 404 that the page explains", "/settings", 404, "text/html; charset=utf-8", true, ""},
		{"a path below a run is an unknown page", "/runs/r-0123456789abcdef/more", 404, "text/html; charset=utf-8", true, ""},
	}
	h := dashboard.Handler()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := get(t, h, "GET", tt.path)
			b := body(t, resp)
			if resp.StatusCode != tt.status || resp.Header.Get("Content-Type") != tt.typ {
				t.Errorf("GET %s = %d %q, want %d %q", tt.path, resp.StatusCode, resp.Header.Get("Content-Type"), tt.status, tt.typ)
			}
			if tt.index && b != string(index) {
				t.Errorf("GET %s did not answer index.html:\n%.200s", tt.path, b)
			}
			if !tt.index && !strings.Contains(b, tt.contains) {
				t.Errorf("GET %s lacks %q:\n%.200s", tt.path, tt.contains, b)
			}
		})
	}
}

func TestEveryAssetIsServedWithAKnownContentType(t *testing.T) {
	h := dashboard.Handler()
	n := 0
	err := fs.WalkDir(dashboard.Assets(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || p == "index.html" {
			return err
		}
		n++
		typ := dashboard.ContentType(p)
		if typ == "" {
			t.Errorf("%s: the dashboard ships no content type for %q files: add one to contentTypes", p, path.Ext(p))
			return nil
		}
		target := "/assets/" + p
		if p == "favicon.svg" {
			target = "/favicon.svg"
		}
		resp := get(t, h, "GET", target)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != typ || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("GET %s = %d %q (nosniff %q), want 200 %q", target, resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("X-Content-Type-Options"), typ)
		}
		return nil
	})
	if err != nil || n < 8 {
		t.Fatalf("walked %d assets: %v", n, err)
	}
}

// namespaces are URLs that name XML vocabularies: nothing is fetched from them.
var namespaces = []string{"http://www.w3.org/2000/svg"}

var (
	absoluteURL    = regexp.MustCompile(`(?i)\b(https?|wss?|ftp):\/\/[^\s"'<>)]*`)
	protocolLocal  = regexp.MustCompile(`(?i)(src|href|action|srcset)\s*=\s*["']?\s*//|url\(\s*["']?\s*//|(fetch|import)\s*\(\s*["'\x60]\s*//|from\s+["']//`)
	cssImport      = regexp.MustCompile(`(?i)@import`)
	cssURL         = regexp.MustCompile(`(?i)url\(\s*["']?([^"')]*)`)
	markupRef      = regexp.MustCompile(`(?i)\s(src|href)\s*=\s*"([^"]*)"`)
	moduleImport   = regexp.MustCompile(`(?m)^\s*import\s+(?:[^'"]*\s+from\s+)?['"]([^'"]+)['"]`)
	dynamicImports = regexp.MustCompile(`import\(\s*['"]([^'"]+)['"]`)
)

func TestNoAssetLoadsAnythingFromAnotherOrigin(t *testing.T) {
	fsys := dashboard.Assets()
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		text := string(b)
		for _, u := range absoluteURL.FindAllString(text, -1) {
			allowed := false
			for _, ns := range namespaces {
				allowed = allowed || u == ns
			}
			if !allowed {
				t.Errorf("%s names an absolute URL %q: the dashboard must work offline, from its own origin", p, u)
			}
		}
		if m := protocolLocal.FindString(text); m != "" {
			t.Errorf("%s has a protocol-relative reference %q", p, m)
		}
		if strings.HasSuffix(p, ".css") {
			if cssImport.MatchString(text) {
				t.Errorf("%s imports another stylesheet: keep the CSS in embedded files linked from index.html", p)
			}
			for _, m := range cssURL.FindAllStringSubmatch(text, -1) {
				if !strings.HasPrefix(m[1], "data:") && !strings.HasPrefix(m[1], "/") {
					t.Errorf("%s loads %q", p, m[1])
				}
			}
		}
		if strings.HasSuffix(p, ".html") {
			for _, m := range markupRef.FindAllStringSubmatch(text, -1) {
				if !strings.HasPrefix(m[2], "/") || strings.HasPrefix(m[2], "//") {
					t.Errorf("%s: %s=%q is not a path of this origin", p, m[1], m[2])
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestEveryModuleImportIsAnEmbeddedFile(t *testing.T) {
	fsys := dashboard.Assets()
	files, err := fs.Glob(fsys, "*.js")
	if err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{"lib", "views"} {
		more, _ := fs.Glob(fsys, dir+"/*.js")
		files = append(files, more...)
	}
	if len(files) < 5 {
		t.Fatalf("found %d modules", len(files))
	}
	for _, f := range files {
		b, _ := fs.ReadFile(fsys, f)
		specs := moduleImport.FindAllStringSubmatch(string(b), -1)
		specs = append(specs, dynamicImports.FindAllStringSubmatch(string(b), -1)...)
		for _, m := range specs {
			spec := m[1]
			if !strings.HasPrefix(spec, "./") && !strings.HasPrefix(spec, "../") {
				t.Errorf("%s imports %q: import embedded files by relative path only", f, spec)
				continue
			}
			target := path.Join(path.Dir(f), spec)
			if _, err := fs.Stat(fsys, target); err != nil {
				t.Errorf("%s imports %q, which is not embedded (%s)", f, spec, target)
			}
		}
	}
}

func TestEveryAnswerCarriesAPolicyThatAllowsThisOriginOnly(t *testing.T) {
	h := dashboard.Handler()
	for _, p := range []string{"/", "/assets/app.js", "/nope", "/favicon.svg"} {
		resp := get(t, h, "GET", p)
		csp := resp.Header.Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'none'", "script-src 'self'", "connect-src 'self'", "frame-ancestors 'none'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("GET %s: Content-Security-Policy %q lacks %q", p, csp, want)
			}
		}
		if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
			t.Errorf("GET %s: the policy allows inline code: %q", p, csp)
		}
	}
}

func TestTheDashboardOnlyReads(t *testing.T) {
	tests := []struct {
		name, method, path string
		status             int
	}{
		{"a POST to a page is refused", "POST", "/", 405},
		{"a DELETE of an asset is refused", "DELETE", "/assets/app.js", 405},
		{"a HEAD of a page is answered without a body", "HEAD", "/runs", 200},
	}
	h := dashboard.Handler()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := get(t, h, tt.method, tt.path)
			b := body(t, resp)
			if resp.StatusCode != tt.status {
				t.Errorf("%s %s = %d, want %d", tt.method, tt.path, resp.StatusCode, tt.status)
			}
			if tt.status == 405 && (resp.Header.Get("Allow") != "GET, HEAD" || !strings.Contains(b, "the API is under /v1/")) {
				t.Errorf("%s %s: Allow %q, body %q", tt.method, tt.path, resp.Header.Get("Allow"), b)
			}
			if tt.method == "HEAD" && b != "" {
				t.Errorf("HEAD answered a body of %d bytes", len(b))
			}
		})
	}
}

func TestAnAssetTheBrowserHasIsNotSentAgain(t *testing.T) {
	h := dashboard.Handler()
	first := get(t, h, "GET", "/assets/app.css")
	etag := first.Header.Get("ETag")
	if etag == "" || first.Header.Get("Cache-Control") != "no-cache" {
		t.Fatalf("ETag %q, Cache-Control %q", etag, first.Header.Get("Cache-Control"))
	}
	again := get(t, h, "GET", "/assets/app.css", "If-None-Match", etag)
	if again.StatusCode != http.StatusNotModified {
		t.Errorf("GET with If-None-Match = %d, want 304", again.StatusCode)
	}
}
