package logs_test

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"

	"github.com/longshore/longshore/internal/aws/logs"
	"github.com/longshore/longshore/internal/testsupport/awsfake"
)

func reader(f *awsfake.Server) *logs.Reader {
	return logs.NewReader(cloudwatchlogs.New(cloudwatchlogs.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(f.URL), Retryer: aws.NopRetryer{},
		Credentials: credentials.NewStaticCredentialsProvider(awsfake.AccessKeyID, awsfake.SecretAccessKey, ""),
	}))
}

func TestReadPagesThroughAStreamFromItsStart(t *testing.T) {
	f := awsfake.New(t)
	f.On("GetLogEvents", awsfake.OK(map[string]any{
		"events":           []any{map[string]any{"timestamp": 1763805600000, "message": "hello"}, map[string]any{"timestamp": 1763805601000, "message": "bye"}},
		"nextForwardToken": "f/2", "nextBackwardToken": "b/0",
	}))
	events, next, err := reader(f).Read(context.Background(), "/longshore/jobs/hello", "run/app/abc", "f/0", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 2 || events[0].Message != "hello" || !events[1].Time.Equal(time.UnixMilli(1763805601000)) || next != "f/2" {
		t.Errorf("events %v, next %q", events, next)
	}
	c := f.Calls("GetLogEvents")[0].Body
	if c["logGroupName"] != "/longshore/jobs/hello" || c["logStreamName"] != "run/app/abc" || c["startFromHead"] != true || c["nextToken"] != "f/0" {
		t.Errorf("GetLogEvents %v", c)
	}
}

func TestAStreamNotWrittenYetReadsAsEmpty(t *testing.T) {
	f := awsfake.New(t)
	f.On("GetLogEvents", awsfake.Error(400, "ResourceNotFoundException", "The specified log stream does not exist."))
	events, next, err := reader(f).Read(context.Background(), "/longshore/jobs/hello", "run/app/abc", "", 0)
	if err != nil || len(events) != 0 || next != "" {
		t.Errorf("Read = %v, %q, %v; want nothing yet", events, next, err)
	}
}

func TestOtherErrorsAreReturned(t *testing.T) {
	f := awsfake.New(t)
	f.On("GetLogEvents", awsfake.Error(400, "AccessDeniedException", "no"))
	if _, _, err := reader(f).Read(context.Background(), "g", "s", "", 0); err == nil {
		t.Error("Read hid an access denied")
	}
}
