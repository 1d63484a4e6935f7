package sqs

import (
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"maps"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// The query protocol of SQS (API version 2012-11-05), as the AWS CLI v2
// 2.9 of Debian 12 and older SDKs speak it: the operation and its
// parameters as form fields (Action=SendMessage&QueueUrl=...), lists and
// maps flattened into numbered fields (MessageAttribute.1.Name,
// MessageAttribute.1.Value.StringValue, SendMessageBatchRequestEntry.2.Id,
// AttributeName.1), answered in XML:
//
//	<SendMessageResponse xmlns="http://queue.amazonaws.com/doc/2012-11-05/">
//	  <SendMessageResult><MD5OfMessageBody>...</MD5OfMessageBody><MessageId>...</MessageId></SendMessageResult>
//	  <ResponseMetadata><RequestId>...</RequestId></ResponseMetadata>
//	</SendMessageResponse>
//
// and errors as
//
//	<ErrorResponse xmlns="...">
//	  <Error><Type>Sender</Type><Code>AWS.SimpleQueueService.NonExistentQueue</Code><Message>...</Message><Detail/></Error>
//	  <RequestId>...</RequestId>
//	</ErrorResponse>
const queryNamespace = "http://queue.amazonaws.com/doc/2012-11-05/"

const formContentType = "application/x-www-form-urlencoded"

// isQueryRequest tells a request of the query protocol: a form-encoded
// POST, or any request naming its Action in the query string.
func isQueryRequest(r *http.Request) bool {
	if r.URL.Query().Get("Action") != "" {
		return true
	}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return r.Method == http.MethodPost && mt == formContentType
}

func (s *Endpoint) serveQuery(w http.ResponseWriter, r *http.Request, requestID string) {
	out, action, err := s.query(w, r)
	if err != nil {
		s.logError(err)
		writeQueryError(w, err, requestID)
		return
	}
	writeQueryResult(w, action, requestID, out)
}

func (s *Endpoint) query(w http.ResponseWriter, r *http.Request) (any, string, *sqsError) {
	if r.Method != http.MethodPost && r.Method != http.MethodGet {
		w.Header().Set("Allow", "GET, POST")
		return nil, "", errUnknownOperation(http.StatusMethodNotAllowed, "%s is not served: the SQS query protocol POSTs a form or GETs", r.Method)
	}
	form := url.Values{}
	for k, v := range r.URL.Query() {
		form[k] = v
	}
	if r.Method == http.MethodPost {
		body, err := readBody(w, r, strings.HasSuffix(form.Get("Action"), "Batch"))
		if err != nil {
			return nil, "", err
		}
		fields, perr := url.ParseQuery(string(body))
		if perr != nil {
			return nil, "", errMalformedQuery("The request body is not a form: %v", perr)
		}
		for k, v := range fields {
			form[k] = append(form[k], v...)
		}
	}
	action := form.Get("Action")
	op, known := sqsOps[action]
	switch {
	case known:
	case slices.Contains(sqsUnsupported, action):
		return nil, action, errUnsupported(action)
	case action == "":
		return nil, "", errMissingAction()
	default:
		return nil, action, errInvalidAction(action)
	}
	in, err := op.fromQuery(form)
	if err != nil {
		return nil, action, err
	}
	out, err := op.run(s, r, in)
	return out, action, err
}

type responseMetadata struct {
	RequestId string
}

// writeQueryResult answers out as the query protocol does:
// <ActionResponse><ActionResult>out</ActionResult><ResponseMetadata/>.
func writeQueryResult(w http.ResponseWriter, action, requestID string, out any) {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0"?>` + "\n")
	enc := xml.NewEncoder(&b)
	start := xml.StartElement{Name: xml.Name{Local: action + "Response"}, Attr: []xml.Attr{{Name: xml.Name{Local: "xmlns"}, Value: queryNamespace}}}
	err := enc.EncodeToken(start)
	if _, empty := out.(emptyOutput); !empty && err == nil {
		err = enc.EncodeElement(out, xml.StartElement{Name: xml.Name{Local: action + "Result"}})
	}
	if err == nil {
		err = enc.EncodeElement(responseMetadata{RequestId: requestID}, xml.StartElement{Name: xml.Name{Local: "ResponseMetadata"}})
	}
	if err == nil {
		err = enc.EncodeToken(start.End())
	}
	if err == nil {
		err = enc.Flush()
	}
	if err != nil {
		writeQueryError(w, errInternal("encode the response: %v", err), requestID)
		return
	}
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b.Bytes())
}

// queryError is the query protocol's error document.
type queryError struct {
	XMLName xml.Name `xml:"ErrorResponse"`
	Xmlns   string   `xml:"xmlns,attr"`
	Error   struct {
		Type    string
		Code    string
		Message string
		Detail  struct{}
	}
	RequestId string
}

