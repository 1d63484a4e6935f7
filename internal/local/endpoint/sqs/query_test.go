package sqs

import (
	"encoding/xml"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/longshore/longshore/internal/local/endpoint/endpointtest"
)

// queryFixture is an SQS endpoint with the catalog's trigger queues and
// the reply queue "replies", spoken to in the query protocol.
type queryFixture struct {
	sqs    *Endpoint
	launch *endpointtest.Launcher
	clock  *fakeClock
	// lastReceipt is the receipt handle receiveOne got.
	lastReceipt string
}

func newQueryFixture(t *testing.T) *queryFixture {
	t.Helper()
	f := &queryFixture{launch: &endpointtest.Launcher{}, clock: newFakeClock()}
	f.sqs = New(Options{BaseURL: "http://127.0.0.1:8752", Jobs: sqsCatalog(), Launch: f.launch, Clock: f.clock})
	_, err := f.sqs.ReplyQueue("replies")
	endpointtest.MustOK(t, err, "ReplyQueue")
	return f
}

// post sends form as the AWS CLI v1 and v2.9 do: a form-encoded POST.
func (f *queryFixture) post(form string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, "http://127.0.0.1:8752/", strings.NewReader(form))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	rec := httptest.NewRecorder()
	f.sqs.ServeHTTP(rec, req)
	return rec
}

