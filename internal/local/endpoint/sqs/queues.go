package sqs

import (
	"encoding/base64"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
)

// queues maps each trigger queue's name to the job reading it.
func (s *Endpoint) queues() map[string]string {
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
func (s *Endpoint) names() []string {
	all := s.queues()
	s.mu.Lock()
	for name := range s.held {
		all[name] = ""
	}
	s.mu.Unlock()
	return slices.Sorted(maps.Keys(all))
}

func (s *Endpoint) base(r *http.Request) string {
	if s.o.BaseURL != "" {
		return s.o.BaseURL
	}
	return "http://" + r.Host
}

func (s *Endpoint) queueURL(r *http.Request, name string) string {
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
func (s *Endpoint) lookup(name string) (queue, *sqsError) {
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
func (s *Endpoint) lookupURL(queueURL string) (queue, *sqsError) {
	name, err := queueName(queueURL)
	if err != nil {
		return queue{}, err
	}
	return s.lookup(name)
}

// lookupHeld finds the reply queue a queue URL names, for the operations
// of a consumer.
func (s *Endpoint) lookupHeld(queueURL, op string) (queue, *sqsError) {
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

// queueNameRe is what SQS takes as the name of a standard queue.
var queueNameRe = regexp.MustCompile(`^[A-Za-z0-9_-]{1,80}$`)

type getQueueURLInput struct {
	QueueName              string
	QueueOwnerAWSAccountId string
}

type getQueueURLOutput struct {
	QueueUrl string
}

func (s *Endpoint) getQueueURL(r *http.Request, in *getQueueURLInput) (any, *sqsError) {
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
func (s *Endpoint) listQueues(r *http.Request, in *listQueuesInput) (any, *sqsError) {
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
