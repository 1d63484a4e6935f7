package sqs

import (
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Limits of the consumer side, as SQS has them.
const (
	defaultVisibility = 30 * time.Second
	maxVisibility     = 12 * time.Hour
	maxWaitSeconds    = 20
	maxReceive        = 10
)

type receiveMessageInput struct {
	QueueUrl                    string
	AttributeNames              []string
	MessageSystemAttributeNames []string
	MessageAttributeNames       []string
	MaxNumberOfMessages         *int32
	VisibilityTimeout           *int32
	WaitTimeSeconds             *int32
	ReceiveRequestAttemptId     string
}

// receivedMessage is a message as ReceiveMessage answers it.
type receivedMessage struct {
	MessageId              string
	ReceiptHandle          string
	MD5OfBody              string
	Body                   string
	Attributes             map[string]string         `json:",omitempty"`
	MD5OfMessageAttributes string                    `json:",omitempty"`
	MessageAttributes      map[string]attributeValue `json:",omitempty"`
}

type receiveMessageOutput struct {
	Messages []receivedMessage `json:",omitempty" xml:"Message"`
}

// systemAttributeNames are the attributes ReceiveMessage can return.
var systemAttributeNames = []string{
	"ApproximateFirstReceiveTimestamp", "ApproximateReceiveCount", "AWSTraceHeader", "SenderId", "SentTimestamp",
}

// checkSeconds checks an optional count of seconds against SQS's bounds.
func checkSeconds(name string, v *int32, lo, hi int32) *sqsError {
	if v != nil && (*v < lo || *v > hi) {
		return errInvalidParameter("Value %d for parameter %s is invalid. Reason: Must be between %d and %d, if provided.", *v, name, lo, hi)
	}
	return nil
}

// receiveMessage answers up to MaxNumberOfMessages visible messages of a
// reply queue, hiding each for the visibility timeout. With
// WaitTimeSeconds, it waits until a message is visible, the time is up or
// the client goes away (a long poll).
func (s *Endpoint) receiveMessage(r *http.Request, in *receiveMessageInput) (any, *sqsError) {
	q, err := s.lookupHeld(in.QueueUrl, "ReceiveMessage")
	if err != nil {
		return nil, err
	}
	for _, c := range []struct {
		name   string
		v      *int32
		lo, hi int32
	}{
		{"MaxNumberOfMessages", in.MaxNumberOfMessages, 1, maxReceive},
		{"VisibilityTimeout", in.VisibilityTimeout, 0, int32(maxVisibility / time.Second)},
		{"WaitTimeSeconds", in.WaitTimeSeconds, 0, maxWaitSeconds},
	} {
		if err := checkSeconds(c.name, c.v, c.lo, c.hi); err != nil {
			return nil, err
		}
	}
	max, vis, wait := 1, defaultVisibility, time.Duration(0)
	if in.MaxNumberOfMessages != nil {
		max = int(*in.MaxNumberOfMessages)
	}
	if in.VisibilityTimeout != nil {
		vis = seconds(*in.VisibilityTimeout)
	}
	if in.WaitTimeSeconds != nil {
		wait = seconds(*in.WaitTimeSeconds)
	}
	ctx := r.Context()
	deadline := s.o.Clock.Now().Add(wait)
	for {
		s.mu.Lock()
		now := s.o.Clock.Now()
		got := s.take(q.held, max, vis, now)
		if len(got) > 0 || !now.Before(deadline) {
			out := receiveMessageOutput{}
			for _, m := range got {
				out.Messages = append(out.Messages, received(m, in))
			}
			s.mu.Unlock()
			return out, nil
		}
		until := deadline
		if next := nextVisible(q.held, now); !next.IsZero() && next.Before(until) {
			until = next
		}
		changed := q.held.changed
		s.mu.Unlock()
		select {
		case <-ctx.Done():
			return receiveMessageOutput{}, nil
		case <-changed:
		case <-s.o.Clock.After(until.Sub(now)):
		}
	}
}

// received is m as ReceiveMessage answers it, with the attributes asked
// for. Callers hold SQS.mu.
func received(m *heldMessage, in *receiveMessageInput) receivedMessage {
	out := receivedMessage{MessageId: m.ID, ReceiptHandle: m.receipt, MD5OfBody: bodyMD5(m.Body), Body: m.Body}
	want := append(slices.Clone(in.AttributeNames), in.MessageSystemAttributeNames...)
	all := slices.Contains(want, "All")
	values := map[string]string{
		"ApproximateFirstReceiveTimestamp": strconv.FormatInt(m.firstReceive.UnixMilli(), 10),
		"ApproximateReceiveCount":          strconv.Itoa(m.receives),
		"SenderId":                         AccountID,
		"SentTimestamp":                    strconv.FormatInt(m.Sent.UnixMilli(), 10),
	}
	if th, ok := m.SystemAttributes["AWSTraceHeader"]; ok && th.StringValue != nil {
		values["AWSTraceHeader"] = *th.StringValue
	}
	for _, name := range systemAttributeNames {
		if v, ok := values[name]; ok && (all || slices.Contains(want, name)) {
			if out.Attributes == nil {
				out.Attributes = map[string]string{}
			}
			out.Attributes[name] = v
		}
	}
	for name, a := range m.Attributes {
		if wantAttribute(in.MessageAttributeNames, name) {
			if out.MessageAttributes == nil {
				out.MessageAttributes = map[string]attributeValue{}
			}
			out.MessageAttributes[name] = a
		}
	}
	// The digest covers the attributes answered, as the SDKs check it.
	out.MD5OfMessageAttributes = md5OfAttributes(out.MessageAttributes)
	return out
}

// wantAttribute tells whether MessageAttributeNames asks for the message
// attribute called name: "All" or ".*" ask for all, "prefix.*" for those
// starting with prefix.
func wantAttribute(names []string, name string) bool {
	for _, n := range names {
		if n == "All" || n == ".*" || n == name {
			return true
		}
		if prefix, ok := strings.CutSuffix(n, ".*"); ok && strings.HasPrefix(name, prefix+".") {
			return true
		}
	}
	return false
}

func bodyMD5(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

// MarshalXML writes a received message as the query protocol does:
// attributes as Attribute elements (Name, Value), message attributes as
// MessageAttribute elements (Name, Value: StringValue or BinaryValue in
// base64, and DataType), each sorted by name.
func (m receivedMessage) MarshalXML(e *xml.Encoder, start xml.StartElement) error {
	type attribute struct {
		Name  string
		Value string
	}
	type value struct {
		StringValue string `xml:",omitempty"`
		BinaryValue string `xml:",omitempty"`
		DataType    string
	}
	type messageAttribute struct {
		Name  string
		Value value
	}
	doc := struct {
		MessageId              string
		ReceiptHandle          string
		MD5OfBody              string
		Body                   string
		Attribute              []attribute
		MD5OfMessageAttributes string `xml:",omitempty"`
		MessageAttribute       []messageAttribute
	}{MessageId: m.MessageId, ReceiptHandle: m.ReceiptHandle, MD5OfBody: m.MD5OfBody, Body: m.Body, MD5OfMessageAttributes: m.MD5OfMessageAttributes}
	for _, name := range slices.Sorted(maps.Keys(m.Attributes)) {
		doc.Attribute = append(doc.Attribute, attribute{name, m.Attributes[name]})
	}
	for _, name := range slices.Sorted(maps.Keys(m.MessageAttributes)) {
		a := m.MessageAttributes[name]
		v := value{DataType: a.DataType}
		if a.StringValue != nil {
			v.StringValue = *a.StringValue
		}
		if a.BinaryValue != nil {
			v.BinaryValue = base64.StdEncoding.EncodeToString(a.BinaryValue)
		}
		doc.MessageAttribute = append(doc.MessageAttribute, messageAttribute{name, v})
	}
	return e.EncodeElement(doc, start)
}

type deleteMessageInput struct {
	QueueUrl      string
	ReceiptHandle string
}

// deleteMessage deletes a received message. As on SQS, a receipt handle
// of an earlier receive of a message received again since succeeds but
// deletes nothing, and deleting a message already deleted succeeds.
func (s *Endpoint) deleteMessage(_ *http.Request, in *deleteMessageInput) (any, *sqsError) {
	q, err := s.lookupHeld(in.QueueUrl, "DeleteMessage")
	if err != nil {
		return nil, err
	}
	if err := s.delete(q, in.ReceiptHandle); err != nil {
		return nil, err
	}
	return emptyOutput{}, nil
}

func (s *Endpoint) delete(q queue, receipt string) *sqsError {
	id, err := parseReceipt(q.name, receipt)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m, i := q.held.find(id)
	if m == nil || m.receipt != receipt {
		return nil
	}
	if err := s.remove(q.held, i); err != nil {
		s.o.Log.Error("SQS: deleting a message failed", "queue", q.name, "err", err)
		return errInternal("The message was not deleted: %v. Delete it again.", err)
	}
	return nil
}

type changeVisibilityInput struct {
	QueueUrl          string
	ReceiptHandle     string
	VisibilityTimeout *int32
}

// changeVisibility hides a message in flight for another
// VisibilityTimeout seconds from now (0 makes it visible at once).
func (s *Endpoint) changeVisibility(_ *http.Request, in *changeVisibilityInput) (any, *sqsError) {
	q, err := s.lookupHeld(in.QueueUrl, "ChangeMessageVisibility")
	if err != nil {
		return nil, err
	}
	if err := s.changeOne(q, in.ReceiptHandle, in.VisibilityTimeout); err != nil {
		return nil, err
	}
	return emptyOutput{}, nil
}

func (s *Endpoint) changeOne(q queue, receipt string, timeout *int32) *sqsError {
	if timeout == nil {
		return errMissingParameter("VisibilityTimeout")
	}
	if err := checkSeconds("VisibilityTimeout", timeout, 0, int32(maxVisibility/time.Second)); err != nil {
		return err
	}
	id, err := parseReceipt(q.name, receipt)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.o.Clock.Now()
	m, _ := q.held.find(id)
	switch {
	case m == nil:
		return errReceiptHandleInvalid("The receipt handle is of a message that was deleted.")
	case m.receipt != receipt:
		return errReceiptHandleInvalid("The receipt handle has expired: the message was received again since, with another.")
	case !m.inFlight(now):
		return errMessageNotInflight()
	}
	m.visibleAt = now.Add(seconds(*timeout))
	q.held.signal()
	return nil
}

type receiptEntry struct {
	Id                string
	ReceiptHandle     string
	VisibilityTimeout *int32
}

type receiptBatchInput struct {
	QueueUrl string
	Entries  []receiptEntry
}

type idEntry struct {
	Id string
}

type deleteMessageBatchOutput struct {
	Successful []idEntry         `xml:"DeleteMessageBatchResultEntry"`
	Failed     []batchErrorEntry `xml:"BatchResultErrorEntry"`
}

type changeVisibilityBatchOutput struct {
	Successful []idEntry         `xml:"ChangeMessageVisibilityBatchResultEntry"`
	Failed     []batchErrorEntry `xml:"BatchResultErrorEntry"`
}

// eachEntry checks a batch of receipt handles and applies do to each
// entry, sorting them into successes and failures.
func eachEntry(in *receiptBatchInput, entry string, do func(e receiptEntry) *sqsError) ([]idEntry, []batchErrorEntry, *sqsError) {
	ids := make([]string, len(in.Entries))
	for i, e := range in.Entries {
		ids[i] = e.Id
	}
	if err := checkBatch(ids, entry); err != nil {
		return nil, nil, err
	}
	ok, failed := []idEntry{}, []batchErrorEntry{}
	for _, e := range in.Entries {
		if err := do(e); err != nil {
			failed = append(failed, failedEntry(e.Id, err))
			continue
		}
		ok = append(ok, idEntry{Id: e.Id})
	}
	return ok, failed, nil
}

func (s *Endpoint) deleteMessageBatch(_ *http.Request, in *receiptBatchInput) (any, *sqsError) {
	q, err := s.lookupHeld(in.QueueUrl, "DeleteMessageBatch")
	if err != nil {
		return nil, err
	}
	ok, failed, err := eachEntry(in, "DeleteMessageBatchRequestEntry", func(e receiptEntry) *sqsError { return s.delete(q, e.ReceiptHandle) })
	if err != nil {
		return nil, err
	}
	return deleteMessageBatchOutput{Successful: ok, Failed: failed}, nil
}

func (s *Endpoint) changeVisibilityBatch(_ *http.Request, in *receiptBatchInput) (any, *sqsError) {
	q, err := s.lookupHeld(in.QueueUrl, "ChangeMessageVisibilityBatch")
	if err != nil {
		return nil, err
	}
	ok, failed, err := eachEntry(in, "ChangeMessageVisibilityBatchRequestEntry", func(e receiptEntry) *sqsError {
		return s.changeOne(q, e.ReceiptHandle, e.VisibilityTimeout)
	})
	if err != nil {
		return nil, err
	}
	return changeVisibilityBatchOutput{Successful: ok, Failed: failed}, nil
}
