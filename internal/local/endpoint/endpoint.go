// Package endpoint holds what the local stand-ins for the AWS services that
// trigger runs share: the job catalog they read and the launcher they hand
// triggers to. The stand-ins are its subpackages: s3, whose uploads start
// the jobs with a matching s3 trigger, and sqs, whose messages each start a
// run of the job reading that queue, and whose reply queues keep the
// results that runs' queue callbacks send, to be received. Both speak the
// wire protocols of the real services (SQS both of its own: JSON and
// query), so the ordinary AWS SDKs and CLI talk to them unchanged through
// AWS_ENDPOINT_URL_S3 and AWS_ENDPOINT_URL_SQS.
//
// Neither endpoint keeps a trigger it could not hand over: a request is
// answered with success only once Launch has stored the run; otherwise the
// client gets a retryable error (S3 503 SlowDown, SQS 500 InternalError or a
// failed batch entry) and sends again.
package endpoint

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"

	"github.com/longshore/longshore/internal/dispatch"
	"github.com/longshore/longshore/internal/job"
)

// Launcher starts a run; *dispatch.Service satisfies it. A
// *dispatch.RequestError means the request can never succeed as it is; any
// other error means the trigger must be delivered again.
type Launcher interface {
	Launch(ctx context.Context, req dispatch.Request) (dispatch.Launched, error)
}

// Jobs lists the job catalog; *job.Catalog satisfies it. It is read on
// every request, so a catalog that changes is followed.
type Jobs interface {
	Jobs() []*job.Spec
}

// IsRequestError reports whether err, from Launch, says the request can
// never succeed as it is: the trigger is then dropped (and logged) rather
// than delivered again.
func IsRequestError(err error) bool {
	var re *dispatch.RequestError
	return errors.As(err, &re)
}

// NewUUID returns a random (version 4) UUID in its usual text form, the
// shape of SQS message ids and AWS request ids.
func NewUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand panics instead)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
