package sqs

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/longshore/longshore/internal/dispatch"
	"github.com/longshore/longshore/internal/job"
	"github.com/longshore/longshore/internal/local/endpoint/endpointtest"
	"github.com/longshore/longshore/internal/run"
)

var _ http.Handler = (*Endpoint)(nil)

// sqsFixture is a local SQS endpoint served over HTTP, with an SDK client.
// Its catalog has the queues "orders" (job order-handler), "resize" (job
// resize, whose trigger names no queue) and none for job nightly.
type sqsFixture struct {
	srv    *httptest.Server
	client *awssqs.Client
	launch *endpointtest.Launcher
}

func sqsCatalog() endpointtest.Catalog {
	return endpointtest.Catalog{
		endpointtest.SQSJob("order-handler", "orders"),
		{Name: "resize", Triggers: []job.Trigger{{SQS: &job.SQSTrigger{}}}},
		{Name: "nightly", Triggers: []job.Trigger{{Schedule: "cron(0 3 * * ? *)"}}},
	}
}

func newSQSFixture(t *testing.T, launch *endpointtest.Launcher, attempts int) *sqsFixture {
	t.Helper()
	srv := httptest.NewServer(nil)
	srv.Config.Handler = New(Options{BaseURL: srv.URL, Jobs: sqsCatalog(), Launch: launch})
	t.Cleanup(srv.Close)
	return &sqsFixture{srv: srv, client: endpointtest.SQSClient(srv.URL, attempts), launch: launch}
}

func (f *sqsFixture) queueURL(name string) string { return f.srv.URL + "/" + AccountID + "/" + name }

var uuidRe = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func md5Hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

func TestGetQueueUrlNamesTheQueuesOfTheCatalog(t *testing.T) {
	f := newSQSFixture(t, &endpointtest.Launcher{}, 1)
	tests := []struct {
		name    string
		queue   string
		wantURL string // "" for QueueDoesNotExist
	}{
		{name: "a queue named by a job's trigger", queue: "orders", wantURL: f.queueURL("orders")},
		{name: "a trigger without a queue name reads the job's name", queue: "resize", wantURL: f.queueURL("resize")},
		{name: "a job without an sqs trigger has no queue", queue: "nightly"},
		{name: "an unknown name does not exist", queue: "nope"},
		{name: "a FIFO name does not exist", queue: "orders.fifo"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := f.client.GetQueueUrl(context.Background(), &awssqs.GetQueueUrlInput{QueueName: aws.String(tt.queue)})
			if tt.wantURL == "" {
				var qdne *types.QueueDoesNotExist
				if !errors.As(err, &qdne) || endpointtest.APICode(err) != "AWS.SimpleQueueService.NonExistentQueue" || endpointtest.HTTPStatus(err) != http.StatusBadRequest {
					t.Fatalf("GetQueueUrl: %v (code %q), want QueueDoesNotExist with its query code", err, endpointtest.APICode(err))
				}
				return
			}
			endpointtest.MustOK(t, err, "GetQueueUrl")
			if got := aws.ToString(out.QueueUrl); got != tt.wantURL {
				t.Errorf("QueueUrl %q, want %q", got, tt.wantURL)
			}
		})
	}
}

