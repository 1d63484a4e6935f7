package sqs

import (
	"fmt"
	"net/http"
)

// sqsError is an error in the shape SQS's JSON protocol answers with: an
// HTTP status, a body {"__type": ..., "message": ...} and the
// x-amzn-query-error header "<query code>;Sender|Receiver" that the SDKs
// (in query-compatible mode) turn into the error code they report.
type sqsError struct {
	status int
	typ    string // __type, namespace included
	query  string // the x-amzn-query-error header
	msg    string
}

func (e *sqsError) Error() string { return e.typ + ": " + e.msg }

// senderFault tells a batch entry's SenderFault.
func (e *sqsError) senderFault() bool { return e.status < 500 }

// code is the error code a batch entry reports: the query code.
func (e *sqsError) code() string {
	for i := 0; i < len(e.query); i++ {
		if e.query[i] == ';' {
			return e.query[:i]
		}
	}
	return e.query
}

func newSQSError(status int, typ, query, format string, args ...any) *sqsError {
	return &sqsError{status: status, typ: typ, query: query, msg: fmt.Sprintf(format, args...)}
}

// The errors of the SQS model (namespace com.amazonaws.sqs), with the
// query codes it gives them.

func errQueueDoesNotExist(format string, args ...any) *sqsError {
	return newSQSError(http.StatusBadRequest, "com.amazonaws.sqs#QueueDoesNotExist",
		"AWS.SimpleQueueService.NonExistentQueue;Sender", format, args...)
}

func errInvalidAddress(format string, args ...any) *sqsError {
	return newSQSError(http.StatusNotFound, "com.amazonaws.sqs#InvalidAddress", "InvalidAddress;Sender", format, args...)
}

func errUnsupportedOperation(format string, args ...any) *sqsError {
	return newSQSError(http.StatusBadRequest, "com.amazonaws.sqs#UnsupportedOperation",
		"AWS.SimpleQueueService.UnsupportedOperation;Sender", format, args...)
}

func errInvalidMessageContents(format string, args ...any) *sqsError {
	return newSQSError(http.StatusBadRequest, "com.amazonaws.sqs#InvalidMessageContents",
		"InvalidMessageContents;Sender", format, args...)
}

func errEmptyBatch(entry string) *sqsError {
	return newSQSError(http.StatusBadRequest, "com.amazonaws.sqs#EmptyBatchRequest",
		"AWS.SimpleQueueService.EmptyBatchRequest;Sender", "There should be at least one %s in the request.", entry)
}

func errReceiptHandleInvalid(format string, args ...any) *sqsError {
	return newSQSError(http.StatusNotFound, "com.amazonaws.sqs#ReceiptHandleIsInvalid",
		"ReceiptHandleIsInvalid;Sender", format, args...)
}

func errMessageNotInflight() *sqsError {
	return newSQSError(http.StatusBadRequest, "com.amazonaws.sqs#MessageNotInflight",
		"AWS.SimpleQueueService.MessageNotInflight;Sender", "The message referred to is not in flight: its visibility timeout has expired.")
}

func errTooManyEntries(n int) *sqsError {
	return newSQSError(http.StatusBadRequest, "com.amazonaws.sqs#TooManyEntriesInBatchRequest",
		"AWS.SimpleQueueService.TooManyEntriesInBatchRequest;Sender",
		"Maximum number of entries per request are %d. You have sent %d.", maxBatchEntries, n)
}

func errIDsNotDistinct(id string) *sqsError {
	return newSQSError(http.StatusBadRequest, "com.amazonaws.sqs#BatchEntryIdsNotDistinct",
		"AWS.SimpleQueueService.BatchEntryIdsNotDistinct;Sender", "Id %s repeated.", id)
}

func errInvalidBatchEntryID(id string) *sqsError {
	return newSQSError(http.StatusBadRequest, "com.amazonaws.sqs#InvalidBatchEntryId",
		"AWS.SimpleQueueService.InvalidBatchEntryId;Sender",
		"A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long; got %q.", id)
}

func errBatchTooLong(format string, args ...any) *sqsError {
	return newSQSError(http.StatusBadRequest, "com.amazonaws.sqs#BatchRequestTooLong",
		"AWS.SimpleQueueService.BatchRequestTooLong;Sender", format, args...)
}

// The common errors of AWS services (namespace com.amazon.coral.service).

func errInvalidParameter(format string, args ...any) *sqsError {
	return newSQSError(http.StatusBadRequest, "com.amazon.coral.service#InvalidParameterValueException",
		"InvalidParameterValue;Sender", format, args...)
}

func errMissingParameter(name string) *sqsError {
	return newSQSError(http.StatusBadRequest, "com.amazon.coral.service#MissingParameterException",
		"MissingParameter;Sender", "The request must contain the parameter %s.", name)
}

func errUnknownOperation(status int, format string, args ...any) *sqsError {
	return newSQSError(status, "com.amazon.coral.service#UnknownOperationException", "InvalidAction;Sender", format, args...)
}

func errSerialization(format string, args ...any) *sqsError {
	return newSQSError(http.StatusBadRequest, "com.amazon.coral.service#SerializationException",
		"SerializationException;Sender", format, args...)
}

// errInternal says the message was not taken: the producer must send it
// again. The SDKs retry it (status 500).
func errInternal(format string, args ...any) *sqsError {
	return newSQSError(http.StatusInternalServerError, "com.amazon.coral.service#InternalFailure",
		"InternalError;Receiver", format, args...)
}
