package sqs

import (
	"context"
	"net/http"
	"regexp"

	"github.com/longshore/longshore/internal/dispatch"
	"github.com/longshore/longshore/internal/local/endpoint"
	"github.com/longshore/longshore/internal/run"
)

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

func (s *Endpoint) sendMessage(r *http.Request, in *sendMessageInput) (any, *sqsError) {
	q, err := s.lookupURL(in.QueueUrl)
	if err != nil {
		return nil, err
	}
	sums, err := in.check(q.held != nil)
	if err != nil {
		return nil, err
	}
	id := endpoint.NewUUID()
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
func (s *Endpoint) deliver(ctx context.Context, q queue, id string, m *message) *sqsError {
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
func (s *Endpoint) sendMessageBatch(r *http.Request, in *sendMessageBatchInput) (any, *sqsError) {
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
			id := endpoint.NewUUID()
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
func (s *Endpoint) launch(ctx context.Context, jobName, queue, id, body string) *sqsError {
	l, err := s.o.Launch.Launch(ctx, dispatch.Request{Job: jobName, Trigger: run.Trigger{
		Kind: run.TriggerSQS, Queue: queue, MessageID: id, Body: body,
	}})
	switch {
	case dispatch.Stored(l, err):
		s.o.Log.Info("SQS message started a run", "job", jobName, "queue", queue, "message", id, "run", l.Run.ID, "duplicate", l.Duplicate)
		return nil
	case endpoint.IsRequestError(err):
		s.o.Log.Warn("SQS message cannot start a run", "job", jobName, "queue", queue, "message", id, "err", err)
		return nil
	default:
		s.o.Log.Error("SQS message: launch failed", "job", jobName, "queue", queue, "message", id, "err", err)
		return errInternal("The message was not taken: the run of job %s could not be recorded (%v). Send it again.", jobName, err)
	}
}