var (
	uuidsRe    = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}`)
	receiptsRe = regexp.MustCompile(`<ReceiptHandle>[A-Za-z0-9_-]+</ReceiptHandle>`)
)

// masked replaces what differs from answer to answer (request and message
// ids, receipt handles) by placeholders.
func masked(body string) string {
	body = receiptsRe.ReplaceAllString(body, "<ReceiptHandle>HANDLE</ReceiptHandle>")
	return uuidsRe.ReplaceAllString(body, "UUID")
}

const xmlHead = `<?xml version="1.0"?>` + "\n"

func TestTheQueryProtocolIsAnsweredInSQSsXML(t *testing.T) {
	const q = "QueueUrl=http%3A%2F%2F127.0.0.1%3A8752%2F000000000000%2F"
	tests := []struct {
		name  string
		setup func(t *testing.T, f *queryFixture) // before the request
		form  string
		want  string // the answer, masked
		runs  int
	}{
		{
			name: "GetQueueUrl",
			form: "Action=GetQueueUrl&QueueName=orders&Version=2012-11-05",
			want: xmlHead + `<GetQueueUrlResponse xmlns="http://queue.amazonaws.com/doc/2012-11-05/"><GetQueueUrlResult><QueueUrl>http://127.0.0.1:8752/000000000000/orders</QueueUrl></GetQueueUrlResult><ResponseMetadata><RequestId>UUID</RequestId></ResponseMetadata></GetQueueUrlResponse>`,
		},
		{
			name: "ListQueues with a prefix",
			form: "Action=ListQueues&QueueNamePrefix=re&Version=2012-11-05",
			want: xmlHead + `<ListQueuesResponse xmlns="http://queue.amazonaws.com/doc/2012-11-05/"><ListQueuesResult><QueueUrl>http://127.0.0.1:8752/000000000000/replies</QueueUrl><QueueUrl>http://127.0.0.1:8752/000000000000/resize</QueueUrl></ListQueuesResult><ResponseMetadata><RequestId>UUID</RequestId></ResponseMetadata></ListQueuesResponse>`,
		},
		{
			// The body and attributes of AWS's documented sample, whose
			// digests the documentation gives.
			name: "SendMessage with attributes starts a run and answers both digests",
			form: "Action=SendMessage&" + q + "orders&MessageBody=This+is+a+test+message" +
				"&MessageAttribute.1.Name=test_attribute_name_1&MessageAttribute.1.Value.StringValue=test_attribute_value_1&MessageAttribute.1.Value.DataType=String" +
				"&MessageAttribute.2.Name=test_attribute_name_2&MessageAttribute.2.Value.StringValue=test_attribute_value_2&MessageAttribute.2.Value.DataType=String&Version=2012-11-05",
			want: xmlHead + `<SendMessageResponse xmlns="http://queue.amazonaws.com/doc/2012-11-05/"><SendMessageResult><MD5OfMessageBody>fafb00f5732ab283681e124bf8747ed1</MD5OfMessageBody><MD5OfMessageAttributes>d53f3b558fe951154770f25cb63dbba9</MD5OfMessageAttributes><MessageId>UUID</MessageId></SendMessageResult><ResponseMetadata><RequestId>UUID</RequestId></ResponseMetadata></SendMessageResponse>`,
			runs: 1,
		},
		{
			name: "SendMessageBatch reports each entry",
			form: "Action=SendMessageBatch&" + q + "orders" +
				"&SendMessageBatchRequestEntry.1.Id=a&SendMessageBatchRequestEntry.1.MessageBody=This+is+a+test+message" +
				"&SendMessageBatchRequestEntry.2.Id=b&SendMessageBatchRequestEntry.2.MessageBody=late&SendMessageBatchRequestEntry.2.DelaySeconds=5",
			want: xmlHead + `<SendMessageBatchResponse xmlns="http://queue.amazonaws.com/doc/2012-11-05/"><SendMessageBatchResult><SendMessageBatchResultEntry><Id>a</Id><MessageId>UUID</MessageId><MD5OfMessageBody>fafb00f5732ab283681e124bf8747ed1</MD5OfMessageBody></SendMessageBatchResultEntry><BatchResultErrorEntry><Id>b</Id><SenderFault>true</SenderFault><Code>InvalidParameterValue</Code><Message>Value 5 for parameter DelaySeconds is invalid. Reason: the local SQS endpoint starts a run as soon as a message arrives; delays are not supported (send with DelaySeconds 0).</Message></BatchResultErrorEntry></SendMessageBatchResult><ResponseMetadata><RequestId>UUID</RequestId></ResponseMetadata></SendMessageBatchResponse>`,
			runs: 1,
		},
		{
			name: "ReceiveMessage answers a reply queue's message with the attributes asked for",
			setup: func(t *testing.T, f *queryFixture) {
				endpointtest.MustOK(t, f.sqs.Reply("replies", "This is a test message", map[string]string{"longshore-status": "succeeded"}), "Reply")
			},
			form: "Action=ReceiveMessage&" + q + "replies&AttributeName.1=SentTimestamp&AttributeName.2=ApproximateReceiveCount" +
				"&MessageAttributeName.1=All&MaxNumberOfMessages=5&VisibilityTimeout=15&WaitTimeSeconds=0",
			want: xmlHead + `<ReceiveMessageResponse xmlns="http://queue.amazonaws.com/doc/2012-11-05/"><ReceiveMessageResult><Message><MessageId>UUID</MessageId><ReceiptHandle>HANDLE</ReceiptHandle><MD5OfBody>fafb00f5732ab283681e124bf8747ed1</MD5OfBody><Body>This is a test message</Body><Attribute><Name>ApproximateReceiveCount</Name><Value>1</Value></Attribute><Attribute><Name>SentTimestamp</Name><Value>1773480413000</Value></Attribute><MD5OfMessageAttributes>MD5ATTRS</MD5OfMessageAttributes><MessageAttribute><Name>longshore-status</Name><Value><StringValue>succeeded</StringValue><DataType>String</DataType></Value></MessageAttribute></Message></ReceiveMessageResult><ResponseMetadata><RequestId>UUID</RequestId></ResponseMetadata></ReceiveMessageResponse>`,
		},
		{
			name: "ReceiveMessage of an empty queue answers no message",
			form: "Action=ReceiveMessage&" + q + "replies",
			want: xmlHead + `<ReceiveMessageResponse xmlns="http://queue.amazonaws.com/doc/2012-11-05/"><ReceiveMessageResult></ReceiveMessageResult><ResponseMetadata><RequestId>UUID</RequestId></ResponseMetadata></ReceiveMessageResponse>`,
		},
		{
			name:  "DeleteMessage answers only its metadata",
			setup: receiveOne,
			form:  "Action=DeleteMessage&" + q + "replies&ReceiptHandle=RECEIPT",
			want:  xmlHead + `<DeleteMessageResponse xmlns="http://queue.amazonaws.com/doc/2012-11-05/"><ResponseMetadata><RequestId>UUID</RequestId></ResponseMetadata></DeleteMessageResponse>`,
		},
		{
			name:  "ChangeMessageVisibility answers only its metadata",
			setup: receiveOne,
			form:  "Action=ChangeMessageVisibility&" + q + "replies&ReceiptHandle=RECEIPT&VisibilityTimeout=60",
			want:  xmlHead + `<ChangeMessageVisibilityResponse xmlns="http://queue.amazonaws.com/doc/2012-11-05/"><ResponseMetadata><RequestId>UUID</RequestId></ResponseMetadata></ChangeMessageVisibilityResponse>`,
		},
		{
			name:  "DeleteMessageBatch reports each entry",
			setup: receiveOne,
			form: "Action=DeleteMessageBatch&" + q + "replies&DeleteMessageBatchRequestEntry.1.Id=m1&DeleteMessageBatchRequestEntry.1.ReceiptHandle=RECEIPT" +
				"&DeleteMessageBatchRequestEntry.2.Id=m2&DeleteMessageBatchRequestEntry.2.ReceiptHandle=bogus",
			want: xmlHead + `<DeleteMessageBatchResponse xmlns="http://queue.amazonaws.com/doc/2012-11-05/"><DeleteMessageBatchResult><DeleteMessageBatchResultEntry><Id>m1</Id></DeleteMessageBatchResultEntry><BatchResultErrorEntry><Id>m2</Id><SenderFault>true</SenderFault><Code>ReceiptHandleIsInvalid</Code><Message>The input receipt handle &#34;bogus&#34; is not a valid receipt handle.</Message></BatchResultErrorEntry></DeleteMessageBatchResult><ResponseMetadata><RequestId>UUID</RequestId></ResponseMetadata></DeleteMessageBatchResponse>`,
		},
		{
			name:  "ChangeMessageVisibilityBatch reports each entry",
			setup: receiveOne,
			form: "Action=ChangeMessageVisibilityBatch&" + q + "replies&ChangeMessageVisibilityBatchRequestEntry.1.Id=m1" +
				"&ChangeMessageVisibilityBatchRequestEntry.1.ReceiptHandle=RECEIPT&ChangeMessageVisibilityBatchRequestEntry.1.VisibilityTimeout=0",
			want: xmlHead + `<ChangeMessageVisibilityBatchResponse xmlns="http://queue.amazonaws.com/doc/2012-11-05/"><ChangeMessageVisibilityBatchResult><ChangeMessageVisibilityBatchResultEntry><Id>m1</Id></ChangeMessageVisibilityBatchResultEntry></ChangeMessageVisibilityBatchResult><ResponseMetadata><RequestId>UUID</RequestId></ResponseMetadata></ChangeMessageVisibilityBatchResponse>`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newQueryFixture(t)
			form := tt.form
			if tt.setup != nil {
				tt.setup(t, f)
				form = strings.ReplaceAll(form, "RECEIPT", url.QueryEscape(f.lastReceipt))
			}
			rec := f.post(form)
			got := masked(rec.Body.String())
			want := strings.ReplaceAll(tt.want, "MD5ATTRS", md5OfAttributes(map[string]attributeValue{
				"longshore-status": {DataType: "String", StringValue: ptr("succeeded")}}))
			if rec.Code != http.StatusOK || got != want {
				t.Errorf("answer %d\n%s\nwant 200\n%s", rec.Code, got, want)
			}
			if ct := rec.Header().Get("Content-Type"); ct != "text/xml" {
				t.Errorf("Content-Type %q, want text/xml", ct)
			}
			var doc any
			if err := xml.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
				t.Errorf("the answer is not XML: %v", err)
			}
			if n := len(f.launch.Requests()); n != tt.runs {
				t.Errorf("%d runs started, want %d", n, tt.runs)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

// receiveOne puts a message on "replies" and receives it.
func receiveOne(t *testing.T, f *queryFixture) {
	t.Helper()
	endpointtest.MustOK(t, f.sqs.Reply("replies", "hello", nil), "Reply")
	rec := f.post("Action=ReceiveMessage&QueueUrl=http%3A%2F%2F127.0.0.1%3A8752%2F000000000000%2Freplies")
	f.lastReceipt = endpointtest.Between(rec.Body.String(), "<ReceiptHandle>", "</ReceiptHandle>")
	if f.lastReceipt == "" {
		t.Fatalf("no message received: %s", rec.Body)
	}
}

func TestQueryProtocolErrorsAreInSQSsErrorResponseShape(t *testing.T) {
	tests := []struct {
		name       string
		method     string
		form       string
		wantStatus int
		wantType   string
		wantCode   string
	}{
		{"a queue that does not exist", http.MethodPost, "Action=GetQueueUrl&QueueName=nope", 400, "Sender", "AWS.SimpleQueueService.NonExistentQueue"},
		{"an action SQS does not have", http.MethodPost, "Action=PublishMessage", 400, "Sender", "InvalidAction"},
		{"no action", http.MethodPost, "QueueName=orders", 400, "Sender", "MissingAction"},
		{"an action the endpoint does not serve", http.MethodPost, "Action=PurgeQueue&QueueUrl=http%3A%2F%2Fh%2F000000000000%2Freplies", 400, "Sender", "AWS.SimpleQueueService.UnsupportedOperation"},
		{"a receive from a trigger queue", http.MethodPost, "Action=ReceiveMessage&QueueUrl=http%3A%2F%2Fh%2F000000000000%2Forders", 400, "Sender", "AWS.SimpleQueueService.UnsupportedOperation"},
		{"a missing message body", http.MethodPost, "Action=SendMessage&QueueUrl=http%3A%2F%2Fh%2F000000000000%2Forders", 400, "Sender", "MissingParameter"},
		{"an integer that is none", http.MethodPost, "Action=ReceiveMessage&QueueUrl=http%3A%2F%2Fh%2F000000000000%2Freplies&MaxNumberOfMessages=ten", 400, "Sender", "InvalidParameterValue"},
		{"a binary attribute that is not base64", http.MethodPost, "Action=SendMessage&QueueUrl=http%3A%2F%2Fh%2F000000000000%2Forders&MessageBody=x&MessageAttribute.1.Name=b&MessageAttribute.1.Value.DataType=Binary&MessageAttribute.1.Value.BinaryValue=%21%21", 400, "Sender", "InvalidParameterValue"},
		{"an attribute index that is none", http.MethodPost, "Action=SendMessage&QueueUrl=http%3A%2F%2Fh%2F000000000000%2Forders&MessageBody=x&MessageAttribute.one.Name=b", 400, "Sender", "InvalidParameterValue"},
		{"an empty batch", http.MethodPost, "Action=DeleteMessageBatch&QueueUrl=http%3A%2F%2Fh%2F000000000000%2Freplies", 400, "Sender", "AWS.SimpleQueueService.EmptyBatchRequest"},
		{"a GET names its action in the URL", http.MethodGet, "Action=GetQueueUrl&QueueName=nope", 400, "Sender", "AWS.SimpleQueueService.NonExistentQueue"},
		{"a store that fails is the receiver's fault", http.MethodPost, "Action=SendMessage&QueueUrl=http%3A%2F%2Fh%2F000000000000%2Forders&MessageBody=x", 500, "Receiver", "InternalError"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newQueryFixture(t)
			if tt.wantStatus == 500 {
				f.launch.Fail = endpointtest.FailAlways
			}
			var rec *httptest.ResponseRecorder
			if tt.method == http.MethodGet {
				req := httptest.NewRequest(http.MethodGet, "http://127.0.0.1:8752/?"+tt.form, nil)
				rec = httptest.NewRecorder()
				f.sqs.ServeHTTP(rec, req)
			} else {
				rec = f.post(tt.form)
			}
			var got struct {
				XMLName xml.Name `xml:"ErrorResponse"`
				Xmlns   string   `xml:"xmlns,attr"`
				Error   struct {
					Type, Code, Message string
				}
				RequestId string
			}
			if err := xml.Unmarshal(rec.Body.Bytes(), &got); err != nil {
				t.Fatalf("%d %s is not an ErrorResponse: %v", rec.Code, rec.Body, err)
			}
			if rec.Code != tt.wantStatus || got.Error.Type != tt.wantType || got.Error.Code != tt.wantCode {
				t.Errorf("%d %s/%s, want %d %s/%s: %s", rec.Code, got.Error.Type, got.Error.Code, tt.wantStatus, tt.wantType, tt.wantCode, got.Error.Message)
			}
			if got.Error.Message == "" || got.Xmlns != queryNamespace || got.RequestId == "" || got.RequestId != rec.Header().Get("x-amzn-RequestId") {
				t.Errorf("message %q, namespace %q, request id %q (header %q): want all", got.Error.Message, got.Xmlns, got.RequestId, rec.Header().Get("x-amzn-RequestId"))
			}
		})
	}
}

