package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/longshore/longshore/internal/api"
	"github.com/longshore/longshore/internal/aws/dynamo"
	"github.com/longshore/longshore/internal/aws/dynamo/dynamotest"
	"github.com/longshore/longshore/internal/aws/handler"
	"github.com/longshore/longshore/internal/deploy"
	"github.com/longshore/longshore/internal/dispatch"
	"github.com/longshore/longshore/internal/run"
	"github.com/longshore/longshore/internal/testsupport/awsfake"
)

// The Lambda functions run here as the real binaries, built for this
// machine, under a fake Lambda Runtime API (lambda_runtime_test.go), with
// DynamoDB served by dynalite and ECS, EventBridge, SQS, Step Functions,
// CloudWatch Logs and S3 by awsfake, which checks every wire request.

// fixtures are the sample AWS events (copied from the shared fixtures).
const fixtures = "../internal/aws/handler/testdata"

const (
	lambdaCluster = "arn:aws:ecs:us-east-1:111122223333:cluster/longshore"
	lambdaUploads = "longshore-uploads-111122223333"
	lambdaPayload = "longshore-payloads-111122223333"
	lambdaBus     = "longshore-results"
)

var (
	lambdaOnce sync.Once
	lambdaDir  string
	lambdaErr  error
)

// lambdaBinary builds the four functions once (for this machine, with the
// tags of `make build`) and returns the path of one.
func lambdaBinary(t *testing.T, name string) string {
	t.Helper()
	lambdaOnce.Do(func() {
		lambdaDir, lambdaErr = os.MkdirTemp("", "longshore-lambda-")
		if lambdaErr != nil {
			return
		}
		for _, fn := range []string{"launcher", "tracker", "reconciler", "api"} {
			cmd := exec.Command("go", "build", "-tags", "lambda.norpc", "-trimpath", "-o", filepath.Join(lambdaDir, fn), "../functions/"+fn)
			cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
			if out, err := cmd.CombinedOutput(); err != nil {
				lambdaErr = fmt.Errorf("build %s: %v\n%s", fn, err, out)
				return
			}
		}
	})
	if lambdaErr != nil {
		t.Fatal(lambdaErr)
	}
	return filepath.Join(lambdaDir, name)
}

// deployment is what the functions of one test share: the runs table in
// dynalite, the fake AWS services, and the environment the CDK app would
// give them.
type deployment struct {
	t     *testing.T
	aws   *awsfake.Server
	store *dynamo.Store
	env   []string
	// dynamo counts the functions' DynamoDB calls by operation.
	dynamo *callCounter
}

// callCounter passes requests on to a server and counts them by their
// X-Amz-Target operation.
type callCounter struct {
	proxy *httputil.ReverseProxy
	mu    sync.Mutex
	calls map[string]int
}

func (c *callCounter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	op := r.Header.Get("X-Amz-Target")
	op = op[strings.LastIndexByte(op, '.')+1:]
	c.mu.Lock()
	c.calls[op]++
	c.mu.Unlock()
	c.proxy.ServeHTTP(w, r)
}

// take returns the counts so far and starts again from zero.
func (c *callCounter) take() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.calls
	c.calls = map[string]int{}
	return out
}

func newDeployment(t *testing.T) *deployment {
	t.Helper()
	endpoint := dynamotest.Start(t)
	client := dynamotest.Client(endpoint)
	table := dynamotest.CreateTable(t, client)
	fake := awsfake.New(t)
	target, err := url.Parse(endpoint)
	if err != nil {
		t.Fatal(err)
	}
	counter := &callCounter{proxy: httputil.NewSingleHostReverseProxy(target), calls: map[string]int{}}
	counted := httptest.NewServer(counter)
	t.Cleanup(counted.Close)
	return &deployment{t: t, aws: fake, dynamo: counter, store: dynamo.New(client, dynamo.Options{Table: table}), env: []string{
		"AWS_REGION=us-east-1",
		"AWS_ACCESS_KEY_ID=" + awsfake.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY=" + awsfake.SecretAccessKey,
		"AWS_SESSION_TOKEN=token",
		"AWS_ENDPOINT_URL=" + fake.URL,
		"AWS_ENDPOINT_URL_DYNAMODB=" + counted.URL,
		deploy.EnvPrefix + "=longshore",
		deploy.EnvCluster + "=" + lambdaCluster,
		deploy.EnvSubnets + "=subnet-0a1b2c3d4e5f60001,subnet-0a1b2c3d4e5f60002",
		deploy.EnvSecurityGroups + "=sg-0123456789abcdef0",
		deploy.EnvAssignPublicIP + "=false",
		deploy.EnvRunsTable + "=" + table,
		deploy.EnvEventBus + "=" + lambdaBus,
		deploy.EnvPayloadBucket + "=" + lambdaPayload,
		deploy.EnvUploadsBucket + "=" + lambdaUploads,
		// The catalog as a deployment ships it (the catalog layer): job files in a folder.
		deploy.EnvCatalog + "=" + catalogDir(t),
	}}
}

