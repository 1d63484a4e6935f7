// Package sqs is the local SQS endpoint of `longshore local`: each message
// sent to a job's trigger queue starts a run of that job, and reply queues
// keep the results that runs' queue callbacks send, to be received. It
// speaks both of SQS's wire protocols (JSON and query), so the ordinary AWS
// SDKs and CLI talk to it unchanged through AWS_ENDPOINT_URL_SQS.
//
// A message is acknowledged only once the run it starts is stored;
// otherwise the client gets 500 InternalError (or a failed batch entry) and
// sends it again.
package sqs

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"maps"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/longshore/longshore/internal/local/endpoint"
)

// AccountID is the account in the local queue URLs.
const AccountID = "000000000000"

// Options configure the local SQS endpoint.
type Options struct {
	// BaseURL starts the queue URLs, e.g. http://127.0.0.1:8752; when
	// empty, http:// and the Host the request was sent to.
	BaseURL string
	Jobs    endpoint.Jobs
	Launch  endpoint.Launcher
	// Dir keeps the reply queues and their messages across restarts; when
	// empty they live in memory only.
	Dir string
	// Clock drives visibility timeouts, delays and long polls (the wall
	// clock when nil).
	Clock Clock
	Log   *slog.Logger
}

// Endpoint is an SQS endpoint. It speaks both of SQS's protocols: the JSON
// protocol of the current SDKs and CLI (POST with X-Amz-Target:
// AmazonSQS.<Op> and Content-Type application/x-amz-json-1.0) and the
// older query protocol (a form-encoded POST, or a GET, with
// Action=<Op>, answered in XML) that the AWS CLI v2 2.9 of Debian 12 and
// older SDKs speak. It has no FIFO queues.
//
// It has two kinds of queue. A trigger queue is that of a job with an sqs
// trigger (named by the trigger, else by the job): it takes messages and
// keeps none — each message accepted by SendMessage or SendMessageBatch
// starts one run of the job, and is acknowledged only once Launch has
// stored the run. When Launch fails (other than with a
// *dispatch.RequestError, which is logged) the message is not taken:
// SendMessage answers 500 InternalError and a batch lists the entry under
// Failed with SenderFault false, so the producer sends it again.
//
// A reply queue (Reply, ReplyQueue) keeps its messages until they are
// received and deleted, as an SQS standard queue does: ReceiveMessage
// (with MaxNumberOfMessages, VisibilityTimeout and a long poll of
// WaitTimeSeconds bounded by the request), DeleteMessage,
// ChangeMessageVisibility and their batches. A message received and not
// deleted is received again once its visibility timeout (30 s by default)
// is over. Reply queues are what run callbacks of kind "queue" write to;
// SendMessage writes to them too. They are kept in Options.Dir.
//
// GetQueueUrl and ListQueues name both kinds. The other operations of SQS
// answer UnsupportedOperation.
type Endpoint struct {
	o Options

	mu   sync.Mutex
	held map[string]*heldQueue
}

// New returns the endpoint, with the reply queues kept in o.Dir.
func New(o Options) *Endpoint {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Clock == nil {
		o.Clock = wallClock{}
	}
	o.BaseURL = strings.TrimRight(o.BaseURL, "/")
	s := &Endpoint{o: o, held: map[string]*heldQueue{}}
	if o.Dir != "" {
		s.loadHeld()
	}
	return s
}

// Clock is the SQS endpoint's time: visibility timeouts, delays and long
// polls follow it. The local engine's clock satisfies it; tests give a
// fake one.
type Clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

type wallClock struct{}

