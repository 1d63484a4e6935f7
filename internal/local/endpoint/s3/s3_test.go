package s3

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/longshore/longshore/internal/dispatch"
	"github.com/longshore/longshore/internal/job"
	"github.com/longshore/longshore/internal/local/endpoint/endpointtest"
	"github.com/longshore/longshore/internal/run"
)

var _ http.Handler = (*Endpoint)(nil)

// s3Fixture is a local S3 endpoint served over HTTP, with an SDK client.
type s3Fixture struct {
	s3     *Endpoint
	srv    *httptest.Server
	client *awss3.Client
	launch *endpointtest.Launcher
	dir    string // the data folder
}

func newS3Fixture(t *testing.T, dir string, jobs endpointtest.Catalog, launch *endpointtest.Launcher, attempts int) *s3Fixture {
	t.Helper()
	e, err := New(Options{Dir: dir, Buckets: []string{"uploads", "outputs"}, Jobs: jobs, Launch: launch, Now: endpointtest.Now})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	srv := httptest.NewServer(e)
	t.Cleanup(func() {
		srv.Close()
		e.Close()
	})
	return &s3Fixture{s3: e, srv: srv, client: endpointtest.S3Client(srv.URL, attempts), launch: launch, dir: dir}
}

func (f *s3Fixture) put(bucket, key, body string) error {
	_, err := f.client.PutObject(context.Background(), &awss3.PutObjectInput{
		Bucket: aws.String(bucket), Key: aws.String(key), Body: strings.NewReader(body),
	})
	return err
}

func (f *s3Fixture) get(t *testing.T, bucket, key string) string {
	t.Helper()
	out, err := f.client.GetObject(context.Background(), &awss3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	endpointtest.MustOK(t, err, "GetObject "+key)
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	endpointtest.MustOK(t, err, "read object "+key)
	return string(b)
}

func TestPutObjectStartsEachJobWhoseTriggerMatches(t *testing.T) {
	const oddKey = "raw/red flower+1 ünïcødé 2023-08-08T14:03:40.532432.zip"
	tests := []struct {
		name   string
		jobs   endpointtest.Catalog
		bucket string
		key    string
		want   []string
	}{
		{
			name:   "a key matching one job's prefix and suffix starts that job",
			jobs:   endpointtest.Catalog{endpointtest.S3Job("csv", "incoming/", ".csv"), endpointtest.S3Job("images", "img/", "")},
			bucket: "uploads", key: "incoming/2026/a.csv",
			want: []string{"csv"},
		},
		{
			name:   "a key matching two jobs starts both",
			jobs:   endpointtest.Catalog{endpointtest.S3Job("csv", "incoming/", ".csv"), endpointtest.S3Job("everything", "", ""), endpointtest.SQSJob("queued", "q")},
			bucket: "uploads", key: "incoming/a.csv",
			want: []string{"csv", "everything"},
		},
		{
			name:   "a key matching no job starts nothing",
			jobs:   endpointtest.Catalog{endpointtest.S3Job("csv", "incoming/", ".csv"), endpointtest.SQSJob("queued", "q")},
			bucket: "uploads", key: "other/a.csv",
		},
		{
			name:   "the prefix alone is not enough",
			jobs:   endpointtest.Catalog{endpointtest.S3Job("csv", "incoming/", ".csv")},
			bucket: "uploads", key: "incoming/a.txt",
		},
		{
			name:   "the suffix alone is not enough",
			jobs:   endpointtest.Catalog{endpointtest.S3Job("csv", "incoming/", ".csv")},
			bucket: "uploads", key: "outgoing/a.csv",
		},
		{
			name:   "a key equal to the prefix matches when the suffix is empty",
			jobs:   endpointtest.Catalog{endpointtest.S3Job("exact", "reports/daily.json", "")},
			bucket: "uploads", key: "reports/daily.json",
			want: []string{"exact"},
		},
		{
			name:   "prefix and suffix are tested on their own, so they may overlap in the key",
			jobs:   endpointtest.Catalog{endpointtest.S3Job("overlap", "ab", "bc")},
			bucket: "uploads", key: "abc",
			want: []string{"overlap"},
		},
		{
			name:   "matching is case-sensitive, as in S3",
			jobs:   endpointtest.Catalog{endpointtest.S3Job("csv", "Incoming/", ".CSV")},
			bucket: "uploads", key: "incoming/a.csv",
		},
		{
			name: "a job with two matching triggers runs once",
			jobs: endpointtest.Catalog{{Name: "twice", Triggers: []job.Trigger{
				{S3: &job.S3Trigger{Prefix: "a/"}}, {S3: &job.S3Trigger{Suffix: ".csv"}},
			}}},
			bucket: "uploads", key: "a/x.csv",
			want: []string{"twice"},
		},
		{
			name:   "a key with spaces, a plus, unicode and colons matches as stored",
			jobs:   endpointtest.Catalog{endpointtest.S3Job("raw", "raw/red flower+1 ", ".zip")},
			bucket: "uploads", key: oddKey,
			want: []string{"raw"},
		},
		{
			name:   "an object in a bucket other than the uploads bucket starts nothing",
			jobs:   endpointtest.Catalog{endpointtest.S3Job("everything", "", "")},
			bucket: "outputs", key: "incoming/a.csv",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newS3Fixture(t, t.TempDir(), tt.jobs, &endpointtest.Launcher{}, 1)
			endpointtest.MustOK(t, f.put(tt.bucket, tt.key, "payload"), "PutObject")
			if got := f.launch.JobNames(); !slices.Equal(got, tt.want) {
				t.Fatalf("launched %q, want %q", got, tt.want)
			}
			for _, req := range f.launch.Requests() {
				tr := req.Trigger
				if tr.Kind != run.TriggerS3 || tr.Bucket != tt.bucket || tr.Key != tt.key || tr.Sequencer == "" {
					t.Errorf("trigger %+v, want kind s3, bucket %q, key %q exactly and a sequencer", tr, tt.bucket, tt.key)
				}
			}
			if got := f.get(t, tt.bucket, tt.key); got != "payload" {
				t.Errorf("object holds %q, want %q", got, "payload")
			}
		})
	}
}

