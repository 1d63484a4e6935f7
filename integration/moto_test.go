package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	logtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dynamotypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	awsecs "github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/scheduler"
	schedtypes "github.com/aws/aws-sdk-go-v2/service/scheduler/types"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/longshore/longshore/internal/api"
	"github.com/longshore/longshore/internal/aws/dynamo"
	"github.com/longshore/longshore/internal/aws/ecs"
	"github.com/longshore/longshore/internal/aws/handler"
	"github.com/longshore/longshore/internal/deploy"
	"github.com/longshore/longshore/internal/dispatch"
	"github.com/longshore/longshore/internal/run"
)

// The deployment end to end against moto_server (moto 5.2.1): the CDK
// app's template is synthesized and its resources created in moto (the
// network, cluster, task definitions, runs table, results bus, queues,
// buckets, log groups, schedule group and schedules, with the template's
// properties); the four real function binaries run under the fake Runtime
// API with the environment the template gives them, every AWS call going to
// moto; the CLI's --aws commands reach them through a local Lambda Invoke
// endpoint.
//
// Where moto differs from AWS, the test says so and checks only what moto
// implements; faults, throttling and failures[] are tested against the
// hand-written fakes (lambda_test.go, internal/aws/...):
//   - moto ignores RunTask's clientToken (a repeat starts a second task):
//     here runs are deduplicated by the store, which is what is checked;
//   - moto answers 500 to a capacityProviderStrategy: only on-demand jobs
//     (hello, nightly-report, orders) are started here, not soak or thumbnail;
//   - moto emits no ECS task state change events, and its tasks have no
//     version, start or stop times and no stop code, and every container
//     shows exit code 0 from the start: the test builds the events from
//     moto's DescribeTasks and adds those (taskSim);
//   - moto's PutEvents accepts the source aws.ecs (AWS refuses aws.* sources
//     from callers): the test uses that to pass the STOPPED events through
//     the template's tracking rule;
//   - moto's SendTaskSuccess and SendTaskFailure accept any token and record
//     nothing: the test checks the calls were made and answered 200;
//   - moto writes a task's containers' cpu and memory as numbers, which the
//     Go SDK refuses to read: the proxy in front of moto makes them strings,
//     as ECS has them (fixECSAnswer);
//   - moto moves a task one status on at every DescribeTasks (RUNNING,
//     DEACTIVATING, ... STOPPED): the test holds tasks RUNNING until they
//     are stopped (holdTasks);
//   - moto's Lambda cannot run these binaries: the CLI's Lambda endpoint is
//     the test's (lambdaEndpoint).
func TestMotoTheDeployedFunctionsRunJobsOnMotoAndServeTheCLI(t *testing.T) {
	began := time.Now()
	if _, err := exec.LookPath("moto_server"); err != nil {
		startMoto(t) // skips, or fails under LONGSHORE_REQUIRE_ALL=1, saying how to install it
	}
	// The synth takes the longest: it runs while moto starts and the
	// functions build; the test waits for it before it ends in any case.
	synthDir := t.TempDir()
	var tmpl map[string]any
	var synthErr error
	synthDone := make(chan struct{})
	go func() {
		defer close(synthDone)
		tmpl, synthErr = synthesizeApp(synthDir)
	}()
	t.Cleanup(func() { <-synthDone })

	endpoint := startMoto(t)
	t.Logf("moto answers after %s", time.Since(began).Round(100*time.Millisecond))
	lambdaBinary(t, deploy.FunctionLauncher) // builds all four
	t.Logf("functions built after %s", time.Since(began).Round(100*time.Millisecond))
	<-synthDone
	if synthErr != nil {
		t.Fatal(synthErr)
	}
	t.Logf("moto up, functions built, template synthesized in %s", time.Since(began).Round(100*time.Millisecond))

	w := newMotoWorld(t, endpoint, tmpl)
	t.Logf("deployment created in moto, functions started in %s", time.Since(began).Round(100*time.Millisecond))

	ids := map[string]string{} // runs of the subtests that later ones read

	t.Run("an invoke of the launcher starts the job's task in ECS, started by its run and tagged", func(t *testing.T) {
		req := `{"job": "hello", "env": {"EXIT_CODE": "3"}, "key": "moto-1", "callback": {"kind": "task-token", "token": "moto-token-1"}}`
		first, again := w.launch(t, req), w.launch(t, req)
		if first.Job != "hello" || first.Status != run.StatusStarting || first.Duplicate || again.ID != first.ID || !again.Duplicate {
			t.Fatalf("first %+v, again %+v", first, again)
		}
		ids["failed"] = first.ID
		// One task for the key, twice invoked: the runs table refused the
		// second run (moto would have started a second task for the same
		// clientToken; AWS would not).
		task := w.task(t, first.ID)
		if aws.ToString(task.LastStatus) != "RUNNING" || aws.ToString(task.StartedBy) != ecs.StartedBy(first.ID) ||
			task.LaunchType != ecstypes.LaunchTypeFargate {
			t.Errorf("task %s: lastStatus %s, startedBy %s, launchType %s", aws.ToString(task.TaskArn),
				aws.ToString(task.LastStatus), aws.ToString(task.StartedBy), task.LaunchType)
		}
		if family := deploy.TaskFamily(motoPrefix, "hello"); !strings.Contains(aws.ToString(task.TaskDefinitionArn), ":task-definition/"+family+":") {
			t.Errorf("task definition %s, want family %s", aws.ToString(task.TaskDefinitionArn), family)
		}
		tags := map[string]string{}
		for _, tag := range task.Tags {
			tags[aws.ToString(tag.Key)] = aws.ToString(tag.Value)
		}
		if tags[deploy.TagRun] != first.ID || tags[deploy.TagJob] != "hello" {
			t.Errorf("task tags %v", tags)
		}
		env := taskEnv(task)
		if env["EXIT_CODE"] != "3" || env["LONGSHORE_RUN_ID"] != first.ID || env["LONGSHORE_JOB"] != "hello" || env["LONGSHORE_TRIGGER"] != "invoke" {
			t.Errorf("container overrides %v", env)
		}
		if subnet := attachmentDetail(task, "subnetId"); !slices.Contains(w.subnets, subnet) {
			t.Errorf("the task's network interface is in subnet %q, not one of the deployment's %v", subnet, w.subnets)
		}
		// The request as the functions sent it (moto keeps no clientToken
		// nor network configuration to read back).
		calls := w.runTasks(t, first.ID)
		if len(calls) != 1 || calls[0].Status != http.StatusOK {
			t.Fatalf("RunTask calls with client token %s: %+v", first.ID, calls)
		}
		body := calls[0].json(t)
		vpc, _ := deepGet(body, "networkConfiguration", "awsvpcConfiguration").(map[string]any)
		if fmt.Sprint(vpc["subnets"]) != fmt.Sprint(w.subnets) || fmt.Sprint(vpc["securityGroups"]) != fmt.Sprint(w.securityGroups) ||
			vpc["assignPublicIp"] != "ENABLED" || body["cluster"] != w.cluster || body["taskDefinition"] != deploy.TaskFamily(motoPrefix, "hello") {
			t.Errorf("RunTask %s", calls[0].Body)
		}
		if got := w.run(t, first.ID); got.Status != run.StatusStarting || got.TaskRef != aws.ToString(task.TaskArn) {
			t.Errorf("stored run %s, task %q", got.Status, got.TaskRef)
		}
	})

	t.Run("the tracker records the task running, then its exit code, in the runs table", func(t *testing.T) {
		id := ids["failed"]
		if id == "" {
			t.Fatal("no run was started: the subtest that makes it failed")
		}
		if res := w.running(t, id); !res.Applied || res.Status != run.StatusRunning {
			t.Fatalf("running: %+v", res)
		}
		if got := w.run(t, id); got.Status != run.StatusRunning || got.TaskRef != aws.ToString(w.task(t, id).TaskArn) || got.StartedAt == nil {
			t.Errorf("stored run %s, task %q, started %v", got.Status, got.TaskRef, got.StartedAt)
		}
		res := w.exited(t, id, 3)
		if !res.Applied || res.Status != run.StatusFailed {
			t.Fatalf("stopped: %+v", res)
		}
		got := w.run(t, id)
		if got.Status != run.StatusFailed || got.Cause != run.CauseExit || got.ExitCode == nil || *got.ExitCode != 3 || !got.Notified {
			t.Errorf("stored run %s %s exit %v notified %v", got.Status, got.Cause, got.ExitCode, got.Notified)
		}
		// The item as the table's indexes see it: status set, not in the
		// sparse index of unreported runs.
		item, err := w.m.db.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: aws.String(w.table),
			Key: map[string]dynamotypes.AttributeValue{deploy.RunsTableKey: &dynamotypes.AttributeValueMemberS{Value: id}}})
		if err != nil {
			t.Fatal(err)
		}
		if s, _ := item.Item[deploy.RunsStatusAttr].(*dynamotypes.AttributeValueMemberS); s == nil || s.Value != "failed" {
			t.Errorf("item %s = %v", deploy.RunsStatusAttr, item.Item[deploy.RunsStatusAttr])
		}
		if _, ok := item.Item[deploy.RunsUnreportedAttr]; ok {
			t.Errorf("a reported run is in the %s index", deploy.RunsUnreportedIndex)
		}
		// The same stop again (EventBridge delivers at least once) moves nothing.
		if res := w.track(t, w.tracked.last(t, id)); res.Applied {
			t.Errorf("a repeated stop was applied: %+v", res)
		}
	})

	t.Run("the result event reaches the SQS target of a rule on the results bus", func(t *testing.T) {
		id := ids["failed"]
		if id == "" {
			t.Fatal("no run was started: the subtest that makes it failed")
		}
		ev := w.resultEvent(t, id)
		detail, _ := ev["detail"].(map[string]any)
		if ev["source"] != deploy.ResultSource || ev["detail-type"] != deploy.ResultDetailType ||
			detail["status"] != "failed" || detail["exitCode"] != float64(3) || detail["cause"] != "exit" {
			t.Errorf("result event %v", ev)
		}
	})

	t.Run("a task token is completed through Step Functions, failed or succeeded", func(t *testing.T) {
		failures := w.rec.ops("SendTaskFailure")
		if len(failures) != 1 || failures[0].Status != http.StatusOK {
			t.Fatalf("SendTaskFailure calls %+v", failures)
		}
		if body := failures[0].json(t); body["taskToken"] != "moto-token-1" || body["error"] != "failed/exit" {
			t.Errorf("SendTaskFailure %v", body)
		}
		r := w.launch(t, `{"job": "hello", "callback": {"kind": "task-token", "token": "moto-token-2"}}`)
		w.running(t, r.ID)
		if res := w.exited(t, r.ID, 0); res.Status != run.StatusSucceeded {
			t.Fatalf("stopped: %+v", res)
		}
		successes := w.rec.ops("SendTaskSuccess")
		if len(successes) != 1 || successes[0].Status != http.StatusOK {
			t.Fatalf("SendTaskSuccess calls %+v", successes)
		}
		body := successes[0].json(t)
		var output map[string]any
		json.Unmarshal([]byte(fmt.Sprint(body["output"])), &output)
		if body["taskToken"] != "moto-token-2" || output["id"] != r.ID || output["status"] != "succeeded" {
			t.Errorf("SendTaskSuccess %v", body)
		}
	})

	t.Run("a queue callback's reply arrives on the reply queue", func(t *testing.T) {
		r := w.launch(t, `{"job": "hello", "callback": {"kind": "queue", "target": "`+w.replyURL+`"}}`)
		w.running(t, r.ID)
		w.exited(t, r.ID, 0)
		var reply map[string]any
		json.Unmarshal([]byte(w.replies.find(t, "reply of run "+r.ID, func(body string) bool {
			var m map[string]any
			return json.Unmarshal([]byte(body), &m) == nil && m["id"] == r.ID
		})), &reply)
		if reply["status"] != "succeeded" || reply["exitCode"] != float64(0) {
			t.Errorf("reply %v", reply)
		}
	})

	t.Run("a schedule, delivered twice, starts its job's task once", func(t *testing.T) {
		// The input as the template's schedule gives it, with Scheduler's
		// placeholders filled as Scheduler fills them.
		input := w.scheduleInput(t, deploy.ScheduleName(motoPrefix, "nightly-report", 0))
		fill := strings.NewReplacer(deploy.SchedulerScheduledTime, "2026-11-22T02:00:00Z",
			deploy.SchedulerScheduleArn, "arn:aws:scheduler:"+motoRegion+":"+motoAccount+":schedule/longshore/longshore-nightly-report-0",
			deploy.SchedulerExecutionID, "moto-exec-1")
		var first, again handler.LaunchResult
		w.launcher.ok([]byte(fill.Replace(input)), &first)
		w.launcher.ok([]byte(fill.Replace(input)), &again)
		if len(first.Runs) != 1 || len(again.Runs) != 1 || again.Runs[0].ID != first.Runs[0].ID || !again.Runs[0].Duplicate {
			t.Fatalf("first %+v, again %+v", first, again)
		}
		id := first.Runs[0].ID
		ids["scheduled"] = id
		task := w.task(t, id)
		if env := taskEnv(task); env["LONGSHORE_TRIGGER"] != "schedule" || env["LONGSHORE_SCHEDULED_TIME"] != "2026-11-22T02:00:00Z" {
			t.Errorf("container overrides %v", env)
		}
		if !strings.Contains(aws.ToString(task.TaskDefinitionArn), ":task-definition/"+deploy.TaskFamily(motoPrefix, "nightly-report")+":") {
			t.Errorf("task definition %s", aws.ToString(task.TaskDefinitionArn))
		}
	})

	t.Run("a message on the job's queue starts its task", func(t *testing.T) {
		queueURL := w.stack.atts[w.queueID(t, deploy.QueueName(motoPrefix, "orders"))+".QueueUrl"]
		ctx := context.Background()
		if _, err := w.m.sqs.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(queueURL), MessageBody: aws.String(`{"order": 1042}`)}); err != nil {
			t.Fatal(err)
		}
		// What Lambda's event source mapping of the template would hand the
		// launcher: the messages received, as SQS records.
		got, err := w.m.sqs.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(queueURL), MaxNumberOfMessages: 10,
			MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameAll}})
		if err != nil || len(got.Messages) != 1 {
			t.Fatalf("ReceiveMessage: %v, %d messages", err, len(got.Messages))
		}
		msg := got.Messages[0]
		var resp struct {
			Failures []any `json:"batchItemFailures"`
		}
		w.launcher.ok(sqsEvent(msg, w.stack.atts[w.queueID(t, deploy.QueueName(motoPrefix, "orders"))+".Arn"]), &resp)
		if len(resp.Failures) != 0 {
			t.Fatalf("batchItemFailures %v", resp.Failures)
		}
		runs, _, err := w.store.List(ctx, dispatch.Query{Job: "orders"})
		if err != nil || len(runs) != 1 {
			t.Fatalf("runs of orders: %v, %v", runs, err)
		}
		if env := taskEnv(w.task(t, runs[0].ID)); env["LONGSHORE_SQS_BODY"] != `{"order": 1042}` || env["LONGSHORE_SQS_MESSAGE_ID"] != aws.ToString(msg.MessageId) {
			t.Errorf("container overrides %v", env)
		}
	})

	t.Run("an environment too large for a task is refused when asked: nothing is stored or started", func(t *testing.T) {
		tasks := len(w.rec.ops("RunTask"))
		req, _ := json.Marshal(api.RunRequest{Job: "hello", Env: map[string]string{"BIG": strings.Repeat("z", 9000)}})
		res := w.launcher.invoke(req)
		if !res.failed || res.errorType != handler.ErrorRequest || !strings.Contains(res.errorMessage, "a task takes at most 6144") {
			t.Fatalf("launcher answered %+v, want a request error saying the limit", res)
		}
		if len(w.rec.ops("RunTask")) != tasks {
			t.Errorf("a task was started for a refused request")
		}
	})

	t.Run("a message too large for a run is kept in the payload bucket and given by reference", func(t *testing.T) {
		queueURL := w.stack.atts[w.queueID(t, deploy.QueueName(motoPrefix, "orders"))+".QueueUrl"]
		ctx := context.Background()
		// 200 KiB: moto's queues take 256 KiB (AWS's, 1 MiB since 2025).
		body := strings.Repeat("o", 200<<10)
		if _, err := w.m.sqs.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(queueURL), MessageBody: aws.String(body)}); err != nil {
			t.Fatal(err)
		}
		got, err := w.m.sqs.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(queueURL), MaxNumberOfMessages: 10,
			MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameAll}})
		if err != nil || len(got.Messages) != 1 {
			t.Fatalf("ReceiveMessage: %v, %d messages", err, len(got.Messages))
		}
		msg := got.Messages[0]
		var resp struct {
			Failures []any `json:"batchItemFailures"`
		}
		w.launcher.ok(sqsEvent(msg, w.stack.atts[w.queueID(t, deploy.QueueName(motoPrefix, "orders"))+".Arn"]), &resp)
		if len(resp.Failures) != 0 {
			t.Fatalf("batchItemFailures %v", resp.Failures)
		}
		runs, _, err := w.store.List(ctx, dispatch.Query{Job: "orders"})
		var r run.Run
		for _, got := range runs {
			if got.Trigger.MessageID == aws.ToString(msg.MessageId) {
				r = got
			}
		}
		key := deploy.BodyKey("orders", r.ID)
		if err != nil || r.Trigger.Body != "" || r.Trigger.BodySize != len(body) || r.Trigger.BodyURI != "s3://"+w.payloadBucket+"/"+key {
			t.Fatalf("the message's run: %+v, %v", r.Trigger, err)
		}
		env := taskEnv(w.task(t, r.ID))
		if env["LONGSHORE_SQS_BODY_URI"] != r.Trigger.BodyURI || env["LONGSHORE_SQS_BODY"] != "" {
			t.Errorf("container overrides %v", env)
		}
		obj, err := w.m.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(w.payloadBucket), Key: aws.String(key)})
		if err != nil {
			t.Fatalf("GetObject %s: %v", key, err)
		}
		defer obj.Body.Close()
		if kept, _ := io.ReadAll(obj.Body); string(kept) != body {
			t.Errorf("the kept body has %d bytes, want %d", len(kept), len(body))
		}
	})

	t.Run("the reconciler asks ECS about a run gone quiet and stops one past its job's timeout", func(t *testing.T) {
		quiet := ids["scheduled"] // nightly-report: a 30m timeout, no event so far
		if quiet == "" {
			t.Fatal("no scheduled run: the subtest that makes it failed")
		}
		w.age(t, quiet, 15*time.Minute) // quiet for longer than the reconciler waits
		late := w.launch(t, `{"job": "hello"}`)
		w.age(t, late.ID, 6*time.Minute) // hello's timeout is 5m
		described := len(w.rec.ops("DescribeTasks"))
		var res handler.ReconcileResult
		w.reconciler.ok([]byte(`{"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}`), &res)
		if res.TimedOut != 1 || res.Lost != 0 {
			t.Errorf("reconciled %+v, want one timed out and none lost", res)
		}
		// The quiet run's task was described in ECS, which still runs it
		// (moto gives no start time, so the run stays starting; on AWS it
		// would be running); no second task was started for it.
		quietTask := aws.ToString(w.task(t, quiet).TaskArn)
		asked := false
		for _, c := range w.rec.ops("DescribeTasks")[described:] {
			asked = asked || strings.Contains(string(c.Body), quietTask)
		}
		if got := w.run(t, quiet); !asked || got.TaskRef != quietTask || got.Status.Terminal() {
			t.Errorf("the quiet run: described %v, task %q, %s", asked, got.TaskRef, got.Status)
		}
		if n := len(w.runTasks(t, quiet)); n != 1 {
			t.Errorf("%d RunTask calls for the quiet run, want 1", n)
		}
		// The late run's task was stopped in ECS, saying why.
		task := w.task(t, late.ID)
		if aws.ToString(task.LastStatus) != "STOPPED" || !strings.Contains(aws.ToString(task.StoppedReason), "timeout") {
			t.Errorf("the late task is %s: %q", aws.ToString(task.LastStatus), aws.ToString(task.StoppedReason))
		}
		if got := w.run(t, late.ID); got.StopReq != run.StopTimeout {
			t.Errorf("the late run's stop request is %q", got.StopReq)
		}
		// Its stop event (ECS's UserInitiated, SIGTERM's 143) times the run out.
		if res := w.stopped(t, late.ID, "UserInitiated", 143); res.Status != run.StatusTimedOut {
			t.Errorf("the late run's stop: %+v", res)
		}
	})

	t.Run("run --wait --aws follows the run to its exit code and prints its output's tail", func(t *testing.T) {
		p := w.start(t, "run", "hello", "--env", "EXIT_CODE=4", "--wait", "--aws", "--progress", "plain")
		id, err := p.lines.next(30 * time.Second)
		if err != nil || !run.ValidID(id) {
			t.Fatalf("run --wait printed %q first (%v); stderr:\n%s", id, err, p.stderr.String())
		}
		ids["cli"] = id
		// The task writes its output (the awslogs driver's stream), runs and exits 4.
		task := w.task(t, id)
		w.putLogs(t, "hello", ecs.TaskID(aws.ToString(task.TaskArn)), "hello from Longshore", "hello: exiting with 4")
		w.running(t, id)
		w.exited(t, id, 4)
		code, ok := p.wait(30 * time.Second)
		if !ok {
			t.Fatalf("run --wait did not end within 30s of its run; stderr:\n%s", p.stderr.String())
		}
		var rest []string
		for {
			line, err := p.lines.next(5 * time.Second)
			if err != nil {
				break
			}
			rest = append(rest, line)
		}
		if code != 4 {
			t.Errorf("run --wait exited %d, want the task's 4; stderr:\n%s", code, p.stderr.String())
		}
		if out := strings.Join(rest, "\n"); !strings.Contains(out, "hello: exiting with 4") {
			t.Errorf("run --wait printed no output tail: %q; stderr:\n%s", out, p.stderr.String())
		}
		if !strings.Contains(p.stderr.String(), "exit code 4") {
			t.Errorf("run --wait's progress says nothing of the exit code:\n%s", p.stderr.String())
		}
		if calls := w.lambda.calls(); calls[deploy.FunctionName(motoPrefix, deploy.FunctionLauncher)] == 0 || calls[deploy.FunctionName(motoPrefix, deploy.FunctionAPI)] == 0 {
			t.Errorf("the CLI invoked %v", calls)
		}
	})

	t.Run("runs, runs get and logs --aws read the run from DynamoDB, ECS and CloudWatch Logs", func(t *testing.T) {
		id := ids["cli"]
		if id == "" {
			t.Fatal("no run from the CLI: the subtest that makes it failed")
		}
		var list []api.Run
		w.cliJSON(t, &list, "runs", "--aws", "--json", "--job", "hello")
		var listed *api.Run
		for i := range list {
			if list[i].ID == id {
				listed = &list[i]
			}
		}
		if listed == nil || listed.Status != "failed" || listed.ExitCode == nil || *listed.ExitCode != 4 {
			t.Errorf("runs --aws lists %+v", list)
		}
		var got api.Run
		w.cliJSON(t, &got, "runs", "get", id, "--aws", "--json")
		if got.ID != id || got.Job != "hello" || got.Status != "failed" || got.Cause == nil || *got.Cause != run.CauseExit || got.ExitCode == nil || *got.ExitCode != 4 ||
			got.Trigger.Kind != run.TriggerInvoke || got.StartedAt == nil || got.StoppedAt == nil {
			t.Errorf("runs get --aws: %+v", got)
		}
		logs := w.cli(t, "logs", id, "--aws")
		if logs.code != 0 || logs.stdout != "hello from Longshore\nhello: exiting with 4\n" {
			t.Errorf("logs --aws: %+v", logs)
		}
		// A run whose task wrote nothing: its stream does not exist; the
		// answer is no output, and success.
		if id := ids["failed"]; id != "" {
			if empty := w.cli(t, "logs", id, "--aws"); empty.code != 0 || empty.stdout != "" {
				t.Errorf("logs --aws of a run without output: %+v", empty)
			}
		}
		if nf := w.cli(t, "runs", "get", "r-ffffffffffffffff", "--aws"); nf.code == 0 || !strings.Contains(nf.stderr, "r-ffffffffffffffff") {
			t.Errorf("runs get --aws of an unknown run: %+v", nf)
		}
	})

	t.Run("stop --aws stops the task in ECS, and its stop event cancels the run", func(t *testing.T) {
		started := w.cli(t, "run", "hello", "--aws")
		id := strings.TrimSpace(started.stdout)
		if started.code != 0 || !run.ValidID(id) {
			t.Fatalf("run --aws: %+v", started)
		}
		// moto's running task has no start time: until its RUNNING event,
		// the api function shows the run starting (with a start time AWS
		// would show it running).
		var before api.Run
		w.cliJSON(t, &before, "runs", "get", id, "--aws", "--json")
		if before.Status != "starting" {
			t.Errorf("before any event the run is %s", before.Status)
		}
		w.running(t, id)
		stop := w.cli(t, "stop", id, "--aws")
		if stop.code != 0 || stop.stdout != id+": stopping\n" {
			t.Fatalf("stop --aws: %+v", stop)
		}
		task := w.task(t, id)
		if aws.ToString(task.LastStatus) != "STOPPED" || !strings.Contains(aws.ToString(task.StoppedReason), "stopped on request") {
			t.Errorf("the task is %s: %q", aws.ToString(task.LastStatus), aws.ToString(task.StoppedReason))
		}
		if res := w.stopped(t, id, "UserInitiated", 143); res.Status != run.StatusCancelled {
			t.Errorf("the stop event: %+v", res)
		}
		var after api.Run
		w.cliJSON(t, &after, "runs", "get", id, "--aws", "--json")
		if after.Status != "cancelled" {
			t.Errorf("after its stop the run is %+v", after)
		}
		ids["stopped"] = id
	})

	t.Run("dashboard --aws serves the deployment's jobs and runs on a loopback address", func(t *testing.T) {
		p := w.start(t, "dashboard", "--aws", "--addr", "127.0.0.1:0")
		base, err := p.lines.next(30 * time.Second)
		if err != nil || !strings.HasPrefix(base, "http://127.0.0.1:") {
			t.Fatalf("dashboard --aws printed %q (%v); stderr:\n%s", base, err, p.stderr.String())
		}
		var jobs struct {
			Jobs []api.Job `json:"jobs"`
		}
		getJSON(t, base+"v1/jobs", &jobs)
		names := map[string]*api.Job{}
		for i := range jobs.Jobs {
			names[jobs.Jobs[i].Name] = &jobs.Jobs[i]
		}
		if len(names) != 5 || names["hello"] == nil || names["hello"].LastRun == nil || names["nightly-report"] == nil {
			t.Fatalf("GET /v1/jobs: %+v", jobs)
		}
		if last := names["hello"].LastRun; ids["stopped"] != "" && (last.ID != ids["stopped"] || last.Status != run.StatusCancelled) {
			t.Errorf("hello's last run %+v, want %s cancelled", last, ids["stopped"])
		}
		var runs api.RunList
		getJSON(t, base+"v1/runs", &runs)
		listed := map[string]run.Status{}
		for _, r := range runs.Runs {
			listed[r.ID] = r.Status
		}
		if id := ids["cli"]; id != "" && listed[id] != run.StatusFailed {
			t.Errorf("GET /v1/runs lists %v, want %s failed", listed, id)
		}
		p.cmd.Process.Signal(os.Interrupt)
		if code, ok := p.wait(15 * time.Second); !ok || code != 0 {
			t.Errorf("dashboard --aws after SIGINT: exit %d, stopped %v; stderr:\n%s", code, ok, p.stderr.String())
		}
	})

	t.Run("pause --aws disables the job's schedule in Scheduler and records a paused job's invoke as not started; resume enables it as it was", func(t *testing.T) {
		const reason = "warehouse migration"
		name := deploy.ScheduleName(motoPrefix, "nightly-report", 0)
		launcherName := deploy.FunctionName(motoPrefix, deploy.FunctionLauncher)
		// The schedule as the template made it.
		before := w.schedule(t, name)
		target := before.Target
		if before.State != schedtypes.ScheduleStateEnabled || aws.ToString(before.ScheduleExpression) != "cron(0 3 * * ? *)" ||
			aws.ToString(before.ScheduleExpressionTimezone) != "Europe/Berlin" || before.FlexibleTimeWindow == nil ||
			before.FlexibleTimeWindow.Mode != schedtypes.FlexibleTimeWindowModeOff || target == nil ||
			aws.ToString(target.Arn) != "arn:aws:lambda:"+motoRegion+":"+motoAccount+":function:"+launcherName ||
			aws.ToString(target.RoleArn) == "" || aws.ToString(target.Input) != w.scheduleInput(t, name) ||
			target.RetryPolicy == nil || aws.ToInt32(target.RetryPolicy.MaximumEventAgeInSeconds) != 3600 ||
			aws.ToInt32(target.RetryPolicy.MaximumRetryAttempts) != 185 ||
			target.DeadLetterConfig == nil || !strings.HasPrefix(aws.ToString(target.DeadLetterConfig.Arn), "arn:aws:sqs:") ||
			aws.ToString(before.Description) != "Longshore job nightly-report, triggers[0]" {
			t.Fatalf("the schedule before the pause:\n%s\nstate %s", scheduleFields(before), before.State)
		}
		since := `paused since (\d{4}-\d\d-\d\d )?\d\d:\d\d \(` + regexp.QuoteMeta(reason) + `\)`
		resumed := false
		t.Cleanup(func() {
			// Ended early: the jobs are resumed for the subtests that follow.
			if resumed {
				return
			}
			for _, job := range []string{"nightly-report", "hello"} {
				w.cli(t, "resume", job, "--aws")
			}
		})
		for _, job := range []string{"nightly-report", "hello"} {
			got := w.cli(t, "pause", job, "--reason", reason, "--aws")
			if got.code != 0 || !regexp.MustCompile(`^`+job+`: `+since+`\n$`).MatchString(got.stdout) {
				t.Fatalf("pause %s --aws: %+v", job, got)
			}
		}
		jobs := w.cli(t, "jobs", "--aws")
		for _, line := range strings.Split(jobs.stdout, "\n") {
			job, _, _ := strings.Cut(line, " ")
			paused := job == "nightly-report" || job == "hello"
			if paused != regexp.MustCompile(since).MatchString(line) || !paused && strings.Contains(line, "paused") {
				t.Errorf("jobs --aws while nightly-report and hello are paused:\n%s", jobs.stdout)
				break
			}
		}

		// The reconciler runs once a minute, and an instance trusts a pause
		// state it read for host.PauseCacheTTL (10 s): its next run reads
		// the state afresh. The test cannot move a function's clock on, so
		// each sweep here is a new instance's.
		updates := func() []awsCall { return w.rec.ops(http.MethodPut + " /schedules/" + name) }
		var res handler.ReconcileResult
		w.instance(t, deploy.FunctionReconciler).ok([]byte(`{"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}`), &res)
		if res.SchedulesSwitched != 1 {
			t.Errorf("the reconciler after the pause switched %d schedules, want 1", res.SchedulesSwitched)
		}
		disabled := w.schedule(t, name)
		if disabled.State != schedtypes.ScheduleStateDisabled {
			t.Errorf("after the pause the schedule is %s", disabled.State)
		}
		if got, want := scheduleFields(disabled), scheduleFields(before); got != want {
			t.Errorf("disabling changed the schedule:\n%s\nwant\n%s", got, want)
		}
		// The functions' UpdateSchedule reached moto (AWS_ENDPOINT_URL, the
		// reconciler's Scheduler client too), and moto took it.
		if calls := updates(); len(calls) != 1 || calls[0].Service != "scheduler" || calls[0].Status != http.StatusOK {
			t.Errorf("UpdateSchedule calls of the functions: %+v", calls)
		}

		// A launcher instance that has not read the pause state yet (a warm
		// one trusts what it read for up to 10 s): an invoke of hello, from
		// the CLI, is recorded as a run that did not start, and no task is
		// started; a schedule of nightly-report (one Scheduler sent before
		// the schedule was disabled) starts nothing and records nothing.
		paused := w.instance(t, deploy.FunctionLauncher)
		w.lambda.route(t, launcherName, paused)
		p := w.start(t, "run", "hello", "--wait", "--aws", "--progress", "plain")
		id, err := p.lines.next(30 * time.Second)
		if err != nil || !run.ValidID(id) {
			t.Fatalf("run hello --wait --aws printed %q first (%v); stderr:\n%s", id, err, p.stderr.String())
		}
		code, ok := p.wait(30 * time.Second)
		if want := id + " hello (attempt 1): cancelled: did not start: job paused (" + reason + ")"; !ok || code == 0 ||
			!strings.Contains(p.stderr.String(), want) {
			t.Errorf("run hello --wait --aws of a paused job: exit %d, ended %v; want %q on stderr:\n%s", code, ok, want, p.stderr.String())
		}
		var got api.Run
		w.cliJSON(t, &got, "runs", "get", id, "--aws", "--json")
		if got.Status != "cancelled" || got.Reason != "did not start: job paused ("+reason+")" || got.StartedAt != nil {
			t.Errorf("runs get --aws of the paused invoke: %+v", got)
		}
		if calls := w.runTasks(t, id); len(calls) != 0 {
			t.Errorf("a task was started for a paused job: %+v", calls)
		}
		due := time.Date(2026, 11, 23, 2, 0, 0, 0, time.UTC)
		fill := strings.NewReplacer(deploy.SchedulerScheduledTime, due.Format(time.RFC3339),
			deploy.SchedulerScheduleArn, aws.ToString(before.Arn), deploy.SchedulerExecutionID, "moto-exec-paused")
		var dropped handler.LaunchResult
		paused.ok([]byte(fill.Replace(w.scheduleInput(t, name))), &dropped)
		for _, r := range dropped.Runs {
			if r.ID != "" {
				t.Errorf("a schedule of a paused job made run %+v", r)
			}
		}
		runs, _, err := w.store.List(context.Background(), dispatch.Query{Job: "nightly-report"})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range runs {
			if r.Trigger.ScheduledTime != nil && r.Trigger.ScheduledTime.Equal(due) {
				t.Errorf("the schedule of the paused job was recorded: %+v", r)
			}
		}

		for _, job := range []string{"nightly-report", "hello"} {
			if got := w.cli(t, "resume", job, "--aws"); got.code != 0 || got.stdout != job+": active\n" {
				t.Fatalf("resume %s --aws: %+v", job, got)
			}
		}
		resumed = true
		if jobs := w.cli(t, "jobs", "--aws"); jobs.code != 0 || strings.Contains(jobs.stdout, "paused") {
			t.Errorf("jobs --aws after the resume: %+v", jobs)
		}
		res = handler.ReconcileResult{}
		w.instance(t, deploy.FunctionReconciler).ok([]byte(`{"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}`), &res)
		if res.SchedulesSwitched != 1 {
			t.Errorf("the reconciler after the resume switched %d schedules, want 1", res.SchedulesSwitched)
		}
		enabled := w.schedule(t, name)
		if enabled.State != schedtypes.ScheduleStateEnabled {
			t.Errorf("after the resume the schedule is %s", enabled.State)
		}
		if got, want := scheduleFields(enabled), scheduleFields(before); got != want {
			t.Errorf("enabling changed the schedule:\n%s\nwant\n%s", got, want)
		}
		if calls := updates(); len(calls) != 2 || calls[1].Status != http.StatusOK {
			t.Errorf("UpdateSchedule calls of the functions: %+v", calls)
		}
		// Resumed, hello's invokes start tasks again (on an instance that
		// read the state after the resume).
		w.lambda.route(t, launcherName, w.instance(t, deploy.FunctionLauncher))
		started := w.cli(t, "run", "hello", "--aws")
		again := strings.TrimSpace(started.stdout)
		if started.code != 0 || !run.ValidID(again) {
			t.Fatalf("run hello --aws after the resume: %+v", started)
		}
		if r := w.run(t, again); r.Status != run.StatusStarting || len(w.runTasks(t, again)) != 1 {
			t.Errorf("hello's run after the resume is %s, with %d RunTask calls", r.Status, len(w.runTasks(t, again)))
		}
	})

	t.Run("the STOPPED events passed the template's tracking rule, and only they", func(t *testing.T) {
		// Every event was put on the default bus; the rule delivers only
		// this cluster's STOPPED ones.
		bodies := w.tracked.bodies(t)
		if len(bodies) == 0 {
			t.Fatal("no event passed the rule")
		}
		for _, b := range bodies {
			var ev ecs.TaskStateChange
			if err := json.Unmarshal([]byte(b), &ev); err != nil || ev.Detail.LastStatus != "STOPPED" || ev.Detail.ClusterARN != w.cluster {
				t.Errorf("the rule delivered %s (%v)", b, err)
			}
		}
		if puts := w.runningPuts; puts == 0 {
			t.Error("no RUNNING event was put on the bus")
		}
	})

	t.Logf("the moto suite took %s", time.Since(began).Round(100*time.Millisecond))
}

