// Package s3 is the local S3 endpoint of `longshore local`: an
// S3-compatible server (gofakes3 over a store on disk) whose uploads into
// the uploads bucket start the jobs with a matching s3 trigger. Jobs read
// objects back with any S3 SDK or the AWS CLI through AWS_ENDPOINT_URL_S3.
//
// An upload is answered with success only once the runs it starts are
// stored; otherwise the client gets 503 SlowDown and uploads again.
package s3

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/johannesboyne/gofakes3"

	"github.com/longshore/longshore/internal/dispatch"
	"github.com/longshore/longshore/internal/job"
	"github.com/longshore/longshore/internal/local/endpoint"
	"github.com/longshore/longshore/internal/run"
)

// DefaultBucket is the uploads bucket when Options.Buckets is empty.
const DefaultBucket = "uploads"

// Options configure the local S3 endpoint.
type Options struct {
	// Dir is the data folder for buckets and objects: they survive restarts.
	Dir string
	// Buckets are created at start when missing; [DefaultBucket] when empty.
	// The first is the uploads bucket: objects created there start the runs
	// of the jobs whose s3 trigger matches their key, as on AWS. The others
	// are plain storage (for a job's outputs, say).
	Buckets []string
	Jobs    endpoint.Jobs
	Launch  endpoint.Launcher
	// Now is the clock (time.Now when nil): it seeds the sequencers and
	// dates objects.
	Now func() time.Time
	Log *slog.Logger
}

// Endpoint is an S3-compatible endpoint (path-style, or virtual-hosted under
// *.localhost) built on gofakes3 over a store on disk. Every object created
// in the uploads bucket — a PutObject, a completed multipart upload, a
// CopyObject or a browser form upload — starts one run of each job whose s3
// trigger matches the key, with the key exactly as stored and a new
// sequencer: uploading the same key again is a new run.
//
// The answer to an upload waits for those launches. When one fails with
// anything but a *dispatch.RequestError, the client gets 503 SlowDown and
// uploads again (the object is stored either way, and the trigger is not
// lost); a RequestError is logged and the upload succeeds. A browser form
// upload, whose key is known only once gofakes3 has read its body, gets
// 500 with code SlowDown instead: gofakes3 answers 500 to codes it does
// not know.
type Endpoint struct {
	o       Options
	uploads string
	handler http.Handler
	store   *diskStore

	mu    sync.Mutex
	slots map[objectRef]*keySlot
}

// objectRef names an object.
type objectRef struct{ bucket, key string }

// objectCreated is one object created in the uploads bucket, waiting for
// its runs to be launched.
type objectCreated struct {
	objectRef
	sequencer string
}

// keySlot serialises the requests that create one object: the request
// holding it collects, in created, what the store did for it.
type keySlot struct {
	sem     chan struct{}
	waiters int
	created []objectCreated
	held    bool
	// etag is the ETag of the object a multipart completion holding the
	// slot makes (the store cannot tell it from the bytes).
	etag string
}

// New opens the data folder, creates the missing buckets and returns the
// endpoint. Close it to release the store.
func New(o Options) (*Endpoint, error) {
	switch {
	case o.Dir == "":
		return nil, errors.New("local S3: no data folder (Options.Dir)")
	case o.Jobs == nil:
		return nil, errors.New("local S3: no job catalog (Options.Jobs)")
	case o.Launch == nil:
		return nil, errors.New("local S3: no launcher (Options.Launch)")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if len(o.Buckets) == 0 {
		o.Buckets = []string{DefaultBucket}
	}
	for _, b := range o.Buckets {
		if err := gofakes3.ValidateBucketName(b); err != nil {
			return nil, fmt.Errorf("local S3: bucket %q: %w", b, err)
		}
	}
	store, err := openDiskStore(o.Dir, o.Now, o.Log)
	if err != nil {
		return nil, fmt.Errorf("local S3: %w", err)
	}
	for _, b := range o.Buckets {
		if err := store.CreateBucket(b); err != nil && !gofakes3.IsAlreadyExists(err) {
			return nil, fmt.Errorf("local S3: %w", err)
		}
	}
	s := &Endpoint{o: o, uploads: o.Buckets[0], slots: map[objectRef]*keySlot{}, store: store}
	fake := gofakes3.New(&triggering{diskStore: store, s: s},
		gofakes3.WithTimeSource(clock{o.Now}),
		gofakes3.WithTimeSkewLimit(0), // a local endpoint has no replay to guard against
		gofakes3.WithLogger(gofakesLog{o.Log}),
	)
	s.handler = fake.Server()
	return s, nil
}

// Close releases the store. Nothing is held open between requests, so it
// only stops the endpoint from serving.
func (s *Endpoint) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeS3Error(w, http.StatusServiceUnavailable, "ServiceUnavailable", "the local S3 endpoint is closed", r.URL.Path, "")
	})
	return nil
}

