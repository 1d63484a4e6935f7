package sqs

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/longshore/longshore/internal/local/endpoint"
	"github.com/longshore/longshore/internal/local/jsonfile"
)

// ErrNoReplyQueue says a callback's target cannot be a reply queue of the
// local SQS endpoint: it is no queue name or URL, a FIFO queue, or the
// trigger queue of a job. No retry changes that.
var ErrNoReplyQueue = errors.New("not a reply queue of the local SQS endpoint")

// ErrReplyRefused says a reply is no message SQS would take (too large,
// say). No retry changes that either.
var ErrReplyRefused = errors.New("the reply is no message SQS would take")

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
func (s *Endpoint) ReplyQueue(target string) (string, error) {
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
func (s *Endpoint) Reply(target, body string, attrs map[string]string) error {
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
	if err := s.deliver(context.Background(), queue{name: name, held: q}, endpoint.NewUUID(), &m); err != nil {
		return errors.New(err.msg)
	}
	return nil
}

// heldQueue is a queue whose messages wait to be received: a reply queue,
// which run callbacks of kind "queue" write to.
type heldQueue struct {
	Name     string         `json:"name"`
	Messages []*heldMessage `json:"messages"`
	// changed is closed (and replaced) when a message may have become
	// receivable: long polls wait on it.
	changed chan struct{}
}

// heldMessage is a message of a held queue. Its receives, visibility and
// receipt handles live in memory: after a restart every message is
// visible again (once its delay is over), as after its visibility
// timeout; the receipt handles given before are void.
type heldMessage struct {
	ID               string                    `json:"id"`
	Body             string                    `json:"body"`
	Attributes       map[string]attributeValue `json:"attributes,omitempty"`
	SystemAttributes map[string]attributeValue `json:"systemAttributes,omitempty"`
	Sent             time.Time                 `json:"sent"`
	// NotBefore delays a message sent with DelaySeconds.
	NotBefore time.Time `json:"notBefore"`

	visibleAt    time.Time // NotBefore, then the end of each visibility timeout
	receives     int
	firstReceive time.Time
	receipt      string // the newest receipt handle; "" until received
}

// inFlight tells whether m was received and is hidden still.
func (m *heldMessage) inFlight(now time.Time) bool {
	return m.receipt != "" && m.visibleAt.After(now)
}

func newHeldQueue(name string) *heldQueue {
	return &heldQueue{Name: name, changed: make(chan struct{})}
}

// signal wakes the long polls of q. Callers hold SQS.mu.
func (q *heldQueue) signal() {
	close(q.changed)
	q.changed = make(chan struct{})
}

// find returns the message with id and its index, or nil.
func (q *heldQueue) find(id string) (*heldMessage, int) {
	for i, m := range q.Messages {
		if m.ID == id {
			return m, i
		}
	}
	return nil, -1
}

// receipt handles name the queue, the message and the receive:
// base64url("<queue>\n<message id>\n<receive nonce>").
func newReceipt(queue, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(queue + "\n" + id + "\n" + endpoint.NewUUID()))
}

func parseReceipt(queue, handle string) (id string, err *sqsError) {
	raw, derr := base64.RawURLEncoding.DecodeString(handle)
	parts := strings.Split(string(raw), "\n")
	if handle == "" {
		return "", errMissingParameter("ReceiptHandle")
	}
	if derr != nil || len(parts) != 3 || parts[1] == "" {
		return "", errReceiptHandleInvalid("The input receipt handle %q is not a valid receipt handle.", handle)
	}
	if parts[0] != queue {
		return "", errReceiptHandleInvalid("The input receipt handle is of queue %s, not of queue %s.", parts[0], queue)
	}
	return parts[1], nil
}

// queueFile is where a held queue is kept.
func (s *Endpoint) queueFile(name string) string { return name + ".json" }