// motoWorld is one deployment in moto with its functions running.
type motoWorld struct {
	t     *testing.T
	m     *motoClients
	stack *motoStack
	rec   *recorder
	store *dynamo.Store
	// names from the template, as created in moto
	table, cluster, payloadBucket string
	subnets, securityGroups       []string
	launcher, tracker, reconciler *function
	lambda                        *lambdaEndpoint
	results, tracked, replies     *messages
	replyURL                      string
	cliEnv                        []string
	// fnEnv is each function's environment, by function name
	// (deploy.FunctionName), for more instances of it (instance).
	fnEnv map[string][]string

	mu          sync.Mutex
	startedAt   map[string]time.Time // run id -> when its task "started"
	runningPuts int                  // RUNNING events put on the bus
}

func newMotoWorld(t *testing.T, endpoint string, tmpl map[string]any) *motoWorld {
	t.Helper()
	ctx := context.Background()
	// The test's own calls go through a proxy of their own (its ECS
	// answers fixed as the functions' are), apart from the functions'.
	m := newMotoClients(newRecorder(t, endpoint).url)
	m.holdTasks(t, endpoint)
	stack := newMotoStack(t, m, tmpl)
	stack.create()
	w := &motoWorld{t: t, m: m, stack: stack, rec: newRecorder(t, endpoint), startedAt: map[string]time.Time{}, fnEnv: map[string][]string{}}

	launcherEnv := stack.functionEnv[deploy.FunctionName(motoPrefix, deploy.FunctionLauncher)]
	w.table, w.cluster, w.payloadBucket = launcherEnv[deploy.EnvRunsTable], launcherEnv[deploy.EnvCluster], launcherEnv[deploy.EnvPayloadBucket]
	w.subnets = strings.Split(launcherEnv[deploy.EnvSubnets], ",")
	w.securityGroups = strings.Split(launcherEnv[deploy.EnvSecurityGroups], ",")
	if w.table == "" || !strings.HasPrefix(w.cluster, "arn:aws:ecs:") || w.payloadBucket == "" {
		t.Fatalf("the launcher's environment in the template: %v", launcherEnv)
	}
	w.store = runsStore(m, w.table)

	// The results bus's rule (the template sends it to a log group) with an
	// SQS target, to receive what the functions publish.
	pattern, bus := stack.rule(deploy.ResultSource)
	if bus != deploy.EventBusName(motoPrefix) || bus != launcherEnv[deploy.EnvEventBus] {
		t.Fatalf("the results rule is on bus %q; the functions publish on %q", bus, launcherEnv[deploy.EnvEventBus])
	}
	url, arn := m.queue(t, "ci-results", nil)
	m.ruleToQueue(t, "ci-results-to-queue", bus, pattern, arn)
	w.results = &messages{m: m, url: url}
	// The tracking rule (on the default bus, to the tracker) with an SQS
	// target: the STOPPED events the test builds pass through it.
	pattern, bus = stack.rule(ecs.EventSource)
	if bus != "" {
		t.Fatalf("the tracking rule is on bus %q, want the default bus", bus)
	}
	url, arn = m.queue(t, "ci-task-changes", nil)
	m.ruleToQueue(t, "ci-task-changes-to-queue", "", pattern, arn)
	w.tracked = &messages{m: m, url: url}
	// A caller's reply queue, named as the functions' permissions allow.
	w.replyURL, _ = m.queue(t, deploy.ReplyQueuePrefix(motoPrefix)+"ci", nil)
	w.replies = &messages{m: m, url: w.replyURL}
	// A caller's state machine that waits for a task token (named as the
	// functions' permissions allow). moto does not run it; SendTaskSuccess
	// and SendTaskFailure accept any token.
	definition := `{"StartAt": "Run", "States": {"Run": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",` +
		`"Parameters": {"FunctionName": "` + deploy.FunctionName(motoPrefix, deploy.FunctionLauncher) + `", "Payload": {"job": "hello",` +
		`"callback": {"kind": "task-token", "token.$": "$$.Task.Token"}}}, "End": true}}}`
	if _, err := m.sfn.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String(deploy.CallbackStateMachinePrefix(motoPrefix) + "ci-callback"),
		Definition: aws.String(definition), RoleArn: aws.String("arn:aws:iam::" + motoAccount + ":role/ci-callback")}); err != nil {
		t.Fatalf("CreateStateMachine: %v", err)
	}

	// The functions, with the environment the template gives each; their
	// catalog is the repository's jobs folder (the catalog layer's
	// /opt/longshore/jobs on Lambda).
	fns := map[string]*function{}
	for _, fn := range []string{deploy.FunctionLauncher, deploy.FunctionTracker, deploy.FunctionReconciler, deploy.FunctionAPI} {
		name := deploy.FunctionName(motoPrefix, fn)
		tmplEnv, ok := stack.functionEnv[name]
		if !ok {
			t.Fatalf("no function %s in the template", name)
		}
		if tmplEnv[deploy.EnvCatalog] != deploy.CatalogDir {
			t.Errorf("%s's %s is %q, want the catalog layer's %s", name, deploy.EnvCatalog, tmplEnv[deploy.EnvCatalog], deploy.CatalogDir)
		}
		env := []string{"AWS_REGION=" + motoRegion, "AWS_ACCESS_KEY_ID=" + motoKeyID, "AWS_SECRET_ACCESS_KEY=" + motoSecret,
			"AWS_SESSION_TOKEN=moto", "AWS_ENDPOINT_URL=" + w.rec.url}
		for k, v := range tmplEnv {
			if k == deploy.EnvCatalog {
				v = catalogDir(t)
			}
			env = append(env, k+"="+v)
		}
		w.fnEnv[name] = slices.Clip(env)
		fns[name] = startFunction(t, fn, lambdaBinary(t, fn), w.fnEnv[name])
	}
	w.launcher = fns[deploy.FunctionName(motoPrefix, deploy.FunctionLauncher)]
	w.tracker = fns[deploy.FunctionName(motoPrefix, deploy.FunctionTracker)]
	w.reconciler = fns[deploy.FunctionName(motoPrefix, deploy.FunctionReconciler)]
	w.lambda = newLambdaEndpoint(t, fns)

	// The CLI: Lambda at the local endpoint, everything else at moto (it
	// calls nothing else), and no profile of this machine's.
	empty := filepath.Join(t.TempDir(), "none")
	w.cliEnv = []string{"AWS_REGION=" + motoRegion, "AWS_ACCESS_KEY_ID=" + motoKeyID, "AWS_SECRET_ACCESS_KEY=" + motoSecret,
		"AWS_SESSION_TOKEN=", "AWS_PROFILE=", "AWS_CONFIG_FILE=" + empty, "AWS_SHARED_CREDENTIALS_FILE=" + empty,
		"AWS_EC2_METADATA_DISABLED=true", "AWS_ENDPOINT_URL=" + endpoint, "AWS_ENDPOINT_URL_LAMBDA=" + w.lambda.url,
		"LONGSHORE_PREFIX=" + motoPrefix, "LONGSHORE_ENDPOINT="}
	return w
}

