// Package dashboard is Longshore's web dashboard: plain HTML, CSS and
// JavaScript modules embedded in the binary, with nothing fetched from
// anywhere else and no build step. The pages read and change everything
// through the runs API of the same origin (/v1/...), so the handler serves
// files only.
package dashboard

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"net/http"
	"path"
	"time"
)

//go:embed assets
var embedded embed.FS

// Assets are the dashboard's files, rooted at the assets folder
// (index.html, app.js, ...).
func Assets() fs.FS {
	sub, err := fs.Sub(embedded, "assets")
	if err != nil {
		panic(err) // the folder is embedded above: it is there
	}
	return sub
}

// contentTypes are the types of the files the dashboard ships, set here
// rather than read from the system's MIME tables, which differ by machine.
var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".svg":  "image/svg+xml",
	".png":  "image/png",
	".json": "application/json",
}

// ContentType is the Content-Type the handler serves a file name with, and
// "" for a kind of file the dashboard does not ship.
func ContentType(name string) string { return contentTypes[path.Ext(name)] }

// securityHeaders go on every answer. The policy allows this origin only:
// a page that tried to load anything from elsewhere would be refused.
var securityHeaders = map[string]string{
	"Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
		"connect-src 'self'; font-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
	"X-Content-Type-Options": "nosniff",
	"Referrer-Policy":        "no-referrer",
	"X-Frame-Options":        "DENY",
}

// file is an embedded file ready to serve.
type file struct {
	body []byte
	typ  string
	etag string
}

// clientRoutes are the pages the browser routes itself; the server answers
// each with index.html.
var clientRoutes = []string{"/{$}", "/jobs", "/jobs/{name}", "/runs", "/runs/{id}"}

// Handler serves the dashboard:
//
//	GET /assets/{file}                    the embedded files
//	GET /favicon.svg                      the icon
//	GET /, /jobs, /jobs/{name},
//	    /runs, /runs/{id}                 index.html: the pages route themselves
//	GET anything else                     index.html with 404 (the page says "not found")
//
// Only GET and HEAD are served; the API is mounted beside it, not under it.
func Handler() http.Handler {
	files := map[string]file{}
	fsys := Assets()
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		files[p] = file{body: b, typ: ContentType(p), etag: `"` + hex.EncodeToString(sum[:12]) + `"`}
		return nil
	})
	if err != nil {
		panic(err) // embedded files are always readable
	}
	index := files["index.html"]

	mux := http.NewServeMux()
	mux.HandleFunc("GET /assets/{file...}", func(w http.ResponseWriter, r *http.Request) {
		name := r.PathValue("file")
		f, ok := files[name]
		if !ok || name == "index.html" || f.typ == "" {
			http.Error(w, "no such dashboard file: "+r.URL.Path, http.StatusNotFound)
			return
		}
		serve(w, r, name, f)
	})
	mux.HandleFunc("GET /favicon.svg", func(w http.ResponseWriter, r *http.Request) {
		serve(w, r, "favicon.svg", files["favicon.svg"])
	})
	for _, route := range clientRoutes {
		mux.HandleFunc("GET "+route, func(w http.ResponseWriter, r *http.Request) {
			serve(w, r, "index.html", index)
		})
	}
	mux.HandleFunc("GET /", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", index.typ)
		w.Header().Set("Cache-Control", "no-cache")
		w.WriteHeader(http.StatusNotFound)
		if r.Method != http.MethodHead {
			w.Write(index.body)
		}
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, r.Method+" is not allowed on the dashboard: it only reads pages (the API is under /v1/)", http.StatusMethodNotAllowed)
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for k, v := range securityHeaders {
			w.Header().Set(k, v)
		}
		mux.ServeHTTP(w, r)
	})
}

// serve answers with a file; the browser revalidates it on every load (by
// its ETag) so that a newer binary's dashboard shows at once.
func serve(w http.ResponseWriter, r *http.Request, name string, f file) {
	w.Header().Set("Content-Type", f.typ)
	w.Header().Set("ETag", f.etag)
	w.Header().Set("Cache-Control", "no-cache")
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(f.body))
}