// catalogDir is the example catalog as the functions read it.
func catalogDir(t *testing.T) string {
	dir, err := filepath.Abs(filepath.Join("..", "jobs"))
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

func (d *deployment) start(name string) *function {
	d.t.Helper()
	return startFunction(d.t, name, lambdaBinary(d.t, name), d.env)
}

func (d *deployment) run(id string) run.Run {
	d.t.Helper()
	r, err := d.store.Get(context.Background(), id)
	if err != nil {
		d.t.Fatalf("get run %s from DynamoDB: %v", id, err)
	}
	return r
}

// runTask returns the RunTask request that started a run.
func (d *deployment) runTask(id string) awsfake.Call {
	d.t.Helper()
	for _, c := range d.aws.Calls("RunTask") {
		if c.Body["clientToken"] == id {
			return c
		}
	}
	d.t.Fatalf("no RunTask with client token %s", id)
	return awsfake.Call{}
}

// fixtureEvent reads a fixture, lets edit change it, and encodes it again.
func fixtureEvent(t *testing.T, name string, edit func(ev map[string]any)) []byte {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(fixtures, name))
	if err != nil {
		t.Fatal(err)
	}
	var ev map[string]any
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(ev)
	}
	b, _ := json.Marshal(ev)
	return b
}

// taskEvent is an ECS fixture about the task of run r: the task RunTask
// started for it (the run records its task only from the task's events).
func (d *deployment) taskEvent(name string, r run.Run) []byte {
	task, ok := d.aws.Task(r.ID)
	if !ok {
		d.t.Fatalf("no task was started for run %s", r.ID)
	}
	return fixtureEvent(d.t, name, func(ev map[string]any) {
		detail := ev["detail"].(map[string]any)
		detail["startedBy"], detail["taskArn"], detail["clusterArn"] = "longshore:"+r.ID, task, lambdaCluster
		ev["resources"] = []any{task}
	})
}

func envOverrides(c awsfake.Call) map[string]string {
	out := map[string]string{}
	list, _ := awsfake.Dig(c.Body, "overrides", "containerOverrides", 0, "environment").([]any)
	for _, e := range list {
		kv := e.(map[string]any)
		out[kv["name"].(string)] = kv["value"].(string)
	}
	return out
}

