package sqs

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/longshore/longshore/internal/local/endpoint/endpointtest"
)

// fakeClock is a clock that moves only when told to.
type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	waiters []fakeWaiter
	added   chan struct{}
}

type fakeWaiter struct {
	at time.Time
	ch chan time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: endpointtest.Now(), added: make(chan struct{}, 1000)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	if d <= 0 {
		ch <- c.now
		return ch
	}
	c.waiters = append(c.waiters, fakeWaiter{at: c.now.Add(d), ch: ch})
	c.added <- struct{}{}
	return ch
}

// Advance moves the clock and fires the timers due.
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	kept := c.waiters[:0]
	for _, w := range c.waiters {
		if w.at.After(c.now) {
			kept = append(kept, w)
			continue
		}
		w.ch <- c.now
	}
	c.waiters = kept
}

// awaitTimer waits until someone waits on the clock (a long poll).
func (c *fakeClock) awaitTimer(t *testing.T) {
	t.Helper()
	select {
	case <-c.added:
	case <-time.After(10 * time.Second):
		t.Fatal("nothing waited on the clock")
	}
}

// replyFixture is an SQS endpoint with the reply queue "replies", on a
// fake clock, and an SDK client.
type replyFixture struct {
	sqs    *Endpoint
	srv    *httptest.Server
	client *awssqs.Client
	clock  *fakeClock
	url    string
}

func newReplyFixture(t *testing.T, dir string) *replyFixture {
	t.Helper()
	clock := newFakeClock()
	srv := httptest.NewServer(nil)
	e := New(Options{BaseURL: srv.URL, Jobs: sqsCatalog(), Launch: &endpointtest.Launcher{}, Dir: dir, Clock: clock})
	srv.Config.Handler = e
	t.Cleanup(srv.Close)
	u, err := e.ReplyQueue("replies")
	endpointtest.MustOK(t, err, "ReplyQueue")
	return &replyFixture{sqs: e, srv: srv, client: endpointtest.SQSClient(srv.URL, 1), clock: clock, url: u}
}

func (f *replyFixture) send(t *testing.T, body string) string {
	t.Helper()
	out, err := f.client.SendMessage(context.Background(), &awssqs.SendMessageInput{QueueUrl: aws.String(f.url), MessageBody: aws.String(body)})
	endpointtest.MustOK(t, err, "SendMessage")
	return aws.ToString(out.MessageId)
}

func (f *replyFixture) receive(t *testing.T, in *awssqs.ReceiveMessageInput) []types.Message {
	t.Helper()
	if in == nil {
		in = &awssqs.ReceiveMessageInput{}
	}
	in.QueueUrl = aws.String(f.url)
	out, err := f.client.ReceiveMessage(context.Background(), in)
	endpointtest.MustOK(t, err, "ReceiveMessage")
	return out.Messages
}

func bodies(ms []types.Message) []string {
	out := []string{}
	for _, m := range ms {
		out = append(out, aws.ToString(m.Body))
	}
	return out
}

