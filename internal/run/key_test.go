package run

import (
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestIdempotencyKey(t *testing.T) {
	due := time.Date(2026, 11, 22, 10, 5, 42, 123, time.UTC)
	dueInParis := due.In(time.FixedZone("CET", 3600))
	tests := []struct {
		name      string
		job       string
		trigger   Trigger
		callerKey string
		want      string // exact, or a regexp after "~"
	}{
		{"a schedule keys on the scheduled minute in UTC", "nightly", Trigger{Kind: TriggerSchedule, ScheduledTime: &due},
			"", "nightly/schedule/2026-11-22T10:05Z"},
		{"the same minute in another zone gives the same key", "nightly", Trigger{Kind: TriggerSchedule, ScheduledTime: &dueInParis},
			"", "nightly/schedule/2026-11-22T10:05Z"},
		{"an SQS message keys on its id", "ingest", Trigger{Kind: TriggerSQS, MessageID: "059f36b4-87a3-44ab-83d2-661975830a7d", Body: "{}"},
			"", "ingest/sqs/059f36b4-87a3-44ab-83d2-661975830a7d"},
		{"an invoke keys on the caller's key", "hello", Trigger{Kind: TriggerInvoke},
			"deploy-42", "hello/invoke/deploy-42"},
		{"an S3 object with a flat key stays readable", "thumbs", Trigger{Kind: TriggerS3, Bucket: "uploads", Key: "photo.jpg", Sequencer: "0055AED6DCD90281E5"},
			"", "thumbs/s3/uploads/photo.jpg/0055AED6DCD90281E5"},
		{"an S3 key with slashes is hashed", "thumbs", Trigger{Kind: TriggerS3, Bucket: "uploads", Key: "raw/2026/photo.jpg", Sequencer: "0055AED6DCD90281E5"},
			"", "~^thumbs/s3/=[0-9a-f]{40}$"},
		{"a caller key with spaces is hashed", "hello", Trigger{Kind: TriggerInvoke},
			"my key", "~^hello/invoke/=[0-9a-f]{40}$"},
		{"a long caller key is hashed", "hello", Trigger{Kind: TriggerInvoke},
			strings.Repeat("k", 200), "~^hello/invoke/=[0-9a-f]{40}$"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := IdempotencyKey(tt.job, tt.trigger, tt.callerKey)
			if err != nil {
				t.Fatal(err)
			}
			if re, ok := strings.CutPrefix(tt.want, "~"); ok {
				if !regexp.MustCompile(re).MatchString(got) {
					t.Errorf("key = %q, want it to match %s", got, re)
				}
			} else if got != tt.want {
				t.Errorf("key = %q, want %q", got, tt.want)
			}
			if len(got) > MaxKeyLen {
				t.Errorf("key is %d characters long, want at most %d", len(got), MaxKeyLen)
			}
			if !regexp.MustCompile(`^[A-Za-z0-9._:/=-]+$`).MatchString(got) {
				t.Errorf("key %q holds characters that ECS tags or startedBy would refuse", got)
			}
		})
	}
}

func TestIdempotencyKeysDoNotCollide(t *testing.T) {
	s3 := func(bucket, key, seq string) Trigger {
		return Trigger{Kind: TriggerS3, Bucket: bucket, Key: key, Sequencer: seq}
	}
	pairs := []struct {
		name string
		a, b Trigger
	}{
		{"a slash moved between bucket and key", s3("a", "b/c", "1"), s3("a/b", "c", "1")},
		{"a slash moved between key and sequencer", s3("a", "b/c", "1"), s3("a", "b", "c/1")},
		{"the same object uploaded twice", s3("a", "b/c", "1"), s3("a", "b/c", "2")},
		{"the same flat object uploaded twice", s3("a", "b", "1"), s3("a", "b", "2")},
	}
	for _, p := range pairs {
		t.Run(p.name, func(t *testing.T) {
			ka, errA := IdempotencyKey("job", p.a, "")
			kb, errB := IdempotencyKey("job", p.b, "")
			if errA != nil || errB != nil {
				t.Fatal(errA, errB)
			}
			if ka == kb {
				t.Errorf("both triggers give key %q", ka)
			}
		})
	}
	t.Run("a caller key that looks like a hash does not collide with the hash", func(t *testing.T) {
		hashed, _ := IdempotencyKey("job", Trigger{Kind: TriggerInvoke}, "x y")
		fake := strings.TrimPrefix(hashed, "job/invoke/")
		literal, err := IdempotencyKey("job", Trigger{Kind: TriggerInvoke}, fake)
		if err != nil {
			t.Fatal(err)
		}
		if literal == hashed {
			t.Errorf("caller key %q gives the same key as \"x y\": %q", fake, literal)
		}
	})
	t.Run("the same facts for two jobs give two keys", func(t *testing.T) {
		a, _ := IdempotencyKey("a", Trigger{Kind: TriggerInvoke}, "x y")
		b, _ := IdempotencyKey("b", Trigger{Kind: TriggerInvoke}, "x y")
		if a == b {
			t.Errorf("both jobs give %q", a)
		}
	})
	t.Run("two long job names sharing 64 characters give two keys", func(t *testing.T) {
		long := strings.Repeat("j", 64)
		a, _ := IdempotencyKey(long+"-a", Trigger{Kind: TriggerInvoke}, "k")
		b, _ := IdempotencyKey(long+"-b", Trigger{Kind: TriggerInvoke}, "k")
		if a == b || len(a) > MaxKeyLen {
			t.Errorf("keys %q and %q", a, b)
		}
	})
}

func TestIdempotencyKeyRefusesMissingFacts(t *testing.T) {
	due := time.Date(2026, 11, 22, 10, 5, 0, 0, time.UTC)
	tests := []struct {
		name      string
		job       string
		trigger   Trigger
		callerKey string
		want      string
	}{
		{"a schedule without its time", "nightly", Trigger{Kind: TriggerSchedule}, "", "schedule trigger has no scheduled time"},
		{"an S3 trigger without a bucket", "thumbs", Trigger{Kind: TriggerS3, Key: "k", Sequencer: "1"}, "", "s3 trigger has no bucket"},
		{"an S3 trigger without a key", "thumbs", Trigger{Kind: TriggerS3, Bucket: "b", Sequencer: "1"}, "", "s3 trigger has no object key"},
		{"an S3 trigger without a sequencer", "thumbs", Trigger{Kind: TriggerS3, Bucket: "b", Key: "k"}, "", "s3 trigger has no sequencer"},
		{"an SQS trigger without a message id", "ingest", Trigger{Kind: TriggerSQS}, "", "sqs trigger has no message id"},
		{"an invoke without a caller key", "hello", Trigger{Kind: TriggerInvoke}, "", "invoke trigger has no caller key"},
		{"an unknown trigger kind", "hello", Trigger{Kind: "webhook"}, "k", `unknown trigger kind "webhook"`},
		{"an empty job name", "", Trigger{Kind: TriggerSchedule, ScheduledTime: &due}, "", "the job name is empty"},
		{"a job name with a slash", "a/b", Trigger{Kind: TriggerSchedule, ScheduledTime: &due}, "", "a job name may only hold"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key, err := IdempotencyKey(tt.job, tt.trigger, tt.callerKey)
			if err == nil {
				t.Fatalf("key = %q, want an error", key)
			}
			if !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "derive idempotency key") {
				t.Errorf("error = %q, want it to say %q", err, tt.want)
			}
		})
	}
}