// instance starts another instance of a function (deploy.FunctionLauncher,
// ...), as Lambda does for a cold start: a new process with the
// environment of the first, and nothing in its memory. It is stopped when
// the test ends.
func (w *motoWorld) instance(t *testing.T, fn string) *function {
	t.Helper()
	env, ok := w.fnEnv[deploy.FunctionName(motoPrefix, fn)]
	if !ok {
		t.Fatalf("no function %s", fn)
	}
	return startFunction(t, fn, lambdaBinary(t, fn), env)
}

// launch invokes the launcher directly (api.RunRequest).
func (w *motoWorld) launch(t *testing.T, req string) api.RunResponse {
	t.Helper()
	var resp api.RunResponse
	w.launcher.ok([]byte(req), &resp)
	if !run.ValidID(resp.ID) {
		t.Fatalf("launcher answered %+v to %s", resp, req)
	}
	return resp
}

// run reads a run from the runs table in moto.
func (w *motoWorld) run(t *testing.T, id string) run.Run {
	t.Helper()
	r, err := w.store.Get(context.Background(), id)
	if err != nil {
		t.Fatalf("get run %s: %v", id, err)
	}
	return r
}

// age moves a run's times back, as if it had been started long ago.
func (w *motoWorld) age(t *testing.T, id string, by time.Duration) {
	t.Helper()
	r := w.run(t, id)
	r.CreatedAt, r.UpdatedAt = r.CreatedAt.Add(-by), r.UpdatedAt.Add(-by)
	if _, err := w.store.Update(context.Background(), r); err != nil {
		t.Fatal(err)
	}
}

