package endpoint

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"maps"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/longshore/longshore/internal/dispatch"
	"github.com/longshore/longshore/internal/run"
)

// AccountID is the account in the local queue URLs.
const AccountID = "000000000000"

// SQSOptions configure the local SQS endpoint.
type SQSOptions struct {
	// BaseURL starts the queue URLs, e.g. http://127.0.0.1:8752; when
	// empty, http:// and the Host the request was sent to.
	BaseURL string
	Jobs    Jobs
	Launch  Launcher
	Log     *slog.Logger
}

// SQS is an SQS endpoint speaking the JSON protocol (as aws-sdk-go-v2's sqs
// v1.52 and the current CLI do: POST with X-Amz-Target: AmazonSQS.<Op> and
// Content-Type application/x-amz-json-1.0). Its queues are those of the
// jobs with an sqs trigger, one per job, named by the trigger; it has no
// FIFO queues.
//
// It takes messages and does not keep them: each message accepted by
// SendMessage or SendMessageBatch starts one run of the queue's job, and
// is acknowledged only once Launch has stored the run. When Launch fails
// (other than with a *dispatch.RequestError, which is logged) the message
// is not taken: SendMessage answers 500 InternalError and a batch lists the
// entry under Failed with SenderFault false, so the producer sends it
// again. GetQueueUrl and ListQueues are served too; the consumer side
// (ReceiveMessage, DeleteMessage, ...) answers UnsupportedOperation.
type SQS struct {
	o SQSOptions
}

// NewSQS returns the endpoint.
func NewSQS(o SQSOptions) *SQS {
	if o.Log == nil {
		o.Log = discardLog()
	}
	o.BaseURL = strings.TrimRight(o.BaseURL, "/")
	return &SQS{o: o}
}

const jsonContentType = "application/x-amz-json-1.0"

// sqsOp serves one operation: body is the JSON request.
type sqsOp func(s *SQS, ctx context.Context, r *http.Request, body []byte) (any, *sqsError)

var sqsOps = map[string]sqsOp{
	"GetQueueUrl":      (*SQS).getQueueURL,
	"ListQueues":       (*SQS).listQueues,
	"SendMessage":      (*SQS).sendMessage,
	"SendMessageBatch": (*SQS).sendMessageBatch,
}

// Operations of SQS that the local endpoint does not serve.
var sqsUnsupported = []string{
	"AddPermission", "CancelMessageMoveTask", "ChangeMessageVisibility", "ChangeMessageVisibilityBatch",
	"CreateQueue", "DeleteMessage", "DeleteMessageBatch", "DeleteQueue", "GetQueueAttributes",
	"ListDeadLetterSourceQueues", "ListMessageMoveTasks", "ListQueueTags", "PurgeQueue", "ReceiveMessage",
	"RemovePermission", "SetQueueAttributes", "StartMessageMoveTask", "TagQueue", "UntagQueue",
}

