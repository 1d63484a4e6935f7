package s3

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/longshore/longshore/internal/local/endpoint/endpointtest"
)

// serveRaw serves one request on the endpoint and returns the answer as
// written, header names in the case the endpoint gave them (an HTTP client
// would canonicalise them).
func (f *s3Fixture) serveRaw(method, path string, header http.Header, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, "http://127.0.0.1:8751"+path, strings.NewReader(body))
	for k, v := range header {
		req.Header[k] = v
	}
	if body != "" && req.Header.Get("Content-Length") == "" {
		req.Header.Set("Content-Length", fmt.Sprint(len(body)))
	}
	rec := httptest.NewRecorder()
	f.s3.ServeHTTP(rec, req)
	return rec
}

// sentHeaders are the headers an SDK upload carries besides the object's:
// they describe the request, not the object.
var sentHeaders = http.Header{
	"X-Amz-Date":                   {"20261204T101500Z"},
	"X-Amz-Content-Sha256":         {"UNSIGNED-PAYLOAD"},
	"X-Amz-Security-Token":         {"FwoGZXIvYXdzEXAMPLE"},
	"X-Amz-User-Agent":             {"aws-sdk-go-v2/1.47.7"},
	"X-Amz-Sdk-Checksum-Algorithm": {"CRC32"},
	"X-Amz-Checksum-Crc32":         {"AAAAAA=="},
	"X-Amz-Acl":                    {"private"},
	"Amz-Sdk-Invocation-Id":        {"b7d6a1c4-0000-4000-8000-000000000000"},
	"Authorization":                {"AWS4-HMAC-SHA256 Credential=AKIDLOCAL/20261204/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=0"},
}

// objectHeaders are the object's own headers, as an upload sends them.
var objectHeaders = http.Header{
	"X-Amz-Meta-Owner":    {"alice"},
	"X-Amz-Meta-Team-Id":  {"Data 7"},
	"Content-Type":        {"text/csv"},
	"Content-Encoding":    {"identity"},
	"Content-Disposition": {`attachment; filename="r.csv"`},
	"Cache-Control":       {"max-age=60"},
	"Content-Language":    {"de-CH"},
	"Expires":             {"Thu, 01 Dec 2033 16:00:00 GMT"},
}

// wantReturned is what S3 sends back for objectHeaders: user metadata
// under lower-case names, the standard headers as they were sent.
var wantReturned = map[string]string{
	"x-amz-meta-owner":    "alice",
	"x-amz-meta-team-id":  "Data 7",
	"Content-Type":        "text/csv",
	"Content-Encoding":    "identity",
	"Content-Disposition": `attachment; filename="r.csv"`,
	"Cache-Control":       "max-age=60",
	"Content-Language":    "de-CH",
	"Expires":             "Thu, 01 Dec 2033 16:00:00 GMT",
}

// checkObjectHeaders checks an answer to GET or HEAD: each header of want
// under exactly its name, and no header of the request.
func checkObjectHeaders(t *testing.T, got http.Header, want map[string]string) {
	t.Helper()
	for name, w := range want {
		if v, ok := got[name]; !ok || len(v) != 1 || v[0] != w {
			t.Errorf("header %q = %q (present %v), want %q; headers: %v", name, v, ok, w, got)
		}
	}
	for name := range got {
		lower := strings.ToLower(name)
		if strings.HasPrefix(lower, "x-amz-meta-") && name != lower {
			t.Errorf("user metadata %q sent back with upper-case letters: S3 sends its name in lower case", name)
		}
		if _, sent := sentHeaders[http.CanonicalHeaderKey(name)]; sent {
			t.Errorf("request header %q was stored and sent back as if it described the object", name)
		}
	}
}