func TestUploadingAKeyAgainIsANewRunWithAGreaterSequencer(t *testing.T) {
	f := newS3Fixture(t, t.TempDir(), endpointtest.Catalog{endpointtest.S3Job("all", "", "")}, &endpointtest.Launcher{}, 1)
	endpointtest.MustOK(t, f.put("uploads", "k.txt", "one"), "first PutObject")
	endpointtest.MustOK(t, f.put("uploads", "k.txt", "two"), "second PutObject")
	reqs := f.launch.Requests()
	if len(reqs) != 2 {
		t.Fatalf("%d launches, want 2", len(reqs))
	}
	a, b := reqs[0].Trigger.Sequencer, reqs[1].Trigger.Sequencer
	if len(a) != len(b) || a >= b {
		t.Errorf("sequencers %q then %q: want fixed width and increasing", a, b)
	}
	if got := f.get(t, "uploads", "k.txt"); got != "two" {
		t.Errorf("object holds %q, want the second upload", got)
	}
}

func TestSequencersKeepIncreasingAcrossARestartEvenWhenTheClockHasNot(t *testing.T) {
	// The clock of these tests never moves: a restarted endpoint seeded
	// from it alone would hand out its first sequencers again, and a new
	// upload would look like a redelivery of an old one.
	dir := t.TempDir()
	first := newS3Fixture(t, dir, endpointtest.Catalog{endpointtest.S3Job("all", "", "")}, &endpointtest.Launcher{}, 1)
	endpointtest.MustOK(t, first.put("uploads", "k", "one"), "PutObject before the restart")
	endpointtest.MustOK(t, first.put("uploads", "k", "two"), "PutObject before the restart")
	first.srv.Close()
	endpointtest.MustOK(t, first.s3.Close(), "Close")
	second := newS3Fixture(t, dir, endpointtest.Catalog{endpointtest.S3Job("all", "", "")}, &endpointtest.Launcher{}, 1)
	endpointtest.MustOK(t, second.put("uploads", "k", "three"), "PutObject after the restart")
	before := first.launch.Requests()[1].Trigger.Sequencer
	after := second.launch.Requests()[0].Trigger.Sequencer
	if after <= before {
		t.Errorf("sequencer after the restart %q, want one greater than %q", after, before)
	}
}

