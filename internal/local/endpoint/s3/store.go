package s3

import (
	"bytes"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/johannesboyne/gofakes3"
)

// diskStore is a gofakes3 backend that keeps each object in a file of its
// own under a data folder, so uploads outlive the process:
//
//	<dir>/buckets/<bucket>/bucket.json       when the bucket was created
//	<dir>/buckets/<bucket>/objects/<sha256 of the key, hex>
//	<dir>/tmp/                              objects being written
//
// An object file holds the object's bytes, then its description (key,
// size, MD5, time, metadata) as JSON, then the length of that JSON and a
// magic word, 8 bytes each. A file is written whole under tmp/ and renamed
// into place, so a reader sees either the old object or the new one, never
// a mix, and a crash leaves only a stray file in tmp/ (removed at the next
// start). The descriptions are also held in memory for listing.
//
// One data folder serves one process at a time.
type diskStore struct {
	dir string
	now func() time.Time
	log *slog.Logger

	mu      sync.RWMutex
	buckets map[string]*diskBucket

	// seq numbers the objects stored, as S3's sequencers do; it starts
	// above every sequencer already stored, so it keeps increasing across
	// restarts even when the clock does not.
	seq sequencer
}

type diskBucket struct {
	created time.Time
	objects map[string]*objectInfo
}

type bucketFile struct {
	Created time.Time `json:"created"`
}

var _ gofakes3.Backend = (*diskStore)(nil)

// openDiskStore opens (creating it if needed) the store in dir and reads
// the descriptions of every object it holds.
func openDiskStore(dir string, now func() time.Time, log *slog.Logger) (*diskStore, error) {
	s := &diskStore{dir: dir, now: now, log: log, buckets: map[string]*diskBucket{}}
	if err := os.RemoveAll(s.tmpDir()); err != nil {
		return nil, fmt.Errorf("clear %s: %w", s.tmpDir(), err)
	}
	for _, d := range []string{s.tmpDir(), filepath.Join(dir, "buckets")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, fmt.Errorf("create S3 data folder: %w", err)
		}
	}
	entries, err := os.ReadDir(filepath.Join(dir, "buckets"))
	if err != nil {
		return nil, fmt.Errorf("read S3 data folder: %w", err)
	}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		b, err := s.loadBucket(e.Name())
		if err != nil {
			return nil, err
		}
		s.buckets[e.Name()] = b
	}
	s.seq.seed(now())
	for _, b := range s.buckets {
		for _, o := range b.objects {
			s.seq.observe(o.Sequencer)
		}
	}
	return s, nil
}

func (s *diskStore) tmpDir() string { return filepath.Join(s.dir, "tmp") }

func (s *diskStore) bucketDir(bucket string) string {
	return filepath.Join(s.dir, "buckets", bucket)
}

func (s *diskStore) objectPath(bucket, key string) string {
	sum := sha256.Sum256([]byte(key))
	return filepath.Join(s.bucketDir(bucket), "objects", hex.EncodeToString(sum[:]))
}

func (s *diskStore) loadBucket(name string) (*diskBucket, error) {
	b := &diskBucket{objects: map[string]*objectInfo{}}
	raw, err := os.ReadFile(filepath.Join(s.bucketDir(name), "bucket.json"))
	var bf bucketFile
	if err == nil {
		err = json.Unmarshal(raw, &bf)
	}
	if err != nil {
		s.log.Warn("S3 bucket without a readable bucket.json: using its folder's time", "bucket", name, "err", err)
		if fi, err := os.Stat(s.bucketDir(name)); err == nil {
			bf.Created = fi.ModTime()
		}
	}
	b.created = bf.Created
	objDir := filepath.Join(s.bucketDir(name), "objects")
	entries, err := os.ReadDir(objDir)
	if errors.Is(err, fs.ErrNotExist) {
		return b, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read S3 bucket %s: %w", name, err)
	}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		p := filepath.Join(objDir, e.Name())
		info, err := readInfo(p)
		if err != nil {
			s.log.Warn("skipping unreadable S3 object file", "file", p, "err", err)
			continue
		}
		if p != s.objectPath(name, info.Key) {
			s.log.Warn("skipping S3 object file stored under the wrong name", "file", p, "key", info.Key)
			continue
		}
		b.objects[info.Key] = info
	}
	return b, nil
}