func TestLambdaLauncherTurnsEveryTriggerIntoOneTask(t *testing.T) {
	d := newDeployment(t)
	launcher := d.start("launcher")

	t.Run("a schedule starts its job's task once, however often Scheduler delivers it", func(t *testing.T) {
		payload, _ := json.Marshal(deploy.SchedulePayload{Job: "nightly-report", ScheduledTime: "2026-11-22T02:00:00Z",
			ScheduleArn: "arn:aws:scheduler:us-east-1:111122223333:schedule/longshore/longshore-nightly-report-0", ExecutionID: "e1"})
		var first, again handler.LaunchResult
		launcher.ok(payload, &first)
		launcher.ok(payload, &again)
		if len(first.Runs) != 1 || len(again.Runs) != 1 || again.Runs[0].ID != first.Runs[0].ID || !again.Runs[0].Duplicate {
			t.Fatalf("first %+v, again %+v", first, again)
		}
		id := first.Runs[0].ID
		c := d.runTask(id)
		for k, want := range map[string]any{"cluster": lambdaCluster, "taskDefinition": "longshore-nightly-report",
			"launchType": "FARGATE", "startedBy": "longshore:" + id} {
			if c.Body[k] != want {
				t.Errorf("RunTask %s = %v, want %v", k, c.Body[k], want)
			}
		}
		if got := fmt.Sprint(awsfake.Dig(c.Body, "networkConfiguration", "awsvpcConfiguration", "subnets")); got != "[subnet-0a1b2c3d4e5f60001 subnet-0a1b2c3d4e5f60002]" {
			t.Errorf("subnets %s", got)
		}
		env := envOverrides(c)
		if env["LONGSHORE_SCHEDULED_TIME"] != "2026-11-22T02:00:00Z" || env["LONGSHORE_TRIGGER"] != "schedule" {
			t.Errorf("overrides %v", env)
		}
		if _, secret := env["DB_PASSWORD"]; secret {
			t.Error("a secret is in the overrides")
		}
		if n := len(d.aws.Calls("RunTask")); n != 1 {
			t.Errorf("%d RunTask calls, want 1", n)
		}
		r := d.run(id)
		if r.Status != run.StatusStarting || r.Key != "nightly-report/schedule/2026-11-22T02:00Z" {
			t.Errorf("stored run %s key %q", r.Status, r.Key)
		}
	})

	t.Run("an upload starts a Spot task of the job whose prefix and suffix match", func(t *testing.T) {
		ev := fixtureEvent(t, "s3-object-created-eventbridge.json", func(ev map[string]any) {
			ev["detail"].(map[string]any)["object"].(map[string]any)["key"] = "incoming/2026-11-22T10:01:02 cat.jpg"
		})
		var res handler.LaunchResult
		launcher.ok(ev, &res)
		if len(res.Runs) != 1 || res.Runs[0].Job != "thumbnail" {
			t.Fatalf("launched %+v", res)
		}
		c := d.runTask(res.Runs[0].ID)
		if fmt.Sprint(c.Body["capacityProviderStrategy"]) != "[map[capacityProvider:FARGATE_SPOT weight:1]]" {
			t.Errorf("strategy %v", c.Body["capacityProviderStrategy"])
		}
		if env := envOverrides(c); env["LONGSHORE_S3_KEY"] != "incoming/2026-11-22T10:01:02 cat.jpg" || env["LONGSHORE_S3_BUCKET"] != lambdaUploads {
			t.Errorf("overrides %v", env)
		}
	})

	t.Run("a batch makes one run per message and fails only the message no job reads", func(t *testing.T) {
		batch := fixtureEvent(t, "sqs-batch.json", func(ev map[string]any) {
			for i, rec := range ev["Records"].([]any) {
				arn := "arn:aws:sqs:us-east-1:111122223333:longshore-orders"
				if i == 1 {
					arn = "arn:aws:sqs:us-east-1:111122223333:longshore-nobody"
				}
				rec.(map[string]any)["eventSourceARN"] = arn
			}
		})
		var resp struct {
			Failures []struct {
				ID string `json:"itemIdentifier"`
			} `json:"batchItemFailures"`
		}
		launcher.ok(batch, &resp)
		if len(resp.Failures) != 1 || resp.Failures[0].ID != "059f36b4-87a3-44ab-83d2-661975851281" {
			t.Fatalf("batchItemFailures %+v", resp.Failures)
		}
		page, _, err := d.store.List(context.Background(), dispatch.Query{Job: "orders"})
		if err != nil {
			t.Fatal(err)
		}
		if len(page) != 2 {
			t.Fatalf("%d runs of orders, want 2", len(page))
		}
		bodies := map[string]bool{}
		for _, r := range page {
			bodies[envOverrides(d.runTask(r.ID))["LONGSHORE_SQS_BODY"]] = true
		}
		if !bodies["this is not json"] || !bodies[`{"image": "photos/cat.jpg", "width": 640}`] {
			t.Errorf("task bodies %v", bodies)
		}
	})

	t.Run("a direct invoke answers the run, and the same key is the same run", func(t *testing.T) {
		req := []byte(`{"job": "hello", "env": {"EXIT_CODE": "3"}, "key": "deploy-42"}`)
		var first, again api.RunResponse
		launcher.ok(req, &first)
		launcher.ok(req, &again)
		if first.Job != "hello" || first.Status != run.StatusStarting || first.Duplicate || again.ID != first.ID || !again.Duplicate {
			t.Errorf("first %+v, again %+v", first, again)
		}
		if env := envOverrides(d.runTask(first.ID)); env["EXIT_CODE"] != "3" || env["LONGSHORE_RUN_ID"] != first.ID {
			t.Errorf("overrides %v", env)
		}
	})

	t.Run("an environment too large for ECS's overrides is refused: no run, no task", func(t *testing.T) {
		tasks := len(d.aws.Calls("RunTask"))
		req, _ := json.Marshal(api.RunRequest{Job: "hello", Env: map[string]string{"BIG": strings.Repeat("z", 600_000)}})
		res := launcher.invoke(req)
		if !res.failed || res.errorType != handler.ErrorRequest || !strings.Contains(res.errorMessage, "take 600043 bytes; a task takes at most 6144") {
			t.Errorf("answered %s %q, want a RequestError saying the size and the limit", res.errorType, res.errorMessage)
		}
		if len(d.aws.Calls("RunTask")) != tasks {
			t.Errorf("a task was started")
		}
	})

	t.Run("a message of 600 KiB becomes a run, its body kept in the payload bucket", func(t *testing.T) {
		body := strings.Repeat("o", 600<<10)
		batch := fixtureEvent(t, "sqs-batch.json", func(ev map[string]any) {
			recs := ev["Records"].([]any)
			rec := recs[0].(map[string]any)
			rec["eventSourceARN"] = "arn:aws:sqs:us-east-1:111122223333:longshore-orders"
			rec["messageId"] = "big-message-1"
			rec["body"] = body
			ev["Records"] = []any{rec}
		})
		var resp struct {
			Failures []any `json:"batchItemFailures"`
		}
		launcher.ok(batch, &resp)
		if len(resp.Failures) != 0 {
			t.Fatalf("batchItemFailures %v", resp.Failures)
		}
		page, _, _ := d.store.List(context.Background(), dispatch.Query{Job: "orders"})
		var r run.Run
		for _, got := range page {
			if got.Trigger.MessageID == "big-message-1" {
				r = got
			}
		}
		key := deploy.BodyKey("orders", r.ID)
		if r.Trigger.BodyURI != "s3://"+lambdaPayload+"/"+key || r.Trigger.Body != "" {
			t.Fatalf("run %+v", r.Trigger)
		}
		if env := envOverrides(d.runTask(r.ID)); env["LONGSHORE_SQS_BODY_URI"] != r.Trigger.BodyURI {
			t.Errorf("overrides %v", env)
		}
		if obj, ok := d.aws.Object("/" + lambdaPayload + "/" + key); !ok || string(obj) != body {
			t.Errorf("body object %s: %v, %d bytes", key, ok, len(obj))
		}
	})

	t.Run("a request that can never succeed is a RequestError", func(t *testing.T) {
		for _, payload := range []string{`{"job": "nope"}`, `{"source": "aws.ec2", "detail-type": "x"}`, `[1, 2]`} {
			res := launcher.invoke([]byte(payload))
			if !res.failed || res.errorType != handler.ErrorRequest {
				t.Errorf("%s: answered %+v, want a RequestError", payload, res)
			}
		}
	})
}

