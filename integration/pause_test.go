package integration

import (
	"context"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

func TestAPausedJobRecordsItsTriggersAsNotStartedAndResumeRunsTheNextOnes(t *testing.T) {
	jobs, data := testJobs(t), t.TempDir()
	e := startEngine(t, jobs, data)
	ctx := context.Background()

	if got := e.cli("pause", "echo", "--reason", "db upgrade"); got.code != 0 || !strings.Contains(got.stdout, "echo: paused since") {
		t.Fatalf("pause echo = %d\n%s%s", got.code, got.stdout, got.stderr)
	}
	if got := e.cli("jobs"); !strings.Contains(got.stdout, "paused since") || !strings.Contains(got.stdout, "(db upgrade)") {
		t.Errorf("jobs does not show echo paused:\n%s", got.stdout)
	}
	if got := e.cli("jobs", "echo", "--json"); !strings.Contains(got.stdout, `"paused": true`) || !strings.Contains(got.stdout, `"pausedReason": "db upgrade"`) {
		t.Errorf("jobs echo --json:\n%s", got.stdout)
	}

	// An invoke: recorded, never started; run --wait says it never started.
	got := e.cli("run", "echo", "--wait")
	id := strings.TrimSpace(strings.SplitN(got.stdout, "\n", 2)[0])
	if got.code == 0 || !strings.Contains(got.stdout+got.stderr, "cancelled: did not start: job paused (db upgrade)") {
		t.Errorf("run echo --wait while paused = %d\n%s%s", got.code, got.stdout, got.stderr)
	}
	// A message: acknowledged, and kept in a run that did not start.
	client := sqs.NewFromConfig(awsConfig(), func(o *sqs.Options) { o.BaseEndpoint = aws.String(e.sqs) })
	url, err := client.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String("work")})
	if err != nil {
		t.Fatalf("GetQueueUrl: %v", err)
	}
	if _, err := client.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: url.QueueUrl, MessageBody: aws.String(`{"order":7}`)}); err != nil {
		t.Fatalf("SendMessage: %v", err)
	}
	var skipped []runJSON
	eventually(t, "the invoke and the message are recorded", func() bool {
		skipped = e.list("--job", "echo")
		return len(skipped) == 2
	})
	for _, r := range skipped {
		if r.Status != "cancelled" || r.Reason != "did not start: job paused (db upgrade)" {
			t.Errorf("run %s (%s) while paused: %s %q", r.ID, r.Trigger.Kind, r.Status, r.Reason)
		}
		if r.Trigger.Kind == "sqs" && r.Trigger.Body != `{"order":7}` {
			t.Errorf("the message's run lost its body: %+v", r.Trigger)
		}
	}
	if id == "" || e.get(id).Status != "cancelled" {
		t.Errorf("run %q of the invoke", id)
	}
	if out := e.cli("runs", "--job", "echo").stdout; strings.Count(out, "cancelled") != 2 {
		t.Errorf("runs does not list them:\n%s", out)
	}
	if out := e.cli("runs", "get", id).stdout; !strings.Contains(out, "did not start: job paused") {
		t.Errorf("runs get does not say why:\n%s", out)
	}
	attrs, err := client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: url.QueueUrl, AttributeNames: nil})
	if err == nil && attrs.Attributes["ApproximateNumberOfMessages"] != "" && attrs.Attributes["ApproximateNumberOfMessages"] != "0" {
		t.Errorf("the message is still in the queue: %v", attrs.Attributes)
	}

	// The pause survives a restart of the engine.
	e.stop(syscall.SIGTERM)
	e = startEngine(t, jobs, data)
	if got := e.cli("jobs", "echo", "--json"); !strings.Contains(got.stdout, `"paused": true`) {
		t.Errorf("after a restart echo is not paused:\n%s", got.stdout)
	}

	if got := e.cli("resume", "echo"); got.code != 0 || strings.TrimSpace(got.stdout) != "echo: active" {
		t.Fatalf("resume echo = %d\n%s%s", got.code, got.stdout, got.stderr)
	}
	client = sqs.NewFromConfig(awsConfig(), func(o *sqs.Options) { o.BaseEndpoint = aws.String(e.sqs) })
	if url, err = client.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String("work")}); err != nil {
		t.Fatalf("GetQueueUrl: %v", err)
	}
	if got := e.cli("run", "echo", "--wait"); got.code != 0 {
		t.Errorf("run echo --wait after resume = %d\n%s%s", got.code, got.stdout, got.stderr)
	}
	if _, err := client.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: url.QueueUrl, MessageBody: aws.String("again")}); err != nil {
		t.Fatalf("SendMessage: %v", err)
	}
	eventually(t, "the message after resume runs", func() bool {
		ok := filter(e.list("--job", "echo"), func(r runJSON) bool { return r.Trigger.Kind == "sqs" && r.Status == "succeeded" })
		return len(ok) == 1 && ok[0].Trigger.Body == "again"
	})
	// Nothing skipped was replayed.
	if n := len(filter(e.list("--job", "echo"), func(r runJSON) bool { return r.Status == "cancelled" })); n != 2 {
		t.Errorf("%d cancelled runs after resume, want the 2 recorded while paused", n)
	}
}

func TestAPausedJobsScheduleDoesNotFire(t *testing.T) {
	jobs, data := testJobs(t), t.TempDir()
	// Paused before the engine's clock runs fast: through the store.
	e := startEngine(t, jobs, data)
	if got := e.cli("pause", "tick"); got.code != 0 {
		t.Fatalf("pause tick = %d %s", got.code, got.stderr)
	}
	e.stop(syscall.SIGTERM)
	// A 120x clock: a minute of schedules passes in half a second.
	e = startEngine(t, jobs, data, "--time-scale", "120")
	time.Sleep(2 * time.Second) // four minutes of the engine's clock
	if runs := e.list("--job", "tick"); len(runs) != 0 {
		t.Fatalf("a paused schedule made %d runs: %+v", len(runs), runs)
	}
	if got := e.cli("resume", "tick"); got.code != 0 {
		t.Fatalf("resume tick = %d %s", got.code, got.stderr)
	}
	eventually(t, "rate(1 minute) fires after resume", func() bool {
		return len(filter(e.list("--job", "tick"), func(r runJSON) bool { return r.Status == "succeeded" })) >= 1
	})
	// Nothing skipped is replayed: the first run is after the resume, and
	// none was recorded as missed.
	for _, r := range e.list("--job", "tick") {
		if r.Status == "cancelled" {
			t.Errorf("run %s: %s", r.ID, r.Reason)
		}
	}
}
