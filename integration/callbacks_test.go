package integration

import (
	"context"
	"encoding/json"
	"strings"
	"syscall"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// receiveReply long-polls the reply queue until a message arrives.
func receiveReply(t *testing.T, client *sqs.Client, queueURL string) sqstypes.Message {
	t.Helper()
	var got []sqstypes.Message
	eventually(t, "the reply arrives on "+queueURL, func() bool {
		out, err := client.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{
			QueueUrl: aws.String(queueURL), WaitTimeSeconds: 2, MaxNumberOfMessages: 10,
			MessageAttributeNames: []string{"All"}, MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{"All"},
		})
		if err != nil {
			t.Fatalf("ReceiveMessage: %v", err)
		}
		got = out.Messages
		return len(got) > 0
	})
	if len(got) != 1 {
		t.Fatalf("received %d messages, want the one reply", len(got))
	}
	return got[0]
}

func TestAQueueCallbackArrivesOnTheLocalSQSQueue(t *testing.T) {
	data := t.TempDir()
	jobs := testJobs(t)
	e := startEngine(t, jobs, data)
	ctx := context.Background()
	fn := lambda.NewFromConfig(awsConfig(), func(o *lambda.Options) { o.BaseEndpoint = aws.String(e.api) })
	queues := sqs.NewFromConfig(awsConfig(), func(o *sqs.Options) { o.BaseEndpoint = aws.String(e.sqs) })

	// The launcher by its ARN, as a Step Functions or SDK caller names it;
	// the reply queue by the URL it has on AWS.
	out, err := fn.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("arn:aws:lambda:us-east-1:123456789012:function:launcher"),
		Payload: []byte(`{"job":"echo","env":{"EXIT_CODE":"4"},"key":"cb-1","callback":{"kind":"queue","target":"https://sqs.us-east-1.amazonaws.com/123456789012/replies"}}`)})
	if err != nil {
		t.Fatalf("Invoke by ARN: %v", err)
	}
	if out.FunctionError != nil {
		t.Fatalf("Invoke by ARN = %s", out.Payload)
	}
	var started runJSON
	json.Unmarshal(out.Payload, &started)

	// The queue exists as soon as a run names it.
	url, err := queues.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String("replies")})
	if err != nil {
		t.Fatalf("GetQueueUrl(replies): %v", err)
	}
	m := receiveReply(t, queues, aws.ToString(url.QueueUrl))
	var reply runJSON
	if err := json.Unmarshal([]byte(aws.ToString(m.Body)), &reply); err != nil {
		t.Fatalf("the reply %q is not a run: %v", aws.ToString(m.Body), err)
	}
	if reply.ID != started.ID || reply.Status != "failed" || reply.ExitCode == nil || *reply.ExitCode != 4 {
		t.Errorf("reply %s, want run %s failed with exit code 4", aws.ToString(m.Body), started.ID)
	}
	if got := e.get(started.ID); got.Status != reply.Status {
		t.Errorf("the reply says %s, the run is %s", reply.Status, got.Status)
	}
	if aws.ToString(m.MessageAttributes["longshore-run"].StringValue) != started.ID || m.Attributes["ApproximateReceiveCount"] != "1" {
		t.Errorf("attributes %v %v", m.MessageAttributes, m.Attributes)
	}

	// Not deleted, it survives a restart of the engine on the same data;
	// deleted, it is gone.
	e.stop(syscall.SIGTERM)
	e = startEngine(t, jobs, data)
	queues = sqs.NewFromConfig(awsConfig(), func(o *sqs.Options) { o.BaseEndpoint = aws.String(e.sqs) })
	url, err = queues.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String("replies")})
	if err != nil {
		t.Fatalf("GetQueueUrl(replies) after a restart: %v", err)
	}
	again := receiveReply(t, queues, aws.ToString(url.QueueUrl))
	if aws.ToString(again.MessageId) != aws.ToString(m.MessageId) {
		t.Errorf("after a restart received %s, want the reply %s again", aws.ToString(again.MessageId), aws.ToString(m.MessageId))
	}
	if _, err := queues.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: url.QueueUrl, ReceiptHandle: again.ReceiptHandle}); err != nil {
		t.Fatalf("DeleteMessage: %v", err)
	}
	left, err := queues.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: url.QueueUrl, VisibilityTimeout: 0, WaitTimeSeconds: 1})
	if err != nil || len(left.Messages) != 0 {
		t.Errorf("after DeleteMessage received %v, %v; want nothing", left, err)
	}
}

func TestATaskTokenCallbackIsRefusedLocallyAndStartsNothing(t *testing.T) {
	e := startEngine(t, testJobs(t), t.TempDir())
	fn := lambda.NewFromConfig(awsConfig(), func(o *lambda.Options) { o.BaseEndpoint = aws.String(e.api) })
	out, err := fn.Invoke(context.Background(), &lambda.InvokeInput{FunctionName: aws.String("launcher"),
		Payload: []byte(`{"job":"echo","callback":{"kind":"task-token","token":"AAAAKgAAAAIAAAAAAAAAAQ"}}`)})
	if err != nil {
		t.Fatalf("Invoke: %v", err)
	}
	if out.FunctionError == nil || !strings.Contains(string(out.Payload), "task-token callbacks need Step Functions") {
		t.Errorf("Invoke = %s (%v); want a function error saying task-token callbacks need Step Functions", out.Payload, out.FunctionError)
	}
	if runs := e.list(); len(runs) != 0 {
		t.Errorf("runs %+v, want none", runs)
	}
}