// task is the one task of a run in moto's ECS, found by its startedBy and
// described with its tags.
func (w *motoWorld) task(t *testing.T, runID string) ecstypes.Task {
	t.Helper()
	ctx := context.Background()
	var arns []string
	for _, status := range []ecstypes.DesiredStatus{ecstypes.DesiredStatusRunning, ecstypes.DesiredStatusStopped} {
		out, err := w.m.ecs.ListTasks(ctx, &awsecs.ListTasksInput{Cluster: aws.String(w.cluster), StartedBy: aws.String(ecs.StartedBy(runID)),
			DesiredStatus: status})
		if err != nil {
			t.Fatalf("ListTasks: %v", err)
		}
		for _, a := range out.TaskArns {
			if !slices.Contains(arns, a) {
				arns = append(arns, a)
			}
		}
	}
	if len(arns) != 1 {
		t.Fatalf("tasks of run %s in ECS: %v, want one", runID, arns)
	}
	out, err := w.m.ecs.DescribeTasks(ctx, &awsecs.DescribeTasksInput{Cluster: aws.String(w.cluster), Tasks: arns,
		Include: []ecstypes.TaskField{ecstypes.TaskFieldTags}})
	if err != nil || len(out.Tasks) != 1 {
		t.Fatalf("DescribeTasks %v: %v, %+v", arns, err, out)
	}
	return out.Tasks[0]
}

