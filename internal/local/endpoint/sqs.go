package endpoint

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"

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
	// Dir keeps the reply queues and their messages across restarts; when
	// empty they live in memory only.
	Dir string
	// Clock drives visibility timeouts, delays and long polls (the wall
	// clock when nil).
	Clock Clock
	Log   *slog.Logger
}

// SQS is an SQS endpoint. It speaks both of SQS's protocols: the JSON
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
type SQS struct {
	o SQSOptions

	mu   sync.Mutex
	held map[string]*heldQueue
}

// NewSQS returns the endpoint, with the reply queues kept in o.Dir.
func NewSQS(o SQSOptions) *SQS {
	if o.Log == nil {
		o.Log = discardLog()
	}
	if o.Clock == nil {
		o.Clock = wallClock{}
	}
	o.BaseURL = strings.TrimRight(o.BaseURL, "/")
	s := &SQS{o: o, held: map[string]*heldQueue{}}
	if o.Dir != "" {
		s.loadHeld()
	}
	return s
}

const jsonContentType = "application/x-amz-json-1.0"

// sqsOp is one operation, decoded from either protocol into the same
// input.
type sqsOp struct {
	fromJSON  func(body []byte) (any, *sqsError)
	fromQuery func(form url.Values) (any, *sqsError)
	run       func(s *SQS, r *http.Request, in any) (any, *sqsError)
}

func newOp[I any](fromQuery func(url.Values) (*I, *sqsError), run func(*SQS, *http.Request, *I) (any, *sqsError)) sqsOp {
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
		run: func(s *SQS, r *http.Request, in any) (any, *sqsError) { return run(s, r, in.(*I)) },
	}
}