func TestLambdaTrackerReportsEachOutcomeOnce(t *testing.T) {
	d := newDeployment(t)
	launcher, tracker := d.start("launcher"), d.start("tracker")
	launch := func(req string) run.Run {
		var resp api.RunResponse
		launcher.ok([]byte(req), &resp)
		return d.run(resp.ID)
	}
	track := func(name string, r run.Run) handler.TrackResult {
		var res handler.TrackResult
		tracker.ok(d.taskEvent(name, r), &res)
		return res
	}

	t.Run("a task that exits 3 fails its run and completes its task token with the exit code", func(t *testing.T) {
		r := launch(`{"job": "hello", "callback": {"kind": "task-token", "token": "token-1"}}`)
		if res := track("ecs-task-running.json", r); !res.Applied || res.Status != run.StatusRunning {
			t.Fatalf("running: %+v", res)
		}
		if res := track("ecs-task-stopped-exit-3.json", r); !res.Applied || res.Status != run.StatusFailed {
			t.Fatalf("stopped: %+v", res)
		}
		got := d.run(r.ID)
		if got.Status != run.StatusFailed || got.Cause != run.CauseExit || got.ExitCode == nil || *got.ExitCode != 3 || !got.Notified {
			t.Errorf("stored run %s %s exit %v notified %v", got.Status, got.Cause, got.ExitCode, got.Notified)
		}
		failures := d.aws.Calls("SendTaskFailure")
		if len(failures) != 1 || failures[0].Body["taskToken"] != "token-1" || failures[0].Body["error"] != "failed/exit" ||
			!strings.Contains(failures[0].Body["cause"].(string), "exited with code 3") {
			t.Errorf("SendTaskFailure %v", failures)
		}
		ev := resultEvent(t, d, r.ID)
		if ev["status"] != "failed" || ev["exitCode"] != float64(3) {
			t.Errorf("result event %v", ev)
		}
		// The stale running event and the stop again arrive late: nothing moves, nothing is sent twice.
		if res := track("ecs-task-running-stale.json", r); res.Applied {
			t.Errorf("a stale event was applied: %+v", res)
		}
		if res := track("ecs-task-stopped-exit-3.json", r); res.Applied {
			t.Errorf("a duplicate stop was applied: %+v", res)
		}
		if n := len(d.aws.Calls("SendTaskFailure")); n != 1 {
			t.Errorf("%d SendTaskFailure, want 1", n)
		}
	})

	t.Run("a task that exits 0 succeeds its run and sends the reply to its queue", func(t *testing.T) {
		queue := "https://sqs.us-east-1.amazonaws.com/111122223333/longshore-reply-ci"
		r := launch(`{"job": "hello", "callback": {"kind": "queue", "target": "` + queue + `"}}`)
		track("ecs-task-stopped-exit-0.json", r)
		var sent []awsfake.Call
		for _, c := range d.aws.Calls("SendMessage") {
			if strings.Contains(c.Body["MessageBody"].(string), r.ID) {
				sent = append(sent, c)
			}
		}
		if len(sent) != 1 || sent[0].Body["QueueUrl"] != queue || !strings.Contains(sent[0].Body["MessageBody"].(string), `"status":"succeeded"`) {
			t.Errorf("SendMessage %v", sent)
		}
	})

	t.Run("a Spot interruption is retried as a new attempt, not reported", func(t *testing.T) {
		r := launch(`{"job": "soak"}`)
		track("ecs-task-stopped-spot.json", r)
		got := d.run(r.ID)
		if got.Cause != run.CauseInterrupted || got.NextRunID == "" || got.Notified {
			t.Fatalf("stored run %s %s next %q notified %v", got.Status, got.Cause, got.NextRunID, got.Notified)
		}
		next := d.run(got.NextRunID)
		if next.Attempt != 2 || next.PreviousRunID != r.ID {
			t.Errorf("next attempt %+v", next)
		}
	})

	t.Run("a task Longshore did not start is ignored", func(t *testing.T) {
		ev := fixtureEvent(t, "ecs-task-stopped-exit-0.json", func(ev map[string]any) {
			d := ev["detail"].(map[string]any)
			d["startedBy"], d["clusterArn"] = "ecs-svc/123", lambdaCluster
		})
		var res handler.TrackResult
		tracker.ok(ev, &res)
		if res.Applied || res.Ignored == "" {
			t.Errorf("result %+v", res)
		}
	})
}