func TestObjectsComeBackWithTheirOwnHeadersOnlyAndUserMetadataInLowerCase(t *testing.T) {
	both := http.Header{}
	for k, v := range sentHeaders {
		both[k] = v
	}
	for k, v := range objectHeaders {
		both[k] = v
	}
	// An earlier version kept only x-amz-* and three of the standard headers.
	legacyWant := maps.Clone(wantReturned)
	delete(legacyWant, "Cache-Control")
	delete(legacyWant, "Content-Language")
	delete(legacyWant, "Expires")
	tests := []struct {
		name   string
		upload func(t *testing.T, f *s3Fixture, key string)
		reopen bool
		want   map[string]string
	}{
		{
			name: "a PutObject",
			upload: func(t *testing.T, f *s3Fixture, key string) {
				if rec := f.serveRaw(http.MethodPut, "/uploads/"+key, both, "a,b\n"); rec.Code != http.StatusOK {
					t.Fatalf("PUT: %d %s", rec.Code, rec.Body)
				}
			},
			want: wantReturned,
		},
		{
			name: "a multipart upload, whose headers come with its creation",
			upload: func(t *testing.T, f *s3Fixture, key string) {
				rec := f.serveRaw(http.MethodPost, "/uploads/"+key+"?uploads", both, "")
				id := endpointtest.Between(rec.Body.String(), "<UploadId>", "</UploadId>")
				if rec.Code != http.StatusOK || id == "" {
					t.Fatalf("CreateMultipartUpload: %d %s", rec.Code, rec.Body)
				}
				part := f.serveRaw(http.MethodPut, "/uploads/"+key+"?partNumber=1&uploadId="+id, http.Header{"Content-Length": {"4"}}, "a,b\n")
				if part.Code != http.StatusOK {
					t.Fatalf("UploadPart: %d %s", part.Code, part.Body)
				}
				done := f.serveRaw(http.MethodPost, "/uploads/"+key+"?uploadId="+id, sentHeaders,
					"<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>"+part.Header().Get("ETag")+"</ETag></Part></CompleteMultipartUpload>")
				if done.Code != http.StatusOK {
					t.Fatalf("CompleteMultipartUpload: %d %s", done.Code, done.Body)
				}
			},
			want: wantReturned,
		},
		{
			name: "an object stored by an earlier version, which kept every x-amz-* header of its upload",
			upload: func(t *testing.T, f *s3Fixture, key string) {
				meta := map[string]string{"Last-Modified": "Fri, 04 Dec 2026 10:15:00 GMT"}
				for k, v := range both {
					if strings.HasPrefix(k, "X-Amz-") || k == "Content-Type" || k == "Content-Encoding" || k == "Content-Disposition" {
						meta[k] = v[0]
					}
				}
				writeLegacyObject(t, f.dir, "uploads", key, "a,b\n", meta)
			},
			reopen: true,
			want:   legacyWant,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			f := newS3Fixture(t, dir, endpointtest.Catalog{}, &endpointtest.Launcher{}, 1)
			key := "meta/report.csv"
			tt.upload(t, f, key)
			if tt.reopen {
				f = newS3Fixture(t, dir, endpointtest.Catalog{}, &endpointtest.Launcher{}, 1)
			}
			for _, method := range []string{http.MethodHead, http.MethodGet} {
				rec := f.serveRaw(method, "/uploads/"+key, nil, "")
				if rec.Code != http.StatusOK {
					t.Fatalf("%s: %d %s", method, rec.Code, rec.Body)
				}
				checkObjectHeaders(t, rec.Header(), tt.want)
			}
			// And as an SDK reads them.
			out, err := f.client.HeadObject(context.Background(), &awss3.HeadObjectInput{Bucket: aws.String("uploads"), Key: aws.String(key)})
			endpointtest.MustOK(t, err, "HeadObject")
			if got := out.Metadata; got["owner"] != "alice" || got["team-id"] != "Data 7" || len(got) != 2 {
				t.Errorf("SDK metadata %v, want exactly owner and team-id", got)
			}
		})
	}
}