// runTasks are the RunTask calls the functions made for a run.
func (w *motoWorld) runTasks(t *testing.T, runID string) []awsCall {
	t.Helper()
	var out []awsCall
	for _, c := range w.rec.ops("RunTask") {
		if c.json(t)["clientToken"] == runID {
			out = append(out, c)
		}
	}
	return out
}

// putEvent puts a task state change on moto's default bus, where the
// template's tracking rule (to its queue here) matches the STOPPED ones.
func (w *motoWorld) putEvent(t *testing.T, ev ecs.TaskStateChange) {
	t.Helper()
	detail, _ := json.Marshal(ev.Detail)
	out, err := w.m.events.PutEvents(context.Background(), &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{{
		Source: aws.String(ev.Source), DetailType: aws.String(ev.DetailType), Detail: aws.String(string(detail)),
		Resources: ev.Resources, Time: aws.Time(ev.Time),
	}}})
	if err != nil || out.FailedEntryCount != 0 {
		t.Fatalf("PutEvents: %v, %+v", err, out)
	}
}

// track hands an event to the tracker.
func (w *motoWorld) track(t *testing.T, event []byte) handler.TrackResult {
	t.Helper()
	var res handler.TrackResult
	w.tracker.ok(event, &res)
	return res
}

// running tells the tracker the run's task is running, as ECS would (with
// moto's task). The template's rule delivers only STOPPED events to the
// tracker; the RUNNING one is handed to it directly, as a rule without that
// filter would, and put on the bus to show the rule leaves it out.
func (w *motoWorld) running(t *testing.T, runID string) handler.TrackResult {
	t.Helper()
	started := time.Now().Add(-time.Second)
	w.mu.Lock()
	w.startedAt[runID] = started
	w.runningPuts++
	w.mu.Unlock()
	task := w.task(t, runID)
	if aws.ToString(task.LastStatus) != "RUNNING" {
		t.Fatalf("the task of run %s is %s in moto, not running", runID, aws.ToString(task.LastStatus))
	}
	ev := taskEvent(task, taskSim{version: 2, startedAt: started})
	w.putEvent(t, ev)
	b, _ := json.Marshal(ev)
	return w.track(t, b)
}

