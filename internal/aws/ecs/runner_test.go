package ecs_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/longshore/longshore/internal/aws/ecs"
	"github.com/longshore/longshore/internal/deploy"
	"github.com/longshore/longshore/internal/dispatch"
	"github.com/longshore/longshore/internal/job"
	"github.com/longshore/longshore/internal/run"
	"github.com/longshore/longshore/internal/testsupport/awsfake"
)

const cluster = "arn:aws:ecs:us-east-1:111122223333:cluster/longshore"

// clock is the runner's time: it moves only when the runner sleeps.
type clock struct {
	mu     sync.Mutex
	now    time.Time
	sleeps []time.Duration
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Sleep(_ context.Context, d time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sleeps = append(c.sleeps, d)
	c.now = c.now.Add(d)
	return nil
}

type rig struct {
	ecs    *awsfake.Server
	clock  *clock
	runner *ecs.Runner
}

func newRig(t *testing.T, edit ...func(*ecs.Options)) *rig {
	r := &rig{ecs: awsfake.New(t), clock: &clock{now: time.Now()}}
	o := ecs.Options{
		Cluster: cluster, Prefix: "longshore",
		Subnets: []string{"subnet-0a1b2c3d4e5f60001", "subnet-0a1b2c3d4e5f60002"}, SecurityGroups: []string{"sg-0123456789abcdef0"},
		Now: r.clock.Now, Sleep: r.clock.Sleep,
		Backoff: func(attempt int, _ error) time.Duration { return time.Duration(attempt) * time.Second },
		Log:     slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	for _, e := range edit {
		e(&o)
	}
	r.runner = ecs.NewRunner(ecsClient(r.ecs), o)
	return r
}

func spec(t *testing.T, name, yaml string) *job.Spec {
	t.Helper()
	s, err := job.Parse([]byte(yaml), name, "jobs/"+name+"/job.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

const helloYAML = "image: {uri: busybox}\nenvironment: {GREETING: hi, MODE: fast}\nsecrets: {DB_PASSWORD: 'ssm:/db'}\ntimeout: 10m\n"

// task is the start of run r-0000000000000001 of a job.
func task(s *job.Spec, env map[string]string, command ...string) dispatch.Task {
	r := run.Run{ID: "r-0000000000000001", Job: s.Name, Attempt: 1, Trigger: run.Trigger{Kind: run.TriggerInvoke}, Env: env, Command: command}
	return dispatch.Task{Run: r, Job: s, Env: dispatch.Environment(s, r), Command: command}
}

// withDeadline is a context whose deadline is d ahead of the rig's clock.
func (r *rig) withDeadline(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithDeadline(context.Background(), r.clock.Now().Add(d))
	t.Cleanup(cancel)
	return ctx
}

func envOf(c call) map[string]string {
	out := map[string]string{}
	for _, e := range dig(c.Body, "overrides", "containerOverrides", 0, "environment").([]any) {
		kv := e.(map[string]any)
		out[kv["name"].(string)] = kv["value"].(string)
	}
	return out
}

func TestStartSendsTheRunTaskRequestOfTheJob(t *testing.T) {
	tests := []struct {
		name, yaml string
		check      func(t *testing.T, c call)
	}{
		{"an on-demand job runs on FARGATE with awsvpc, startedBy, tags and the run id as client token", helloYAML,
			func(t *testing.T, c call) {
				want := map[string]any{
					"cluster": cluster, "taskDefinition": "longshore-hello", "launchType": "FARGATE",
					"clientToken": "r-0000000000000001", "startedBy": "longshore:r-0000000000000001", "count": float64(1),
				}
				for k, v := range want {
					if c.Body[k] != v {
						t.Errorf("%s = %v, want %v", k, c.Body[k], v)
					}
				}
				if c.Body["capacityProviderStrategy"] != nil {
					t.Errorf("capacityProviderStrategy = %v with a launch type", c.Body["capacityProviderStrategy"])
				}
				vpc := dig(c.Body, "networkConfiguration", "awsvpcConfiguration")
				if fmt.Sprint(dig(vpc, "subnets")) != "[subnet-0a1b2c3d4e5f60001 subnet-0a1b2c3d4e5f60002]" ||
					fmt.Sprint(dig(vpc, "securityGroups")) != "[sg-0123456789abcdef0]" || dig(vpc, "assignPublicIp") != "DISABLED" {
					t.Errorf("awsvpcConfiguration = %v", vpc)
				}
				tags := map[string]any{}
				for _, tag := range c.Body["tags"].([]any) {
					tags[dig(tag, "key").(string)] = dig(tag, "value")
				}
				if tags[deploy.TagRun] != "r-0000000000000001" || tags[deploy.TagJob] != "hello" {
					t.Errorf("tags = %v", tags)
				}
				if dig(c.Body, "overrides", "containerOverrides", 0, "name") != deploy.EssentialContainer {
					t.Errorf("overrides are not for the essential container: %v", c.Body["overrides"])
				}
			}},
		{"a job's own network replaces the deployment's subnets, security groups and public IP", helloYAML +
			"network: {subnets: [subnet-0fedcba9876543210], securityGroups: [sg-0aaaaaaaaaaaaaaaa, sg-0bbbbbbbbbbbbbbbb], assignPublicIp: true}\n",
			func(t *testing.T, c call) {
				vpc := dig(c.Body, "networkConfiguration", "awsvpcConfiguration")
				if fmt.Sprint(dig(vpc, "subnets")) != "[subnet-0fedcba9876543210]" ||
					fmt.Sprint(dig(vpc, "securityGroups")) != "[sg-0aaaaaaaaaaaaaaaa sg-0bbbbbbbbbbbbbbbb]" || dig(vpc, "assignPublicIp") != "ENABLED" {
					t.Errorf("awsvpcConfiguration = %v", vpc)
				}
			}},
		{"a job's security groups alone keep the deployment's subnets", helloYAML + "network: {securityGroups: [sg-0aaaaaaaaaaaaaaaa]}\n",
			func(t *testing.T, c call) {
				vpc := dig(c.Body, "networkConfiguration", "awsvpcConfiguration")
				if fmt.Sprint(dig(vpc, "subnets")) != "[subnet-0a1b2c3d4e5f60001 subnet-0a1b2c3d4e5f60002]" ||
					fmt.Sprint(dig(vpc, "securityGroups")) != "[sg-0aaaaaaaaaaaaaaaa]" || dig(vpc, "assignPublicIp") != "DISABLED" {
					t.Errorf("awsvpcConfiguration = %v", vpc)
				}
			}},
		{"a job's tags go on its task, beside Longshore's own", helloYAML + "tags: {team: reporting, cost-center: \"4711\"}\n",
			func(t *testing.T, c call) {
				var got []string
				for _, tag := range c.Body["tags"].([]any) {
					got = append(got, fmt.Sprintf("%v=%v", dig(tag, "key"), dig(tag, "value")))
				}
				want := "[cost-center=4711 team=reporting " + deploy.TagRun + "=r-0000000000000001 " + deploy.TagJob + "=hello]"
				if fmt.Sprint(got) != want {
					t.Errorf("tags = %v, want %s", got, want)
				}
			}},
		{"a spot job uses the FARGATE_SPOT capacity provider and no launch type", helloYAML + "capacity: spot\n",
			func(t *testing.T, c call) {
				if c.Body["launchType"] != nil {
					t.Errorf("launchType = %v with a capacity provider strategy", c.Body["launchType"])
				}
				if got := fmt.Sprint(c.Body["capacityProviderStrategy"]); got != "[map[capacityProvider:FARGATE_SPOT weight:1]]" {
					t.Errorf("capacityProviderStrategy = %s", got)
				}
			}},
		{"the task's environment is the run's: Longshore's variables and overrides, not the job's own nor its secrets", helloYAML,
			func(t *testing.T, c call) {
				env := envOf(c)
				for _, k := range []string{"GREETING", "DB_PASSWORD"} {
					if _, ok := env[k]; ok {
						t.Errorf("%s is in the overrides: %v", k, env)
					}
				}
				if env["LONGSHORE_RUN_ID"] != "r-0000000000000001" || env["LONGSHORE_JOB"] != "hello" || env["MODE"] != "slow" {
					t.Errorf("environment = %v", env)
				}
				if got := fmt.Sprint(dig(c.Body, "overrides", "containerOverrides", 0, "command")); got != "[report --since 24h]" {
					t.Errorf("command = %s", got)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t)
			s := spec(t, "hello", tt.yaml)
			ref, err := r.runner.Start(context.Background(), task(s, map[string]string{"MODE": "slow"}, "report", "--since", "24h"))
			if err != nil {
				t.Fatalf("Start: %v", err)
			}
			if !strings.HasPrefix(ref, "arn:aws:ecs:") {
				t.Errorf("task ref %q is not the task ARN", ref)
			}
			calls := r.ecs.Calls("RunTask")
			if len(calls) != 1 {
				t.Fatalf("%d RunTask calls, want 1", len(calls))
			}
			tt.check(t, calls[0])
		})
	}
}

func TestStartRetriesWhatMayClearAndGivesUpOnWhatCannot(t *testing.T) {
	throttled := apiError(400, "ThrottlingException", "Rate exceeded")
	tests := []struct {
		name     string
		answers  []answer
		deadline time.Duration
		// want: the number of RunTask calls, and the outcome.
		calls     int
		started   bool
		transient bool
		throttled bool
		reason    string
	}{
		{name: "a burst of throttling is waited out with growing backoff", answers: []answer{throttled, throttled, throttled, started()},
			deadline: time.Minute, calls: 4, started: true},
		{name: "5xx answers are retried", answers: []answer{apiError(500, "ServerException", "boom"), apiError(503, "ServiceUnavailable", "busy"), started()},
			deadline: time.Minute, calls: 3, started: true},
		{name: "a lost answer is retried with the same client token and gives the task the first call started", answers: []answer{lost(), started()},
			deadline: time.Minute, calls: 2, started: true},
		{name: "an answer the SDK cannot read is an unknown outcome, asked again with the same client token", answers: []answer{ok("not a RunTask answer"), started()},
			deadline: time.Minute, calls: 2, started: true},
		{name: "answers that stay unreadable leave the run to try again later, never failed", answers: []answer{ok([]int{1})},
			deadline: 5 * time.Second, calls: 3, transient: true, reason: "ECS did not start the task"},
		{name: "throttling that outlasts the deadline is a transient start error that says it was throttled", answers: []answer{throttled},
			deadline: 5 * time.Second, calls: 3, transient: true, throttled: true, reason: "ThrottlingException"},
		{name: "no free addresses in failures[] of a 200 answer is retried, then transient", answers: []answer{
			ok(map[string]any{"tasks": []any{}, "failures": []any{map[string]any{"arn": "arn:aws:ecs:us-east-1:111122223333:task-definition/longshore-hello", "reason": "RESOURCE:ENI"}}})},
			deadline: 5 * time.Second, calls: 3, transient: true, reason: "RESOURCE:ENI"},
		{name: "a capacity failure that clears is retried until the task starts", answers: []answer{
			ok(map[string]any{"failures": []any{map[string]any{"reason": "Capacity is unavailable at this time. Please try again later or in a different availability zone"}}}), started()},
			deadline: time.Minute, calls: 2, started: true},
		{name: "a failure a retry cannot fix fails at once", answers: []answer{
			ok(map[string]any{"failures": []any{map[string]any{"reason": "MISSING", "detail": "The task definition does not exist"}}})},
			deadline: time.Minute, calls: 1, transient: false, reason: "does not exist"},
		{name: "a client error fails at once, not retried", answers: []answer{apiError(400, "ClientException", "TaskDefinition is inactive")},
			deadline: time.Minute, calls: 1, transient: false, reason: "TaskDefinition is inactive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t)
			r.ecs.On("RunTask", tt.answers...)
			ref, err := r.runner.Start(r.withDeadline(t, tt.deadline), task(spec(t, "hello", helloYAML), nil))
			calls := r.ecs.Calls("RunTask")
			if len(calls) != tt.calls {
				t.Errorf("%d RunTask calls, want %d (sleeps %v)", len(calls), tt.calls, r.clock.sleeps)
			}
			for _, c := range calls {
				if c.Body["clientToken"] != "r-0000000000000001" {
					t.Errorf("a retry used client token %v", c.Body["clientToken"])
				}
			}
			if tt.started {
				if err != nil || ref == "" {
					t.Fatalf("Start = %q, %v; want a task", ref, err)
				}
				if r.ecs.Tasks() != 1 {
					t.Errorf("%d tasks started, want 1", r.ecs.Tasks())
				}
				return
			}
			var se *dispatch.StartError
			if !errors.As(err, &se) {
				t.Fatalf("Start = %q, %v; want a *dispatch.StartError", ref, err)
			}
			if strings.Contains(se.Error(), "RequestID") {
				t.Errorf("the reason carries the SDK's request trace: %q", se.Error())
			}
			if se.Throttled != tt.throttled {
				t.Errorf("StartError{Throttled: %v}, want %v", se.Throttled, tt.throttled)
			}
			if se.Transient != tt.transient || !strings.Contains(se.Error(), tt.reason) {
				t.Errorf("StartError{Transient: %v} %q; want transient %v mentioning %q", se.Transient, se.Error(), tt.transient, tt.reason)
			}
		})
	}
}

func TestStartBacksOffMoreAtEachAttemptAndStopsBeforeTheDeadline(t *testing.T) {
	r := newRig(t, func(o *ecs.Options) { o.Reserve = 2 * time.Second })
	r.ecs.On("RunTask", apiError(400, "ThrottlingException", "Rate exceeded"))
	// Backoffs 1s, 2s, 3s, 4s: after 1+2+3 = 6s, 4s more and the 2s reserve pass the 11s deadline.
	_, err := r.runner.Start(r.withDeadline(t, 11*time.Second), task(spec(t, "hello", helloYAML), nil))
	if err == nil {
		t.Fatal("Start succeeded against constant throttling")
	}
	if fmt.Sprint(r.clock.sleeps) != "[1s 2s 3s]" {
		t.Errorf("slept %v, want [1s 2s 3s]", r.clock.sleeps)
	}
}

func TestSpotThenOnDemandFallsBackWhenSpotHasNoCapacity(t *testing.T) {
	r := newRig(t)
	noSpot := ok(map[string]any{"failures": []any{map[string]any{"reason": "Capacity is unavailable at this time. Please try again later or in a different availability zone"}}})
	r.ecs.On("RunTask", noSpot, started())
	s := spec(t, "thumbnail", helloYAML+"capacity: spot-then-on-demand\n")
	ref, err := r.runner.Start(r.withDeadline(t, time.Minute), task(s, nil))
	if err != nil || ref == "" {
		t.Fatalf("Start = %q, %v", ref, err)
	}
	calls := r.ecs.Calls("RunTask")
	if len(calls) != 2 {
		t.Fatalf("%d RunTask calls, want 2", len(calls))
	}
	if fmt.Sprint(calls[0].Body["capacityProviderStrategy"]) != "[map[capacityProvider:FARGATE_SPOT weight:1]]" {
		t.Errorf("first call strategy = %v, want FARGATE_SPOT", calls[0].Body["capacityProviderStrategy"])
	}
	second := calls[1].Body
	if second["launchType"] != "FARGATE" || second["capacityProviderStrategy"] != nil || second["clientToken"] != "r-0000000000000001"+ecs.OnDemandTokenSuffix {
		t.Errorf("fallback call = launchType %v, strategy %v, token %v", second["launchType"], second["capacityProviderStrategy"], second["clientToken"])
	}
	if len(r.clock.sleeps) != 0 {
		t.Errorf("slept %v before falling back", r.clock.sleeps)
	}
}

func TestATaskWhoseOverridesDoNotFitIsNeverStarted(t *testing.T) {
	t.Run("overrides over ECS's 8 KiB fail the start for good, saying the size and the limit", func(t *testing.T) {
		r := newRig(t)
		_, err := r.runner.Start(context.Background(), task(spec(t, "orders", helloYAML), map[string]string{"BODY": strings.Repeat("x", 9000)}))
		var se *dispatch.StartError
		if !errors.As(err, &se) || se.Transient || !strings.Contains(se.Error(), "and ECS allows 8192: nothing was started") {
			t.Errorf("Start = %v; want a permanent StartError naming the size and the limit", err)
		}
		if len(r.ecs.Calls("RunTask")) != 0 {
			t.Error("RunTask was called with overrides that do not fit")
		}
	})
	t.Run("overrides just under the limit are sent whole", func(t *testing.T) {
		r := newRig(t)
		body := strings.Repeat("x", 7000)
		if _, err := r.runner.Start(context.Background(), task(spec(t, "orders", helloYAML), map[string]string{"BODY": body})); err != nil {
			t.Fatal(err)
		}
		if env := envOf(r.ecs.Calls("RunTask")[0]); env["BODY"] != body {
			t.Errorf("BODY of %d bytes sent, want %d", len(env["BODY"]), len(body))
		}
	})
}

func TestStopAsksECSWithTheReason(t *testing.T) {
	tests := []struct {
		name    string
		answers []answer
		reason  string
		wantErr bool
	}{
		{"a running task is stopped with the reason", []answer{ok(map[string]any{})}, "stopped on request", false},
		{"a long reason is cut to ECS's 255 characters", []answer{ok(map[string]any{})}, strings.Repeat("r", 400), false},
		{"a task ECS does not know is not an error", []answer{apiError(400, "InvalidParameterException", "The referenced task was not found.")}, "x", false},
		{"a throttled stop is retried", []answer{apiError(400, "ThrottlingException", "slow down"), ok(map[string]any{})}, "x", false},
		{"access denied is an error", []answer{apiError(400, "AccessDeniedException", "not allowed")}, "x", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t)
			r.ecs.On("StopTask", tt.answers...)
			err := r.runner.Stop(r.withDeadline(t, time.Minute), "arn:aws:ecs:us-east-1:111122223333:task/longshore/abc", tt.reason)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Stop = %v, want error %v", err, tt.wantErr)
			}
			c := r.ecs.Calls("StopTask")[0]
			reason := c.Body["reason"].(string)
			if c.Body["cluster"] != cluster || c.Body["task"] != "arn:aws:ecs:us-east-1:111122223333:task/longshore/abc" ||
				len(reason) > ecs.MaxStopReason || !strings.HasPrefix(reason, "longshore: ") {
				t.Errorf("StopTask body = %v", c.Body)
			}
		})
	}
}