func (wallClock) Now() time.Time                         { return time.Now() }
func (wallClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

const jsonContentType = "application/x-amz-json-1.0"

// sqsOp is one operation, decoded from either protocol into the same
// input.
type sqsOp struct {
	fromJSON  func(body []byte) (any, *sqsError)
	fromQuery func(form url.Values) (any, *sqsError)
	run       func(s *Endpoint, r *http.Request, in any) (any, *sqsError)
}

func newOp[I any](fromQuery func(url.Values) (*I, *sqsError), run func(*Endpoint, *http.Request, *I) (any, *sqsError)) sqsOp {
	return sqsOp{
		fromJSON: func(body []byte) (any, *sqsError) {
			in := new(I)
			if err := decode(body, in); err != nil {
				return nil, err
			}
			return in, nil
		},
		fromQuery: func(form url.Values) (any, *sqsError) {
			in, err := fromQuery(form)
			if err != nil {
				return nil, err
			}
			return in, nil
		},
		run: func(s *Endpoint, r *http.Request, in any) (any, *sqsError) { return run(s, r, in.(*I)) },
	}
}

var sqsOps = map[string]sqsOp{
	"GetQueueUrl":                  newOp(queryGetQueueURL, (*Endpoint).getQueueURL),
	"ListQueues":                   newOp(queryListQueues, (*Endpoint).listQueues),
	"SendMessage":                  newOp(querySendMessage, (*Endpoint).sendMessage),
	"SendMessageBatch":             newOp(querySendMessageBatch, (*Endpoint).sendMessageBatch),
	"ReceiveMessage":               newOp(queryReceiveMessage, (*Endpoint).receiveMessage),
	"DeleteMessage":                newOp(queryDeleteMessage, (*Endpoint).deleteMessage),
	"DeleteMessageBatch":           newOp(queryDeleteMessageBatch, (*Endpoint).deleteMessageBatch),
	"ChangeMessageVisibility":      newOp(queryChangeVisibility, (*Endpoint).changeVisibility),
	"ChangeMessageVisibilityBatch": newOp(queryChangeVisibilityBatch, (*Endpoint).changeVisibilityBatch),
}

// servedOps lists the operations served, for error messages.
var servedOps = strings.Join(slices.Sorted(maps.Keys(sqsOps)), ", ")

// Operations of SQS that the local endpoint does not serve.
var sqsUnsupported = []string{
	"AddPermission", "CancelMessageMoveTask", "CreateQueue", "DeleteQueue", "GetQueueAttributes",
	"ListDeadLetterSourceQueues", "ListMessageMoveTasks", "ListQueueTags", "PurgeQueue",
	"RemovePermission", "SetQueueAttributes", "StartMessageMoveTask", "TagQueue", "UntagQueue",
}

// emptyOutput answers an operation with nothing to say ({} in JSON, no
// result element in XML).
type emptyOutput struct{}

func (s *Endpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	requestID := endpoint.NewUUID()
	w.Header().Set("x-amzn-RequestId", requestID)
	if isQueryRequest(r) {
		s.serveQuery(w, r, requestID)
		return
	}
	out, err := s.serveJSON(w, r)
	if err != nil {
		s.logError(err)
		writeSQSError(w, err)
		return
	}
	raw, jerr := json.Marshal(out)
	if jerr != nil {
		writeSQSError(w, errInternal("encode the response: %v", jerr))
		return
	}
	w.Header().Set("Content-Type", jsonContentType)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(raw)
}

func (s *Endpoint) logError(err *sqsError) {
	if err.status >= 500 {
		s.o.Log.Error("SQS request failed", "err", err.msg)
	}
}

// readBody reads a request body of at most maxRequestSize bytes.
func readBody(w http.ResponseWriter, r *http.Request, batch bool) ([]byte, *sqsError) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRequestSize))
	if err == nil {
		return body, nil
	}
	var tooBig *http.MaxBytesError
	if !errors.As(err, &tooBig) {
		return nil, errSerialization("read the request body: %v", err)
	}
	if batch {
		return nil, errBatchTooLong("Batch requests cannot be longer than %d bytes: the request body is longer.", maxRequestSize)
	}
	return nil, errInvalidParameter("One or more parameters are invalid. Reason: the request body is longer than %d bytes.", maxRequestSize)
}

func (s *Endpoint) serveJSON(w http.ResponseWriter, r *http.Request) (any, *sqsError) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		return nil, errUnknownOperation(http.StatusMethodNotAllowed,
			"%s is not served: the SQS JSON protocol POSTs every request (the query protocol POSTs a form or GETs with Action=<Operation>)", r.Method)
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != jsonContentType {
		return nil, errUnknownOperation(http.StatusUnsupportedMediaType,
			"Content-Type %q is not served: this endpoint speaks the SQS JSON protocol (Content-Type %s, X-Amz-Target AmazonSQS.<Operation>) and the query protocol (Content-Type application/x-www-form-urlencoded, Action=<Operation>)",
			r.Header.Get("Content-Type"), jsonContentType)
	}
	target := r.Header.Get("X-Amz-Target")
	name, ok := strings.CutPrefix(target, "AmazonSQS.")
	op, known := sqsOps[name]
	switch {
	case ok && known:
	case ok && slices.Contains(sqsUnsupported, name):
		return nil, errUnsupported(name)
	default:
		return nil, errUnknownOperation(http.StatusBadRequest,
			"X-Amz-Target %q is not an operation of this endpoint: use AmazonSQS.<Operation>, one of %s", target, servedOps)
	}
	body, err := readBody(w, r, strings.HasSuffix(name, "Batch"))
	if err != nil {
		return nil, err
	}
	in, err := op.fromJSON(body)
	if err != nil {
		return nil, err
	}
	return op.run(s, r, in)
}

func errUnsupported(name string) *sqsError {
	return errUnsupportedOperation("%s is not served by the local SQS endpoint: its queues are those of the jobs' sqs triggers and the reply queues of run callbacks, and it serves %s", name, servedOps)
}

func writeSQSError(w http.ResponseWriter, e *sqsError) {
	raw, _ := json.Marshal(struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
	}{e.typ, e.msg})
	w.Header().Set("Content-Type", jsonContentType)
	w.Header().Set("x-amzn-query-error", e.query)
	w.WriteHeader(e.status)
	_, _ = w.Write(raw)
}

// decode reads a JSON request into v.
func decode(body []byte, v any) *sqsError {
	if err := json.Unmarshal(body, v); err != nil {
		return errSerialization("the request body is not the JSON this operation takes: %v", err)
	}
	return nil
}
