// Package payload keeps the payloads of runs whose environment and command
// do not fit in ECS's container overrides: one object per run in the
// payload bucket, which the task reads back through LONGSHORE_PAYLOAD_URI.
//
// The object is written with one SigV4-signed S3 PutObject over net/http
// rather than the SDK's S3 client: that client alone adds about 2 MB to
// each Lambda binary, which must stay under 12 MB, and PutObject of a small
// JSON body is all that is needed here.
package payload

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/longshore/longshore/internal/deploy"
)

// MaxSize bounds a payload object. ECS passes at most 8 KiB; a payload is
// an SQS body (256 KiB at most) and overrides, well below this.
const MaxSize = 5 << 20

// Bucket writes payload objects to one S3 bucket.
type Bucket struct {
	// Name is the bucket's name.
	Name   string
	Region string
	// Endpoint, when set, replaces S3's regional endpoint (tests, local S3
	// servers): objects are addressed path-style below it.
	Endpoint    string
	Credentials aws.CredentialsProvider
	// HTTP sends the requests (http.DefaultClient when nil).
	HTTP *http.Client
	// Now is the signing clock (time.Now when nil).
	Now func() time.Time
}

// PutBody keeps a run's trigger body (dispatch.BodyStore) at deploy.BodyKey.
func (b *Bucket) PutBody(ctx context.Context, jobName, runID string, body []byte) (string, error) {
	return b.Put(ctx, deploy.BodyKey(jobName, runID), body)
}

// Put stores body under key and returns the object's s3:// URI. The same
// key written twice holds the last body: a run's payload is the same every
// time its start is repeated.
func (b *Bucket) Put(ctx context.Context, key string, body []byte) (string, error) {
	uri := "s3://" + b.Name + "/" + key
	if len(body) > MaxSize {
		return "", fmt.Errorf("put payload %s: %d bytes is more than the %d allowed", uri, len(body), MaxSize)
	}
	target, err := b.objectURL(key)
	if err != nil {
		return "", fmt.Errorf("put payload %s: %w", uri, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, target, bytes.NewReader(body))
	if err != nil {
		return "", fmt.Errorf("put payload %s: %w", uri, err)
	}
	sum := sha256.Sum256(body)
	hash := hex.EncodeToString(sum[:])
	req.ContentLength = int64(len(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Amz-Content-Sha256", hash)
	if b.Credentials == nil {
		return "", fmt.Errorf("put payload %s: no credentials", uri)
	}
	creds, err := b.Credentials.Retrieve(ctx)
	if err != nil {
		return "", fmt.Errorf("put payload %s: retrieve credentials: %w", uri, err)
	}
	now := time.Now
	if b.Now != nil {
		now = b.Now
	}
	if err := v4.NewSigner().SignHTTP(ctx, creds, req, hash, "s3", b.Region, now().UTC()); err != nil {
		return "", fmt.Errorf("put payload %s: sign: %w", uri, err)
	}
	client := b.HTTP
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", fmt.Errorf("put payload %s: %w", uri, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return "", fmt.Errorf("put payload %s: %w", uri, s3Error(resp))
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	return uri, nil
}

// objectURL addresses the object: virtual-hosted style on AWS, path style
// below a custom endpoint or for a bucket name with dots (which TLS
// certificates of virtual hosts do not cover).
func (b *Bucket) objectURL(key string) (string, error) {
	if b.Name == "" || b.Region == "" {
		return "", fmt.Errorf("the bucket has no name or region")
	}
	escaped := escapeKey(key)
	if b.Endpoint != "" {
		base, err := url.Parse(b.Endpoint)
		if err != nil || base.Scheme == "" || base.Host == "" {
			return "", fmt.Errorf("endpoint %q is not a URL", b.Endpoint)
		}
		return strings.TrimRight(b.Endpoint, "/") + "/" + b.Name + "/" + escaped, nil
	}
	if strings.Contains(b.Name, ".") {
		return "https://s3." + b.Region + ".amazonaws.com/" + b.Name + "/" + escaped, nil
	}
	return "https://" + b.Name + ".s3." + b.Region + ".amazonaws.com/" + escaped, nil
}

// escapeKey escapes each segment of a key, keeping its slashes.
func escapeKey(key string) string {
	parts := strings.Split(key, "/")
	for i, p := range parts {
		parts[i] = url.PathEscape(p)
	}
	return strings.Join(parts, "/")
}

// Error is an S3 error answer.
type Error struct {
	Status  int
	Code    string
	Message string
}

func (e *Error) Error() string {
	if e.Code == "" {
		return fmt.Sprintf("S3 answered %d", e.Status)
	}
	return fmt.Sprintf("S3 answered %d %s: %s", e.Status, e.Code, e.Message)
}

func s3Error(resp *http.Response) error {
	e := &Error{Status: resp.StatusCode}
	var body struct {
		Code    string `xml:"Code"`
		Message string `xml:"Message"`
	}
	if data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<16)); err == nil && xml.Unmarshal(data, &body) == nil {
		e.Code, e.Message = body.Code, body.Message
	}
	return e
}