func TestDescribeReadsTheTaskAsTheEventsDo(t *testing.T) {
	arn := "arn:aws:ecs:us-east-1:111122223333:task/longshore/abc"
	stopped := map[string]any{"tasks": []any{map[string]any{
		"taskArn": arn, "clusterArn": cluster, "lastStatus": "STOPPED", "startedBy": "longshore:r-0000000000000001", "version": 7,
		"stopCode": "EssentialContainerExited", "stoppedReason": "Essential container in task exited",
		"startedAt": 1763805600, "stoppedAt": 1763805660,
		"containers": []any{map[string]any{"name": "log-router", "exitCode": 0}, map[string]any{"name": "app", "exitCode": 3}},
	}}, "failures": []any{}}
	tests := []struct {
		name     string
		answers  []answer
		notFound bool
		check    func(t *testing.T, ts run.TaskState)
	}{
		{"a stopped task gives its exit codes, stop code and version", []answer{ok(stopped)}, false, func(t *testing.T, ts run.TaskState) {
			o := run.Classify(ts, run.StopNone)
			if ts.RunID != "r-0000000000000001" || ts.Version != 7 || ts.Phase != run.PhaseStopped || o.ExitCode == nil || *o.ExitCode != 3 {
				t.Errorf("task state %+v, outcome %+v", ts, o)
			}
		}},
		{"a task ECS no longer knows (failures[] MISSING) is not found", []answer{ok(map[string]any{"tasks": []any{},
			"failures": []any{map[string]any{"arn": arn, "reason": "MISSING"}}})}, true, nil},
		{"an answer with no task and no failure is not found", []answer{ok(map[string]any{})}, true, nil},
		{"a throttled describe is retried", []answer{apiError(400, "ThrottlingException", "slow"), ok(stopped)}, false, func(t *testing.T, ts run.TaskState) {
			if ts.Phase != run.PhaseStopped {
				t.Errorf("phase %s", ts.Phase)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t)
			r.ecs.On("DescribeTasks", tt.answers...)
			ts, err := r.runner.Describe(r.withDeadline(t, time.Minute), arn)
			if tt.notFound {
				if !errors.Is(err, dispatch.ErrTaskNotFound) {
					t.Fatalf("Describe = %v, want ErrTaskNotFound", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c := r.ecs.Calls("DescribeTasks")[0]; c.Body["cluster"] != cluster || fmt.Sprint(c.Body["tasks"]) != "["+arn+"]" {
				t.Errorf("DescribeTasks body = %v", c.Body)
			}
			tt.check(t, ts)
		})
	}
}

func TestAResumedStartLooksForTheRunsTaskBeforeStartingOne(t *testing.T) {
	const arn = "arn:aws:ecs:us-east-1:111122223333:task/longshore/0123456789abcdef0123456789abcdef"
	tests := []struct {
		name         string
		resume       bool
		lists        []answer
		wantRunTasks int
		wantRef      string
		wantErr      bool
	}{
		{"a fresh start calls RunTask without looking", false, nil, 1, "", false},
		{"a resumed run whose task is running gets that task and no RunTask", true,
			[]answer{ok(map[string]any{"taskArns": []any{arn}})}, 0, arn, false},
		{"a resumed run whose task has stopped gets that task and no RunTask", true,
			[]answer{ok(map[string]any{"taskArns": []any{}}), ok(map[string]any{"taskArns": []any{arn}})}, 0, arn, false},
		{"a resumed run without a task gets one started", true,
			[]answer{ok(map[string]any{"taskArns": []any{}}), ok(map[string]any{"taskArns": []any{}})}, 1, "", false},
		{"a look that ECS refuses is a transient start error, not a second task", true,
			[]answer{apiError(400, "AccessDeniedException", "not allowed")}, 0, "", true},
	}
	t.Run("a resumed run older than the client token's day whose task ECS no longer lists is not started again", func(t *testing.T) {
		r := newRig(t)
		r.ecs.On("ListTasks", ok(map[string]any{"taskArns": []any{}}), ok(map[string]any{"taskArns": []any{}}))
		tk := task(spec(t, "hello", helloYAML), nil)
		tk.Resume, tk.Run.CreatedAt = true, r.clock.Now().Add(-48*time.Hour)
		_, err := r.runner.Start(r.withDeadline(t, time.Minute), tk)
		if !errors.Is(err, dispatch.ErrTaskNotFound) {
			t.Errorf("Start = %v, want ErrTaskNotFound", err)
		}
		if n := len(r.ecs.Calls("RunTask")); n != 0 {
			t.Errorf("%d RunTask calls, want none", n)
		}
	})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t)
			if tt.lists != nil {
				r.ecs.On("ListTasks", tt.lists...)
			}
			tk := task(spec(t, "hello", helloYAML), nil)
			tk.Resume = tt.resume
			ref, err := r.runner.Start(r.withDeadline(t, time.Minute), tk)
			var se *dispatch.StartError
			if tt.wantErr != (err != nil) || (err != nil && (!errors.As(err, &se) || !se.Transient)) {
				t.Fatalf("Start = %q, %v; want a transient start error %v", ref, err, tt.wantErr)
			}
			if n := len(r.ecs.Calls("RunTask")); n != tt.wantRunTasks {
				t.Errorf("%d RunTask calls, want %d", n, tt.wantRunTasks)
			}
			if tt.wantRef != "" && ref != tt.wantRef {
				t.Errorf("Start = %q, want the run's task %q", ref, tt.wantRef)
			}
			for _, c := range r.ecs.Calls("ListTasks") {
				if c.Body["startedBy"] != "longshore:r-0000000000000001" || c.Body["cluster"] != cluster {
					t.Errorf("ListTasks body = %v", c.Body)
				}
			}
			if !tt.resume && len(r.ecs.Calls("ListTasks")) > 0 {
				t.Error("a fresh start listed tasks")
			}
		})
	}
}

