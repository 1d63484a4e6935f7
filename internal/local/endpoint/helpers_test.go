package endpoint

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/smithy-go"

	"github.com/longshore/longshore/internal/dispatch"
	"github.com/longshore/longshore/internal/job"
	"github.com/longshore/longshore/internal/run"
)

// fakeLauncher records every Launch and answers with fail's error, if any.
type fakeLauncher struct {
	mu   sync.Mutex
	reqs []dispatch.Request
	fail func(n int, req dispatch.Request) error // n counts calls from 1
}

var _ Launcher = (*fakeLauncher)(nil)

func (f *fakeLauncher) Launch(_ context.Context, req dispatch.Request) (dispatch.Launched, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reqs = append(f.reqs, req)
	if f.fail != nil {
		if err := f.fail(len(f.reqs), req); err != nil {
			var se *dispatch.StartError
			if errors.As(err, &se) && se.Transient {
				// The run is stored; only its start waits.
				return dispatch.Launched{Run: run.Run{ID: fmt.Sprintf("r-%d", len(f.reqs)), Job: req.Job, Trigger: req.Trigger}}, err
			}
			return dispatch.Launched{}, err
		}
	}
	return dispatch.Launched{Run: run.Run{ID: fmt.Sprintf("r-%d", len(f.reqs)), Job: req.Job, Trigger: req.Trigger}}, nil
}

func (f *fakeLauncher) requests() []dispatch.Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]dispatch.Request(nil), f.reqs...)
}

func (f *fakeLauncher) jobs() []string {
	var out []string
	for _, r := range f.requests() {
		out = append(out, r.Job)
	}
	return out
}

// failAlways fails every launch as a store outage would.
func failAlways(int, dispatch.Request) error { return errors.New("run store unavailable") }

// failFirst fails the first launch only.
func failFirst(n int, _ dispatch.Request) error {
	if n == 1 {
		return errors.New("run store unavailable")
	}
	return nil
}

// catalog is a fixed job catalog.
type catalog []*job.Spec

func (c catalog) Jobs() []*job.Spec { return c }

func s3Job(name, prefix, suffix string) *job.Spec {
	return &job.Spec{Name: name, Triggers: []job.Trigger{{S3: &job.S3Trigger{Prefix: prefix, Suffix: suffix}}}}
}

func sqsJob(name, queue string) *job.Spec {
	return &job.Spec{Name: name, Triggers: []job.Trigger{{SQS: &job.SQSTrigger{Queue: queue}}}}
}

// fixedNow is the clock of the tests: the endpoints never need it to move.
func fixedNow() time.Time { return time.Date(2026, 3, 14, 9, 26, 53, 0, time.UTC) }

func testCredentials() aws.CredentialsProvider {
	return aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
		return aws.Credentials{AccessKeyID: "AKIDLOCAL", SecretAccessKey: "local-secret", Source: "test"}, nil
	})
}

// retryer retries at once (no backoff, no retry quota) up to attempts.
func retryer(attempts int) aws.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = attempts
		o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
		o.RateLimiter = ratelimit.None
	})
}

func newS3Client(url string, attempts int, opts ...func(*s3.Options)) *s3.Client {
	return s3.New(s3.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(url),
		UsePathStyle: true,
		Credentials:  testCredentials(),
		Retryer:      retryer(attempts),
	}, opts...)
}

func newSQSClient(url string, attempts int) *sqs.Client {
	return sqs.New(sqs.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(url),
		Credentials:  testCredentials(),
		Retryer:      retryer(attempts),
	})
}

// apiCode returns the error code an SDK error reports, "" for none.
func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// httpStatus returns the HTTP status of an SDK error, 0 for none.
func httpStatus(err error) int {
	var re interface{ HTTPStatusCode() int }
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

func mustOK(t *testing.T, err error, what string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

var _ http.Handler = (*S3)(nil)
var _ http.Handler = (*SQS)(nil)