// loadHeld reads the held queues kept in dir; a file it cannot read is
// logged and skipped.
func (s *Endpoint) loadHeld() {
	entries, err := os.ReadDir(s.o.Dir)
	if errors.Is(err, fs.ErrNotExist) {
		return
	}
	if err != nil {
		s.o.Log.Warn("local SQS: cannot read the reply queues kept", "dir", s.o.Dir, "err", err)
		return
	}
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), ".json")
		if !ok || e.IsDir() || !queueNameRe.MatchString(name) {
			continue
		}
		q := newHeldQueue(name)
		if err := jsonfile.Read(s.o.Dir, e.Name(), q); err != nil || q.Name != name {
			s.o.Log.Warn("local SQS: skipping a reply queue file it cannot read", "file", filepath.Join(s.o.Dir, e.Name()), "err", err)
			continue
		}
		for _, m := range q.Messages {
			if m != nil {
				m.visibleAt = m.NotBefore
			}
			if m == nil || m.ID == "" {
				s.o.Log.Warn("local SQS: skipping a reply queue file with a message without id", "file", filepath.Join(s.o.Dir, e.Name()))
				q = nil
				break
			}
		}
		if q != nil {
			s.held[name] = q
		}
	}
}

// keep writes q to the data folder, when the endpoint has one. Callers
// hold SQS.mu.
func (s *Endpoint) keep(q *heldQueue) error {
	if s.o.Dir == "" {
		return nil
	}
	if err := os.MkdirAll(s.o.Dir, 0o700); err != nil {
		return fmt.Errorf("keep reply queue %s: %w", q.Name, err)
	}
	return jsonfile.Write(s.o.Dir, s.queueFile(q.Name), q)
}

// holdQueue returns the held queue called name, creating (and keeping) it
// when missing. Callers hold SQS.mu.
func (s *Endpoint) holdQueue(name string) (*heldQueue, error) {
	if q := s.held[name]; q != nil {
		return q, nil
	}
	q := newHeldQueue(name)
	if err := s.keep(q); err != nil {
		return nil, err
	}
	s.held[name] = q
	return q, nil
}

// put adds a message to a held queue and keeps the queue. Callers hold
// SQS.mu.
func (s *Endpoint) put(q *heldQueue, m *heldMessage) error {
	q.Messages = append(q.Messages, m)
	if err := s.keep(q); err != nil {
		q.Messages = q.Messages[:len(q.Messages)-1]
		return err
	}
	q.signal()
	return nil
}

// remove deletes the message at index i of q and keeps the queue. Callers
// hold SQS.mu.
func (s *Endpoint) remove(q *heldQueue, i int) error {
	m := q.Messages[i]
	q.Messages = append(q.Messages[:i:i], q.Messages[i+1:]...)
	if err := s.keep(q); err != nil {
		q.Messages = append(q.Messages[:i:i], append([]*heldMessage{m}, q.Messages[i:]...)...)
		return err
	}
	return nil
}

// take receives up to max visible messages of q, hiding each for vis.
// Callers hold SQS.mu.
func (s *Endpoint) take(q *heldQueue, max int, vis time.Duration, now time.Time) []*heldMessage {
	var got []*heldMessage
	for _, m := range q.Messages {
		if len(got) == max {
			break
		}
		if m.visibleAt.After(now) {
			continue
		}
		m.receives++
		if m.firstReceive.IsZero() {
			m.firstReceive = now
		}
		m.receipt = newReceipt(q.Name, m.ID)
		m.visibleAt = now.Add(vis)
		got = append(got, m)
	}
	return got
}

// nextVisible is when the soonest hidden message of q becomes visible, or
// the zero time when none is hidden. Callers hold SQS.mu.
func nextVisible(q *heldQueue, now time.Time) time.Time {
	var next time.Time
	for _, m := range q.Messages {
		if m.visibleAt.After(now) && (next.IsZero() || m.visibleAt.Before(next)) {
			next = m.visibleAt
		}
	}
	return next
}