func TestCompletingAMultipartUploadStartsTheRunOnce(t *testing.T) {
	f := newS3Fixture(t, t.TempDir(), endpointtest.Catalog{endpointtest.S3Job("big", "big/", ".bin")}, &endpointtest.Launcher{}, 1)
	ctx := context.Background()
	key := "big/file.bin"
	up, err := f.client.CreateMultipartUpload(ctx, &awss3.CreateMultipartUploadInput{Bucket: aws.String("uploads"), Key: aws.String(key)})
	endpointtest.MustOK(t, err, "CreateMultipartUpload")
	parts := []string{strings.Repeat("a", 5<<20), "tail"}
	var done []types.CompletedPart
	for i, p := range parts {
		out, err := f.client.UploadPart(ctx, &awss3.UploadPartInput{
			Bucket: aws.String("uploads"), Key: aws.String(key), UploadId: up.UploadId,
			PartNumber: aws.Int32(int32(i + 1)), Body: strings.NewReader(p),
		})
		endpointtest.MustOK(t, err, "UploadPart")
		done = append(done, types.CompletedPart{ETag: out.ETag, PartNumber: aws.Int32(int32(i + 1))})
	}
	if n := len(f.launch.Requests()); n != 0 {
		t.Fatalf("%d launches before the upload was completed, want none", n)
	}
	_, err = f.client.CompleteMultipartUpload(ctx, &awss3.CompleteMultipartUploadInput{
		Bucket: aws.String("uploads"), Key: aws.String(key), UploadId: up.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: done},
	})
	endpointtest.MustOK(t, err, "CompleteMultipartUpload")
	reqs := f.launch.Requests()
	if len(reqs) != 1 || reqs[0].Job != "big" || reqs[0].Trigger.Key != key {
		t.Fatalf("launches %+v, want one run of big for %s", reqs, key)
	}
	if got := f.get(t, "uploads", key); got != parts[0]+parts[1] {
		t.Errorf("object holds %d bytes, want the %d bytes of both parts", len(got), len(parts[0])+len(parts[1]))
	}
}

func TestCopyingAnObjectIntoTheUploadsBucketStartsARun(t *testing.T) {
	f := newS3Fixture(t, t.TempDir(), endpointtest.Catalog{endpointtest.S3Job("csv", "in/", ".csv")}, &endpointtest.Launcher{}, 1)
	endpointtest.MustOK(t, f.put("outputs", "result.csv", "a,b\n"), "PutObject to outputs")
	_, err := f.client.CopyObject(context.Background(), &awss3.CopyObjectInput{
		Bucket: aws.String("uploads"), Key: aws.String("in/copied.csv"), CopySource: aws.String("outputs/result.csv"),
	})
	endpointtest.MustOK(t, err, "CopyObject")
	if got := f.launch.JobNames(); !slices.Equal(got, []string{"csv"}) {
		t.Fatalf("launched %q, want one run of csv", got)
	}
	if got := f.get(t, "uploads", "in/copied.csv"); got != "a,b\n" {
		t.Errorf("copy holds %q", got)
	}
}