func TestAReplyQueueKeepsAMessageUntilItIsDeleted(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		run  func(t *testing.T, f *replyFixture)
	}{
		{"a message is received with its id, body and a receipt handle", func(t *testing.T, f *replyFixture) {
			id := f.send(t, `{"status":"succeeded"}`)
			got := f.receive(t, nil)
			// The SDK checks MD5OfBody itself.
			if len(got) != 1 || aws.ToString(got[0].MessageId) != id || aws.ToString(got[0].Body) != `{"status":"succeeded"}` || aws.ToString(got[0].ReceiptHandle) == "" {
				t.Fatalf("received %+v, want the message %s", got, id)
			}
		}},
		{"a received message is hidden until its visibility timeout, then received again", func(t *testing.T, f *replyFixture) {
			f.send(t, "one")
			if got := bodies(f.receive(t, nil)); !slices.Equal(got, []string{"one"}) {
				t.Fatalf("first receive %v", got)
			}
			if got := bodies(f.receive(t, nil)); len(got) != 0 {
				t.Fatalf("received %v while it was in flight", got)
			}
			f.clock.Advance(29 * time.Second)
			if got := bodies(f.receive(t, nil)); len(got) != 0 {
				t.Fatalf("received %v before the 30 s default visibility timeout", got)
			}
			f.clock.Advance(time.Second)
			got := f.receive(t, &awssqs.ReceiveMessageInput{MessageSystemAttributeNames: []types.MessageSystemAttributeName{"ApproximateReceiveCount"}})
			if len(got) != 1 || got[0].Attributes["ApproximateReceiveCount"] != "2" {
				t.Fatalf("after the timeout received %+v, want it again with receive count 2", got)
			}
		}},
		{"a deleted message is not received again", func(t *testing.T, f *replyFixture) {
			f.send(t, "one")
			first := f.receive(t, &awssqs.ReceiveMessageInput{VisibilityTimeout: 5})
			_, err := f.client.DeleteMessage(ctx, &awssqs.DeleteMessageInput{QueueUrl: aws.String(f.url), ReceiptHandle: first[0].ReceiptHandle})
			endpointtest.MustOK(t, err, "DeleteMessage")
			f.clock.Advance(time.Hour)
			if got := bodies(f.receive(t, nil)); len(got) != 0 {
				t.Fatalf("received %v after the delete", got)
			}
			// Deleting it again succeeds, as on SQS.
			_, err = f.client.DeleteMessage(ctx, &awssqs.DeleteMessageInput{QueueUrl: aws.String(f.url), ReceiptHandle: first[0].ReceiptHandle})
			endpointtest.MustOK(t, err, "DeleteMessage again")
		}},
		{"the receipt handle of an earlier receive deletes nothing", func(t *testing.T, f *replyFixture) {
			f.send(t, "one")
			first := f.receive(t, &awssqs.ReceiveMessageInput{VisibilityTimeout: 1})
			f.clock.Advance(time.Second)
			f.receive(t, &awssqs.ReceiveMessageInput{VisibilityTimeout: 1}) // received again: a new handle
			_, err := f.client.DeleteMessage(ctx, &awssqs.DeleteMessageInput{QueueUrl: aws.String(f.url), ReceiptHandle: first[0].ReceiptHandle})
			endpointtest.MustOK(t, err, "DeleteMessage with the old handle")
			f.clock.Advance(time.Second)
			if got := bodies(f.receive(t, nil)); !slices.Equal(got, []string{"one"}) {
				t.Fatalf("received %v: the old handle deleted the message", got)
			}
		}},
		{"MaxNumberOfMessages bounds a receive, oldest first", func(t *testing.T, f *replyFixture) {
			for _, b := range []string{"a", "b", "c"} {
				f.send(t, b)
			}
			if got := bodies(f.receive(t, &awssqs.ReceiveMessageInput{MaxNumberOfMessages: 2})); !slices.Equal(got, []string{"a", "b"}) {
				t.Fatalf("received %v, want a and b", got)
			}
			if got := bodies(f.receive(t, &awssqs.ReceiveMessageInput{MaxNumberOfMessages: 10})); !slices.Equal(got, []string{"c"}) {
				t.Fatalf("received %v, want c", got)
			}
		}},
		{"ChangeMessageVisibility to 0 makes a message visible at once, and a longer one hides it longer", func(t *testing.T, f *replyFixture) {
			f.send(t, "one")
			got := f.receive(t, nil)
			_, err := f.client.ChangeMessageVisibility(ctx, &awssqs.ChangeMessageVisibilityInput{QueueUrl: aws.String(f.url), ReceiptHandle: got[0].ReceiptHandle, VisibilityTimeout: 0})
			endpointtest.MustOK(t, err, "ChangeMessageVisibility 0")
			again := f.receive(t, nil)
			if len(again) != 1 {
				t.Fatalf("received %v after a visibility of 0", again)
			}
			_, err = f.client.ChangeMessageVisibility(ctx, &awssqs.ChangeMessageVisibilityInput{QueueUrl: aws.String(f.url), ReceiptHandle: again[0].ReceiptHandle, VisibilityTimeout: 120})
			endpointtest.MustOK(t, err, "ChangeMessageVisibility 120")
			f.clock.Advance(119 * time.Second)
			if got := bodies(f.receive(t, nil)); len(got) != 0 {
				t.Fatalf("received %v before the 120 s", got)
			}
			f.clock.Advance(time.Second)
			if got := bodies(f.receive(t, nil)); len(got) != 1 {
				t.Fatalf("received %v after the 120 s", got)
			}
		}},
		{"ChangeMessageVisibility of a message no longer in flight is MessageNotInflight", func(t *testing.T, f *replyFixture) {
			f.send(t, "one")
			got := f.receive(t, &awssqs.ReceiveMessageInput{VisibilityTimeout: 1})
			f.clock.Advance(time.Second)
			_, err := f.client.ChangeMessageVisibility(ctx, &awssqs.ChangeMessageVisibilityInput{QueueUrl: aws.String(f.url), ReceiptHandle: got[0].ReceiptHandle, VisibilityTimeout: 10})
			var nif *types.MessageNotInflight
			if !errors.As(err, &nif) || endpointtest.APICode(err) != "AWS.SimpleQueueService.MessageNotInflight" {
				t.Fatalf("ChangeMessageVisibility = %v (code %q), want MessageNotInflight", err, endpointtest.APICode(err))
			}
		}},
		{"a receipt handle that is none is ReceiptHandleIsInvalid", func(t *testing.T, f *replyFixture) {
			_, err := f.client.DeleteMessage(ctx, &awssqs.DeleteMessageInput{QueueUrl: aws.String(f.url), ReceiptHandle: aws.String("not-a-handle")})
			var rhi *types.ReceiptHandleIsInvalid
			if !errors.As(err, &rhi) || endpointtest.HTTPStatus(err) != http.StatusNotFound {
				t.Fatalf("DeleteMessage = %v, want ReceiptHandleIsInvalid (404)", err)
			}
		}},
		{"a message sent with a delay is received once it is over", func(t *testing.T, f *replyFixture) {
			_, err := f.client.SendMessage(ctx, &awssqs.SendMessageInput{QueueUrl: aws.String(f.url), MessageBody: aws.String("later"), DelaySeconds: 10})
			endpointtest.MustOK(t, err, "SendMessage with a delay")
			if got := bodies(f.receive(t, nil)); len(got) != 0 {
				t.Fatalf("received %v during the delay", got)
			}
			f.clock.Advance(10 * time.Second)
			if got := bodies(f.receive(t, nil)); !slices.Equal(got, []string{"later"}) {
				t.Fatalf("received %v after the delay", got)
			}
		}},
		{"the attributes asked for come back, with their digest", func(t *testing.T, f *replyFixture) {
			_, err := f.client.SendMessage(ctx, &awssqs.SendMessageInput{QueueUrl: aws.String(f.url), MessageBody: aws.String("x"),
				MessageAttributes: map[string]types.MessageAttributeValue{
					"test_attribute_name_1": {DataType: aws.String("String"), StringValue: aws.String("test_attribute_value_1")},
					"test_attribute_name_2": {DataType: aws.String("String"), StringValue: aws.String("test_attribute_value_2")},
					"other":                 {DataType: aws.String("Binary"), BinaryValue: []byte{0, 1}},
				}})
			endpointtest.MustOK(t, err, "SendMessage")
			got := f.receive(t, &awssqs.ReceiveMessageInput{MessageAttributeNames: []string{"test_attribute_name_1", "test_attribute_name_2"},
				MessageSystemAttributeNames: []types.MessageSystemAttributeName{"All"}})
			m := got[0]
			if len(m.MessageAttributes) != 2 || aws.ToString(m.MD5OfMessageAttributes) != "d53f3b558fe951154770f25cb63dbba9" {
				t.Errorf("attributes %v with digest %s, want the two asked for with AWS's digest of them", m.MessageAttributes, aws.ToString(m.MD5OfMessageAttributes))
			}
			for _, a := range []string{"SentTimestamp", "ApproximateReceiveCount", "ApproximateFirstReceiveTimestamp", "SenderId"} {
				if m.Attributes[a] == "" {
					t.Errorf("attribute %s missing from %v", a, m.Attributes)
				}
			}
			if want := "1773480413000"; m.Attributes["SentTimestamp"] != want {
				t.Errorf("SentTimestamp %s, want the clock's %s", m.Attributes["SentTimestamp"], want)
			}
		}},
		{"the batches report each entry", func(t *testing.T, f *replyFixture) {
			f.send(t, "a")
			f.send(t, "b")
			got := f.receive(t, &awssqs.ReceiveMessageInput{MaxNumberOfMessages: 10})
			ch, err := f.client.ChangeMessageVisibilityBatch(ctx, &awssqs.ChangeMessageVisibilityBatchInput{QueueUrl: aws.String(f.url), Entries: []types.ChangeMessageVisibilityBatchRequestEntry{
				{Id: aws.String("a"), ReceiptHandle: got[0].ReceiptHandle, VisibilityTimeout: 0},
				{Id: aws.String("bad"), ReceiptHandle: aws.String("x"), VisibilityTimeout: 0},
			}})
			endpointtest.MustOK(t, err, "ChangeMessageVisibilityBatch")
			if len(ch.Successful) != 1 || len(ch.Failed) != 1 || aws.ToString(ch.Failed[0].Code) != "ReceiptHandleIsInvalid" || !ch.Failed[0].SenderFault {
				t.Errorf("ChangeMessageVisibilityBatch = %+v", ch)
			}
			del, err := f.client.DeleteMessageBatch(ctx, &awssqs.DeleteMessageBatchInput{QueueUrl: aws.String(f.url), Entries: []types.DeleteMessageBatchRequestEntry{
				{Id: aws.String("b"), ReceiptHandle: got[1].ReceiptHandle},
				{Id: aws.String("bad"), ReceiptHandle: aws.String("x")},
			}})
			endpointtest.MustOK(t, err, "DeleteMessageBatch")
			if len(del.Successful) != 1 || aws.ToString(del.Successful[0].Id) != "b" || len(del.Failed) != 1 {
				t.Errorf("DeleteMessageBatch = %+v", del)
			}
			if got := bodies(f.receive(t, &awssqs.ReceiveMessageInput{MaxNumberOfMessages: 10})); !slices.Equal(got, []string{"a"}) {
				t.Errorf("received %v, want a (visible again) and not b (deleted)", got)
			}
			_, err = f.client.DeleteMessageBatch(ctx, &awssqs.DeleteMessageBatchInput{QueueUrl: aws.String(f.url), Entries: []types.DeleteMessageBatchRequestEntry{}})
			var empty *types.EmptyBatchRequest
			if !errors.As(err, &empty) {
				t.Errorf("an empty DeleteMessageBatch = %v, want EmptyBatchRequest", err)
			}
		}},
		{"out-of-range parameters are refused as SQS refuses them", func(t *testing.T, f *replyFixture) {
			for _, in := range []*awssqs.ReceiveMessageInput{{MaxNumberOfMessages: 11}, {VisibilityTimeout: 43201}, {WaitTimeSeconds: 21}} {
				in.QueueUrl = aws.String(f.url)
				if _, err := f.client.ReceiveMessage(ctx, in); endpointtest.APICode(err) != "InvalidParameterValue" {
					t.Errorf("ReceiveMessage %+v = %v, want InvalidParameterValue", in, err)
				}
			}
		}},
		{"a trigger queue keeps no message to receive", func(t *testing.T, f *replyFixture) {
			_, err := f.client.ReceiveMessage(ctx, &awssqs.ReceiveMessageInput{QueueUrl: aws.String(f.srv.URL + "/" + AccountID + "/orders")})
			if endpointtest.APICode(err) != "AWS.SimpleQueueService.UnsupportedOperation" || !strings.Contains(err.Error(), "trigger queue of job order-handler") {
				t.Errorf("ReceiveMessage of orders = %v, want UnsupportedOperation saying why", err)
			}
		}},
		{"GetQueueUrl and ListQueues name the reply queue too", func(t *testing.T, f *replyFixture) {
			got, err := f.client.GetQueueUrl(ctx, &awssqs.GetQueueUrlInput{QueueName: aws.String("replies")})
			endpointtest.MustOK(t, err, "GetQueueUrl")
			if aws.ToString(got.QueueUrl) != f.url {
				t.Errorf("GetQueueUrl = %s, want %s", aws.ToString(got.QueueUrl), f.url)
			}
			list, err := f.client.ListQueues(ctx, &awssqs.ListQueuesInput{})
			endpointtest.MustOK(t, err, "ListQueues")
			if !slices.Contains(list.QueueUrls, f.url) || len(list.QueueUrls) != 3 {
				t.Errorf("ListQueues = %v", list.QueueUrls)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.run(t, newReplyFixture(t, t.TempDir()))
		})
	}
}