func (s *SQS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("x-amzn-RequestId", newUUID())
	out, err := s.serve(w, r)
	if err != nil {
		if err.status >= 500 {
			s.o.Log.Error("SQS request failed", "err", err.msg)
		}
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

func (s *SQS) serve(w http.ResponseWriter, r *http.Request) (any, *sqsError) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		return nil, errUnknownOperation(http.StatusMethodNotAllowed,
			"%s is not served: the SQS JSON protocol POSTs every request", r.Method)
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != jsonContentType {
		return nil, errUnknownOperation(http.StatusUnsupportedMediaType,
			"Content-Type %q is not served: this endpoint speaks the SQS JSON protocol only (Content-Type %s, X-Amz-Target AmazonSQS.<Operation>), not the older query protocol; use a current AWS SDK or CLI",
			r.Header.Get("Content-Type"), jsonContentType)
	}
	target := r.Header.Get("X-Amz-Target")
	name, ok := strings.CutPrefix(target, "AmazonSQS.")
	op := sqsOps[name]
	switch {
	case ok && op != nil:
	case ok && slices.Contains(sqsUnsupported, name):
		return nil, errUnsupportedOperation("%s is not served by the local SQS endpoint: it takes messages and starts a run for each at once, keeping none (see them with `longshore runs`); it serves GetQueueUrl, ListQueues, SendMessage and SendMessageBatch", name)
	default:
		return nil, errUnknownOperation(http.StatusBadRequest,
			"X-Amz-Target %q is not an operation of this endpoint: use AmazonSQS.GetQueueUrl, ListQueues, SendMessage or SendMessageBatch", target)
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRequestSize))
	if err != nil {
		var tooBig *http.MaxBytesError
		if !errors.As(err, &tooBig) {
			return nil, errSerialization("read the request body: %v", err)
		}
		if name == "SendMessageBatch" {
			return nil, errBatchTooLong("Batch requests cannot be longer than %d bytes: the request body is longer.", maxRequestSize)
		}
		return nil, errInvalidParameter("One or more parameters are invalid. Reason: the request body is longer than %d bytes.", maxRequestSize)
	}
	return op(s, context.WithoutCancel(r.Context()), r, body)
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

// queues maps each queue name to the job reading it.
func (s *SQS) queues() map[string]string {
	out := map[string]string{}
	for _, j := range s.o.Jobs.Jobs() {
		for _, t := range j.Triggers {
			if t.SQS == nil {
				continue
			}
			q := t.SQS.Queue
			if q == "" {
				q = j.Name
			}
			if _, dup := out[q]; !dup {
				out[q] = j.Name
			}
		}
	}
	return out
}

func (s *SQS) base(r *http.Request) string {
	if s.o.BaseURL != "" {
		return s.o.BaseURL
	}
	return "http://" + r.Host
}

func (s *SQS) queueURL(r *http.Request, name string) string {
	return s.base(r) + "/" + AccountID + "/" + name
}

// lookup finds the job reading the queue called name.
func (s *SQS) lookup(name string) (string, *sqsError) {
	qs := s.queues()
	if j, ok := qs[name]; ok {
		return j, nil
	}
	if strings.HasSuffix(name, ".fifo") {
		return "", errQueueDoesNotExist("The specified queue does not exist: %q is a FIFO queue name, and the local SQS endpoint has no FIFO queues.", name)
	}
	known := slices.Sorted(maps.Keys(qs))
	if len(known) == 0 {
		return "", errQueueDoesNotExist("The specified queue does not exist: no job has an sqs trigger, so there are no queues (asked for %q).", name)
	}
	return "", errQueueDoesNotExist("The specified queue does not exist: no job reads queue %q (the queues are: %s).", name, strings.Join(known, ", "))
}

// queueName takes the queue name out of a queue URL:
// <anything>/<account>/<name>. The host is not checked: a client may reach
// this endpoint under several names.
func queueName(queueURL string) (string, *sqsError) {
	if queueURL == "" {
		return "", errMissingParameter("QueueUrl")
	}
	u, err := url.Parse(queueURL)
	if err != nil {
		return "", errInvalidAddress("The address %s is not valid for this endpoint: %v", queueURL, err)
	}
	parts := strings.Split(strings.Trim(u.Path, "/"), "/")
	if len(parts) != 2 || parts[0] == "" || parts[1] == "" {
		return "", errInvalidAddress("The address %s is not valid for this endpoint: a queue URL ends in /%s/<queue name>.", queueURL, AccountID)
	}
	return parts[1], nil
}

type getQueueURLInput struct {
	QueueName              string
	QueueOwnerAWSAccountId string
}

type getQueueURLOutput struct {
	QueueUrl string
}

func (s *SQS) getQueueURL(_ context.Context, r *http.Request, body []byte) (any, *sqsError) {
	var in getQueueURLInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if in.QueueName == "" {
		return nil, errMissingParameter("QueueName")
	}
	if _, err := s.lookup(in.QueueName); err != nil {
		return nil, err
	}
	return getQueueURLOutput{QueueUrl: s.queueURL(r, in.QueueName)}, nil
}

type listQueuesInput struct {
	QueueNamePrefix string
	MaxResults      *int32
	NextToken       string
}

type listQueuesOutput struct {
	QueueUrls []string `json:",omitempty"`
	NextToken string   `json:",omitempty"`
}

// listQueues lists the queues by name; with MaxResults, a page at a time
// (the token is the last name listed, in base64).
func (s *SQS) listQueues(_ context.Context, r *http.Request, body []byte) (any, *sqsError) {
	var in listQueuesInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	limit := 1000
	if in.MaxResults != nil {
		if *in.MaxResults < 1 || *in.MaxResults > 1000 {
			return nil, errInvalidParameter("Value %d for parameter MaxResults is invalid. Reason: must be between 1 and 1000.", *in.MaxResults)
		}
		limit = int(*in.MaxResults)
	}
	after := ""
	if in.NextToken != "" {
		raw, err := base64.RawURLEncoding.DecodeString(in.NextToken)
		if err != nil {
			return nil, errInvalidParameter("Invalid NextToken value.")
		}
		after = string(raw)
	}
	var out listQueuesOutput
	for _, name := range slices.Sorted(maps.Keys(s.queues())) {
		if !strings.HasPrefix(name, in.QueueNamePrefix) || name <= after {
			continue
		}
		if len(out.QueueUrls) == limit {
			if in.MaxResults != nil {
				last := out.QueueUrls[len(out.QueueUrls)-1]
				out.NextToken = base64.RawURLEncoding.EncodeToString([]byte(last[strings.LastIndexByte(last, '/')+1:]))
			}
			break
		}
		out.QueueUrls = append(out.QueueUrls, s.queueURL(r, name))
	}
	return out, nil
}

type sendMessageInput struct {
	QueueUrl string
	message
}

type sendMessageOutput struct {
	MessageId                    string
	MD5OfMessageBody             string
	MD5OfMessageAttributes       string `json:",omitempty"`
	MD5OfMessageSystemAttributes string `json:",omitempty"`
}

func (s *SQS) sendMessage(ctx context.Context, r *http.Request, body []byte) (any, *sqsError) {
	var in sendMessageInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	queue, err := queueName(in.QueueUrl)
	if err != nil {
		return nil, err
	}
	jobName, err := s.lookup(queue)
	if err != nil {
		return nil, err
	}
	sums, err := in.check()
	if err != nil {
		return nil, err
	}
	id := newUUID()
	if err := s.launch(ctx, jobName, queue, id, *in.MessageBody); err != nil {
		return nil, err
	}
	return sendMessageOutput{
		MessageId: id, MD5OfMessageBody: sums.body,
		MD5OfMessageAttributes: sums.attributes, MD5OfMessageSystemAttributes: sums.systemAttributes,
	}, nil
}

type batchEntry struct {
	Id string
	message
}

type sendMessageBatchInput struct {
	QueueUrl string
	Entries  []batchEntry
}

type batchResultEntry struct {
	Id                           string
	MessageId                    string
	MD5OfMessageBody             string
	MD5OfMessageAttributes       string `json:",omitempty"`
	MD5OfMessageSystemAttributes string `json:",omitempty"`
}

type batchErrorEntry struct {
	Id          string
	SenderFault bool
	Code        string
	Message     string `json:",omitempty"`
}

type sendMessageBatchOutput struct {
	Successful []batchResultEntry
	Failed     []batchErrorEntry
}

var batchIDRe = regexp.MustCompile(`^[A-Za-z0-9_-]{1,80}$`)

// sendMessageBatch takes up to ten messages; each starts its run in turn,
// and each that is not taken is listed under Failed with why.
func (s *SQS) sendMessageBatch(ctx context.Context, r *http.Request, body []byte) (any, *sqsError) {
	var in sendMessageBatchInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	queue, err := queueName(in.QueueUrl)
	if err != nil {
		return nil, err
	}
	jobName, err := s.lookup(queue)
	if err != nil {
		return nil, err
	}
	switch {
	case len(in.Entries) == 0:
		return nil, errEmptyBatch()
	case len(in.Entries) > maxBatchEntries:
		return nil, errTooManyEntries(len(in.Entries))
	}
	seen := map[string]bool{}
	total := 0
	for _, e := range in.Entries {
		if !batchIDRe.MatchString(e.Id) {
			return nil, errInvalidBatchEntryID(e.Id)
		}
		if seen[e.Id] {
			return nil, errIDsNotDistinct(e.Id)
		}
		seen[e.Id] = true
		if e.MessageBody != nil {
			total += len(*e.MessageBody)
		}
	}
	if total > maxBatchSize {
		return nil, errBatchTooLong("Batch requests cannot be longer than %d bytes. You have sent %d bytes.", maxBatchSize, total)
	}
	out := sendMessageBatchOutput{Successful: []batchResultEntry{}, Failed: []batchErrorEntry{}}
	for _, e := range in.Entries {
		sums, err := e.check()
		if err == nil {
			id := newUUID()
			if err = s.launch(ctx, jobName, queue, id, *e.MessageBody); err == nil {
				out.Successful = append(out.Successful, batchResultEntry{
					Id: e.Id, MessageId: id, MD5OfMessageBody: sums.body,
					MD5OfMessageAttributes: sums.attributes, MD5OfMessageSystemAttributes: sums.systemAttributes,
				})
				continue
			}
		}
		out.Failed = append(out.Failed, batchErrorEntry{Id: e.Id, SenderFault: err.senderFault(), Code: err.code(), Message: err.msg})
	}
	return out, nil
}

// launch starts the run of one message. A RequestError is logged and the
// message taken (as the launcher Lambda would consume it on AWS); any other
// error refuses the message, to be sent again.
func (s *SQS) launch(ctx context.Context, jobName, queue, id, body string) *sqsError {
	l, err := s.o.Launch.Launch(ctx, dispatch.Request{Job: jobName, Trigger: run.Trigger{
		Kind: run.TriggerSQS, Queue: queue, MessageID: id, Body: body,
	}})
	switch {
	case dispatch.Stored(l, err):
		s.o.Log.Info("SQS message started a run", "job", jobName, "queue", queue, "message", id, "run", l.Run.ID, "duplicate", l.Duplicate)
		return nil
	case isRequestError(err):
		s.o.Log.Warn("SQS message cannot start a run", "job", jobName, "queue", queue, "message", id, "err", err)
		return nil
	default:
		s.o.Log.Error("SQS message: launch failed", "job", jobName, "queue", queue, "message", id, "err", err)
		return errInternal("The message was not taken: the run of job %s could not be recorded (%v). Send it again.", jobName, err)
	}
}