func TestAFailedLaunchAnswersSlowDownSoTheClientUploadsAgain(t *testing.T) {
	storeDown := errors.New("run store unavailable")
	tests := []struct {
		name     string
		jobs     endpointtest.Catalog
		fail     func(int, dispatch.Request) error
		attempts int
		wantCode string // "" for success
		wantRuns int
	}{
		{
			name: "a launch failing every time is reported by the SDK as 503 SlowDown after its retries",
			jobs: endpointtest.Catalog{endpointtest.S3Job("all", "", "")}, fail: endpointtest.FailAlways, attempts: 3,
			wantCode: "SlowDown", wantRuns: 3,
		},
		{
			name: "a launch failing once succeeds on the SDK's retry, as a new upload",
			jobs: endpointtest.Catalog{endpointtest.S3Job("all", "", "")}, fail: endpointtest.FailFirst, attempts: 3,
			wantRuns: 2,
		},
		{
			name: "a run stored whose start is throttled is accepted: it starts when capacity allows",
			jobs: endpointtest.Catalog{endpointtest.S3Job("all", "", "")}, attempts: 1,
			fail: func(int, dispatch.Request) error {
				return &dispatch.StartError{Transient: true, Reason: "ThrottlingException: Rate exceeded"}
			},
			wantRuns: 1,
		},
		{
			name: "when one of two jobs fails, both are launched and the upload is refused",
			jobs: endpointtest.Catalog{endpointtest.S3Job("ok", "", ""), endpointtest.S3Job("broken", "", "")}, attempts: 1,
			fail: func(_ int, r dispatch.Request) error {
				if r.Job == "broken" {
					return storeDown
				}
				return nil
			},
			wantCode: "SlowDown", wantRuns: 2,
		},
		{
			name: "a request error is logged and the upload succeeds",
			jobs: endpointtest.Catalog{endpointtest.S3Job("gone", "", "")}, attempts: 3,
			fail:     func(int, dispatch.Request) error { return &dispatch.RequestError{Msg: `unknown job "gone"`} },
			wantRuns: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newS3Fixture(t, t.TempDir(), tt.jobs, &endpointtest.Launcher{Fail: tt.fail}, tt.attempts)
			err := f.put("uploads", "in/a.csv", "x")
			switch {
			case tt.wantCode == "" && err != nil:
				t.Fatalf("PutObject: %v, want success", err)
			case tt.wantCode != "" && (endpointtest.APICode(err) != tt.wantCode || endpointtest.HTTPStatus(err) != http.StatusServiceUnavailable):
				t.Fatalf("PutObject: %v (code %q, status %d), want %s with status 503", err, endpointtest.APICode(err), endpointtest.HTTPStatus(err), tt.wantCode)
			}
			reqs := f.launch.Requests()
			if len(reqs) != tt.wantRuns {
				t.Fatalf("%d launches, want %d", len(reqs), tt.wantRuns)
			}
			if tt.attempts > 1 && len(reqs) > 1 && reqs[0].Trigger.Sequencer == reqs[1].Trigger.Sequencer {
				t.Errorf("the retried upload reused sequencer %q: it is a new upload", reqs[0].Trigger.Sequencer)
			}
			// The object is stored either way.
			if got := f.get(t, "uploads", "in/a.csv"); got != "x" {
				t.Errorf("object holds %q, want %q", got, "x")
			}
		})
	}
}

func TestObjectsSurviveReopeningTheSameDataFolder(t *testing.T) {
	dir := t.TempDir()
	body := string([]byte{0, 1, 2, 255, '\n', 'z'}) + strings.Repeat("data", 1000)
	first := newS3Fixture(t, dir, endpointtest.Catalog{}, &endpointtest.Launcher{}, 1)
	endpointtest.MustOK(t, first.put("uploads", "keep/me.bin", body), "PutObject")
	endpointtest.MustOK(t, first.put("outputs", "weird key +:é", "w"), "PutObject")
	endpointtest.MustOK(t, first.put("uploads", "gone.txt", "bye"), "PutObject")
	_, err := first.client.DeleteObject(context.Background(), &awss3.DeleteObjectInput{Bucket: aws.String("uploads"), Key: aws.String("gone.txt")})
	endpointtest.MustOK(t, err, "DeleteObject")
	first.srv.Close()
	endpointtest.MustOK(t, first.s3.Close(), "Close")

	second := newS3Fixture(t, dir, endpointtest.Catalog{}, &endpointtest.Launcher{}, 1)
	if got := second.get(t, "uploads", "keep/me.bin"); got != body {
		t.Errorf("reopened object holds %d bytes, want the %d uploaded", len(got), len(body))
	}
	if got := second.get(t, "outputs", "weird key +:é"); got != "w" {
		t.Errorf("reopened object holds %q", got)
	}
	list, err := second.client.ListObjectsV2(context.Background(), &awss3.ListObjectsV2Input{Bucket: aws.String("uploads")})
	endpointtest.MustOK(t, err, "ListObjectsV2")
	var keys []string
	for _, o := range list.Contents {
		keys = append(keys, aws.ToString(o.Key))
	}
	if !slices.Equal(keys, []string{"keep/me.bin"}) {
		t.Errorf("listed %q after reopening, want only keep/me.bin (gone.txt was deleted)", keys)
	}
}