func TestListQueuesListsEveryQueueByName(t *testing.T) {
	f := newSQSFixture(t, &endpointtest.Launcher{}, 1)
	ctx := context.Background()
	out, err := f.client.ListQueues(ctx, &awssqs.ListQueuesInput{})
	endpointtest.MustOK(t, err, "ListQueues")
	if want := []string{f.queueURL("orders"), f.queueURL("resize")}; !slices.Equal(out.QueueUrls, want) {
		t.Errorf("ListQueues %q, want %q", out.QueueUrls, want)
	}
	out, err = f.client.ListQueues(ctx, &awssqs.ListQueuesInput{QueueNamePrefix: aws.String("re")})
	endpointtest.MustOK(t, err, "ListQueues with a prefix")
	if want := []string{f.queueURL("resize")}; !slices.Equal(out.QueueUrls, want) {
		t.Errorf("ListQueues re* %q, want %q", out.QueueUrls, want)
	}
	var paged []string
	p := awssqs.NewListQueuesPaginator(f.client, &awssqs.ListQueuesInput{MaxResults: aws.Int32(1)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		endpointtest.MustOK(t, err, "ListQueues page")
		paged = append(paged, page.QueueUrls...)
	}
	if want := []string{f.queueURL("orders"), f.queueURL("resize")}; !slices.Equal(paged, want) {
		t.Errorf("paged ListQueues %q, want %q", paged, want)
	}
}

func TestSendMessageStartsOneRunOfTheQueuesJob(t *testing.T) {
	f := newSQSFixture(t, &endpointtest.Launcher{}, 1)
	body := `{"order": 42, "note": "café <&> ✓"}`
	attrs := map[string]types.MessageAttributeValue{
		"test_attribute_name_1": {DataType: aws.String("String"), StringValue: aws.String("test_attribute_value_1")},
		"test_attribute_name_2": {DataType: aws.String("String"), StringValue: aws.String("test_attribute_value_2")},
	}
	// The SDK checks MD5OfMessageBody itself and fails the call on a mismatch.
	out, err := f.client.SendMessage(context.Background(), &awssqs.SendMessageInput{
		QueueUrl: aws.String(f.queueURL("orders")), MessageBody: aws.String(body), MessageAttributes: attrs,
	})
	endpointtest.MustOK(t, err, "SendMessage")
	id := aws.ToString(out.MessageId)
	if !uuidRe.MatchString(id) {
		t.Errorf("MessageId %q is not UUID-shaped", id)
	}
	if got := aws.ToString(out.MD5OfMessageBody); got != md5Hex(body) {
		t.Errorf("MD5OfMessageBody %s, want %s", got, md5Hex(body))
	}
	// The digest AWS documents for these two attributes.
	if got := aws.ToString(out.MD5OfMessageAttributes); got != "d53f3b558fe951154770f25cb63dbba9" {
		t.Errorf("MD5OfMessageAttributes %s, want AWS's d53f3b558fe951154770f25cb63dbba9", got)
	}
	if out.SequenceNumber != nil || out.MD5OfMessageSystemAttributes != nil {
		t.Errorf("SequenceNumber %v, MD5OfMessageSystemAttributes %v: want neither on a standard queue", out.SequenceNumber, out.MD5OfMessageSystemAttributes)
	}
	want := dispatch.Request{Job: "order-handler", Trigger: run.Trigger{Kind: run.TriggerSQS, Queue: "orders", MessageID: id, Body: body}}
	if got := f.launch.Requests(); len(got) != 1 || !equalRequest(got[0], want) {
		t.Fatalf("launches %+v, want exactly %+v", got, want)
	}
}

func equalRequest(a, b dispatch.Request) bool {
	return a.Job == b.Job && a.Trigger == b.Trigger && a.Key == "" && a.Env == nil && a.Command == nil && a.Callback == nil
}

func TestSendMessageRefusesWhatSQSRefuses(t *testing.T) {
	huge := strings.Repeat("x", maxMessageSize+1)
	tests := []struct {
		name     string
		queue    string
		body     string
		edit     func(*awssqs.SendMessageInput)
		wantCode string // "" for success
	}{
		{name: "a body of exactly 256 KiB is taken", queue: "orders", body: huge[1:]},
		{name: "a message on an unknown queue", queue: "missing", body: "x", wantCode: "AWS.SimpleQueueService.NonExistentQueue"},
		{name: "a body over 256 KiB", queue: "orders", body: huge, wantCode: "InvalidParameterValue"},
		{
			name: "attributes count towards the 256 KiB", queue: "orders", body: huge[100:], wantCode: "InvalidParameterValue",
			edit: func(in *awssqs.SendMessageInput) {
				in.MessageAttributes = map[string]types.MessageAttributeValue{
					"pad": {DataType: aws.String("String"), StringValue: aws.String(strings.Repeat("p", 200))},
				}
			},
		},
		{name: "a body with a NUL character", queue: "orders", body: "a\x00b", wantCode: "InvalidMessageContents"},
		{
			name: "a delay, which the local endpoint cannot honour", queue: "orders", body: "x", wantCode: "InvalidParameterValue",
			edit: func(in *awssqs.SendMessageInput) { in.DelaySeconds = 5 },
		},
		{
			name: "a deduplication id, which only FIFO queues take", queue: "orders", body: "x", wantCode: "InvalidParameterValue",
			edit: func(in *awssqs.SendMessageInput) { in.MessageDeduplicationId = aws.String("d1") },
		},
		{
			name: "a Number attribute that is not a number", queue: "orders", body: "x", wantCode: "InvalidParameterValue",
			edit: func(in *awssqs.SendMessageInput) {
				in.MessageAttributes = map[string]types.MessageAttributeValue{"n": {DataType: aws.String("Number"), StringValue: aws.String("12a")}}
			},
		},
		{
			name: "an attribute name starting with AWS.", queue: "orders", body: "x", wantCode: "InvalidParameterValue",
			edit: func(in *awssqs.SendMessageInput) {
				in.MessageAttributes = map[string]types.MessageAttributeValue{"AWS.mine": {DataType: aws.String("String"), StringValue: aws.String("v")}}
			},
		},
		{
			name: "an unknown attribute type", queue: "orders", body: "x", wantCode: "InvalidParameterValue",
			edit: func(in *awssqs.SendMessageInput) {
				in.MessageAttributes = map[string]types.MessageAttributeValue{"t": {DataType: aws.String("Integer"), StringValue: aws.String("1")}}
			},
		},
		{
			name: "eleven attributes", queue: "orders", body: "x", wantCode: "InvalidParameterValue",
			edit: func(in *awssqs.SendMessageInput) {
				in.MessageAttributes = map[string]types.MessageAttributeValue{}
				for i := range 11 {
					in.MessageAttributes[fmt.Sprintf("a%d", i)] = types.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String("v")}
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newSQSFixture(t, &endpointtest.Launcher{}, 1)
			in := &awssqs.SendMessageInput{QueueUrl: aws.String(f.queueURL(tt.queue)), MessageBody: aws.String(tt.body)}
			if tt.edit != nil {
				tt.edit(in)
			}
			_, err := f.client.SendMessage(context.Background(), in)
			if tt.wantCode == "" {
				endpointtest.MustOK(t, err, "SendMessage")
				if n := len(f.launch.Requests()); n != 1 {
					t.Errorf("%d launches, want 1", n)
				}
				return
			}
			if endpointtest.APICode(err) != tt.wantCode || endpointtest.HTTPStatus(err) != http.StatusBadRequest {
				t.Fatalf("SendMessage: %v (code %q, status %d), want %s with status 400", err, endpointtest.APICode(err), endpointtest.HTTPStatus(err), tt.wantCode)
			}
			if n := len(f.launch.Requests()); n != 0 {
				t.Errorf("%d launches for a refused message", n)
			}
		})
	}
}

func TestAMessageIsAcknowledgedOnlyOnceItsRunIsStored(t *testing.T) {
	tests := []struct {
		name     string
		fail     func(int, dispatch.Request) error
		attempts int
		wantCode string
		wantRuns int
	}{
		{
			name: "a launch failing every time is a retryable 500 InternalError the SDK reports",
			fail: endpointtest.FailAlways, attempts: 3, wantCode: "InternalError", wantRuns: 3,
		},
		{
			name: "a launch failing once is taken on the SDK's retry",
			fail: endpointtest.FailFirst, attempts: 3, wantRuns: 2,
		},
		{
			name: "a run stored whose start is throttled is taken: it starts when capacity allows",
			fail: func(int, dispatch.Request) error {
				return &dispatch.StartError{Transient: true, Reason: "ThrottlingException: Rate exceeded"}
			},
			attempts: 3, wantRuns: 1,
		},
		{
			name: "a request error is logged and the message taken",
			fail: func(int, dispatch.Request) error {
				return &dispatch.RequestError{Msg: "environment override X is not allowed"}
			},
			attempts: 3, wantRuns: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newSQSFixture(t, &endpointtest.Launcher{Fail: tt.fail}, tt.attempts)
			_, err := f.client.SendMessage(context.Background(), &awssqs.SendMessageInput{
				QueueUrl: aws.String(f.queueURL("resize")), MessageBody: aws.String("img-1.png"),
			})
			if tt.wantCode == "" {
				endpointtest.MustOK(t, err, "SendMessage")
			} else if endpointtest.APICode(err) != tt.wantCode || endpointtest.HTTPStatus(err) != http.StatusInternalServerError {
				t.Fatalf("SendMessage: %v (code %q, status %d), want %s with status 500", err, endpointtest.APICode(err), endpointtest.HTTPStatus(err), tt.wantCode)
			}
			if n := len(f.launch.Requests()); n != tt.wantRuns {
				t.Errorf("%d launches, want %d", n, tt.wantRuns)
			}
		})
	}
}