func TestALongPollWaitsForAMessageNoLongerThanAsked(t *testing.T) {
	tests := []struct {
		name string
		// during acts while the poll waits; the poll is then expected to
		// answer want.
		during func(t *testing.T, f *replyFixture, cancel context.CancelFunc)
		want   []string
	}{
		{"a message sent during the poll is answered at once", func(t *testing.T, f *replyFixture, _ context.CancelFunc) {
			f.send(t, "arrived")
		}, []string{"arrived"}},
		{"a poll with nothing to receive ends when its wait is over", func(t *testing.T, f *replyFixture, _ context.CancelFunc) {
			f.clock.Advance(20 * time.Second)
		}, []string{}},
		{"a message whose visibility timeout ends during the poll is answered then", func(t *testing.T, f *replyFixture, _ context.CancelFunc) {
			f.clock.Advance(5 * time.Second)
		}, []string{"hidden"}},
		{"a poll ends when its client goes away", func(t *testing.T, f *replyFixture, cancel context.CancelFunc) {
			cancel()
		}, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newReplyFixture(t, "")
			if strings.Contains(tt.name, "visibility") {
				f.send(t, "hidden")
				f.receive(t, &awssqs.ReceiveMessageInput{VisibilityTimeout: 5})
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := make(chan *httptest.ResponseRecorder)
			go func() {
				rec := httptest.NewRecorder()
				req := httptest.NewRequestWithContext(ctx, http.MethodPost, f.srv.URL+"/", strings.NewReader(`{"QueueUrl":"`+f.url+`","WaitTimeSeconds":20,"MaxNumberOfMessages":10}`))
				req.Header.Set("Content-Type", jsonContentType)
				req.Header.Set("X-Amz-Target", "AmazonSQS.ReceiveMessage")
				f.sqs.ServeHTTP(rec, req)
				done <- rec
			}()
			f.clock.awaitTimer(t)
			tt.during(t, f, cancel)
			var rec *httptest.ResponseRecorder
			select {
			case rec = <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("the long poll did not answer")
			}
			if rec.Code != http.StatusOK {
				t.Fatalf("ReceiveMessage: %d %s", rec.Code, rec.Body)
			}
			got := []string{}
			for _, b := range strings.Split(rec.Body.String(), `"Body":"`)[1:] {
				got = append(got, b[:strings.IndexByte(b, '"')])
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("the poll answered %v (%s), want %v", got, rec.Body, tt.want)
			}
		})
	}
}