func TestJobsReadObjectsBackWithTheOrdinarySDK(t *testing.T) {
	f := newS3Fixture(t, t.TempDir(), endpointtest.Catalog{}, &endpointtest.Launcher{}, 1)
	ctx := context.Background()
	body := "hello, longshore\n"
	for _, k := range []string{"a/1.txt", "a/2.txt", "a/sub/3.txt", "b.txt", "c.txt"} {
		endpointtest.MustOK(t, f.put("uploads", k, body), "PutObject "+k)
	}

	t.Run("GetObject returns the bytes", func(t *testing.T) {
		if got := f.get(t, "uploads", "a/1.txt"); got != body {
			t.Errorf("got %q, want %q", got, body)
		}
	})
	t.Run("HeadObject gives the size and the MD5 ETag", func(t *testing.T) {
		out, err := f.client.HeadObject(ctx, &awss3.HeadObjectInput{Bucket: aws.String("uploads"), Key: aws.String("a/1.txt")})
		endpointtest.MustOK(t, err, "HeadObject")
		sum := md5.Sum([]byte(body))
		if aws.ToInt64(out.ContentLength) != int64(len(body)) || aws.ToString(out.ETag) != `"`+hex.EncodeToString(sum[:])+`"` {
			t.Errorf("length %d, ETag %s", aws.ToInt64(out.ContentLength), aws.ToString(out.ETag))
		}
	})
	t.Run("a range is served", func(t *testing.T) {
		out, err := f.client.GetObject(ctx, &awss3.GetObjectInput{Bucket: aws.String("uploads"), Key: aws.String("a/1.txt"), Range: aws.String("bytes=7-15")})
		endpointtest.MustOK(t, err, "GetObject with a range")
		b, _ := io.ReadAll(out.Body)
		out.Body.Close()
		if string(b) != "longshore" {
			t.Errorf("range gave %q, want %q", b, "longshore")
		}
	})
	t.Run("a missing key is NoSuchKey", func(t *testing.T) {
		_, err := f.client.GetObject(ctx, &awss3.GetObjectInput{Bucket: aws.String("uploads"), Key: aws.String("nope")})
		var nsk *types.NoSuchKey
		if !errors.As(err, &nsk) {
			t.Errorf("got %v, want NoSuchKey", err)
		}
	})
	t.Run("ListObjectsV2 with a delimiter groups prefixes", func(t *testing.T) {
		out, err := f.client.ListObjectsV2(ctx, &awss3.ListObjectsV2Input{Bucket: aws.String("uploads"), Prefix: aws.String("a/"), Delimiter: aws.String("/")})
		endpointtest.MustOK(t, err, "ListObjectsV2")
		var keys, prefixes []string
		for _, o := range out.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
		for _, p := range out.CommonPrefixes {
			prefixes = append(prefixes, aws.ToString(p.Prefix))
		}
		if !slices.Equal(keys, []string{"a/1.txt", "a/2.txt"}) || !slices.Equal(prefixes, []string{"a/sub/"}) {
			t.Errorf("keys %q, prefixes %q", keys, prefixes)
		}
	})
	t.Run("ListObjectsV2 pages through every key once", func(t *testing.T) {
		p := awss3.NewListObjectsV2Paginator(f.client, &awss3.ListObjectsV2Input{Bucket: aws.String("uploads"), MaxKeys: aws.Int32(2)})
		var keys []string
		pages := 0
		for p.HasMorePages() {
			out, err := p.NextPage(ctx)
			endpointtest.MustOK(t, err, "ListObjectsV2 page")
			pages++
			for _, o := range out.Contents {
				keys = append(keys, aws.ToString(o.Key))
			}
		}
		want := []string{"a/1.txt", "a/2.txt", "a/sub/3.txt", "b.txt", "c.txt"}
		if !slices.Equal(keys, want) || pages != 3 {
			t.Errorf("%d pages of %q, want 3 pages of %q", pages, keys, want)
		}
	})
}