func TestSendMessageBatchReportsEachEntry(t *testing.T) {
	entry := func(id, body string) types.SendMessageBatchRequestEntry {
		return types.SendMessageBatchRequestEntry{Id: aws.String(id), MessageBody: aws.String(body)}
	}
	tests := []struct {
		name      string
		entries   []types.SendMessageBatchRequestEntry
		fail      func(int, dispatch.Request) error
		wantOK    []string
		wantFails map[string]bool // entry id -> SenderFault
		wantRuns  []string        // bodies launched, in order
	}{
		{
			name:    "three messages start three runs, in order",
			entries: []types.SendMessageBatchRequestEntry{entry("a", "one"), entry("b", "two"), entry("c", "three")},
			wantOK:  []string{"a", "b", "c"}, wantRuns: []string{"one", "two", "three"},
		},
		{
			name:    "one failing launch fails exactly that entry, as the service's fault",
			entries: []types.SendMessageBatchRequestEntry{entry("a", "one"), entry("b", "two"), entry("c", "three")},
			fail: func(_ int, r dispatch.Request) error {
				if r.Trigger.Body == "two" {
					return errors.New("run store unavailable")
				}
				return nil
			},
			wantOK: []string{"a", "c"}, wantFails: map[string]bool{"b": false}, wantRuns: []string{"one", "two", "three"},
		},
		{
			name: "an entry SQS would refuse fails as the sender's fault, the others are taken",
			entries: []types.SendMessageBatchRequestEntry{
				entry("ok", "fine"),
				{Id: aws.String("late"), MessageBody: aws.String("x"), DelaySeconds: 10},
				entry("nul", "bad\x00"),
			},
			wantOK: []string{"ok"}, wantFails: map[string]bool{"late": true, "nul": true}, wantRuns: []string{"fine"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newSQSFixture(t, &endpointtest.Launcher{Fail: tt.fail}, 1)
			// The SDK checks the MD5 of every successful entry.
			out, err := f.client.SendMessageBatch(context.Background(), &awssqs.SendMessageBatchInput{
				QueueUrl: aws.String(f.queueURL("orders")), Entries: tt.entries,
			})
			endpointtest.MustOK(t, err, "SendMessageBatch")
			var okIDs []string
			msgIDs := map[string]string{}
			for _, e := range out.Successful {
				okIDs = append(okIDs, aws.ToString(e.Id))
				msgIDs[aws.ToString(e.MessageId)] = aws.ToString(e.Id)
			}
			if !slices.Equal(okIDs, tt.wantOK) {
				t.Errorf("Successful %q, want %q", okIDs, tt.wantOK)
			}
			if len(out.Failed) != len(tt.wantFails) {
				t.Errorf("Failed %+v, want %v", out.Failed, tt.wantFails)
			}
			for _, e := range out.Failed {
				sender, want := tt.wantFails[aws.ToString(e.Id)]
				if !want || e.SenderFault != sender || aws.ToString(e.Code) == "" || aws.ToString(e.Message) == "" {
					t.Errorf("failed entry %s (sender fault %v, code %q, %q): want %v", aws.ToString(e.Id), e.SenderFault, aws.ToString(e.Code), aws.ToString(e.Message), tt.wantFails)
				}
				if !sender && aws.ToString(e.Code) != "InternalError" {
					t.Errorf("entry %s failed with %q, want InternalError", aws.ToString(e.Id), aws.ToString(e.Code))
				}
			}
			var bodies []string
			for _, r := range f.launch.Requests() {
				bodies = append(bodies, r.Trigger.Body)
				if r.Job != "order-handler" || r.Trigger.Kind != run.TriggerSQS || r.Trigger.Queue != "orders" {
					t.Errorf("launched %+v, want order-handler from orders", r)
				}
				if id, taken := msgIDs[r.Trigger.MessageID]; !taken && tt.fail == nil {
					t.Errorf("run started with message id %q that no entry %s was given", r.Trigger.MessageID, id)
				}
			}
			if !slices.Equal(bodies, tt.wantRuns) {
				t.Errorf("runs of %q, want %q", bodies, tt.wantRuns)
			}
		})
	}
}