func TestDescribeAllAsksAHundredTasksAtATimeAndLeavesOutTheMissing(t *testing.T) {
	r := newRig(t)
	var refs []string
	for i := range 150 {
		arn := fmt.Sprintf("arn:aws:ecs:us-east-1:111122223333:task/longshore/%032x", i+1)
		refs = append(refs, arn)
		if i%50 != 7 { // three tasks ECS has forgotten
			r.ecs.Describe(arn, map[string]any{"taskArn": arn, "lastStatus": "RUNNING", "startedBy": fmt.Sprintf("longshore:r-%016x", i+1),
				"containers": []any{map[string]any{"name": "app", "lastStatus": "RUNNING"}}})
		}
	}
	got, err := r.runner.DescribeAll(r.withDeadline(t, time.Minute), refs)
	if err != nil {
		t.Fatal(err)
	}
	calls := r.ecs.Calls("DescribeTasks")
	if len(calls) != 2 || len(calls[0].Body["tasks"].([]any)) != 100 || len(calls[1].Body["tasks"].([]any)) != 50 {
		t.Errorf("%d DescribeTasks calls, want two of 100 and 50", len(calls))
	}
	if len(got) != 147 {
		t.Errorf("described %d tasks, want 147 (3 missing)", len(got))
	}
	if ts := got[refs[0]]; ts.Phase != run.PhaseRunning || ts.RunID != "r-0000000000000001" {
		t.Errorf("task 1 read as %+v", ts)
	}
	if _, ok := got[refs[7]]; ok {
		t.Error("a missing task was described")
	}
}