func TestVirtualHostedRequestsToLocalhostAreServed(t *testing.T) {
	launch := &endpointtest.Launcher{}
	f := newS3Fixture(t, t.TempDir(), endpointtest.Catalog{endpointtest.S3Job("all", "", "")}, launch, 1)
	// uploads.localhost may not resolve here: dial the test server for any name.
	addr := strings.TrimPrefix(f.srv.URL, "http://")
	_, port, _ := net.SplitHostPort(addr)
	client := endpointtest.S3Client("http://localhost:"+port, 1, func(o *awss3.Options) {
		o.UsePathStyle = false
		o.HTTPClient = &http.Client{Transport: &http.Transport{
			DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
				return (&net.Dialer{}).DialContext(ctx, network, addr)
			},
		}}
	})
	_, err := client.PutObject(context.Background(), &awss3.PutObjectInput{
		Bucket: aws.String("uploads"), Key: aws.String("v/host.txt"), Body: strings.NewReader("vh"),
	})
	endpointtest.MustOK(t, err, "virtual-hosted PutObject")
	if got := launch.Requests(); len(got) != 1 || got[0].Trigger.Key != "v/host.txt" {
		t.Fatalf("launches %+v, want one for v/host.txt", got)
	}
	if got := f.get(t, "uploads", "v/host.txt"); got != "vh" {
		t.Errorf("object holds %q", got)
	}
}

func TestConcurrentUploadsOfOneKeyEachStartARun(t *testing.T) {
	f := newS3Fixture(t, t.TempDir(), endpointtest.Catalog{endpointtest.S3Job("all", "", "")}, &endpointtest.Launcher{}, 1)
	const n = 12
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			key := "same.txt"
			if i%3 == 0 {
				key = "other.txt"
			}
			errs[i] = f.put("uploads", key, strings.Repeat("x", i+1))
		}()
	}
	wg.Wait()
	for i, err := range errs {
		endpointtest.MustOK(t, err, "PutObject "+string(rune('a'+i)))
	}
	seen := map[string]bool{}
	for _, r := range f.launch.Requests() {
		if seen[r.Trigger.Sequencer] {
			t.Errorf("sequencer %s given twice", r.Trigger.Sequencer)
		}
		seen[r.Trigger.Sequencer] = true
	}
	if len(seen) != n {
		t.Errorf("%d runs with distinct sequencers, want %d", len(seen), n)
	}
}

func TestABadContentMD5StoresNothingAndStartsNothing(t *testing.T) {
	f := newS3Fixture(t, t.TempDir(), endpointtest.Catalog{endpointtest.S3Job("all", "", "")}, &endpointtest.Launcher{}, 1)
	req, _ := http.NewRequest(http.MethodPut, f.srv.URL+"/uploads/bad.txt", bytes.NewReader([]byte("body")))
	req.Header.Set("Content-MD5", "AAAAAAAAAAAAAAAAAAAAAA==")
	resp, err := http.DefaultClient.Do(req)
	endpointtest.MustOK(t, err, "PUT")
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("status %d, want 400 BadDigest", resp.StatusCode)
	}
	if n := len(f.launch.Requests()); n != 0 {
		t.Errorf("%d launches for a refused upload", n)
	}
	_, err = f.client.HeadObject(context.Background(), &awss3.HeadObjectInput{Bucket: aws.String("uploads"), Key: aws.String("bad.txt")})
	if endpointtest.HTTPStatus(err) != http.StatusNotFound {
		t.Errorf("HeadObject: %v, want 404", err)
	}
}