func TestSendMessageBatchRefusesABadBatchWhole(t *testing.T) {
	entries := func(ids ...string) []types.SendMessageBatchRequestEntry {
		var out []types.SendMessageBatchRequestEntry
		for _, id := range ids {
			out = append(out, types.SendMessageBatchRequestEntry{Id: aws.String(id), MessageBody: aws.String("m-" + id)})
		}
		return out
	}
	big := strings.Repeat("b", 100<<10)
	tests := []struct {
		name     string
		entries  []types.SendMessageBatchRequestEntry
		wantCode string
		wantErr  any
	}{
		{
			name: "eleven entries", entries: entries("1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11"),
			wantCode: "AWS.SimpleQueueService.TooManyEntriesInBatchRequest", wantErr: new(*types.TooManyEntriesInBatchRequest),
		},
		{
			name: "two entries with one id", entries: entries("x", "y", "x"),
			wantCode: "AWS.SimpleQueueService.BatchEntryIdsNotDistinct", wantErr: new(*types.BatchEntryIdsNotDistinct),
		},
		{
			name: "an id with a space", entries: entries("no spaces"),
			wantCode: "AWS.SimpleQueueService.InvalidBatchEntryId", wantErr: new(*types.InvalidBatchEntryId),
		},
		{
			name: "messages of more than 256 KiB together",
			entries: []types.SendMessageBatchRequestEntry{
				{Id: aws.String("a"), MessageBody: aws.String(big)}, {Id: aws.String("b"), MessageBody: aws.String(big)},
				{Id: aws.String("c"), MessageBody: aws.String(big)},
			},
			wantCode: "AWS.SimpleQueueService.BatchRequestTooLong", wantErr: new(*types.BatchRequestTooLong),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newSQSFixture(t, &endpointtest.Launcher{}, 1)
			_, err := f.client.SendMessageBatch(context.Background(), &awssqs.SendMessageBatchInput{
				QueueUrl: aws.String(f.queueURL("orders")), Entries: tt.entries,
			})
			if endpointtest.APICode(err) != tt.wantCode || !errors.As(err, tt.wantErr) {
				t.Fatalf("SendMessageBatch: %v (code %q), want %s", err, endpointtest.APICode(err), tt.wantCode)
			}
			if n := len(f.launch.Requests()); n != 0 {
				t.Errorf("%d launches for a refused batch", n)
			}
		})
	}
}

