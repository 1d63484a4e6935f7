package s3

import (
	"bytes"
	"encoding/xml"
	"io"
	"net/http"
	"strings"

	"github.com/longshore/longshore/internal/local/endpoint"
)

// objectWriter puts an object's headers as S3 sends them into the answer
// to a GET or HEAD: user metadata under lower-case names (x-amz-meta-owner,
// whatever case the upload used: boto3 reports the name as sent, and code
// reads Metadata["owner"]), and the ETag the store keeps when it is not
// the MD5 gofakes3 answers (etagHeader).
type objectWriter struct {
	http.ResponseWriter
	fixed, wrote bool
}

func (w *objectWriter) fix() {
	if w.fixed {
		return
	}
	w.fixed = true
	h := w.Header()
	if e := h.Get(etagHeader); e != "" {
		h.Set("ETag", e)
	}
	h.Del(etagHeader)
	for k, v := range h {
		if strings.HasPrefix(k, userMetaPrefix) {
			delete(h, k)
			h[strings.ToLower(k)] = v // as is: Set would canonicalise it
		}
	}
}

func (w *objectWriter) WriteHeader(code int) {
	w.fix()
	if w.wrote {
		return // gofakes3 writes some errors' status twice; the first stands
	}
	w.wrote = true
	w.ResponseWriter.WriteHeader(code)
}

func (w *objectWriter) Write(p []byte) (int, error) {
	w.fix()
	w.wrote = true
	return w.ResponseWriter.Write(p)
}

// bufferedResponse holds gofakes3's answer until the runs are launched.
// The answers it holds (an ETag, a small XML document) are small.
type bufferedResponse struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (b *bufferedResponse) Header() http.Header { return b.header }

func (b *bufferedResponse) WriteHeader(code int) {
	if b.status == 0 {
		b.status = code
	}
}

func (b *bufferedResponse) Write(p []byte) (int, error) {
	if b.status == 0 {
		b.status = http.StatusOK
	}
	return b.body.Write(p)
}

func (b *bufferedResponse) code() int {
	if b.status == 0 {
		return http.StatusOK
	}
	return b.status
}

func (b *bufferedResponse) writeTo(w http.ResponseWriter) {
	for k, v := range b.header {
		w.Header()[k] = v
	}
	w.WriteHeader(b.code())
	_, _ = w.Write(b.body.Bytes())
}

// s3Error is S3's XML error document.
type s3Error struct {
	XMLName   xml.Name `xml:"Error"`
	Code      string   `xml:"Code"`
	Message   string   `xml:"Message"`
	Resource  string   `xml:"Resource,omitempty"`
	RequestID string   `xml:"RequestId,omitempty"`
}

func writeS3Error(w http.ResponseWriter, status int, code, msg, resource, requestID string) {
	if requestID == "" {
		requestID = endpoint.NewUUID()
	}
	body, _ := xml.Marshal(s3Error{Code: code, Message: msg, Resource: resource, RequestID: requestID})
	w.Header().Set("Content-Type", "application/xml")
	w.Header().Set("x-amz-request-id", requestID)
	w.WriteHeader(status)
	_, _ = io.WriteString(w, xml.Header)
	_, _ = w.Write(body)
}