func TestNewRefusesIncompleteOptions(t *testing.T) {
	ok := Options{Dir: t.TempDir(), Jobs: endpointtest.Catalog{}, Launch: &endpointtest.Launcher{}}
	tests := []struct {
		name string
		edit func(*Options)
	}{
		{"without a data folder", func(o *Options) { o.Dir = "" }},
		{"without a catalog", func(o *Options) { o.Jobs = nil }},
		{"without a launcher", func(o *Options) { o.Launch = nil }},
		{"with an invalid bucket name", func(o *Options) { o.Buckets = []string{"Not_A_Bucket"} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := ok
			tt.edit(&o)
			if _, err := New(o); err == nil {
				t.Fatal("New accepted the options")
			}
		})
	}
}

func TestAChecksummingClientReadsWholeObjectsAndRanges(t *testing.T) {
	// config.LoadDefaultConfig gives clients that send a CRC32 with each
	// upload and check the one sent back with each download.
	f := newS3Fixture(t, t.TempDir(), endpointtest.Catalog{endpointtest.S3Job("all", "", "")}, &endpointtest.Launcher{}, 1)
	client := endpointtest.S3Client(f.srv.URL, 1, func(o *awss3.Options) {
		o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenSupported
		o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenSupported
	})
	ctx := context.Background()
	_, err := client.PutObject(ctx, &awss3.PutObjectInput{Bucket: aws.String("uploads"), Key: aws.String("c.txt"), Body: strings.NewReader("checksummed")})
	endpointtest.MustOK(t, err, "PutObject")
	for _, rng := range []string{"", "bytes=0-4", "bytes=-3"} {
		in := &awss3.GetObjectInput{Bucket: aws.String("uploads"), Key: aws.String("c.txt")}
		if rng != "" {
			in.Range = aws.String(rng)
		}
		out, err := client.GetObject(ctx, in)
		endpointtest.MustOK(t, err, "GetObject "+rng)
		b, err := io.ReadAll(out.Body)
		out.Body.Close()
		endpointtest.MustOK(t, err, "read GetObject "+rng+" (checksum validation)")
		want := map[string]string{"": "checksummed", "bytes=0-4": "check", "bytes=-3": "med"}[rng]
		if string(b) != want {
			t.Errorf("GetObject %q gave %q, want %q", rng, b, want)
		}
	}
}

func TestAWSChunkedUploadsAreStoredDecoded(t *testing.T) {
	tests := []struct {
		name       string
		sha        string
		body       string
		decodedLen string
		wantStatus int
		wantBody   string
	}{
		{
			name:       "unsigned chunks with a trailing checksum",
			sha:        "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
			body:       "5\r\nhello\r\n6\r\n world\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n",
			decodedLen: "11", wantStatus: http.StatusOK, wantBody: "hello world",
		},
		{
			name:       "signed chunks without trailers",
			sha:        "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
			body:       "b;chunk-signature=abc\r\nhello world\r\n0;chunk-signature=def\r\n\r\n",
			decodedLen: "11", wantStatus: http.StatusOK, wantBody: "hello world",
		},
		{
			name:       "a chunk shorter than it says is refused",
			sha:        "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
			body:       "9\r\nhello\r\n0\r\n\r\n",
			decodedLen: "9", wantStatus: http.StatusBadRequest,
		},
		{
			name:       "a missing decoded length is refused",
			sha:        "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
			body:       "5\r\nhello\r\n0\r\n\r\n",
			wantStatus: http.StatusBadRequest,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newS3Fixture(t, t.TempDir(), endpointtest.Catalog{endpointtest.S3Job("all", "", "")}, &endpointtest.Launcher{}, 1)
			req, _ := http.NewRequest(http.MethodPut, f.srv.URL+"/uploads/chunked.txt", strings.NewReader(tt.body))
			req.Header.Set("X-Amz-Content-Sha256", tt.sha)
			req.Header.Set("Content-Encoding", "aws-chunked")
			if tt.decodedLen != "" {
				req.Header.Set("X-Amz-Decoded-Content-Length", tt.decodedLen)
			}
			resp, err := http.DefaultClient.Do(req)
			endpointtest.MustOK(t, err, "PUT")
			resp.Body.Close()
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.wantStatus)
			}
			runs := len(f.launch.Requests())
			if tt.wantStatus != http.StatusOK {
				if runs != 0 {
					t.Errorf("%d launches for a refused upload", runs)
				}
				return
			}
			if runs != 1 {
				t.Errorf("%d launches, want 1", runs)
			}
			if got := f.get(t, "uploads", "chunked.txt"); got != tt.wantBody {
				t.Errorf("stored %q, want %q", got, tt.wantBody)
			}
		})
	}
}