// exited stops the run's task in moto as its essential container's exit
// would (StopTask is the only way moto has to stop a task), and hands the
// STOPPED event, passed through the tracking rule, to the tracker.
func (w *motoWorld) exited(t *testing.T, runID string, code int) handler.TrackResult {
	t.Helper()
	task := w.task(t, runID)
	if _, err := w.m.ecs.StopTask(context.Background(), &awsecs.StopTaskInput{Cluster: aws.String(w.cluster), Task: task.TaskArn,
		Reason: aws.String("Essential container in task exited")}); err != nil {
		t.Fatalf("StopTask: %v", err)
	}
	return w.stopped(t, runID, "EssentialContainerExited", code)
}

// stopped hands the tracker the STOPPED event of the run's task, already
// stopped in moto, with the stop code and exit code ECS would give.
func (w *motoWorld) stopped(t *testing.T, runID, stopCode string, code int) handler.TrackResult {
	t.Helper()
	task := w.task(t, runID)
	if aws.ToString(task.LastStatus) != "STOPPED" {
		t.Fatalf("the task of run %s is %s in moto, not stopped", runID, aws.ToString(task.LastStatus))
	}
	w.mu.Lock()
	started := w.startedAt[runID]
	w.mu.Unlock()
	w.putEvent(t, taskEvent(task, taskSim{version: 4, startedAt: started, stopCode: stopCode, exitCode: &code}))
	return w.track(t, w.tracked.last(t, runID))
}

