package s3

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/xml"
	"fmt"
	"io/fs"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/longshore/longshore/internal/job"
	"github.com/longshore/longshore/internal/local/endpoint/endpointtest"
)

// s3FuzzBuckets: the uploads bucket (the first) and a plain one.
var s3FuzzBuckets = []string{"uploads", "outputs"}

// s3FuzzJobs: csv takes the uploads under incoming/ ending in .csv.
var s3FuzzJobs = endpointtest.Catalog{endpointtest.S3Job("csv", "incoming/", ".csv")}

// seededS3Folder is an S3 data folder with one object in each bucket
// (seed.csv; in uploads, also incoming/seed.csv, a key that starts a run).
func seededS3Folder(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	e, err := New(Options{Dir: dir, Buckets: s3FuzzBuckets, Jobs: s3FuzzJobs, Launch: &endpointtest.Launcher{}, Now: endpointtest.Now})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	defer e.Close()
	for _, p := range []string{"/uploads/seed.csv", "/uploads/incoming/seed.csv", "/outputs/seed.csv"} {
		req, _ := rawRequest(http.MethodPut, p, "", []byte("a,b\n"))
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			t.Fatalf("PUT %s = %d %s", p, rec.Code, rec.Body)
		}
	}
	return dir
}

// newS3World is a local S3 endpoint, its launcher never failing, over a
// copy of the seeded data folder.
func newS3World(t *testing.T, seeded string) (*Endpoint, *endpointtest.Launcher, string) {
	t.Helper()
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(seeded)); err != nil {
		t.Fatalf("copy the seeded data folder: %v", err)
	}
	launch := &endpointtest.Launcher{}
	e, err := New(Options{Dir: dir, Buckets: s3FuzzBuckets, Jobs: s3FuzzJobs, Launch: launch, Now: endpointtest.Now})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { e.Close() })
	return e, launch, dir
}

// s3Files is the data folder: each file's path and a hash of its bytes
// (tmp/ holds only objects being written, and is empty between requests).
func s3Files(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		out[rel] = fmt.Sprintf("%x", sha256.Sum256(b))
		return nil
	})
	if err != nil {
		t.Fatalf("walk %s: %v", dir, err)
	}
	return out
}

// rawRequest is the request net/http would hand the endpoint for these
// bytes on the wire, or false when net/http refuses them first.
func rawRequest(method, target, headers string, body []byte) (*http.Request, bool) {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: 127.0.0.1:8751\r\n", method, target)
	for line := range strings.SplitSeq(headers, "\n") {
		if line = strings.TrimSuffix(line, "\r"); line != "" {
			b.WriteString(line + "\r\n")
		}
	}
	fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n", len(body))
	b.Write(body)
	req, err := http.ReadRequest(bufio.NewReader(&b))
	if err != nil {
		return nil, false
	}
	req.RemoteAddr = "127.0.0.1:50000"
	return req, true
}