// rawSQS posts a request as the SDK would, with the given parts replaced.
func rawSQS(t *testing.T, h http.Handler, method, contentType, target, body string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, "http://127.0.0.1:8752/", strings.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if target != "" {
		req.Header.Set("X-Amz-Target", target)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestMalformedSQSRequestsGetAClearErrorInSQSShape(t *testing.T) {
	const ct = "application/x-amz-json-1.0"
	queue := "http://127.0.0.1:8752/000000000000/orders"
	tests := []struct {
		name        string
		method      string
		contentType string
		target      string
		body        string
		wantStatus  int
		wantType    string
		wantQuery   string
	}{
		{
			name: "a GET", method: http.MethodGet, contentType: ct, target: "AmazonSQS.SendMessage",
			wantStatus: 405, wantType: "com.amazon.coral.service#UnknownOperationException", wantQuery: "InvalidAction;Sender",
		},
		{
			name: "a Content-Type of neither protocol", method: http.MethodPost, contentType: "text/plain",
			body: "Action=SendMessage&MessageBody=x", wantStatus: 415, wantType: "com.amazon.coral.service#UnknownOperationException", wantQuery: "InvalidAction;Sender",
		},
		{
			name: "no X-Amz-Target", method: http.MethodPost, contentType: ct, body: "{}",
			wantStatus: 400, wantType: "com.amazon.coral.service#UnknownOperationException", wantQuery: "InvalidAction;Sender",
		},
		{
			name: "a target of another service", method: http.MethodPost, contentType: ct, target: "DynamoDB_20120810.PutItem", body: "{}",
			wantStatus: 400, wantType: "com.amazon.coral.service#UnknownOperationException", wantQuery: "InvalidAction;Sender",
		},
		{
			name: "ReceiveMessage on a trigger queue, which keeps no message", method: http.MethodPost, contentType: ct, target: "AmazonSQS.ReceiveMessage",
			body: `{"QueueUrl":"` + queue + `"}`, wantStatus: 400, wantType: "com.amazonaws.sqs#UnsupportedOperation",
			wantQuery: "AWS.SimpleQueueService.UnsupportedOperation;Sender",
		},
		{
			name: "a body that is not JSON", method: http.MethodPost, contentType: ct, target: "AmazonSQS.SendMessage", body: "{not json",
			wantStatus: 400, wantType: "com.amazon.coral.service#SerializationException", wantQuery: "SerializationException;Sender",
		},
		{
			name: "an empty body", method: http.MethodPost, contentType: ct, target: "AmazonSQS.GetQueueUrl",
			wantStatus: 400, wantType: "com.amazon.coral.service#SerializationException", wantQuery: "SerializationException;Sender",
		},
		{
			name: "a field of the wrong type", method: http.MethodPost, contentType: ct, target: "AmazonSQS.SendMessage",
			body:       `{"QueueUrl":"` + queue + `","MessageBody":"x","DelaySeconds":"soon"}`,
			wantStatus: 400, wantType: "com.amazon.coral.service#SerializationException", wantQuery: "SerializationException;Sender",
		},
		{
			name: "a missing message body", method: http.MethodPost, contentType: ct, target: "AmazonSQS.SendMessage",
			body: `{"QueueUrl":"` + queue + `"}`, wantStatus: 400,
			wantType: "com.amazon.coral.service#MissingParameterException", wantQuery: "MissingParameter;Sender",
		},
		{
			name: "a queue URL that is not one", method: http.MethodPost, contentType: ct, target: "AmazonSQS.SendMessage",
			body: `{"QueueUrl":"orders","MessageBody":"x"}`, wantStatus: 404,
			wantType: "com.amazonaws.sqs#InvalidAddress", wantQuery: "InvalidAddress;Sender",
		},
		{
			name: "an empty batch", method: http.MethodPost, contentType: ct, target: "AmazonSQS.SendMessageBatch",
			body: `{"QueueUrl":"` + queue + `","Entries":[]}`, wantStatus: 400,
			wantType: "com.amazonaws.sqs#EmptyBatchRequest", wantQuery: "AWS.SimpleQueueService.EmptyBatchRequest;Sender",
		},
		{
			name: "a request body over 1 MiB", method: http.MethodPost, contentType: ct, target: "AmazonSQS.SendMessage",
			body: `{"QueueUrl":"` + queue + `","MessageBody":"` + strings.Repeat("x", maxRequestSize) + `"}`, wantStatus: 400,
			wantType: "com.amazon.coral.service#InvalidParameterValueException", wantQuery: "InvalidParameterValue;Sender",
		},
		{
			name: "a batch request body over 1 MiB", method: http.MethodPost, contentType: ct, target: "AmazonSQS.SendMessageBatch",
			body: `{"QueueUrl":"` + queue + `","Entries":[{"Id":"a","MessageBody":"` + strings.Repeat("x", maxRequestSize) + `"}]}`, wantStatus: 400,
			wantType: "com.amazonaws.sqs#BatchRequestTooLong", wantQuery: "AWS.SimpleQueueService.BatchRequestTooLong;Sender",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			launch := &endpointtest.Launcher{}
			rec := rawSQS(t, New(Options{Jobs: sqsCatalog(), Launch: launch}), tt.method, tt.contentType, tt.target, tt.body)
			var got struct {
				Type    string `json:"__type"`
				Message string `json:"message"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
				t.Fatalf("body %q is not JSON: %v", rec.Body.String(), err)
			}
			if rec.Code != tt.wantStatus || got.Type != tt.wantType || rec.Header().Get("x-amzn-query-error") != tt.wantQuery {
				t.Errorf("status %d, __type %q, x-amzn-query-error %q; want %d, %q, %q",
					rec.Code, got.Type, rec.Header().Get("x-amzn-query-error"), tt.wantStatus, tt.wantType, tt.wantQuery)
			}
			if got.Message == "" || rec.Header().Get("Content-Type") != ct || rec.Header().Get("x-amzn-RequestId") == "" {
				t.Errorf("message %q, Content-Type %q, request id %q: want all three", got.Message, rec.Header().Get("Content-Type"), rec.Header().Get("x-amzn-RequestId"))
			}
			if n := len(launch.Requests()); n != 0 {
				t.Errorf("%d launches for a refused request", n)
			}
		})
	}
}

func TestQueueURLsUseTheRequestsHostWithoutABaseURL(t *testing.T) {
	rec := rawSQS(t, New(Options{Jobs: sqsCatalog(), Launch: &endpointtest.Launcher{}}),
		http.MethodPost, "application/x-amz-json-1.0", "AmazonSQS.GetQueueUrl", `{"QueueName":"orders"}`)
	if want := `{"QueueUrl":"http://127.0.0.1:8752/000000000000/orders"}`; rec.Code != 200 || rec.Body.String() != want {
		t.Errorf("got %d %s, want %s", rec.Code, rec.Body.String(), want)
	}
}

func TestMD5OfMessageAttributesFollowsAWS(t *testing.T) {
	str := func(v string) attributeValue { return attributeValue{DataType: "String", StringValue: &v} }
	tests := []struct {
		name  string
		attrs map[string]attributeValue
		want  string
	}{
		{name: "no attributes give no digest", want: ""},
		{
			// AWS's sample, in the SDKs' tests.
			name: "two string attributes, sorted by name",
			attrs: map[string]attributeValue{
				"test_attribute_name_2": str("test_attribute_value_2"),
				"test_attribute_name_1": str("test_attribute_value_1"),
			},
			want: "d53f3b558fe951154770f25cb63dbba9",
		},
		{
			name:  "a binary attribute",
			attrs: map[string]attributeValue{"test_attribute_name": {DataType: "Binary", BinaryValue: []byte("test_attribute_value")}},
			want:  "23f6bd27ea87aab7dfeadcc9aebee495",
		},
		{
			name: "a number and a string",
			attrs: map[string]attributeValue{
				"ordinal":  {DataType: "Number", StringValue: aws.String("1")},
				"category": str("test"),
			},
			want: "d21ae90c49061e927f57df5f5d72be1f",
		},
		{
			name:  "one string attribute",
			attrs: map[string]attributeValue{"SellerName": str("Example Store")},
			want:  "cd28f3b68aeee4b2eac9c66f2f694b58",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := md5OfAttributes(tt.attrs); got != tt.want {
				t.Errorf("md5OfAttributes = %q, want %q", got, tt.want)
			}
		})
	}
}

// flakyLauncher fails the launches of bodies of a length divisible by 3,
// and keeps nothing (a fuzzer makes millions of calls).
type flakyLauncher struct{}

func (flakyLauncher) Launch(_ context.Context, req dispatch.Request) (dispatch.Launched, error) {
	if len(req.Trigger.Body)%3 == 0 {
		return dispatch.Launched{}, errors.New("run store unavailable")
	}
	return dispatch.Launched{Run: run.Run{ID: "r-fuzz", Job: req.Job}}, nil
}

// FuzzSQSRequest sends any body under any target: the endpoint never
// panics, and always answers JSON, an error in SQS's shape unless 200.
func FuzzSQSRequest(f *testing.F) {
	queue := "http://127.0.0.1:8752/000000000000/orders"
	seeds := []struct{ target, body string }{
		{"AmazonSQS.SendMessage", `{"QueueUrl":"` + queue + `","MessageBody":"hello"}`},
		{"AmazonSQS.SendMessage", `{"QueueUrl":"` + queue + `","MessageBody":"x","MessageAttributes":{"a":{"DataType":"Binary","BinaryValue":"AAE="}}}`},
		{"AmazonSQS.SendMessageBatch", `{"QueueUrl":"` + queue + `","Entries":[{"Id":"1","MessageBody":"a"},{"Id":"2","MessageBody":""}]}`},
		{"AmazonSQS.SendMessageBatch", `{"QueueUrl":"` + queue + `","Entries":null}`},
		{"AmazonSQS.GetQueueUrl", `{"QueueName":"orders"}`},
		{"AmazonSQS.ListQueues", `{"MaxResults":1,"NextToken":"!!"}`},
		{"AmazonSQS.ReceiveMessage", `{}`},
		{"AmazonSQS.SendMessage", `null`},
		{"AmazonSQS.SendMessage", `[1,2,3]`},
		{"", ""},
	}
	for _, s := range seeds {
		f.Add(s.target, []byte(s.body))
	}
	h := New(Options{Jobs: sqsCatalog(), Launch: flakyLauncher{}})
	f.Fuzz(func(t *testing.T, target string, body []byte) {
		req := httptest.NewRequest(http.MethodPost, "http://127.0.0.1:8752/", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/x-amz-json-1.0")
		req.Header.Set("X-Amz-Target", target)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		raw, _ := io.ReadAll(rec.Body)
		if !json.Valid(raw) {
			t.Fatalf("status %d with a body that is not JSON: %q", rec.Code, raw)
		}
		if rec.Code == http.StatusOK {
			return
		}
		var e struct {
			Type    string `json:"__type"`
			Message string `json:"message"`
		}
		if err := json.Unmarshal(raw, &e); err != nil || e.Type == "" || e.Message == "" || rec.Header().Get("x-amzn-query-error") == "" {
			t.Fatalf("status %d with %q: want an SQS error (__type, message, x-amzn-query-error)", rec.Code, raw)
		}
	})
}