func (s *diskStore) ListBuckets() ([]gofakes3.BucketInfo, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]gofakes3.BucketInfo, 0, len(s.buckets))
	for _, name := range slices.Sorted(maps.Keys(s.buckets)) {
		out = append(out, gofakes3.BucketInfo{Name: name, CreationDate: gofakes3.NewContentTime(s.buckets[name].created)})
	}
	return out, nil
}

func (s *diskStore) BucketExists(name string) (bool, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	_, ok := s.buckets[name]
	return ok, nil
}

func (s *diskStore) CreateBucket(name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.buckets[name]; ok {
		return gofakes3.ResourceError(gofakes3.ErrBucketAlreadyExists, name)
	}
	created := s.now()
	if err := os.MkdirAll(filepath.Join(s.bucketDir(name), "objects"), 0o755); err != nil {
		return fmt.Errorf("create bucket %s: %w", name, err)
	}
	raw, _ := json.Marshal(bucketFile{Created: created})
	if err := os.WriteFile(filepath.Join(s.bucketDir(name), "bucket.json"), raw, 0o644); err != nil {
		return fmt.Errorf("create bucket %s: %w", name, err)
	}
	s.buckets[name] = &diskBucket{created: created, objects: map[string]*objectInfo{}}
	return nil
}

func (s *diskStore) DeleteBucket(name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.buckets[name]
	if !ok {
		return gofakes3.BucketNotFound(name)
	}
	if len(b.objects) > 0 {
		return gofakes3.ResourceError(gofakes3.ErrBucketNotEmpty, name)
	}
	return s.removeBucketLocked(name)
}

func (s *diskStore) ForceDeleteBucket(name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.buckets[name]; !ok {
		return gofakes3.BucketNotFound(name)
	}
	return s.removeBucketLocked(name)
}

func (s *diskStore) removeBucketLocked(name string) error {
	if err := os.RemoveAll(s.bucketDir(name)); err != nil {
		return fmt.Errorf("delete bucket %s: %w", name, err)
	}
	delete(s.buckets, name)
	return nil
}

