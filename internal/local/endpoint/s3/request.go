package s3

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/johannesboyne/gofakes3"
)

// maxCompletionBody bounds the CompleteMultipartUpload document read for
// its ETag (10,000 parts take about 1 MiB).
const maxCompletionBody = 4 << 20

// completion reads a CompleteMultipartUpload request's parts and notes in
// slot the ETag S3 gives the object it makes — the MD5 of the parts' MD5s,
// a dash and the number of parts, as gofakes3 answers the request — so
// that the store keeps it with the object and HEAD, GET and listings give
// the same. The body is handed on unchanged.
func (s *Endpoint) completion(r *http.Request, slot *keySlot) *http.Request {
	raw, err := io.ReadAll(io.LimitReader(r.Body, maxCompletionBody+1))
	r2 := new(http.Request)
	*r2 = *r
	r2.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(raw), r.Body), r.Body}
	if err != nil || len(raw) > maxCompletionBody {
		return r2
	}
	var in gofakes3.CompleteMultipartUploadRequest
	if xml.Unmarshal(raw, &in) != nil || len(in.Parts) == 0 {
		return r2 // gofakes3 answers what is wrong with it
	}
	h := md5.New()
	for _, p := range in.Parts {
		sum, err := hex.DecodeString(strings.Trim(p.ETag, `"`))
		if err != nil {
			return r2
		}
		h.Write(sum)
	}
	s.mu.Lock()
	slot.etag = fmt.Sprintf(`"%s-%d"`, hex.EncodeToString(h.Sum(nil)), len(in.Parts))
	s.mu.Unlock()
	return r2
}

// pendingETag is the ETag of the object a request holding ref is
// completing as a multipart upload, "" for any other.
func (s *Endpoint) pendingETag(ref objectRef) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if slot := s.slots[ref]; slot != nil && slot.held {
		return slot.etag
	}
	return ""
}

// describesObject tells whether r gives an object's headers: a PutObject
// or CopyObject (PUT /bucket/key) or the creation of a multipart upload
// (POST /bucket/key?uploads).
func describesObject(r *http.Request) bool {
	_, key, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	if key == "" {
		return false
	}
	q := r.URL.Query()
	switch r.Method {
	case http.MethodPut:
		return q.Get("uploadId") == ""
	case http.MethodPost:
		_, initiate := q["uploads"]
		return initiate
	}
	return false
}

// tunnelHeaders copies the standard headers gofakes3 would drop
// (Cache-Control, Content-Language, Expires) under tunnelPrefix, where it
// keeps them, so that the store keeps them with the object.
func tunnelHeaders(r *http.Request) *http.Request {
	r2 := new(http.Request)
	*r2 = *r
	r2.Header = r.Header.Clone()
	for k := range r2.Header {
		if strings.HasPrefix(k, tunnelPrefix) {
			delete(r2.Header, k) // not the client's to set
		}
	}
	for _, h := range tunnelled {
		if v := r.Header.Values(h); len(v) > 0 {
			r2.Header[tunnelPrefix+h] = v
		}
	}
	return r2
}

// multipartIfNoneMatch rewrites a GET's If-None-Match that names the
// multipart ETag of the object as its MD5, which gofakes3 compares with.
func (s *Endpoint) multipartIfNoneMatch(r *http.Request, bucket, key string) *http.Request {
	inm := r.Header.Get("If-None-Match")
	if inm == "" {
		return r
	}
	info, ok := s.store.describe(bucket, key)
	if !ok || info.ETag == "" || strings.Trim(inm, `"`) != strings.Trim(info.ETag, `"`) {
		return r
	}
	r2 := new(http.Request)
	*r2 = *r
	r2.Header = r.Header.Clone()
	r2.Header.Set("If-None-Match", gofakes3.FormatETag(info.MD5))
	return r2
}

// subresources of S3 that gofakes3 does not route (it would take them for
// plain object or bucket requests).
var subresources = []string{
	"accelerate", "acl", "analytics", "attributes", "cors", "encryption", "intelligent-tiering", "inventory",
	"legal-hold", "lifecycle", "logging", "metrics", "notification", "object-lock", "ownershipControls",
	"policy", "policyStatus", "publicAccessBlock", "replication", "requestPayment", "restore", "retention",
	"select", "tagging", "torrent", "website",
}

func unsupportedSubresource(q url.Values) (string, bool) {
	for _, sub := range subresources {
		if _, ok := q[sub]; ok {
			return sub, true
		}
	}
	return "", false
}

// virtualHosted turns a virtual-hosted request to <bucket>.localhost into
// the path-style request gofakes3 routes.
func virtualHosted(r *http.Request) *http.Request {
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	bucket, ok := strings.CutSuffix(strings.ToLower(host), ".localhost")
	if !ok || bucket == "" || strings.Contains(bucket, ".") {
		return r
	}
	r2 := new(http.Request)
	*r2 = *r
	u := *r.URL
	u.Path = "/" + bucket + r.URL.Path
	if r.URL.Path == "/" {
		u.Path = "/" + bucket
	}
	u.RawPath = ""
	r2.URL = &u
	return r2
}
