package run

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
)

// MaxKeyLen is the longest idempotency key IdempotencyKey returns: keys
// travel in ECS tags and DynamoDB keys.
const MaxKeyLen = 128

// maxJobInKey is how much of a job's name a hashed key keeps readable.
const maxJobInKey = 64

// IdempotencyKey derives the idempotency key of a run from its trigger: two
// firings that are the same event give the same key, so the store refuses
// the second run.
//
// The facts used per trigger kind:
//   - schedule: the scheduled time, in UTC, truncated to the minute
//     (EventBridge Scheduler fires within the minute): "nightly/schedule/2026-11-22T10:05Z";
//   - s3: bucket, object key and the event's sequencer;
//   - sqs: the message id;
//   - invoke: callerKey, which the caller must supply (generate one when the
//     user gives none);
//   - after: the upstream run's id, so that a job runs once per upstream run.
//
// A key is "<job>/<kind>/<parts joined by '/'>" when every part is plain
// (letters, digits, '.', '_', ':', '-'; never '/') and the whole fits in
// MaxKeyLen: such a key is readable and splits back into its parts without
// ambiguity, because the number of parts is fixed per kind. Otherwise (an S3
// key with '/', a long caller key, ...) the key is
// "<job, first 64 characters>/<kind>/=<40 hex>", the hex being the start of a
// SHA-256 over the job, the kind and each part, each prefixed with its
// length, so that no two different tuples hash alike ("a/b"+"c" differs from
// "a"+"b/c"). A plain part never starts with '=', so the two forms never
// collide. Every key uses only characters that ECS tag values, startedBy and
// DynamoDB accept.
//
// The job name must be plain too (job names are identifiers); IdempotencyKey
// returns an error for one that is not, and when a fact the kind needs is
// missing.
func IdempotencyKey(jobName string, t Trigger, callerKey string) (string, error) {
	if jobName == "" {
		return "", errors.New("derive idempotency key: the job name is empty")
	}
	if !plain(jobName) {
		return "", fmt.Errorf("derive idempotency key for job %q: a job name may only hold letters, digits, '.', '_', ':' and '-'", jobName)
	}
	var parts []string
	missing := func(what string) error {
		return fmt.Errorf("derive idempotency key for job %s: %s trigger has no %s", jobName, t.Kind, what)
	}
	switch t.Kind {
	case TriggerSchedule:
		if t.ScheduledTime == nil || t.ScheduledTime.IsZero() {
			return "", missing("scheduled time")
		}
		parts = []string{t.ScheduledTime.UTC().Truncate(time.Minute).Format("2006-01-02T15:04Z07:00")}
	case TriggerS3:
		switch {
		case t.Bucket == "":
			return "", missing("bucket")
		case t.Key == "":
			return "", missing("object key")
		case t.Sequencer == "":
			return "", missing("sequencer")
		}
		parts = []string{t.Bucket, t.Key, t.Sequencer}
	case TriggerSQS:
		if t.MessageID == "" {
			return "", missing("message id")
		}
		parts = []string{t.MessageID}
	case TriggerInvoke:
		if callerKey == "" {
			return "", missing("caller key")
		}
		parts = []string{callerKey}
	case TriggerAfter:
		if t.UpstreamRunID == "" {
			return "", missing("upstream run id")
		}
		parts = []string{t.UpstreamRunID}
	default:
		return "", fmt.Errorf("derive idempotency key for job %s: unknown trigger kind %q", jobName, t.Kind)
	}

	readable := jobName + "/" + string(t.Kind) + "/" + strings.Join(parts, "/")
	if len(readable) <= MaxKeyLen && allPlain(parts) {
		return readable, nil
	}
	h := sha256.New()
	for _, p := range append([]string{jobName, string(t.Kind)}, parts...) {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(p)))
		h.Write(n[:])
		h.Write([]byte(p))
	}
	prefix := jobName
	if len(prefix) > maxJobInKey {
		prefix = prefix[:maxJobInKey]
	}
	return prefix + "/" + string(t.Kind) + "/=" + hex.EncodeToString(h.Sum(nil))[:40], nil
}

// plain reports whether s is a non-empty run of letters, digits, '.', '_',
// ':' and '-'.
func plain(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9',
			c == '.', c == '_', c == ':', c == '-':
		default:
			return false
		}
	}
	return true
}

func allPlain(parts []string) bool {
	for _, p := range parts {
		if !plain(p) {
			return false
		}
	}
	return true
}
