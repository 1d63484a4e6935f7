// Package logs reads a run's container output from CloudWatch Logs: the
// stream the awslogs driver writes for the task's essential container
// (deploy.LogGroup, deploy.LogStream).
package logs

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"

	"github.com/longshore/longshore/internal/aws/handler"
)

// API is the part of the CloudWatch Logs client the reader calls.
type API interface {
	GetLogEvents(ctx context.Context, in *cloudwatchlogs.GetLogEventsInput, optFns ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.GetLogEventsOutput, error)
}

// Event is one line of output.
type Event = handler.LogEvent

var _ handler.LogReader = (*Reader)(nil)

// Reader reads log streams.
type Reader struct {
	api API
}

// NewFromConfig returns a reader with a CloudWatch Logs client of cfg,
// at endpoint when it is not "" (tests). Only the api function links the
// client: its package initialisation alone adds some 200 KB to a binary.
func NewFromConfig(cfg aws.Config, endpoint string) *Reader {
	return NewReader(cloudwatchlogs.NewFromConfig(cfg, func(o *cloudwatchlogs.Options) {
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
		}
	}))
}

// NewReader returns a reader over client.
func NewReader(client API) *Reader { return &Reader{api: client} }

// MaxEvents bounds one page.
const MaxEvents = 10000

// Read returns the events of a stream from its start, or from token (the
// next token of an earlier page), at most limit of them (MaxEvents when
// 0), and the token to read on from. A stream that does not exist yet (the
// task has written nothing) reads as empty, with the same token back.
func (r *Reader) Read(ctx context.Context, group, stream, token string, limit int) ([]Event, string, error) {
	if limit <= 0 || limit > MaxEvents {
		limit = MaxEvents
	}
	in := &cloudwatchlogs.GetLogEventsInput{
		LogGroupName: aws.String(group), LogStreamName: aws.String(stream),
		StartFromHead: aws.Bool(true), Limit: aws.Int32(int32(limit)),
	}
	if token != "" {
		in.NextToken = aws.String(token)
	}
	out, err := r.api.GetLogEvents(ctx, in)
	var nf *types.ResourceNotFoundException
	if errors.As(err, &nf) {
		return []Event{}, token, nil
	}
	if err != nil {
		return nil, token, fmt.Errorf("read log stream %s of %s: %w", stream, group, err)
	}
	events := make([]Event, 0, len(out.Events))
	for _, e := range out.Events {
		events = append(events, Event{Time: time.UnixMilli(aws.ToInt64(e.Timestamp)).UTC(), Message: aws.ToString(e.Message)})
	}
	return events, aws.ToString(out.NextForwardToken), nil
}