// writeLegacyObject stores an object file as an earlier version of the
// store wrote it, with the metadata given, in the S3 data folder dir.
func writeLegacyObject(t *testing.T, dir, bucket, key, body string, meta map[string]string) {
	t.Helper()
	sum := md5.Sum([]byte(body))
	info := &objectInfo{Key: key, Size: int64(len(body)), MD5: sum[:], Modified: endpointtest.Now(), Metadata: meta, Sequencer: "0000000000000001"}
	p := (&diskStore{dir: dir}).objectPath(bucket, key)
	endpointtest.MustOK(t, os.MkdirAll(filepath.Dir(p), 0o755), "create the bucket folder")
	file, err := os.Create(p)
	endpointtest.MustOK(t, err, "create legacy object")
	_, err = file.WriteString(body)
	endpointtest.MustOK(t, err, "write legacy object")
	endpointtest.MustOK(t, writeInfo(file, info), "write legacy description")
	endpointtest.MustOK(t, file.Close(), "close legacy object")
}

// multipartETag is S3's ETag of a multipart upload: the MD5 of the parts'
// MD5s, a dash and the number of parts.
func multipartETag(parts ...string) string {
	h := md5.New()
	for _, p := range parts {
		sum := md5.Sum([]byte(p))
		h.Write(sum[:])
	}
	return fmt.Sprintf(`"%s-%d"`, hex.EncodeToString(h.Sum(nil)), len(parts))
}

// uploadMultipart uploads parts as one object and returns the ETag
// CompleteMultipartUpload answered.
func (f *s3Fixture) uploadMultipart(t *testing.T, key string, parts ...string) string {
	t.Helper()
	ctx := context.Background()
	up, err := f.client.CreateMultipartUpload(ctx, &awss3.CreateMultipartUploadInput{Bucket: aws.String("uploads"), Key: aws.String(key)})
	endpointtest.MustOK(t, err, "CreateMultipartUpload")
	var done []types.CompletedPart
	for i, p := range parts {
		out, err := f.client.UploadPart(ctx, &awss3.UploadPartInput{
			Bucket: aws.String("uploads"), Key: aws.String(key), UploadId: up.UploadId,
			PartNumber: aws.Int32(int32(i + 1)), Body: strings.NewReader(p),
		})
		endpointtest.MustOK(t, err, "UploadPart")
		done = append(done, types.CompletedPart{ETag: out.ETag, PartNumber: aws.Int32(int32(i + 1))})
	}
	out, err := f.client.CompleteMultipartUpload(ctx, &awss3.CompleteMultipartUploadInput{
		Bucket: aws.String("uploads"), Key: aws.String(key), UploadId: up.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: done},
	})
	endpointtest.MustOK(t, err, "CompleteMultipartUpload")
	return aws.ToString(out.ETag)
}