func writeQueryError(w http.ResponseWriter, e *sqsError, requestID string) {
	doc := queryError{Xmlns: queryNamespace, RequestId: requestID}
	doc.Error.Type = "Sender"
	if !e.senderFault() {
		doc.Error.Type = "Receiver"
	}
	doc.Error.Code, doc.Error.Message = e.code(), e.msg
	raw, _ := xml.Marshal(doc)
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(e.status)
	_, _ = w.Write(append([]byte(`<?xml version="1.0"?>`+"\n"), raw...))
}

// The errors only the query protocol has.

func errMissingAction() *sqsError {
	return newSQSError(http.StatusBadRequest, "com.amazon.coral.service#MissingAction", "MissingAction;Sender",
		"The request must contain the parameter Action: one of %s.", servedOps)
}

func errInvalidAction(action string) *sqsError {
	return newSQSError(http.StatusBadRequest, "com.amazon.coral.service#InvalidAction", "InvalidAction;Sender",
		"The action %s is not valid for this endpoint: use one of %s.", action, servedOps)
}

func errMalformedQuery(format string, args ...any) *sqsError {
	return newSQSError(http.StatusBadRequest, "com.amazon.coral.service#MalformedQueryString", "MalformedQueryString;Sender", format, args...)
}

// qString is an optional string parameter.
func qString(form url.Values, name string) *string {
	v, ok := form[name]
	if !ok || len(v) == 0 {
		return nil
	}
	return &v[0]
}

// qInt is an optional integer parameter.
func qInt(form url.Values, name string) (*int32, *sqsError) {
	v := qString(form, name)
	if v == nil || *v == "" {
		return nil, nil
	}
	n, err := strconv.ParseInt(*v, 10, 32)
	if err != nil {
		return nil, errInvalidParameter("Value %s for parameter %s is invalid. Reason: it is not an integer.", *v, name)
	}
	x := int32(n)
	return &x, nil
}

// qIndexed groups the parameters prefix.N[.rest] by N, in the order of N:
// each group maps rest to its values ("" for prefix.N itself).
func qIndexed(form url.Values, prefix string) ([]url.Values, *sqsError) {
	groups := map[int]url.Values{}
	for k, v := range form {
		rest, ok := strings.CutPrefix(k, prefix+".")
		if !ok {
			continue
		}
		num, sub, _ := strings.Cut(rest, ".")
		n, err := strconv.Atoi(num)
		if err != nil || n < 1 {
			return nil, errInvalidParameter("The parameter %s is not valid: %s.N takes an index N from 1.", k, prefix)
		}
		if groups[n] == nil {
			groups[n] = url.Values{}
		}
		groups[n][sub] = v
	}
	out := make([]url.Values, 0, len(groups))
	for _, n := range slices.Sorted(maps.Keys(groups)) {
		out = append(out, groups[n])
	}
	return out, nil
}

// qList is a flattened list of strings: prefix.1, prefix.2, ...
func qList(form url.Values, prefix string) ([]string, *sqsError) {
	groups, err := qIndexed(form, prefix)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, g := range groups {
		out = append(out, g.Get(""))
	}
	return out, nil
}

// qAttributes is a flattened map of message attributes:
// prefix.N.Name, prefix.N.Value.DataType, prefix.N.Value.StringValue,
// prefix.N.Value.BinaryValue (base64).
func qAttributes(form url.Values, prefix string) (map[string]attributeValue, *sqsError) {
	groups, err := qIndexed(form, prefix)
	if err != nil || len(groups) == 0 {
		return nil, err
	}
	out := map[string]attributeValue{}
	for i, g := range groups {
		name := g.Get("Name")
		if name == "" {
			return nil, errMissingParameter(fmt.Sprintf("%s.%d.Name", prefix, i+1))
		}
		if _, dup := out[name]; dup {
			return nil, errInvalidParameter("Message attribute name '%s' is given more than once.", name)
		}
		a := attributeValue{DataType: g.Get("Value.DataType"), StringValue: qString(g, "Value.StringValue")}
		if v := qString(g, "Value.BinaryValue"); v != nil {
			b, err := base64.StdEncoding.DecodeString(*v)
			if err != nil {
				return nil, errInvalidParameter("The binary value of message attribute '%s' is not base64: %v.", name, err)
			}
			a.BinaryValue = append([]byte{}, b...)
		}
		for k, v := range g {
			switch {
			case strings.HasPrefix(k, "Value.StringListValue."):
				a.StringListValues = append(a.StringListValues, v...)
			case strings.HasPrefix(k, "Value.BinaryListValue."):
				a.BinaryListValues = append(a.BinaryListValues, []byte(v[0]))
			}
		}
		out[name] = a
	}
	return out, nil
}