// resultEvent is the detail of the result event of a run on the bus.
func resultEvent(t *testing.T, d *deployment, id string) map[string]any {
	t.Helper()
	for _, c := range d.aws.Calls("PutEvents") {
		e := awsfake.Dig(c.Body, "Entries", 0).(map[string]any)
		var detail map[string]any
		json.Unmarshal([]byte(e["Detail"].(string)), &detail)
		if detail["id"] == id {
			if e["EventBusName"] != lambdaBus || e["Source"] != deploy.ResultSource || e["DetailType"] != deploy.ResultDetailType {
				t.Errorf("event entry %v", e)
			}
			return detail
		}
	}
	t.Fatalf("no result event of run %s", id)
	return nil
}

func TestLambdaReconcilerRepairsWhatEventsMissed(t *testing.T) {
	d := newDeployment(t)
	launcher, reconciler := d.start("launcher"), d.start("reconciler")
	launch := func(req string) run.Run {
		var resp api.RunResponse
		launcher.ok([]byte(req), &resp)
		return d.run(resp.ID)
	}
	// age moves a run's times back, as if it were started long ago.
	age := func(r run.Run, by time.Duration) {
		r.CreatedAt, r.UpdatedAt = r.CreatedAt.Add(-by), r.UpdatedAt.Add(-by)
		if _, err := d.store.Update(context.Background(), r); err != nil {
			t.Fatal(err)
		}
	}
	lost := launch(`{"job": "nightly-report"}`)
	age(lost, 15*time.Minute) // quiet for longer than the reconciler waits, within its 30m timeout
	late := launch(`{"job": "hello"}`)
	age(late, 6*time.Minute) // hello's timeout is 5m
	// ECS still knows the late task: it is running. (The run has not
	// recorded it: no event came.)
	lateTask, _ := d.aws.Task(late.ID)
	d.aws.Describe(lateTask, map[string]any{"taskArn": lateTask, "clusterArn": lambdaCluster, "lastStatus": "RUNNING",
		"startedBy": "longshore:" + late.ID, "version": 3, "containers": []any{map[string]any{"name": "app", "lastStatus": "RUNNING"}}})

	var res handler.ReconcileResult
	reconciler.ok([]byte(`{"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}`), &res)
	if res.Lost != 1 || res.TimedOut != 1 {
		t.Errorf("reconciled %+v, want one lost and one timed out", res)
	}
	got := d.run(lost.ID)
	if got.Status != run.StatusFailed || got.Cause != run.CauseLost || !strings.Contains(got.Reason, lost.TaskRef) {
		t.Errorf("lost run %s %s %q", got.Status, got.Cause, got.Reason)
	}
	if ev := resultEvent(t, d, lost.ID); ev["cause"] != "lost" {
		t.Errorf("result event %v", ev)
	}
	stops := d.aws.Calls("StopTask")
	if len(stops) != 1 || stops[0].Body["task"] != lateTask || !strings.Contains(stops[0].Body["reason"].(string), "timeout") {
		t.Errorf("StopTask %v", stops)
	}
	if got := d.run(late.ID); got.StopReq != run.StopTimeout {
		t.Errorf("late run stop request %q", got.StopReq)
	}
}