func TestReplyQueuesAndTheirMessagesSurviveARestart(t *testing.T) {
	dir := t.TempDir()
	f := newReplyFixture(t, dir)
	f.send(t, "kept")
	f.send(t, "deleted")
	// Both are in flight when the engine stops: "kept" comes back at once.
	got := f.receive(t, &awssqs.ReceiveMessageInput{MaxNumberOfMessages: 10, VisibilityTimeout: 600})
	for _, m := range got {
		if aws.ToString(m.Body) == "deleted" {
			_, err := f.client.DeleteMessage(context.Background(), &awssqs.DeleteMessageInput{QueueUrl: aws.String(f.url), ReceiptHandle: m.ReceiptHandle})
			endpointtest.MustOK(t, err, "DeleteMessage")
		}
	}
	endpointtest.MustOK(t, f.sqs.Reply("other-replies", "from a run", map[string]string{"longshore-run": "r-1"}), "Reply")

	again := newReplyFixture(t, dir)
	if got := bodies(again.receive(t, &awssqs.ReceiveMessageInput{MaxNumberOfMessages: 10})); !slices.Equal(got, []string{"kept"}) {
		t.Errorf("after a restart received %v, want only kept", got)
	}
	out, err := again.client.ReceiveMessage(context.Background(), &awssqs.ReceiveMessageInput{
		QueueUrl: aws.String(again.srv.URL + "/" + AccountID + "/other-replies"), MessageAttributeNames: []string{"All"}})
	endpointtest.MustOK(t, err, "ReceiveMessage of other-replies")
	if len(out.Messages) != 1 || aws.ToString(out.Messages[0].MessageAttributes["longshore-run"].StringValue) != "r-1" {
		t.Errorf("other-replies after a restart: %+v", out.Messages)
	}
}