// qMessage is a message's parameters (of SendMessage, or of a batch entry).
func qMessage(form url.Values) (message, *sqsError) {
	m := message{MessageBody: qString(form, "MessageBody"), MessageDeduplicationId: qString(form, "MessageDeduplicationId"),
		MessageGroupId: qString(form, "MessageGroupId")}
	var err *sqsError
	if m.DelaySeconds, err = qInt(form, "DelaySeconds"); err != nil {
		return m, err
	}
	if m.MessageAttributes, err = qAttributes(form, "MessageAttribute"); err != nil {
		return m, err
	}
	m.MessageSystemAttributes, err = qAttributes(form, "MessageSystemAttribute")
	return m, err
}

func queryGetQueueURL(form url.Values) (*getQueueURLInput, *sqsError) {
	return &getQueueURLInput{QueueName: form.Get("QueueName"), QueueOwnerAWSAccountId: form.Get("QueueOwnerAWSAccountId")}, nil
}

func queryListQueues(form url.Values) (*listQueuesInput, *sqsError) {
	max, err := qInt(form, "MaxResults")
	return &listQueuesInput{QueueNamePrefix: form.Get("QueueNamePrefix"), MaxResults: max, NextToken: form.Get("NextToken")}, err
}

func querySendMessage(form url.Values) (*sendMessageInput, *sqsError) {
	m, err := qMessage(form)
	return &sendMessageInput{QueueUrl: form.Get("QueueUrl"), message: m}, err
}

func querySendMessageBatch(form url.Values) (*sendMessageBatchInput, *sqsError) {
	groups, err := qIndexed(form, "SendMessageBatchRequestEntry")
	if err != nil {
		return nil, err
	}
	in := &sendMessageBatchInput{QueueUrl: form.Get("QueueUrl")}
	for _, g := range groups {
		m, err := qMessage(g)
		if err != nil {
			return nil, err
		}
		in.Entries = append(in.Entries, batchEntry{Id: g.Get("Id"), message: m})
	}
	return in, nil
}

func queryReceiveMessage(form url.Values) (*receiveMessageInput, *sqsError) {
	in := &receiveMessageInput{QueueUrl: form.Get("QueueUrl"), ReceiveRequestAttemptId: form.Get("ReceiveRequestAttemptId")}
	var err *sqsError
	for _, l := range []struct {
		prefix string
		to     *[]string
	}{
		{"AttributeName", &in.AttributeNames},
		{"MessageSystemAttributeName", &in.MessageSystemAttributeNames},
		{"MessageAttributeName", &in.MessageAttributeNames},
	} {
		if *l.to, err = qList(form, l.prefix); err != nil {
			return nil, err
		}
	}
	for _, n := range []struct {
		name string
		to   **int32
	}{
		{"MaxNumberOfMessages", &in.MaxNumberOfMessages},
		{"VisibilityTimeout", &in.VisibilityTimeout},
		{"WaitTimeSeconds", &in.WaitTimeSeconds},
	} {
		if *n.to, err = qInt(form, n.name); err != nil {
			return nil, err
		}
	}
	return in, nil
}

func queryDeleteMessage(form url.Values) (*deleteMessageInput, *sqsError) {
	return &deleteMessageInput{QueueUrl: form.Get("QueueUrl"), ReceiptHandle: form.Get("ReceiptHandle")}, nil
}

func queryChangeVisibility(form url.Values) (*changeVisibilityInput, *sqsError) {
	t, err := qInt(form, "VisibilityTimeout")
	return &changeVisibilityInput{QueueUrl: form.Get("QueueUrl"), ReceiptHandle: form.Get("ReceiptHandle"), VisibilityTimeout: t}, err
}

func queryReceiptBatch(form url.Values, entry string) (*receiptBatchInput, *sqsError) {
	groups, err := qIndexed(form, entry)
	if err != nil {
		return nil, err
	}
	in := &receiptBatchInput{QueueUrl: form.Get("QueueUrl")}
	for _, g := range groups {
		t, err := qInt(g, "VisibilityTimeout")
		if err != nil {
			return nil, err
		}
		in.Entries = append(in.Entries, receiptEntry{Id: g.Get("Id"), ReceiptHandle: g.Get("ReceiptHandle"), VisibilityTimeout: t})
	}
	return in, nil
}

func queryDeleteMessageBatch(form url.Values) (*receiptBatchInput, *sqsError) {
	return queryReceiptBatch(form, "DeleteMessageBatchRequestEntry")
}

func queryChangeVisibilityBatch(form url.Values) (*receiptBatchInput, *sqsError) {
	return queryReceiptBatch(form, "ChangeMessageVisibilityBatchRequestEntry")
}
