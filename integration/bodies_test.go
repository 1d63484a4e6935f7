package integration

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

func TestAMessageTooLargeForAnEnvironmentReachesItsRunByReference(t *testing.T) {
	jobs := t.TempDir()
	// The job prints the size of the body it was given, inline or by reference.
	write(t, jobs, "intake/job.yaml", `local:
  command: [sh, -c, 'if [ -n "$LONGSHORE_SQS_BODY_URI" ]; then echo "by reference: $(wc -c < "${LONGSHORE_SQS_BODY_URI#file://}")"; else echo "inline: ${#LONGSHORE_SQS_BODY}"; fi']
triggers:
  - sqs
`)
	e := startEngine(t, jobs, t.TempDir(), "--runner", "process")
	client := sqs.NewFromConfig(awsConfig(), func(o *sqs.Options) { o.BaseEndpoint = aws.String(e.sqs) })
	url, err := client.GetQueueUrl(context.Background(), &sqs.GetQueueUrlInput{QueueName: aws.String("intake")})
	if err != nil {
		t.Fatalf("GetQueueUrl: %v", err)
	}
	// 200 KiB: more than a process takes in one variable (128 KiB on Linux).
	for _, size := range []int{100, 200 << 10} {
		sent, err := client.SendMessage(context.Background(), &sqs.SendMessageInput{QueueUrl: url.QueueUrl, MessageBody: aws.String(strings.Repeat("m", size))})
		if err != nil {
			t.Fatalf("SendMessage of %d bytes: %v", size, err)
		}
		var r runJSON
		eventually(t, "the message's run finishes", func() bool {
			for _, got := range e.list("--job", "intake") {
				if got.Trigger.MessageID == *sent.MessageId && isTerminal(got.Status) {
					r = got
					return true
				}
			}
			return false
		})
		want := "inline: " + strconv.Itoa(size)
		if size > 4096 {
			want = "by reference: " + strconv.Itoa(size)
		}
		logs := e.cli("logs", r.ID)
		if r.Status != "succeeded" || strings.TrimSpace(logs.stdout) != want {
			t.Errorf("the run of a %d-byte message: %s %q, output %q; want %q", size, r.Status, r.Reason, logs.stdout, want)
		}
	}
	kept, _ := filepath.Glob(filepath.Join(e.data, "bodies", "intake", "*.body"))
	if len(kept) != 1 {
		t.Errorf("bodies kept: %v, want the large one", kept)
	} else if st, err := os.Stat(kept[0]); err != nil || st.Size() != 200<<10 {
		t.Errorf("kept body: %v %v", st, err)
	}
}

func TestTheOrdersExampleReadsALargeMessageByReference(t *testing.T) {
	e := startEngine(t, "jobs", t.TempDir(), "--runner", "process")
	client := sqs.NewFromConfig(awsConfig(), func(o *sqs.Options) { o.BaseEndpoint = aws.String(e.sqs) })
	url, err := client.GetQueueUrl(context.Background(), &sqs.GetQueueUrlInput{QueueName: aws.String("orders")})
	if err != nil {
		t.Fatalf("GetQueueUrl: %v", err)
	}
	body := `{"order": 1042, "lines": "` + strings.Repeat("x", 8<<10) + `"}`
	sent, err := client.SendMessage(context.Background(), &sqs.SendMessageInput{QueueUrl: url.QueueUrl, MessageBody: aws.String(body)})
	if err != nil {
		t.Fatalf("SendMessage: %v", err)
	}
	var r runJSON
	eventually(t, "the order's run finishes", func() bool {
		for _, got := range e.list("--job", "orders") {
			if got.Trigger.MessageID == *sent.MessageId && isTerminal(got.Status) {
				r = got
				return true
			}
		}
		return false
	})
	if logs := e.cli("logs", r.ID).stdout; r.Status != "succeeded" || logs != "order message "+*sent.MessageId+": "+body+"\n" {
		t.Errorf("the orders example's run of an 8 KiB message: %s %q, output of %d bytes; want the whole body printed", r.Status, r.Reason, len(logs))
	}
}