func TestAReplyQueueIsNamedByAQueueURLOrName(t *testing.T) {
	tests := []struct {
		name, target string
		want         string // the queue's name; "" when refused
		wantErr      string
	}{
		{name: "a local queue URL", target: "http://127.0.0.1:8752/000000000000/replies", want: "replies"},
		{name: "an AWS queue URL names the local queue of its name", target: "https://sqs.us-east-1.amazonaws.com/111122223333/replies", want: "replies"},
		{name: "a bare queue name", target: "job-results_2", want: "job-results_2"},
		{name: "a FIFO queue", target: "https://sqs.us-east-1.amazonaws.com/111122223333/replies.fifo", wantErr: "FIFO"},
		{name: "a job's trigger queue, where a reply would start a run", target: "orders", wantErr: "trigger queue of job order-handler"},
		{name: "a URL that names no queue", target: "https://example.com/replies", wantErr: "queue URL ends in"},
		{name: "a name SQS would refuse", target: "my replies", wantErr: "not a queue name"},
		{name: "nothing", target: "", wantErr: "not a queue name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := New(Options{BaseURL: "http://127.0.0.1:8752", Jobs: sqsCatalog(), Launch: &endpointtest.Launcher{}})
			got, err := e.ReplyQueue(tt.target)
			if tt.wantErr != "" {
				if !errors.Is(err, ErrNoReplyQueue) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ReplyQueue(%q) = %q, %v; want ErrNoReplyQueue saying %s", tt.target, got, err, tt.wantErr)
				}
				if err := e.Reply(tt.target, "x", nil); !errors.Is(err, ErrNoReplyQueue) {
					t.Errorf("Reply(%q) = %v, want ErrNoReplyQueue", tt.target, err)
				}
				return
			}
			endpointtest.MustOK(t, err, "ReplyQueue")
			if want := "http://127.0.0.1:8752/000000000000/" + tt.want; got != want {
				t.Errorf("ReplyQueue(%q) = %s, want %s", tt.target, got, want)
			}
		})
	}
}

