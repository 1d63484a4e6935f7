package s3

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/johannesboyne/gofakes3"
)

// decodeAWSChunked turns an upload sent in aws-chunked encoding (an
// X-Amz-Content-Sha256 of STREAMING-..., signed or not, with or without
// trailing checksums) into a plain one, for gofakes3 reads only the signed
// form without trailers, and only in PutObject. The chunk signatures and
// trailing checksums are not checked: the local endpoint does not check
// signatures at all.
func decodeAWSChunked(r *http.Request) (*http.Request, error) {
	if !strings.HasPrefix(r.Header.Get("X-Amz-Content-Sha256"), "STREAMING-") {
		return r, nil
	}
	size, err := strconv.ParseInt(r.Header.Get("X-Amz-Decoded-Content-Length"), 10, 64)
	if err != nil || size < 0 {
		return r, fmt.Errorf("an aws-chunked upload needs X-Amz-Decoded-Content-Length, got %q", r.Header.Get("X-Amz-Decoded-Content-Length"))
	}
	r2 := new(http.Request)
	*r2 = *r
	r2.Header = r.Header.Clone()
	r2.Body = &chunkedBody{r: bufio.NewReader(r.Body), c: r.Body}
	r2.ContentLength = size
	r2.Header.Set("Content-Length", strconv.FormatInt(size, 10))
	r2.Header.Set("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD")
	r2.Header.Del("X-Amz-Decoded-Content-Length")
	r2.Header.Del("X-Amz-Trailer")
	var enc []string
	for _, e := range strings.Split(r.Header.Get("Content-Encoding"), ",") {
		if e = strings.TrimSpace(e); e != "" && !strings.EqualFold(e, "aws-chunked") {
			enc = append(enc, e)
		}
	}
	if len(enc) == 0 {
		r2.Header.Del("Content-Encoding")
	} else {
		r2.Header.Set("Content-Encoding", strings.Join(enc, ","))
	}
	return r2, nil
}

// chunkedBody reads the data out of aws-chunked encoding:
//
//	<hex size>[;chunk-signature=...]\r\n<data>\r\n ... 0[;...]\r\n[<trailer>\r\n...]\r\n
type chunkedBody struct {
	r    *bufio.Reader
	c    io.Closer
	left int64 // bytes left in the current chunk
	done bool
	err  error
}

var errBadChunk = gofakes3.ErrorMessage(gofakes3.ErrIncompleteBody, "the aws-chunked body is malformed")

func (b *chunkedBody) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	if b.done {
		return 0, io.EOF
	}
	if b.left == 0 {
		if b.err = b.nextChunk(); b.err != nil {
			return 0, b.err
		}
		if b.done {
			return 0, io.EOF
		}
	}
	n, err := b.r.Read(p[:min(int64(len(p)), b.left)])
	b.left -= int64(n)
	if err != nil {
		if errors.Is(err, io.EOF) {
			err = errBadChunk
		}
		b.err = err
		return n, err
	}
	if b.left == 0 {
		if line, err := b.line(); err != nil || line != "" {
			b.err = errBadChunk
		}
	}
	return n, nil
}

// nextChunk reads a chunk header; the last (size 0) is followed by the
// trailers and an empty line.
func (b *chunkedBody) nextChunk() error {
	line, err := b.line()
	if err != nil {
		return errBadChunk
	}
	hexSize, _, _ := strings.Cut(line, ";")
	size, err := strconv.ParseInt(strings.TrimSpace(hexSize), 16, 64)
	if err != nil || size < 0 {
		return errBadChunk
	}
	if size > 0 {
		b.left = size
		return nil
	}
	for {
		line, err := b.line()
		if err != nil {
			return errBadChunk
		}
		if line == "" {
			b.done = true
			return nil
		}
	}
}

// line reads one CRLF-terminated line of at most 4 KiB.
func (b *chunkedBody) line() (string, error) {
	var buf bytes.Buffer
	for buf.Len() <= 4096 {
		c, err := b.r.ReadByte()
		if err != nil {
			return "", err
		}
		if c == '\n' {
			return strings.TrimSuffix(buf.String(), "\r"), nil
		}
		buf.WriteByte(c)
	}
	return "", errBadChunk
}

func (b *chunkedBody) Close() error { return b.c.Close() }