func TestLambdaAPIServesTheCLI(t *testing.T) {
	d := newDeployment(t)
	launcher, apiFn := d.start("launcher"), d.start("api")
	var started api.RunResponse
	launcher.ok([]byte(`{"job": "hello", "key": "api-1"}`), &started)
	call := func(req handler.APIRequest, out any) {
		b, _ := json.Marshal(req)
		apiFn.ok(b, out)
	}

	// The task runs: the run is shown as ECS has it, without a write.
	task, _ := d.aws.Task(started.ID)
	d.aws.Describe(task, map[string]any{"taskArn": task, "clusterArn": lambdaCluster, "lastStatus": "RUNNING",
		"startedBy": "longshore:" + started.ID, "startedAt": 1795939200, "version": 2,
		"containers": []any{map[string]any{"name": "app", "lastStatus": "RUNNING"}}})
	var got api.Run
	call(handler.APIRequest{Op: handler.OpGet, ID: started.ID}, &got)
	if got.ID != started.ID || got.Status != run.StatusRunning || got.TaskRef != task || got.StartedAt == nil {
		t.Errorf("get %+v", got)
	}
	if stored := d.run(started.ID); stored.Status != run.StatusStarting || stored.Revision != 1 {
		t.Errorf("the get wrote the run: %s at revision %d", stored.Status, stored.Revision)
	}
	var list api.RunList
	call(handler.APIRequest{Op: handler.OpList, Job: "hello"}, &list)
	if len(list.Runs) != 1 || list.Runs[0].ID != started.ID || list.Runs[0].Status != run.StatusRunning {
		t.Errorf("list %+v", list)
	}
	var page handler.LogsPage
	call(handler.APIRequest{Op: handler.OpLogs, ID: started.ID}, &page)
	taskID := got.TaskRef[strings.LastIndexByte(got.TaskRef, '/')+1:]
	reads := d.aws.Calls("GetLogEvents")
	if page.LogGroup != "/longshore/jobs/hello" || page.LogStream != "run/app/"+taskID || len(reads) != 1 ||
		reads[0].Body["logGroupName"] != page.LogGroup || reads[0].Body["logStreamName"] != page.LogStream {
		t.Errorf("logs %+v, GetLogEvents %v", page, reads)
	}
	var stopped api.Run
	call(handler.APIRequest{Op: handler.OpStop, ID: started.ID}, &stopped)
	if stops := d.aws.Calls("StopTask"); len(stops) != 1 || stops[0].Body["task"] != got.TaskRef {
		t.Errorf("StopTask %v", stops)
	}
	res := apiFn.invoke([]byte(`{"op": "get", "id": "r-ffffffffffffffff"}`))
	if !res.failed || res.errorType != handler.ErrorNotFound {
		t.Errorf("get of an unknown run answered %+v", res)
	}
}