// jumpClock jumps to the end of every wait at once.
type jumpClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *jumpClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *jumpClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(max(d, 0))
	ch := make(chan time.Time, 1)
	ch <- c.now
	return ch
}

// FuzzSQSQueryRequest sends any form in the query protocol: the endpoint
// never panics, and always answers XML, an ErrorResponse unless 200.
func FuzzSQSQueryRequest(f *testing.F) {
	const q = "QueueUrl=http%3A%2F%2F127.0.0.1%3A8752%2F000000000000%2F"
	for _, seed := range []string{
		"Action=SendMessage&" + q + "orders&MessageBody=hello",
		"Action=SendMessage&" + q + "replies&MessageBody=x&MessageAttribute.1.Name=a&MessageAttribute.1.Value.DataType=Binary&MessageAttribute.1.Value.BinaryValue=AAE%3D",
		"Action=SendMessageBatch&" + q + "orders&SendMessageBatchRequestEntry.1.Id=1&SendMessageBatchRequestEntry.1.MessageBody=a&SendMessageBatchRequestEntry.2.Id=2",
		"Action=ReceiveMessage&" + q + "replies&WaitTimeSeconds=20&AttributeName.1=All&MessageAttributeName.1=.*",
		"Action=DeleteMessage&" + q + "replies&ReceiptHandle=cmVwbGllcwphCmI",
		"Action=ChangeMessageVisibilityBatch&" + q + "replies&ChangeMessageVisibilityBatchRequestEntry.1.Id=x",
		"Action=ListQueues&MaxResults=1&NextToken=%21%21",
		"Action=GetQueueUrl&QueueName=orders",
		"Action=CreateQueue&QueueName=x",
		"%zz",
		"",
	} {
		f.Add(seed)
	}
	h := New(Options{Jobs: sqsCatalog(), Launch: flakyLauncher{}, Clock: &jumpClock{now: endpointtest.Now()}})
	if _, err := h.ReplyQueue("replies"); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, form string) {
		req := httptest.NewRequest(http.MethodPost, "http://127.0.0.1:8752/", strings.NewReader(form))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code == http.StatusOK {
			var doc any
			if err := xml.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
				t.Fatalf("200 with a body that is not XML: %q", rec.Body)
			}
			return
		}
		var e struct {
			XMLName xml.Name `xml:"ErrorResponse"`
			Error   struct{ Type, Code, Message string }
		}
		if err := xml.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Error.Code == "" || e.Error.Message == "" || (e.Error.Type != "Sender" && e.Error.Type != "Receiver") {
			t.Fatalf("status %d with %q: want an ErrorResponse", rec.Code, rec.Body)
		}
	})
}