// last is the event of a run's task that the tracking rule delivered to
// its queue (each run's task stops once here).
func (q *messages) last(t *testing.T, runID string) []byte {
	t.Helper()
	return []byte(q.find(t, "event of run "+runID+" through the tracking rule", func(b string) bool {
		var ev ecs.TaskStateChange
		return json.Unmarshal([]byte(b), &ev) == nil && ev.RunID() == runID
	}))
}

// bodies is every message seen so far.
func (q *messages) bodies(t *testing.T) []string { return q.receive(t, 0) }

// resultEvent is the event of a run's result as the results rule's target
// received it.
func (w *motoWorld) resultEvent(t *testing.T, id string) map[string]any {
	t.Helper()
	var ev map[string]any
	json.Unmarshal([]byte(w.results.find(t, "result event of run "+id, func(b string) bool {
		var ev map[string]any
		return json.Unmarshal([]byte(b), &ev) == nil && deepGet(ev, "detail", "id") == id
	})), &ev)
	return ev
}

// scheduleInput is the Target.Input of a schedule of the template.
func (w *motoWorld) scheduleInput(t *testing.T, name string) string {
	t.Helper()
	for _, id := range w.stack.ofType("AWS::Scheduler::Schedule") {
		p := w.stack.resources[id].Properties
		if p["Name"] == name {
			if in, ok := deepGet(p, "Target", "Input").(string); ok {
				return in
			}
		}
	}
	t.Fatalf("no schedule %s with an input in the template", name)
	return ""
}

