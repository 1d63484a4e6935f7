package ecs

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/smithy-go"
)

// wait sleeps before attempt+1 and reports whether that attempt may be made:
// not past MaxAttempts, and the wait plus the reserve fit before the
// context's deadline.
func (r *Runner) wait(ctx context.Context, attempt int, err error) bool {
	if attempt >= r.o.MaxAttempts || ctx.Err() != nil {
		return false
	}
	d := r.o.Backoff(attempt, err)
	if deadline, ok := ctx.Deadline(); ok && r.o.Now().Add(d+r.o.Reserve).After(deadline) {
		return false
	}
	return r.o.Sleep(ctx, d) == nil
}

// call runs op with the same retries as RunTask's API errors.
func (r *Runner) call(ctx context.Context, op func() error) error {
	for attempt := 1; ; attempt++ {
		err := op()
		if err == nil || !retryable(err) || !r.wait(ctx, attempt, err) {
			return err
		}
	}
}

// refused reports whether ECS answered RunTask with an error a retry cannot
// clear. An error that is not ECS's answer (one the SDK could not read, a
// connection lost after the request was sent) leaves the outcome unknown:
// the task may have started, so the call is repeated with the same client
// token, which ECS answers with that task, rather than the run failed.
func refused(err error) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && !retryable(err)
}

// retryable reports whether an API error may clear on its own: what the
// SDK's standard retryer retries (throttling, 5xx, lost connections) and
// ECS's ServerException.
func retryable(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var ae smithy.APIError
	if errors.As(err, &ae) && ae.ErrorCode() == "ServerException" {
		return true
	}
	return retry.IsErrorRetryables(retry.DefaultRetryables).IsErrorRetryable(err) == aws.TrueTernary
}

// throttled reports whether ECS refused the call for its rate (the Fargate
// launch token bucket): the caller waits before starting other runs.
func throttled(err error) bool {
	return retry.IsErrorThrottles(retry.DefaultThrottles).IsErrorThrottle(err) == aws.TrueTernary
}

// compact is an API error as its code and message ("ClientException:
// TaskDefinition is inactive"), without the SDK's request trace: it ends
// up in a run's reason.
func compact(err error) error {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return fmt.Errorf("%s: %s", ae.ErrorCode(), ae.ErrorMessage())
	}
	var de *smithy.DeserializationError
	if errors.As(err, &de) {
		return fmt.Errorf("its answer could not be read (%v)", de.Err)
	}
	return err
}

// failureReason joins the failures of a RunTask answer into one reason.
func failureReason(fs []ecstypes.Failure) string {
	if len(fs) == 0 {
		return "ECS started no task and gave no reason"
	}
	parts := make([]string, 0, len(fs))
	for _, f := range fs {
		p := aws.ToString(f.Reason)
		if d := aws.ToString(f.Detail); d != "" {
			p += " (" + d + ")"
		}
		if a := aws.ToString(f.Arn); a != "" {
			p += " for " + a
		}
		parts = append(parts, p)
	}
	return strings.Join(parts, "; ")
}