func (s *diskStore) ListBucket(name string, prefix *gofakes3.Prefix, page gofakes3.ListBucketPage) (*gofakes3.ObjectList, error) {
	if prefix == nil {
		prefix = &gofakes3.Prefix{}
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	b, ok := s.buckets[name]
	if !ok {
		return nil, gofakes3.BucketNotFound(name)
	}
	keys := slices.Sorted(maps.Keys(b.objects))
	if page.Marker != "" {
		i, found := slices.BinarySearch(keys, page.Marker)
		if found {
			i++
		}
		keys = keys[i:]
	}
	out := gofakes3.NewObjectList()
	var (
		match    gofakes3.PrefixMatch
		lastPart string
		count    int64
	)
	for _, key := range keys {
		if !prefix.Match(key, &match) {
			continue
		}
		if match.CommonPrefix {
			// A group already listed (on this page, or as the marker of
			// the page before) is not listed again.
			if match.MatchedPart == lastPart || match.MatchedPart == page.Marker {
				continue
			}
			if page.MaxKeys > 0 && count >= page.MaxKeys {
				out.IsTruncated = true
				break
			}
			out.AddPrefix(match.MatchedPart)
			lastPart = match.MatchedPart
			out.NextMarker = match.MatchedPart
		} else {
			if page.MaxKeys > 0 && count >= page.MaxKeys {
				out.IsTruncated = true
				break
			}
			o := b.objects[key]
			out.Add(&gofakes3.Content{
				Key:          key,
				LastModified: gofakes3.NewContentTime(o.Modified),
				ETag:         o.etag(),
				Size:         o.Size,
			})
			out.NextMarker = key
		}
		count++
	}
	if !out.IsTruncated {
		out.NextMarker = ""
	}
	return out, nil
}

// describe returns a copy of an object's description.
func (s *diskStore) describe(bucket, key string) (objectInfo, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if b, ok := s.buckets[bucket]; ok {
		if o, ok := b.objects[key]; ok {
			return *o, true
		}
	}
	return objectInfo{}, false
}

// lookup finds an object and opens its file under the read lock, so the
// file opened is the one described.
func (s *diskStore) lookup(bucket, key string) (*objectInfo, *os.File, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	b, ok := s.buckets[bucket]
	if !ok {
		return nil, nil, gofakes3.BucketNotFound(bucket)
	}
	info, ok := b.objects[key]
	if !ok {
		return nil, nil, gofakes3.KeyNotFound(key)
	}
	f, err := os.Open(s.objectPath(bucket, key))
	if err != nil {
		return nil, nil, fmt.Errorf("open object %s/%s: %w", bucket, key, err)
	}
	return info, f, nil
}

func (s *diskStore) GetObject(bucket, key string, rangeRequest *gofakes3.ObjectRangeRequest) (*gofakes3.Object, error) {
	info, f, err := s.lookup(bucket, key)
	if err != nil {
		return nil, err
	}
	rnge, err := rangeRequest.Range(info.Size)
	if err != nil {
		f.Close()
		return nil, err
	}
	start, length := int64(0), info.Size
	if rnge != nil {
		start, length = rnge.Start, rnge.Length
	}
	obj := info.object(key)
	obj.Contents = sectionCloser{io.NewSectionReader(f, start, length), f}
	obj.Range = rnge
	return obj, nil
}

type sectionCloser struct {
	*io.SectionReader
	f *os.File
}

func (c sectionCloser) Close() error { return c.f.Close() }

func (s *diskStore) HeadObject(bucket, key string) (*gofakes3.Object, error) {
	info, f, err := s.lookup(bucket, key)
	if err != nil {
		return nil, err
	}
	f.Close()
	obj := info.object(key)
	obj.Contents = io.NopCloser(bytes.NewReader(nil))
	return obj, nil
}

func (s *diskStore) DeleteObject(bucket, key string) (gofakes3.ObjectDeleteResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return gofakes3.ObjectDeleteResult{}, s.deleteLocked(bucket, key)
}

func (s *diskStore) deleteLocked(bucket, key string) error {
	b, ok := s.buckets[bucket]
	if !ok {
		return gofakes3.BucketNotFound(bucket)
	}
	if _, ok := b.objects[key]; !ok {
		return nil
	}
	if err := os.Remove(s.objectPath(bucket, key)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("delete object %s/%s: %w", bucket, key, err)
	}
	delete(b.objects, key)
	return nil
}

func (s *diskStore) DeleteMulti(bucket string, keys ...string) (gofakes3.MultiDeleteResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out gofakes3.MultiDeleteResult
	if _, ok := s.buckets[bucket]; !ok {
		return out, gofakes3.BucketNotFound(bucket)
	}
	for _, key := range keys {
		if err := s.deleteLocked(bucket, key); err != nil {
			r := gofakes3.ErrorResultFromError(err)
			r.Key = key
			out.Error = append(out.Error, r)
			continue
		}
		out.Deleted = append(out.Deleted, gofakes3.ObjectID{Key: key})
	}
	return out, nil
}

// PutObject writes the object under tmp/ and renames it into place. It
// reads input to its end, so that gofakes3's Content-MD5 check (done at
// EOF) runs before anything is stored.
func (s *diskStore) PutObject(bucket, key string, meta map[string]string, input io.Reader, size int64, conditions *gofakes3.PutConditions) (gofakes3.PutObjectResult, error) {
	res, _, err := s.put(bucket, key, meta, input, size, conditions, "")
	return res, err
}

// put stores an object and returns its description. Of meta it keeps
// what S3 keeps (keptMetadata); etag is the object's ETag when it is not
// the MD5 of its bytes (a multipart upload's), else "".
func (s *diskStore) put(bucket, key string, meta map[string]string, input io.Reader, size int64, conditions *gofakes3.PutConditions, etag string) (gofakes3.PutObjectResult, *objectInfo, error) {
	var res gofakes3.PutObjectResult
	if ok, _ := s.BucketExists(bucket); !ok {
		return res, nil, gofakes3.BucketNotFound(bucket)
	}
	tmp, err := os.CreateTemp(s.tmpDir(), "put-*")
	if err != nil {
		return res, nil, fmt.Errorf("put object %s/%s: %w", bucket, key, err)
	}
	committed := false
	defer func() {
		if !committed {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	sum := md5.New()
	n, err := io.Copy(io.MultiWriter(tmp, sum), input)
	if err != nil {
		return res, nil, err // gofakes3's errors (BadDigest, ...) go back to the client as they are
	}
	if n != size {
		return res, nil, gofakes3.ErrIncompleteBody
	}
	now := s.now()
	info := &objectInfo{Key: key, Size: n, MD5: sum.Sum(nil), Modified: now, Metadata: keptMetadata(meta), Sequencer: s.seq.next(now), ETag: etag}
	if err := writeInfo(tmp, info); err != nil {
		return res, nil, fmt.Errorf("put object %s/%s: %w", bucket, key, err)
	}
	if err := tmp.Sync(); err != nil {
		return res, nil, fmt.Errorf("put object %s/%s: %w", bucket, key, err)
	}
	if err := tmp.Close(); err != nil {
		return res, nil, fmt.Errorf("put object %s/%s: %w", bucket, key, err)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.buckets[bucket]
	if !ok {
		return res, nil, gofakes3.BucketNotFound(bucket)
	}
	if conditions != nil {
		cur := &gofakes3.ConditionalObjectInfo{}
		if o, ok := b.objects[key]; ok {
			cur.Exists, cur.Hash = true, o.MD5
			if c := *conditions; c.IfMatch != nil && o.ETag != "" && strings.Trim(*c.IfMatch, `"`) == strings.Trim(o.ETag, `"`) {
				// gofakes3 compares with the MD5: a multipart ETag that
				// matches is that MD5.
				md5Hex := hex.EncodeToString(o.MD5)
				c.IfMatch = &md5Hex
				conditions = &c
			}
		}
		if err := gofakes3.CheckPutConditions(conditions, cur); err != nil {
			return res, nil, err
		}
	}
	if err := os.Rename(tmp.Name(), s.objectPath(bucket, key)); err != nil {
		return res, nil, fmt.Errorf("put object %s/%s: %w", bucket, key, err)
	}
	committed = true
	b.objects[key] = info
	return res, info, nil
}

// CopyObject copies through GetObject and PutObject of this store (not of
// any wrapper around it).
func (s *diskStore) CopyObject(srcBucket, srcKey, dstBucket, dstKey string, meta map[string]string) (gofakes3.CopyObjectResult, error) {
	res, _, err := s.copy(srcBucket, srcKey, dstBucket, dstKey, meta)
	return res, err
}

func (s *diskStore) copy(srcBucket, srcKey, dstBucket, dstKey string, meta map[string]string) (gofakes3.CopyObjectResult, *objectInfo, error) {
	src, err := s.GetObject(srcBucket, srcKey, nil)
	if err != nil {
		return gofakes3.CopyObjectResult{}, nil, err
	}
	defer src.Contents.Close()
	// A copy is made in one piece: its ETag is the MD5 of its bytes.
	_, info, err := s.put(dstBucket, dstKey, meta, src.Contents, src.Size, nil, "")
	if err != nil {
		return gofakes3.CopyObjectResult{}, nil, err
	}
	return gofakes3.CopyObjectResult{
		ETag:         gofakes3.FormatETag(info.MD5),
		LastModified: gofakes3.NewContentTime(info.Modified),
	}, info, nil
}