func TestAMultipartObjectKeepsTheETagItsCompletionAnswered(t *testing.T) {
	parts := []string{strings.Repeat("a", 5<<20), "tail"}
	key := "big/file.bin"
	type reader func(t *testing.T, f *s3Fixture) string
	tests := []struct {
		name string
		read reader
	}{
		{"HeadObject", func(t *testing.T, f *s3Fixture) string {
			out, err := f.client.HeadObject(context.Background(), &awss3.HeadObjectInput{Bucket: aws.String("uploads"), Key: aws.String(key)})
			endpointtest.MustOK(t, err, "HeadObject")
			return aws.ToString(out.ETag)
		}},
		{"GetObject", func(t *testing.T, f *s3Fixture) string {
			out, err := f.client.GetObject(context.Background(), &awss3.GetObjectInput{Bucket: aws.String("uploads"), Key: aws.String(key)})
			endpointtest.MustOK(t, err, "GetObject")
			out.Body.Close()
			return aws.ToString(out.ETag)
		}},
		{"ListObjectsV2", func(t *testing.T, f *s3Fixture) string {
			out, err := f.client.ListObjectsV2(context.Background(), &awss3.ListObjectsV2Input{Bucket: aws.String("uploads")})
			endpointtest.MustOK(t, err, "ListObjectsV2")
			if len(out.Contents) != 1 {
				t.Fatalf("listed %d objects, want 1", len(out.Contents))
			}
			return aws.ToString(out.Contents[0].ETag)
		}},
		{"ListObjects", func(t *testing.T, f *s3Fixture) string {
			out, err := f.client.ListObjects(context.Background(), &awss3.ListObjectsInput{Bucket: aws.String("uploads")})
			endpointtest.MustOK(t, err, "ListObjects")
			if len(out.Contents) != 1 {
				t.Fatalf("listed %d objects, want 1", len(out.Contents))
			}
			return aws.ToString(out.Contents[0].ETag)
		}},
	}
	dir := t.TempDir()
	f := newS3Fixture(t, dir, endpointtest.Catalog{}, &endpointtest.Launcher{}, 1)
	completed := f.uploadMultipart(t, key, parts...)
	if completed != multipartETag(parts...) {
		t.Fatalf("CompleteMultipartUpload answered ETag %s, want S3's %s", completed, multipartETag(parts...))
	}
	reopened := func() *s3Fixture {
		f.srv.Close()
		endpointtest.MustOK(t, f.s3.Close(), "Close")
		return newS3Fixture(t, dir, endpointtest.Catalog{}, &endpointtest.Launcher{}, 1)
	}
	for _, round := range []struct {
		name string
		f    func() *s3Fixture
	}{{"as stored", func() *s3Fixture { return f }}, {"after reopening the data folder", reopened}} {
		g := round.f()
		for _, tt := range tests {
			t.Run(tt.name+" "+round.name, func(t *testing.T) {
				if got := tt.read(t, g); got != completed {
					t.Errorf("ETag %s, want %s as CompleteMultipartUpload answered", got, completed)
				}
			})
		}
		t.Run("a conditional GET with that ETag "+round.name+" is not modified", func(t *testing.T) {
			rec := g.serveRaw(http.MethodGet, "/uploads/"+key, http.Header{"If-None-Match": {completed}}, "")
			if rec.Code != http.StatusNotModified {
				t.Errorf("GET If-None-Match %s: %d, want 304", completed, rec.Code)
			}
		})
		f = g
	}
	t.Run("uploading the key again in one piece gives it the MD5 ETag", func(t *testing.T) {
		endpointtest.MustOK(t, f.put("uploads", key, "small"), "PutObject")
		out, err := f.client.HeadObject(context.Background(), &awss3.HeadObjectInput{Bucket: aws.String("uploads"), Key: aws.String(key)})
		endpointtest.MustOK(t, err, "HeadObject")
		sum := md5.Sum([]byte("small"))
		if got, want := aws.ToString(out.ETag), `"`+hex.EncodeToString(sum[:])+`"`; got != want {
			t.Errorf("ETag %s, want %s", got, want)
		}
	})
	t.Run("a copy of a multipart object is one piece with the MD5 ETag", func(t *testing.T) {
		other := "big/copied.bin"
		again := f.uploadMultipart(t, other, parts...)
		_, err := f.client.CopyObject(context.Background(), &awss3.CopyObjectInput{
			Bucket: aws.String("uploads"), Key: aws.String("big/copy.bin"), CopySource: aws.String("uploads/" + other),
		})
		endpointtest.MustOK(t, err, "CopyObject")
		out, err := f.client.HeadObject(context.Background(), &awss3.HeadObjectInput{Bucket: aws.String("uploads"), Key: aws.String("big/copy.bin")})
		endpointtest.MustOK(t, err, "HeadObject")
		sum := md5.Sum([]byte(parts[0] + parts[1]))
		if got, want := aws.ToString(out.ETag), `"`+hex.EncodeToString(sum[:])+`"`; got != want || got == again {
			t.Errorf("copy's ETag %s, want %s", got, want)
		}
	})
}