// FuzzS3Request sends any method, target, headers and body, as net/http
// would read them off the wire, to the local S3 endpoint over a data
// folder on disk. It never panics; it never fails on its own (no 500, no
// 503: its launcher never fails); every error answer but HEAD's is S3's
// XML error document with a code; a refused request changes
// no file and starts no run; and every object created in the uploads
// bucket whose key a job's trigger matches has exactly one run started,
// with the object's key and sequencer.
func FuzzS3Request(f *testing.F) {
	form := "--X\r\nContent-Disposition: form-data; name=\"key\"\r\n\r\nincoming/form.csv\r\n" +
		"--X\r\nContent-Disposition: form-data; name=\"file\"; filename=\"f.csv\"\r\nContent-Type: text/csv\r\n\r\na,b\r\n--X--\r\n"
	for _, s := range []struct{ method, target, headers, body string }{
		{"PUT", "/uploads/incoming/a.csv", "Content-Type: text/csv\nx-amz-meta-owner: alice", "a,b\n"},
		{"GET", "/uploads/incoming/seed.csv", "Range: bytes=0-1", ""},
		{"HEAD", "/uploads/seed.csv", "If-None-Match: \"x\"", ""},
		{"GET", "/uploads?list-type=2&prefix=incoming/&delimiter=/&max-keys=1", "", ""},
		{"GET", "/", "", ""},
		{"POST", "/uploads/incoming/big.csv?uploads", "", ""},
		{"PUT", "/uploads/incoming/big.csv?partNumber=1&uploadId=0", "", "part one"},
		{"POST", "/uploads/incoming/big.csv?uploadId=0", "", `<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>"x"</ETag></Part></CompleteMultipartUpload>`},
		{"PUT", "/uploads/incoming/copy.csv", "x-amz-copy-source: /outputs/seed.csv", ""},
		{"DELETE", "/uploads/seed.csv", "", ""},
		{"POST", "/uploads?delete", "", "<Delete><Object><Key>seed.csv</Key></Object><Object><Key>nope</Key></Object></Delete>"},
		{"PUT", "/uploads/seed.csv?tagging", "", "<Tagging><TagSet/></Tagging>"},
		{"PUT", "/uploads/incoming/chunked.csv", "Content-Encoding: aws-chunked\nx-amz-decoded-content-length: 3\nx-amz-content-sha256: STREAMING-UNSIGNED-PAYLOAD-TRAILER",
			"3\r\nabc\r\n0\r\nx-amz-checksum-crc32:NSRBwg==\r\n\r\n"},
		{"PUT", "/uploads/incoming/md5.csv", "Content-MD5: AAAAAAAAAAAAAAAAAAAAAA==", "x"},
		{"PUT", "/uploads/incoming/seed.csv", "If-None-Match: *", "again"},
		{"PUT", "/newbucket", "", ""},
		{"DELETE", "/outputs", "", ""},
		{"POST", "/uploads", "Content-Type: multipart/form-data; boundary=X", form},
		{"PUT", "/uploads/incoming/%2e%2e/%2e%2e/etc/passwd.csv", "", "x"},
		{"PUT", "/incoming/v.csv", "Host: uploads.localhost:8751", "virtual"},
	} {
		f.Add(s.method, s.target, s.headers, []byte(s.body))
	}
	seeded := seededS3Folder(f)
	f.Fuzz(func(t *testing.T, method, target, headers string, body []byte) {
		req, ok := rawRequest(method, target, headers, body)
		if !ok {
			return
		}
		e, launch, dir := newS3World(t, seeded)
		before := s3Files(t, dir)
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		after := s3Files(t, dir)
		launched := launch.Requests()
		what := fmt.Sprintf("%s %s %q %q", method, target, headers, body)

		if rec.Code == http.StatusInternalServerError || rec.Code == http.StatusServiceUnavailable {
			t.Fatalf("%s = %d %s", what, rec.Code, rec.Body)
		}
		if rec.Code >= 400 && req.Method != http.MethodHead {
			var doc s3Error
			// gofakes3 leaves Message empty for some codes (BucketNotEmpty,
			// NoSuchKey, ...): the code says what is wrong.
			if err := xml.Unmarshal(rec.Body.Bytes(), &doc); err != nil || doc.Code == "" {
				t.Fatalf("%s = %d with %q: want S3's XML error document with a code: %v", what, rec.Code, rec.Body, err)
			}
		}
		if rec.Code >= 300 {
			if !maps.Equal(before, after) || len(launched) > 0 {
				t.Fatalf("%s was refused (%d %s) but changed files %v to %v or launched %+v", what, rec.Code, rec.Body, before, after, launched)
			}
			return
		}
		// Each object file of the uploads bucket that this request wrote.
		var wrote []*objectInfo
		for _, p := range slices.Sorted(maps.Keys(after)) {
			if after[p] == before[p] || !strings.HasPrefix(p, filepath.Join("buckets", "uploads", "objects")+string(filepath.Separator)) {
				continue
			}
			info, err := readInfo(filepath.Join(dir, p))
			if err != nil {
				t.Fatalf("%s wrote %s, which cannot be read back: %v", what, p, err)
			}
			wrote = append(wrote, info)
		}
		var want []string
		for _, info := range wrote {
			if len(job.MatchS3(endpointtest.Catalog{endpointtest.S3Job("csv", "incoming/", ".csv")}, info.Key)) > 0 {
				want = append(want, strconv.Quote(info.Key)+"@"+info.Sequencer)
			}
		}
		var got []string
		for _, r := range launched {
			if r.Job != "csv" || r.Trigger.Bucket != "uploads" {
				t.Fatalf("%s launched %+v", what, r)
			}
			got = append(got, strconv.Quote(r.Trigger.Key)+"@"+r.Trigger.Sequencer)
		}
		slices.Sort(want)
		slices.Sort(got)
		if !slices.Equal(want, got) {
			t.Fatalf("%s stored objects %v but launched %v", what, want, got)
		}
	})
}
