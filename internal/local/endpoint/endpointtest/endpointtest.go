// Package endpointtest holds what the tests of the local S3 and SQS
// endpoints share: a recording launcher, a fixed catalog and clock, and AWS
// SDK clients pointed at an endpoint under test that retry at once.
package endpointtest

import (
	"context"
	"errors"
	"fmt"
	"strings"
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
	"github.com/longshore/longshore/internal/local/endpoint"
	"github.com/longshore/longshore/internal/run"
)

// Launcher records every Launch and answers with Fail's error, if any.
type Launcher struct {
	Fail func(n int, req dispatch.Request) error // n counts calls from 1

	mu   sync.Mutex
	reqs []dispatch.Request
}

var _ endpoint.Launcher = (*Launcher)(nil)

func (f *Launcher) Launch(_ context.Context, req dispatch.Request) (dispatch.Launched, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reqs = append(f.reqs, req)
	if f.Fail != nil {
		if err := f.Fail(len(f.reqs), req); err != nil {
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

// Requests are the launches asked for so far, in order.
func (f *Launcher) Requests() []dispatch.Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]dispatch.Request(nil), f.reqs...)
}

// JobNames are the jobs of the launches asked for so far, in order.
func (f *Launcher) JobNames() []string {
	var out []string
	for _, r := range f.Requests() {
		out = append(out, r.Job)
	}
	return out
}

// FailAlways fails every launch as a store outage would.
func FailAlways(int, dispatch.Request) error { return errors.New("run store unavailable") }

// FailFirst fails the first launch only.
func FailFirst(n int, _ dispatch.Request) error {
	if n == 1 {
		return errors.New("run store unavailable")
	}
	return nil
}

// Catalog is a fixed job catalog.
type Catalog []*job.Spec

var _ endpoint.Jobs = Catalog(nil)

func (c Catalog) Jobs() []*job.Spec { return c }

// S3Job is a job started by uploads whose key has prefix and suffix.
func S3Job(name, prefix, suffix string) *job.Spec {
	return &job.Spec{Name: name, Triggers: []job.Trigger{{S3: &job.S3Trigger{Prefix: prefix, Suffix: suffix}}}}
}

// SQSJob is a job started by the messages of queue.
func SQSJob(name, queue string) *job.Spec {
	return &job.Spec{Name: name, Triggers: []job.Trigger{{SQS: &job.SQSTrigger{Queue: queue}}}}
}

// Now is the clock of the tests: the endpoints never need it to move.
func Now() time.Time { return time.Date(2026, 3, 14, 9, 26, 53, 0, time.UTC) }

func credentials() aws.CredentialsProvider {
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

// S3Client is an S3 client of the endpoint at url (path-style) that makes
// up to attempts attempts of each call.
func S3Client(url string, attempts int, opts ...func(*s3.Options)) *s3.Client {
	return s3.New(s3.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(url),
		UsePathStyle: true,
		Credentials:  credentials(),
		Retryer:      retryer(attempts),
	}, opts...)
}

// SQSClient is an SQS client of the endpoint at url that makes up to
// attempts attempts of each call.
func SQSClient(url string, attempts int) *sqs.Client {
	return sqs.New(sqs.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(url),
		Credentials:  credentials(),
		Retryer:      retryer(attempts),
	})
}

// APICode returns the error code an SDK error reports, "" for none.
func APICode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// HTTPStatus returns the HTTP status of an SDK error, 0 for none.
func HTTPStatus(err error) int {
	var re interface{ HTTPStatusCode() int }
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

// Between is the text of s between the first start and the end after it,
// "" when s has no start.
func Between(s, start, end string) string {
	_, after, ok := strings.Cut(s, start)
	if !ok {
		return ""
	}
	v, _, _ := strings.Cut(after, end)
	return v
}

// MustOK fails the test at once when err is not nil, saying what failed.
func MustOK(t testing.TB, err error, what string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}