func TestSubresourcesGofakes3DoesNotRouteAreRefused(t *testing.T) {
	f := newS3Fixture(t, t.TempDir(), endpointtest.Catalog{endpointtest.S3Job("all", "", "")}, &endpointtest.Launcher{}, 1)
	endpointtest.MustOK(t, f.put("uploads", "tagged.txt", "original"), "PutObject")
	_, err := f.client.PutObjectTagging(context.Background(), &awss3.PutObjectTaggingInput{
		Bucket: aws.String("uploads"), Key: aws.String("tagged.txt"),
		Tagging: &types.Tagging{TagSet: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}},
	})
	if endpointtest.APICode(err) != "NotImplemented" || endpointtest.HTTPStatus(err) != http.StatusNotImplemented {
		t.Fatalf("PutObjectTagging: %v, want 501 NotImplemented", err)
	}
	if got := f.get(t, "uploads", "tagged.txt"); got != "original" {
		t.Errorf("object now holds %q: the tagging request overwrote it", got)
	}
	if n := len(f.launch.Requests()); n != 1 {
		t.Errorf("%d launches, want only the upload's", n)
	}
}

func TestAConditionalPutThatFailsStartsNothing(t *testing.T) {
	f := newS3Fixture(t, t.TempDir(), endpointtest.Catalog{endpointtest.S3Job("all", "", "")}, &endpointtest.Launcher{}, 1)
	put := func(body string) error {
		_, err := f.client.PutObject(context.Background(), &awss3.PutObjectInput{
			Bucket: aws.String("uploads"), Key: aws.String("once.txt"), Body: strings.NewReader(body), IfNoneMatch: aws.String("*"),
		})
		return err
	}
	endpointtest.MustOK(t, put("first"), "first conditional PutObject")
	if err := put("second"); endpointtest.HTTPStatus(err) != http.StatusPreconditionFailed {
		t.Fatalf("second conditional PutObject: %v, want 412", err)
	}
	if n := len(f.launch.Requests()); n != 1 {
		t.Errorf("%d launches, want 1", n)
	}
	if got := f.get(t, "uploads", "once.txt"); got != "first" {
		t.Errorf("object holds %q, want the first upload", got)
	}
}

func TestABrowserFormUploadStartsARunToo(t *testing.T) {
	tests := []struct {
		name       string
		fail       func(int, dispatch.Request) error
		wantStatus int
	}{
		{name: "a launch that succeeds answers the upload with 200", wantStatus: http.StatusOK},
		{name: "a launch that fails answers 500, which clients retry", fail: endpointtest.FailAlways, wantStatus: http.StatusInternalServerError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newS3Fixture(t, t.TempDir(), endpointtest.Catalog{endpointtest.S3Job("forms", "form/", "")}, &endpointtest.Launcher{Fail: tt.fail}, 1)
			var body bytes.Buffer
			mw := multipart.NewWriter(&body)
			endpointtest.MustOK(t, mw.WriteField("key", "form/from browser.txt"), "form key")
			fw, err := mw.CreateFormFile("file", "x.txt")
			endpointtest.MustOK(t, err, "form file")
			_, _ = fw.Write([]byte("posted"))
			endpointtest.MustOK(t, mw.Close(), "form")
			resp, err := http.Post(f.srv.URL+"/uploads", mw.FormDataContentType(), &body)
			endpointtest.MustOK(t, err, "POST")
			resp.Body.Close()
			if got := resp.StatusCode; got != tt.wantStatus {
				t.Fatalf("status %d, want %d", got, tt.wantStatus)
			}
			reqs := f.launch.Requests()
			if len(reqs) != 1 || reqs[0].Trigger.Key != "form/from browser.txt" {
				t.Fatalf("launches %+v, want one for the posted key", reqs)
			}
		})
	}
}