func TestMessageAttributeNamesChooseTheAttributesAsSQSDoes(t *testing.T) {
	tests := []struct {
		name  string
		asked []string
		attr  string
		want  bool
	}{
		{"none asked, none answered", nil, "a", false},
		{"All answers every one", []string{"All"}, "a", true},
		{".* answers every one", []string{".*"}, "a", true},
		{"a name answers itself", []string{"b", "a"}, "a", true},
		{"a name answers no other", []string{"ab"}, "a", false},
		{"a prefix answers the names under it", []string{"app.*"}, "app.tenant", true},
		{"a prefix answers no name that only starts alike", []string{"app.*"}, "apple", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := wantAttribute(tt.asked, tt.attr); got != tt.want {
				t.Errorf("wantAttribute(%q, %q) = %v, want %v", tt.asked, tt.attr, got, tt.want)
			}
		})
	}
}

func TestAReplySQSWouldRefuseIsRefusedForGood(t *testing.T) {
	e := New(Options{Jobs: sqsCatalog(), Launch: &endpointtest.Launcher{}})
	tests := []struct {
		name string
		body string
		want error
	}{
		{"a reply of at most 256 KiB is taken", strings.Repeat("x", 200<<10), nil},
		{"a reply of more is refused", strings.Repeat("x", maxMessageSize+1), ErrReplyRefused},
		{"an empty reply is refused", "", ErrReplyRefused},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := e.Reply("replies", tt.body, map[string]string{"longshore-run": "r-1"}); !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Errorf("Reply = %v, want %v", err, tt.want)
			}
		})
	}
}