// schedule reads a schedule of the deployment (in its group) from moto's
// Scheduler.
func (w *motoWorld) schedule(t *testing.T, name string) *scheduler.GetScheduleOutput {
	t.Helper()
	out, err := w.m.sched.GetSchedule(context.Background(), &scheduler.GetScheduleInput{Name: aws.String(name),
		GroupName: aws.String(deploy.ScheduleGroupName(motoPrefix))})
	if err != nil {
		t.Fatalf("GetSchedule %s: %v", name, err)
	}
	return out
}

// scheduleFields is a schedule as JSON less its state and the time of its
// last change: what disabling or enabling it leaves as it was.
func scheduleFields(s *scheduler.GetScheduleOutput) string {
	c := *s
	c.State, c.LastModificationDate = "", nil
	b, _ := json.MarshalIndent(c, "", "  ")
	return string(b)
}

// queueID is the logical id of the template's queue of that name.
func (w *motoWorld) queueID(t *testing.T, name string) string {
	t.Helper()
	for _, id := range w.stack.ofType("AWS::SQS::Queue") {
		if w.stack.atts[id+".QueueName"] == name {
			return id
		}
	}
	t.Fatalf("no queue %s in the template", name)
	return ""
}

// putLogs writes a task's output to its job's log group, as the awslogs
// driver does (stream prefix "run", container "app").
func (w *motoWorld) putLogs(t *testing.T, job, taskID string, lines ...string) {
	t.Helper()
	ctx := context.Background()
	group, stream := deploy.LogGroup(motoPrefix, job), deploy.LogStream(taskID)
	if _, err := w.m.logs.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String(group), LogStreamName: aws.String(stream)}); err != nil {
		t.Fatalf("CreateLogStream %s %s: %v", group, stream, err)
	}
	now := time.Now().UnixMilli()
	var events []logtypes.InputLogEvent
	for i, l := range lines {
		events = append(events, logtypes.InputLogEvent{Message: aws.String(l), Timestamp: aws.Int64(now + int64(i))})
	}
	if _, err := w.m.logs.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String(group), LogStreamName: aws.String(stream),
		LogEvents: events}); err != nil {
		t.Fatalf("PutLogEvents: %v", err)
	}
}

// cliProcess is the CLI running in the background.
type cliProcess struct {
	cmd    *exec.Cmd
	lines  *lineReader // its stdout
	stderr *lockedBuffer
	exited chan struct{}
}

// start starts the CLI against the deployment; it is killed when the test
// ends.
func (w *motoWorld) start(t *testing.T, args ...string) *cliProcess {
	t.Helper()
	p := &cliProcess{cmd: exec.Command(longshore, args...), stderr: &lockedBuffer{}, exited: make(chan struct{})}
	p.cmd.Env = append(os.Environ(), w.cliEnv...)
	// Through an io.Pipe, so that Wait returns once all of stdout is read.
	out, in := io.Pipe()
	p.cmd.Stdout, p.cmd.Stderr = in, p.stderr
	p.lines = newLineReader(out)
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.cmd.Wait()
		in.Close()
		close(p.exited)
	}()
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.exited
	})
	return p
}

// wait waits for the process to exit and returns its exit code, or false
// when it has not exited within d.
func (p *cliProcess) wait(d time.Duration) (int, bool) {
	select {
	case <-p.exited:
		return p.cmd.ProcessState.ExitCode(), true
	case <-time.After(d):
		return 0, false
	}
}

// cli runs the CLI against the deployment.
func (w *motoWorld) cli(t *testing.T, args ...string) result {
	t.Helper()
	return cliIn(t, "", w.cliEnv, args...)
}

// cliJSON runs the CLI and decodes what it printed.
func (w *motoWorld) cliJSON(t *testing.T, out any, args ...string) {
	t.Helper()
	got := w.cli(t, args...)
	if got.code != 0 {
		t.Fatalf("longshore %s: %+v", strings.Join(args, " "), got)
	}
	if err := json.Unmarshal([]byte(got.stdout), out); err != nil {
		t.Fatalf("longshore %s printed %q: %v", strings.Join(args, " "), got.stdout, err)
	}
}

func getJSON(t *testing.T, url string, out any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
}

// taskEnv is the environment RunTask gave the task's essential container.
func taskEnv(task ecstypes.Task) map[string]string {
	out := map[string]string{}
	if task.Overrides == nil {
		return out
	}
	for _, co := range task.Overrides.ContainerOverrides {
		if aws.ToString(co.Name) != deploy.EssentialContainer {
			continue
		}
		for _, kv := range co.Environment {
			out[aws.ToString(kv.Name)] = aws.ToString(kv.Value)
		}
	}
	return out
}

// attachmentDetail is a detail of the task's network interface.
func attachmentDetail(task ecstypes.Task, name string) string {
	for _, a := range task.Attachments {
		for _, d := range a.Details {
			if aws.ToString(d.Name) == name {
				return aws.ToString(d.Value)
			}
		}
	}
	return ""
}

// sqsEvent is the event Lambda's SQS event source mapping delivers for a
// message received from the queue at arn.
func sqsEvent(msg sqstypes.Message, arn string) []byte {
	attrs := map[string]string{}
	for k, v := range msg.Attributes {
		attrs[k] = v
	}
	ev := map[string]any{"Records": []any{map[string]any{
		"messageId": aws.ToString(msg.MessageId), "receiptHandle": aws.ToString(msg.ReceiptHandle), "body": aws.ToString(msg.Body),
		"attributes": attrs, "messageAttributes": map[string]any{}, "md5OfBody": aws.ToString(msg.MD5OfBody),
		"eventSource": "aws:sqs", "eventSourceARN": arn, "awsRegion": motoRegion,
	}}}
	b, _ := json.Marshal(ev)
	return b
}
