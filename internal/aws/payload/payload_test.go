package payload_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/longshore/longshore/internal/aws/payload"
)

var signingTime = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

func bucket(endpoint string) *payload.Bucket {
	return &payload.Bucket{
		Name: "longshore-payloads", Region: "us-east-1", Endpoint: endpoint,
		Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", "token"),
		Now:         func() time.Time { return signingTime },
	}
}

func TestPutSendsOneSignedPutObject(t *testing.T) {
	body := []byte(`{"env":{"A":"1"},"command":["x"]}`)
	var got *http.Request
	var gotBody []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r
		gotBody, _ = io.ReadAll(r.Body)
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()
	uri, err := bucket(srv.URL).Put(context.Background(), "payloads/orders/r-0000000000000001.json", body)
	if err != nil {
		t.Fatal(err)
	}
	if uri != "s3://longshore-payloads/payloads/orders/r-0000000000000001.json" {
		t.Errorf("uri = %s", uri)
	}
	sum := sha256.Sum256(body)
	switch {
	case got.Method != http.MethodPut || got.URL.Path != "/longshore-payloads/payloads/orders/r-0000000000000001.json":
		t.Errorf("request %s %s, want a path-style PUT", got.Method, got.URL.Path)
	case string(gotBody) != string(body):
		t.Errorf("body %q", gotBody)
	case got.Header.Get("X-Amz-Content-Sha256") != hex.EncodeToString(sum[:]):
		t.Errorf("content hash header %q", got.Header.Get("X-Amz-Content-Sha256"))
	case !strings.HasPrefix(got.Header.Get("Authorization"), "AWS4-HMAC-SHA256 Credential=AKIDTEST/20261122/us-east-1/s3/aws4_request"):
		t.Errorf("authorization %q", got.Header.Get("Authorization"))
	case got.Header.Get("X-Amz-Security-Token") != "token":
		t.Errorf("session token header %q", got.Header.Get("X-Amz-Security-Token"))
	}
}

func TestPutStoresTheObjectInAnS3Server(t *testing.T) {
	backend := s3mem.New()
	srv := httptest.NewServer(gofakes3.New(backend).Server())
	defer srv.Close()
	if err := backend.CreateBucket("longshore-payloads"); err != nil {
		t.Fatal(err)
	}
	body := []byte(strings.Repeat("y", 20000))
	b := bucket(srv.URL)
	b.Now = nil // the server checks the request's time against its own
	if _, err := b.Put(context.Background(), "payloads/hello/r-1.json", body); err != nil {
		t.Fatal(err)
	}
	obj, err := backend.GetObject("longshore-payloads", "payloads/hello/r-1.json", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer obj.Contents.Close()
	stored, _ := io.ReadAll(obj.Contents)
	if string(stored) != string(body) {
		t.Errorf("stored %d bytes, want %d", len(stored), len(body))
	}
}

func TestPutSaysWhatS3Refused(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusForbidden)
		io.WriteString(w, `<?xml version="1.0"?><Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>`)
	}))
	defer srv.Close()
	_, err := bucket(srv.URL).Put(context.Background(), "payloads/x/r-1.json", []byte("{}"))
	if err == nil || !strings.Contains(err.Error(), "403 AccessDenied: Access Denied") {
		t.Errorf("Put = %v, want the S3 error code", err)
	}
}

func TestObjectsAreAddressedVirtualHostedOnAWS(t *testing.T) {
	var host, path string
	b := bucket("")
	b.HTTP = &http.Client{Transport: roundTrip(func(r *http.Request) (*http.Response, error) {
		host, path = r.URL.Host, r.URL.Path
		return &http.Response{StatusCode: 200, Body: io.NopCloser(strings.NewReader("")), Request: r}, nil
	})}
	if _, err := b.Put(context.Background(), "payloads/a b/r-1.json", []byte("{}")); err != nil {
		t.Fatal(err)
	}
	if host != "longshore-payloads.s3.us-east-1.amazonaws.com" || path != "/payloads/a b/r-1.json" {
		t.Errorf("addressed %s%s", host, path)
	}
}

type roundTrip func(*http.Request) (*http.Response, error)

func (f roundTrip) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