var sqsOps = map[string]sqsOp{
	"GetQueueUrl":                  newOp(queryGetQueueURL, (*SQS).getQueueURL),
	"ListQueues":                   newOp(queryListQueues, (*SQS).listQueues),
	"SendMessage":                  newOp(querySendMessage, (*SQS).sendMessage),
	"SendMessageBatch":             newOp(querySendMessageBatch, (*SQS).sendMessageBatch),
	"ReceiveMessage":               newOp(queryReceiveMessage, (*SQS).receiveMessage),
	"DeleteMessage":                newOp(queryDeleteMessage, (*SQS).deleteMessage),
	"DeleteMessageBatch":           newOp(queryDeleteMessageBatch, (*SQS).deleteMessageBatch),
	"ChangeMessageVisibility":      newOp(queryChangeVisibility, (*SQS).changeVisibility),
	"ChangeMessageVisibilityBatch": newOp(queryChangeVisibilityBatch, (*SQS).changeVisibilityBatch),
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

func (s *SQS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	requestID := newUUID()
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

func (s *SQS) logError(err *sqsError) {
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

func (s *SQS) serveJSON(w http.ResponseWriter, r *http.Request) (any, *sqsError) {
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

// queues maps each trigger queue's name to the job reading it.
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

// names lists every queue, trigger and reply queues alike, sorted.
func (s *SQS) names() []string {
	all := s.queues()
	s.mu.Lock()
	for name := range s.held {
		all[name] = ""
	}
	s.mu.Unlock()
	return slices.Sorted(maps.Keys(all))
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

// queue is a queue found by name: a trigger queue (job set) or a reply
// queue (held set).
type queue struct {
	name string
	job  string
	held *heldQueue
}

// lookup finds the queue called name.
func (s *SQS) lookup(name string) (queue, *sqsError) {
	qs := s.queues()
	if j, ok := qs[name]; ok {
		return queue{name: name, job: j}, nil
	}
	s.mu.Lock()
	h := s.held[name]
	s.mu.Unlock()
	if h != nil {
		return queue{name: name, held: h}, nil
	}
	if strings.HasSuffix(name, ".fifo") {
		return queue{}, errQueueDoesNotExist("The specified queue does not exist: %q is a FIFO queue name, and the local SQS endpoint has no FIFO queues.", name)
	}
	known := s.names()
	if len(known) == 0 {
		return queue{}, errQueueDoesNotExist("The specified queue does not exist: no job has an sqs trigger and no run has a reply queue, so there are no queues (asked for %q).", name)
	}
	return queue{}, errQueueDoesNotExist("The specified queue does not exist: no job reads queue %q and no run replies to it (the queues are: %s).", name, strings.Join(known, ", "))
}

// lookupURL finds the queue a queue URL names.
func (s *SQS) lookupURL(queueURL string) (queue, *sqsError) {
	name, err := queueName(queueURL)
	if err != nil {
		return queue{}, err
	}
	return s.lookup(name)
}

// lookupHeld finds the reply queue a queue URL names, for the operations
// of a consumer.
func (s *SQS) lookupHeld(queueURL, op string) (queue, *sqsError) {
	q, err := s.lookupURL(queueURL)
	if err != nil {
		return q, err
	}
	if q.held == nil {
		return q, errUnsupportedOperation("%s is not served on queue %s: it is the trigger queue of job %s, which keeps no message (each starts a run at once: see them with `longshore runs`). Only reply queues keep messages to receive.", op, q.name, q.job)
	}
	return q, nil
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

func (s *SQS) getQueueURL(r *http.Request, in *getQueueURLInput) (any, *sqsError) {
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
	QueueUrls []string `json:",omitempty" xml:"QueueUrl"`
	NextToken string   `json:",omitempty" xml:",omitempty"`
}

// listQueues lists the queues by name; with MaxResults, a page at a time
// (the token is the last name listed, in base64).
func (s *SQS) listQueues(r *http.Request, in *listQueuesInput) (any, *sqsError) {
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
	for _, name := range s.names() {
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
	MD5OfMessageBody             string
	MD5OfMessageAttributes       string `json:",omitempty" xml:",omitempty"`
	MD5OfMessageSystemAttributes string `json:",omitempty" xml:",omitempty"`
	MessageId                    string
}

func (s *SQS) sendMessage(r *http.Request, in *sendMessageInput) (any, *sqsError) {
	q, err := s.lookupURL(in.QueueUrl)
	if err != nil {
		return nil, err
	}
	sums, err := in.check(q.held != nil)
	if err != nil {
		return nil, err
	}
	id := newUUID()
	if err := s.deliver(context.WithoutCancel(r.Context()), q, id, &in.message); err != nil {
		return nil, err
	}
	return sendMessageOutput{
		MessageId: id, MD5OfMessageBody: sums.body,
		MD5OfMessageAttributes: sums.attributes, MD5OfMessageSystemAttributes: sums.systemAttributes,
	}, nil
}

// deliver hands a checked message to its queue: a run of a trigger
// queue's job, or a reply queue's messages.
func (s *SQS) deliver(ctx context.Context, q queue, id string, m *message) *sqsError {
	if q.held == nil {
		return s.launch(ctx, q.job, q.name, id, *m.MessageBody)
	}
	now := s.o.Clock.Now()
	hm := &heldMessage{ID: id, Body: *m.MessageBody, Attributes: m.MessageAttributes, SystemAttributes: m.MessageSystemAttributes, Sent: now, NotBefore: now}
	if m.DelaySeconds != nil {
		hm.NotBefore = now.Add(seconds(*m.DelaySeconds))
	}
	hm.visibleAt = hm.NotBefore
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.put(q.held, hm); err != nil {
		s.o.Log.Error("SQS message: keeping it failed", "queue", q.name, "err", err)
		return errInternal("The message was not taken: %v. Send it again.", err)
	}
	return nil
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
	MD5OfMessageAttributes       string `json:",omitempty" xml:",omitempty"`
	MD5OfMessageSystemAttributes string `json:",omitempty" xml:",omitempty"`
}

type batchErrorEntry struct {
	Id          string
	SenderFault bool
	Code        string
	Message     string `json:",omitempty" xml:",omitempty"`
}

type sendMessageBatchOutput struct {
	Successful []batchResultEntry `xml:"SendMessageBatchResultEntry"`
	Failed     []batchErrorEntry  `xml:"BatchResultErrorEntry"`
}

var batchIDRe = regexp.MustCompile(`^[A-Za-z0-9_-]{1,80}$`)

// checkBatch checks what every batch request of SQS must be: 1 to 10
// entries of distinct, well-formed ids.
func checkBatch(ids []string, entry string) *sqsError {
	switch {
	case len(ids) == 0:
		return errEmptyBatch(entry)
	case len(ids) > maxBatchEntries:
		return errTooManyEntries(len(ids))
	}
	seen := map[string]bool{}
	for _, id := range ids {
		if !batchIDRe.MatchString(id) {
			return errInvalidBatchEntryID(id)
		}
		if seen[id] {
			return errIDsNotDistinct(id)
		}
		seen[id] = true
	}
	return nil
}

// sendMessageBatch takes up to ten messages; each is delivered in turn,
// and each that is not taken is listed under Failed with why.
func (s *SQS) sendMessageBatch(r *http.Request, in *sendMessageBatchInput) (any, *sqsError) {
	q, err := s.lookupURL(in.QueueUrl)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(in.Entries))
	total := 0
	for i, e := range in.Entries {
		ids[i] = e.Id
		if e.MessageBody != nil {
			total += len(*e.MessageBody)
		}
	}
	if err := checkBatch(ids, "SendMessageBatchRequestEntry"); err != nil {
		return nil, err
	}
	if total > maxBatchSize {
		return nil, errBatchTooLong("Batch requests cannot be longer than %d bytes. You have sent %d bytes.", maxBatchSize, total)
	}
	ctx := context.WithoutCancel(r.Context())
	out := sendMessageBatchOutput{Successful: []batchResultEntry{}, Failed: []batchErrorEntry{}}
	for _, e := range in.Entries {
		sums, err := e.check(q.held != nil)
		if err == nil {
			id := newUUID()
			if err = s.deliver(ctx, q, id, &e.message); err == nil {
				out.Successful = append(out.Successful, batchResultEntry{
					Id: e.Id, MessageId: id, MD5OfMessageBody: sums.body,
					MD5OfMessageAttributes: sums.attributes, MD5OfMessageSystemAttributes: sums.systemAttributes,
				})
				continue
			}
		}
		out.Failed = append(out.Failed, failedEntry(e.Id, err))
	}
	return out, nil
}

func failedEntry(id string, err *sqsError) batchErrorEntry {
	return batchErrorEntry{Id: id, SenderFault: err.senderFault(), Code: err.code(), Message: err.msg}
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

// ReplyQueueName is the name of the reply queue a callback's target
// names: a queue URL (<anything>/<account>/<name>: the host is not
// checked, so an AWS queue URL names the local queue of the same name) or
// a bare queue name. The error wraps ErrNoReplyQueue.
func ReplyQueueName(target string) (string, error) {
	name := target
	if strings.Contains(target, "/") {
		n, err := queueName(target)
		if err != nil {
			return "", fmt.Errorf("%w: %s", ErrNoReplyQueue, err.msg)
		}
		name = n
	}
	switch {
	case strings.HasSuffix(name, ".fifo"):
		return "", fmt.Errorf("%w: %q is a FIFO queue, and the local SQS endpoint has no FIFO queues", ErrNoReplyQueue, name)
	case !queueNameRe.MatchString(name):
		return "", fmt.Errorf("%w: %q is not a queue name or URL (a name is 1 to 80 letters, digits, '-' and '_')", ErrNoReplyQueue, target)
	}
	return name, nil
}

// ReplyQueue makes sure the reply queue a callback's target names exists,
// and returns its URL. It is refused (ErrNoReplyQueue) for a target that
// names no queue, a FIFO queue, or the trigger queue of a job: a reply
// there would start a run of that job.
func (s *SQS) ReplyQueue(target string) (string, error) {
	name, err := ReplyQueueName(target)
	if err != nil {
		return "", err
	}
	if j, ok := s.queues()[name]; ok {
		return "", fmt.Errorf("%w: queue %s is the trigger queue of job %s, whose messages start runs of it; reply to a queue no job reads", ErrNoReplyQueue, name, j)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.holdQueue(name); err != nil {
		return "", err
	}
	base := s.o.BaseURL
	if base == "" {
		base = "http://localhost"
	}
	return base + "/" + AccountID + "/" + name, nil
}

// Reply puts a message with attributes (String-typed) on the reply queue
// target names, creating the queue when needed. An error wrapping
// ErrNoReplyQueue or ErrReplyRefused will never succeed; any other may.
func (s *SQS) Reply(target, body string, attrs map[string]string) error {
	name, err := ReplyQueueName(target)
	if err != nil {
		return err
	}
	if j, ok := s.queues()[name]; ok {
		return fmt.Errorf("%w: queue %s is the trigger queue of job %s", ErrNoReplyQueue, name, j)
	}
	m := message{MessageBody: &body, MessageAttributes: map[string]attributeValue{}}
	for k, v := range attrs {
		m.MessageAttributes[k] = attributeValue{DataType: "String", StringValue: &v}
	}
	if _, err := m.check(true); err != nil {
		return fmt.Errorf("%w: reply to queue %s: %s", ErrReplyRefused, name, err.msg)
	}
	s.mu.Lock()
	q, herr := s.holdQueue(name)
	s.mu.Unlock()
	if herr != nil {
		return herr
	}
	if err := s.deliver(context.Background(), queue{name: name, held: q}, newUUID(), &m); err != nil {
		return errors.New(err.msg)
	}
	return nil
}