func (s *Endpoint) current() http.Handler {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.handler
}

// ServeHTTP serves the S3 API. A request that may create an object waits
// for the others creating the same object, and its answer is held back
// until the runs it triggered are launched.
func (s *Endpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	r = virtualHosted(r)
	if bucket, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/"); bucket == "" && r.Method != http.MethodGet && r.Method != http.MethodOptions {
		// Nothing but ListBuckets is served without a bucket (split as
		// gofakes3 does); gofakes3 would answer net/http's plain-text 404.
		writeS3Error(w, http.StatusMethodNotAllowed, "MethodNotAllowed",
			"the specified method is not allowed against the service: "+r.Method+" "+r.URL.Path+" (GET / lists the buckets)", r.URL.Path, "")
		return
	}
	if sub, ok := unsupportedSubresource(r.URL.Query()); ok {
		// gofakes3 does not route these: PUT /bucket/key?tagging would
		// overwrite the object with the tagging document.
		writeS3Error(w, http.StatusNotImplemented, "NotImplemented",
			"the local S3 endpoint does not implement the ?"+sub+" subresource", r.URL.Path, "")
		return
	}
	r, err := decodeAWSChunked(r)
	if err != nil {
		writeS3Error(w, http.StatusBadRequest, "InvalidRequest", err.Error(), r.URL.Path, "")
		return
	}
	if bucket, key, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/"); key != "" && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
		ow := &objectWriter{ResponseWriter: w}
		defer ow.fix() // a HEAD may end without writing: the server then sends the headers as left
		r, w = s.multipartIfNoneMatch(r, bucket, key), ow
	}
	if describesObject(r) {
		r = tunnelHeaders(r)
	}
	h := s.current()
	ref, ok := createsObject(r)
	if !ok {
		h.ServeHTTP(w, r)
		return
	}
	buf := &bufferedResponse{header: http.Header{}}
	created := s.serveCreating(h, buf, r, ref)

	ctx := context.WithoutCancel(r.Context())
	var errs []error
	if buf.code() < 300 {
		for _, c := range created {
			if err := s.launch(ctx, c); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if len(errs) > 0 {
		writeS3Error(w, http.StatusServiceUnavailable, "SlowDown",
			"the object was stored but a run it triggers could not be recorded; upload it again: "+errors.Join(errs...).Error(),
			"/"+ref.bucket+"/"+ref.key, buf.header.Get("x-amz-request-id"))
		return
	}
	buf.writeTo(w)
}

// serveCreating serves a request that may create ref while holding ref,
// and returns what the store created for it. The hold is released even if
// gofakes3 panics, so that the key is not blocked for good.
func (s *Endpoint) serveCreating(h http.Handler, w http.ResponseWriter, r *http.Request, ref objectRef) (created []objectCreated) {
	slot := s.acquire(ref)
	defer func() { created = s.release(ref, slot) }()
	if r.Method == http.MethodPost {
		r = s.completion(r, slot)
	}
	h.ServeHTTP(w, r)
	return nil
}

// createsObject tells whether gofakes3 may store an object while serving r,
// and which: a PutObject or CopyObject (PUT /bucket/key) or a completed
// multipart upload (POST /bucket/key?uploadId=). Parts, listings, reads
// and deletes are not. It splits the path as gofakes3 does.
func createsObject(r *http.Request) (objectRef, bool) {
	bucket, key, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	if bucket == "" || key == "" {
		return objectRef{}, false
	}
	q := r.URL.Query()
	uploadID := q.Get("uploadId")
	switch r.Method {
	case http.MethodPut:
		_, initiate := q["uploads"]
		return objectRef{bucket, key}, uploadID == "" && !initiate
	case http.MethodPost:
		return objectRef{bucket, key}, uploadID != ""
	}
	return objectRef{}, false
}

// acquire waits until no other request is creating ref, then holds it.
func (s *Endpoint) acquire(ref objectRef) *keySlot {
	s.mu.Lock()
	slot := s.slots[ref]
	if slot == nil {
		slot = &keySlot{sem: make(chan struct{}, 1)}
		s.slots[ref] = slot
	}
	slot.waiters++
	s.mu.Unlock()
	slot.sem <- struct{}{}
	s.mu.Lock()
	slot.held, slot.created, slot.etag = true, nil, ""
	s.mu.Unlock()
	return slot
}

// release lets the next request for ref in, and returns what the store
// created for this one.
func (s *Endpoint) release(ref objectRef, slot *keySlot) []objectCreated {
	s.mu.Lock()
	created := slot.created
	slot.held, slot.created, slot.etag = false, nil, ""
	slot.waiters--
	if slot.waiters == 0 {
		delete(s.slots, ref)
	}
	s.mu.Unlock()
	<-slot.sem
	return created
}

// created is called by the store wrapper once an object is stored. The
// request creating it launches the runs; an object no request was waiting
// for (a browser form upload, whose key is in its body) launches them here.
func (s *Endpoint) created(info *objectInfo, bucket string) error {
	if bucket != s.uploads {
		return nil
	}
	c := objectCreated{objectRef: objectRef{bucket, info.Key}, sequencer: info.Sequencer}
	s.mu.Lock()
	if slot := s.slots[c.objectRef]; slot != nil && slot.held {
		slot.created = append(slot.created, c)
		s.mu.Unlock()
		return nil
	}
	s.mu.Unlock()
	if err := s.launch(context.Background(), c); err != nil {
		return gofakes3.ErrorMessage("SlowDown", "the object was stored but a run it triggers could not be recorded; upload it again: "+err.Error())
	}
	return nil
}

// launch starts a run of each job whose s3 trigger matches the object. A
// RequestError is logged; the other errors are returned, joined.
func (s *Endpoint) launch(ctx context.Context, c objectCreated) error {
	var errs []error
	for _, name := range job.MatchS3(s.o.Jobs.Jobs(), c.key) {
		req := dispatch.Request{Job: name, Trigger: run.Trigger{
			Kind: run.TriggerS3, Bucket: c.bucket, Key: c.key, Sequencer: c.sequencer,
		}}
		l, err := s.o.Launch.Launch(ctx, req)
		switch {
		case dispatch.Stored(l, err):
			s.o.Log.Info("S3 upload started a run", "job", name, "bucket", c.bucket, "key", c.key,
				"sequencer", c.sequencer, "run", l.Run.ID, "duplicate", l.Duplicate)
		case endpoint.IsRequestError(err):
			s.o.Log.Warn("S3 upload cannot start a run", "job", name, "bucket", c.bucket, "key", c.key, "err", err)
		default:
			s.o.Log.Error("S3 upload: launch failed", "job", name, "bucket", c.bucket, "key", c.key, "err", err)
			errs = append(errs, fmt.Errorf("launch %s for s3://%s/%s: %w", name, c.bucket, c.key, err))
		}
	}
	return errors.Join(errs...)
}

// triggering wraps the store: each object it stores is reported to the S3
// endpoint. gofakes3 completes a multipart upload (with its own in-memory
// uploader, as the store has no multipart support) by one PutObject on the
// backend, so completions are seen here too.
type triggering struct {
	*diskStore
	s *Endpoint
}

func (t *triggering) PutObject(bucket, key string, meta map[string]string, input io.Reader, size int64, conditions *gofakes3.PutConditions) (gofakes3.PutObjectResult, error) {
	res, info, err := t.diskStore.put(bucket, key, meta, input, size, conditions, t.s.pendingETag(objectRef{bucket, key}))
	if err != nil {
		return res, err
	}
	return res, t.s.created(info, bucket)
}

func (t *triggering) CopyObject(srcBucket, srcKey, dstBucket, dstKey string, meta map[string]string) (gofakes3.CopyObjectResult, error) {
	res, info, err := t.diskStore.copy(srcBucket, srcKey, dstBucket, dstKey, meta)
	if err != nil {
		return res, err
	}
	return res, t.s.created(info, dstBucket)
}

// clock adapts the injected clock to gofakes3.
type clock struct{ now func() time.Time }

func (c clock) Now() time.Time                  { return c.now().In(time.UTC) }
func (c clock) Since(t time.Time) time.Duration { return c.now().Sub(t) }

// gofakesLog sends gofakes3's log to slog: its errors as errors, the rest
// at debug level.
type gofakesLog struct{ log *slog.Logger }

func (l gofakesLog) Print(level gofakes3.LogLevel, v ...any) {
	msg := strings.TrimSpace(fmt.Sprintln(v...))
	switch level {
	case gofakes3.LogErr:
		l.log.Error("gofakes3: " + msg)
	case gofakes3.LogWarn:
		l.log.Warn("gofakes3: " + msg)
	default:
		l.log.Debug("gofakes3: " + msg)
	}
}
