package s3

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/johannesboyne/gofakes3"
)

// objectInfo describes a stored object; it is the JSON in the object file.
type objectInfo struct {
	Key      string            `json:"key"`
	Size     int64             `json:"size"`
	MD5      []byte            `json:"md5"`
	Modified time.Time         `json:"modified"`
	Metadata map[string]string `json:"metadata,omitempty"`
	// Sequencer orders the writes of the store (upper-case hex, fixed width).
	Sequencer string `json:"sequencer,omitempty"`
	// ETag, when set, is the object's ETag as S3 gives it (quoted) where
	// it is not the MD5 of its bytes: that of a multipart upload,
	// "<MD5 of the parts' MD5s>-<number of parts>".
	ETag string `json:"etag,omitempty"`
}

// etag is the object's ETag, quoted.
func (o *objectInfo) etag() string {
	if o.ETag != "" {
		return o.ETag
	}
	return gofakes3.FormatETag(o.MD5)
}

// object describes the object to gofakes3: its metadata is what S3 keeps
// of an upload, and carries the ETag when it is not the MD5 (see
// etagHeader).
func (o *objectInfo) object(key string) *gofakes3.Object {
	meta := keptMetadata(o.Metadata)
	if o.ETag != "" {
		meta[etagHeader] = o.ETag
	}
	return &gofakes3.Object{Name: key, Metadata: meta, Size: o.Size, Hash: o.MD5}
}

// etagHeader carries an object's ETag from the store to the answer of a
// GET or HEAD when it is not the MD5 of the object (which gofakes3
// answers, hex-encoding Object.Hash): the S3 endpoint puts it in ETag.
const etagHeader = "X-Longshore-Etag"

// storedHeaders are the standard headers of an upload that S3 keeps with
// the object and sends back with it; besides them, only user metadata
// (x-amz-meta-*) is kept. Last-Modified is gofakes3's own.
var storedHeaders = []string{
	"Cache-Control", "Content-Disposition", "Content-Encoding", "Content-Language", "Content-Type", "Expires", "Last-Modified",
}

// tunnelPrefix carries the standard headers gofakes3 does not keep
// (Cache-Control, Content-Language, Expires) through it: it keeps every
// X-Amz-* header of an upload. The S3 endpoint copies them under this
// prefix, and keptMetadata takes them back out.
const tunnelPrefix = "X-Amz-Longshore-Object-"

// tunnelled are the headers carried under tunnelPrefix.
var tunnelled = []string{"Cache-Control", "Content-Language", "Expires"}

// keptMetadata is what S3 keeps of an upload's headers: its user metadata
// (x-amz-meta-*, under canonical names; they are sent back in lower case)
// and storedHeaders. Headers of the request itself — X-Amz-Date,
// X-Amz-Content-Sha256, X-Amz-Security-Token, checksums, the ACL — are
// dropped: gofakes3 hands every X-Amz-* header over, and objects stored
// by earlier versions kept them.
func keptMetadata(meta map[string]string) map[string]string {
	out := make(map[string]string, len(meta))
	// Sorted, so that of two spellings of one name the same one wins.
	for _, k := range slices.Sorted(maps.Keys(meta)) {
		name := http.CanonicalHeaderKey(k)
		if std, ok := strings.CutPrefix(name, tunnelPrefix); ok {
			if !slices.Contains(tunnelled, std) {
				continue
			}
			name = std
		} else if user, ok := strings.CutPrefix(name, userMetaPrefix); !(ok && user != "") && !slices.Contains(storedHeaders, name) {
			continue
		}
		out[name] = meta[k]
	}
	return out
}

// userMetaPrefix starts the (canonical) name of every user metadata header.
const userMetaPrefix = "X-Amz-Meta-"

// objectMagic ends every object file.
const objectMagic = "LSHS3OB1"

// maxInfoLen bounds the JSON description read back from an object file.
const maxInfoLen = 1 << 20

// readInfo reads the description at the end of an object file.
func readInfo(path string) (*objectInfo, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	var tail [16]byte
	if fi.Size() < int64(len(tail)) {
		return nil, errors.New("too short to be an object file")
	}
	if _, err := f.ReadAt(tail[:], fi.Size()-16); err != nil {
		return nil, err
	}
	if string(tail[8:]) != objectMagic {
		return nil, errors.New("not an object file (no magic word at its end)")
	}
	n := binary.BigEndian.Uint64(tail[:8])
	if n > maxInfoLen || int64(n) > fi.Size()-16 {
		return nil, fmt.Errorf("description length %d does not fit the file", n)
	}
	raw := make([]byte, n)
	if _, err := f.ReadAt(raw, fi.Size()-16-int64(n)); err != nil {
		return nil, err
	}
	var info objectInfo
	if err := json.Unmarshal(raw, &info); err != nil {
		return nil, fmt.Errorf("description: %w", err)
	}
	if info.Size != fi.Size()-16-int64(n) {
		return nil, fmt.Errorf("description says %d bytes, the file holds %d", info.Size, fi.Size()-16-int64(n))
	}
	return &info, nil
}

// writeInfo appends an object's description and the file's tail.
func writeInfo(w io.Writer, info *objectInfo) error {
	raw, err := json.Marshal(info)
	if err != nil {
		return err
	}
	var tail [16]byte
	binary.BigEndian.PutUint64(tail[:8], uint64(len(raw)))
	copy(tail[8:], objectMagic)
	_, err = w.Write(append(raw, tail[:]...))
	return err
}

// sequencer hands out S3-style sequencers: upper-case hex, fixed width, of
// a counter that only goes up, at least the clock's nanoseconds.
type sequencer struct {
	mu   sync.Mutex
	last uint64
}

func (q *sequencer) seed(now time.Time) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.last = max(q.last, uint64(now.UnixNano()))
}

// observe makes the next sequencers greater than a stored one.
func (q *sequencer) observe(stored string) {
	v, err := strconv.ParseUint(stored, 16, 64)
	if err != nil {
		return
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	q.last = max(q.last, v)
}

func (q *sequencer) next(now time.Time) string {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.last = max(q.last+1, uint64(now.UnixNano()))
	return fmt.Sprintf("%016X", q.last)
}
