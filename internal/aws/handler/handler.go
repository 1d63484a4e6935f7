// Package handler holds the Lambda handlers of Longshore as plain typed
// functions over the dispatch services: the launcher (schedules, S3
// uploads, SQS batches, direct invokes), the tracker (ECS task state
// changes), the reconciler and the runs API. The functions' main packages
// only wire a host to them and call lambda.Start.
package handler

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/lambda/messages"

	"github.com/longshore/longshore/internal/dispatch"
	"github.com/longshore/longshore/internal/job"
	"github.com/longshore/longshore/internal/run"
)

// Catalog is the job catalog (job.Catalog).
type Catalog interface {
	Get(name string) (*job.Spec, bool)
	Jobs() []*job.Spec
}

// Runs reads runs (a dispatch.RunStore).
type Runs interface {
	Get(ctx context.Context, id string) (run.Run, error)
	List(ctx context.Context, q dispatch.Query) ([]run.Run, string, error)
}

// Error types of the functions' error answers (errorType), as the local
// engine's invoke endpoint names them.
const (
	ErrorRequest  = "RequestError"
	ErrorNotFound = "NotFound"
	ErrorStart    = "StartError"
	ErrorInternal = "InternalError"
)

// invokeError is err as the function's error answer: errorType says what
// kind of error it is (ErrorRequest when the request can never succeed as
// it is), errorMessage says what happened.
func invokeError(err error) error {
	if err == nil {
		return nil
	}
	var ie messages.InvokeResponse_Error
	if errors.As(err, &ie) {
		return err
	}
	typ := ErrorInternal
	var re *dispatch.RequestError
	var se *dispatch.StartError
	switch {
	case errors.As(err, &re):
		typ = ErrorRequest
	case errors.Is(err, dispatch.ErrNotFound):
		typ = ErrorNotFound
	case errors.As(err, &se):
		typ = ErrorStart
	}
	return messages.InvokeResponse_Error{Type: typ, Message: err.Error()}
}

// badRequest is a request that can never succeed as it is.
func badRequest(msg string) error { return &dispatch.RequestError{Msg: msg} }

// sleep waits d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func logOr(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.Default()
	}
	return l
}