func TestLambdaColdStartNamesTheMissingVariable(t *testing.T) {
	d := newDeployment(t)
	var env []string
	for _, kv := range d.env {
		if !strings.HasPrefix(kv, deploy.EnvSubnets+"=") {
			env = append(env, kv)
		}
	}
	f := startFunction(t, "launcher", lambdaBinary(t, "launcher"), env)
	select {
	case <-f.exited:
	case <-time.After(30 * time.Second):
		t.Fatal("the launcher started without its subnets")
	}
	if f.cmd.ProcessState.ExitCode() == 0 || !strings.Contains(f.stderr.String(), deploy.EnvSubnets+" is not set") {
		t.Errorf("exit %d, output %q", f.cmd.ProcessState.ExitCode(), f.stderr.String())
	}
}

// A successful run, as the deployed functions make it: the launcher's
// invoke, the tracker's task-stopped event (the only task event the rule
// delivers). Every billable call they make is counted at the fakes.
func TestLambdaASuccessfulRunMakesFiveBillableCallsBeyondRunTask(t *testing.T) {
	d := newDeployment(t)
	launcher, tracker := d.start("launcher"), d.start("tracker")
	d.dynamo.take()
	var resp api.RunResponse
	launcher.ok([]byte(`{"job": "hello"}`), &resp)
	r := d.run(resp.ID)
	var res handler.TrackResult
	tracker.ok(d.taskEvent("ecs-task-stopped-exit-0.json", r), &res)
	if res.Status != run.StatusSucceeded {
		t.Fatalf("tracked %+v, want succeeded", res)
	}

	billable := map[string]int{}
	for op, n := range d.dynamo.take() {
		billable["dynamodb:"+op] += n
	}
	for _, op := range []string{"PutEvents", "SendMessage", "SendTaskSuccess", "SendTaskFailure", "PutObject"} {
		if n := len(d.aws.Calls(op)); n > 0 {
			billable[op] += n
		}
	}
	total := 0
	for _, n := range billable {
		total += n
	}
	t.Logf("billable calls beyond RunTask: %v; free ECS calls: ListTasks %d, DescribeTasks %d",
		billable, len(d.aws.Calls("ListTasks")), len(d.aws.Calls("DescribeTasks")))
	if n := len(d.aws.Calls("RunTask")); n != 1 {
		t.Errorf("%d RunTask calls, want 1", n)
	}
	// The launcher reads the job's pause state once per job and function
	// instance every host.PauseCacheTTL: a lone run pays for one read.
	if total != 5 || billable["dynamodb:GetItem"] != 2 {
		t.Errorf("%d billable calls beyond RunTask (%v), want 5: the job's pause state read, the run created, read and finished, its result published", total, billable)
	}
	if got := d.run(r.ID); got.Status != run.StatusSucceeded || !got.Notified || got.TaskRef == "" {
		t.Errorf("stored run %s, notified %v, task %q", got.Status, got.Notified, got.TaskRef)
	}
}
