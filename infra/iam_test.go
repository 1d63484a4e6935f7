package main

import (
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/longshore/longshore/construct"
	"github.com/longshore/longshore/internal/aws/dynamo"
	"github.com/longshore/longshore/internal/aws/ecs"
	"github.com/longshore/longshore/internal/aws/logs"
	"github.com/longshore/longshore/internal/aws/notify"
	"github.com/longshore/longshore/internal/aws/schedules"
	"github.com/longshore/longshore/internal/deploy"
)

// families lists the flattened task definition ARNs of the catalog's jobs.
func families(prefix string, jobs ...string) []string {
	var out []string
	for _, j := range jobs {
		out = append(out, arn("ecs", "task-definition/"+deploy.TaskFamily(prefix, j)+":*"))
	}
	sort.Strings(out)
	return out
}

func TestTheFunctionsMayDoExactlyWhatTheirWorkNeeds(t *testing.T) {
	d := deployments(t).main
	s := d.stack
	clusterArn := "${" + d.logicalID(s.Cluster.Cluster) + ".Arn}"
	tableArn := "${" + d.logicalID(s.Table.Table) + ".Arn}"
	var jobRoles []string
	var jobLogs []string
	for _, task := range s.Tasks {
		jobRoles = append(jobRoles, "${"+d.logicalID(task.TaskRole)+".Arn}", "${"+d.logicalID(task.ExecutionRole)+".Arn}")
		jobLogs = append(jobLogs, "${"+d.logicalID(task.LogGroup)+".Arn}")
	}
	sort.Strings(jobRoles)
	sort.Strings(jobLogs)
	var indexes []string
	for _, idx := range []string{deploy.RunsByJobIndex, deploy.RunsByStatusIndex, deploy.RunsUnreportedIndex} {
		indexes = append(indexes, tableArn+"/index/"+idx)
	}
	sort.Strings(indexes)
	tasks := arn("ecs", "task/longshore/*")

	runTasks := []stmt{
		{Sid: "RunCatalogTasks", Actions: []string{"ecs:RunTask"},
			Resources: families("longshore", "hello", "nightly-report", "orders", "soak", "thumbnail"),
			Condition: map[string]string{"ArnEquals ecs:cluster": clusterArn}},
		{Sid: "PassJobRolesToEcsTasks", Actions: []string{"iam:PassRole"}, Resources: jobRoles,
			Condition: map[string]string{"StringEquals iam:PassedToService": "ecs-tasks.amazonaws.com"}},
		{Sid: "TagTasksAtRunTask", Actions: []string{"ecs:TagResource"}, Resources: []string{tasks},
			Condition: map[string]string{"StringEquals ecs:CreateAction": "RunTask"}},
		{Sid: "WritePayloads", Actions: []string{"s3:PutObject"},
			Resources: []string{"${" + d.logicalID(s.Buckets.Payloads) + ".Arn}/payloads/*"}},
	}
	stop := stmt{Sid: "StopAndDescribeClusterTasks", Actions: []string{"ecs:DescribeTasks", "ecs:StopTask"},
		Resources: []string{tasks}, Condition: map[string]string{"ArnEquals ecs:cluster": clusterArn}}
	notify := []stmt{
		{Sid: "PutResultEvents", Actions: []string{"events:PutEvents"}, Resources: []string{"${" + d.logicalID(s.Results.Bus) + ".Arn}"}},
		{Sid: "SendToReplyQueues", Actions: []string{"sqs:SendMessage"}, Resources: []string{arn("sqs", deploy.ReplyQueuePrefix("longshore")+"*")}},
		{Sid: "CompleteTaskTokens", Actions: []string{"states:SendTaskFailure", "states:SendTaskSuccess"},
			Resources: []string{arn("states", "stateMachine:"+deploy.CallbackStateMachinePrefix("longshore")+"*")}},
	}
	runs := []stmt{
		{Sid: "ReadWriteRuns", Actions: []string{"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:UpdateItem"}, Resources: []string{tableArn}},
		{Sid: "QueryRunIndexes", Actions: []string{"dynamodb:Query"}, Resources: indexes},
	}
	ownLogs := func(f *construct.Function) stmt {
		return stmt{Sid: "WriteOwnLogs", Actions: []string{"logs:CreateLogStream", "logs:PutLogEvents"},
			Resources: []string{"${" + d.logicalID(f.LogGroup) + ".Arn}"}}
	}
	readLogs := stmt{Sid: "ReadJobLogs", Actions: []string{"logs:GetLogEvents"}, Resources: jobLogs}
	var schedules []string
	for _, sched := range s.Schedules.Schedules {
		schedules = append(schedules, "${"+*d.stack.GetLogicalId(sched)+".Arn}")
	}
	switchSchedules := []stmt{
		{Sid: "SwitchSchedules", Actions: []string{"scheduler:GetSchedule", "scheduler:UpdateSchedule"}, Resources: schedules},
		{Sid: "PassSchedulesRole", Actions: []string{"iam:PassRole"}, Resources: []string{"${" + d.logicalID(s.Schedules.Role) + ".Arn}"},
			Condition: map[string]string{"StringEquals iam:PassedToService": "scheduler.amazonaws.com"}},
	}

	tests := []struct {
		name      string
		fn        *construct.Function
		want      []stmt
		forbidden []string
	}{
		{"the launcher starts, stops and reports runs", s.Functions.Launcher,
			slices.Concat(runTasks, []stmt{stop}, notify, runs, []stmt{ownLogs(s.Functions.Launcher)}), nil},
		{"the tracker retries, stops and reports runs", s.Functions.Tracker,
			slices.Concat(runTasks, []stmt{stop}, notify, runs, []stmt{ownLogs(s.Functions.Tracker)}), nil},
		{"the reconciler retries, stops and reports runs, and switches the schedules of paused jobs", s.Functions.Reconciler,
			slices.Concat(runTasks, []stmt{stop}, notify, runs, switchSchedules, []stmt{ownLogs(s.Functions.Reconciler)}), nil},
		{"the api reads runs and logs, stops and reports runs, and starts nothing", s.Functions.API,
			slices.Concat([]stmt{stop, readLogs}, notify, runs, []stmt{ownLogs(s.Functions.API)}),
			[]string{"ecs:RunTask", "iam:PassRole", "ecs:TagResource", "s3:PutObject"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := d.policyOf(d.logicalID(tt.fn.Role))
			for _, w := range tt.want {
				g, ok := find(got, w.Sid)
				if !ok {
					t.Errorf("no stmt %s among %v", w.Sid, got)
					continue
				}
				w.Effect = "Allow"
				if g.String() != w.String() || g.Effect != "Allow" {
					t.Errorf("stmt %s:\n got %v\nwant %v", w.Sid, g, w)
				}
			}
			for _, a := range tt.forbidden {
				if allows(got, a) {
					t.Errorf("allows %s", a)
				}
			}
		})
	}
	t.Run("the launcher reads its trigger queues through its event source mapping", func(t *testing.T) {
		got := d.policyOf(d.logicalID(s.Functions.Launcher.Role))
		queue := "${" + d.logicalID(s.Queues.Queues[0].Queue) + ".Arn}"
		for _, st := range got {
			if allows([]stmt{st}, "sqs:ReceiveMessage") {
				if !slices.Equal(st.Resources, []string{queue}) {
					t.Errorf("receives from %v, want only %s", st.Resources, queue)
				}
				return
			}
		}
		t.Errorf("no sqs:ReceiveMessage among %v", got)
	})
}

func TestTaskRolesReadOnlyTheirOwnObjects(t *testing.T) {
	d := deployments(t).main
	payloads := "${" + d.logicalID(d.stack.Buckets.Payloads) + ".Arn}"
	uploads := "${" + d.logicalID(d.stack.Buckets.Uploads) + ".Arn}"
	for _, task := range d.stack.Tasks {
		t.Run(task.Job.Name, func(t *testing.T) {
			want := []string{payloads + "/" + deploy.PayloadKeyPrefix(task.Job.Name) + "*"}
			if task.Job.Name == "thumbnail" {
				want = append(want, uploads+"/incoming/*.jpg")
			}
			sort.Strings(want)
			got := d.policyOf(d.logicalID(task.TaskRole))
			if len(got) != 1 {
				t.Fatalf("task role statements %v, want only ReadRunObjects", got)
			}
			if got[0].Sid != "ReadRunObjects" || !slices.Equal(got[0].Actions, []string{"s3:GetObject"}) || !slices.Equal(got[0].Resources, want) {
				t.Errorf("task role may %v, want s3:GetObject on %v", got[0], want)
			}
		})
	}
}

func TestExecutionRolesReadExactlyTheirJobsSecrets(t *testing.T) {
	alt := deployments(t).alt
	main := deployments(t).main
	tests := []struct {
		name    string
		d       *deployment
		job     string
		params  []string
		secrets []string
	}{
		{"a job with no secrets reads none", main, "hello", nil, nil},
		{"an SSM parameter by name", main, "nightly-report", []string{arn("ssm", "parameter/longshore/reporting/db-password")}, nil},
		{"SSM parameters by name and by ARN, Secrets Manager secrets by complete and partial ARN", alt, "vault",
			[]string{
				"arn:aws:ssm:eu-west-1:123456789012:parameter/team/signing",
				arn("ssm", "parameter/team/db/password"),
			},
			[]string{
				"arn:aws:secretsmanager:eu-west-1:123456789012:secret:team/api-AbCdEf",
				"arn:aws:secretsmanager:eu-west-1:123456789012:secret:team/api-AbCdEf-??????",
				"arn:aws:secretsmanager:eu-west-1:123456789012:secret:team/license",
				"arn:aws:secretsmanager:eu-west-1:123456789012:secret:team/license-??????",
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var task *construct.JobTask
			for _, jt := range tt.d.stack.Tasks {
				if jt.Job.Name == tt.job {
					task = jt
				}
			}
			got := tt.d.policyOf(tt.d.logicalID(task.ExecutionRole))
			sort.Strings(tt.params)
			sort.Strings(tt.secrets)
			check := func(sid, action string, want []string) {
				s, ok := find(got, sid)
				switch {
				case want == nil && (ok || allows(got, action)):
					t.Errorf("may %s: %v", action, got)
				case want != nil && (!ok || !slices.Equal(s.Actions, []string{action}) || !slices.Equal(s.Resources, want)):
					t.Errorf("stmt %s = %v, want %s on %v", sid, s, action, want)
				}
			}
			check("ReadJobParameters", "ssm:GetParameters", tt.params)
			check("ReadJobSecrets", "secretsmanager:GetSecretValue", tt.secrets)
			for _, st := range got {
				for _, a := range st.Actions {
					if strings.HasPrefix(a, "kms:") || a == "ssm:GetParameter" || a == "ssm:GetParametersByPath" {
						t.Errorf("may %s: %v", a, st)
					}
				}
			}
		})
	}
	t.Run("a private ECR image is pulled from its repository only", func(t *testing.T) {
		var task *construct.JobTask
		for _, jt := range alt.stack.Tasks {
			if jt.Job.Name == "vault" {
				task = jt
			}
		}
		got := alt.policyOf(alt.logicalID(task.ExecutionRole))
		s, ok := find(got, "PullJobImage")
		if !ok || !slices.Equal(s.Resources, []string{"arn:aws:ecr:eu-west-1:123456789012:repository/team/vault"}) {
			t.Errorf("PullJobImage = %v", s)
		}
	})
}

func TestNoStatementAllowsEveryResourceWhereAnArnIsKnown(t *testing.T) {
	// ecr:GetAuthorizationToken is the one action here that takes no resource.
	for name, d := range map[string]*deployment{"main": deployments(t).main, "alt": deployments(t).alt} {
		for id, p := range d.resources("AWS::IAM::Policy") {
			doc := p["Properties"].(map[string]any)["PolicyDocument"].(map[string]any)
			for _, raw := range doc["Statement"].([]any) {
				s := toStatement(raw.(map[string]any))
				if slices.Contains(s.Resources, "*") && !slices.Equal(s.Actions, []string{"ecr:GetAuthorizationToken"}) {
					t.Errorf("%s %s: %v", name, id, s)
				}
				for _, a := range s.Actions {
					if strings.HasSuffix(a, ":*") || a == "*" {
						t.Errorf("%s %s: wildcard action %s", name, id, a)
					}
				}
			}
		}
	}
}

func TestSchedulerMayInvokeTheLauncherAndParkPayloadsOnly(t *testing.T) {
	d := deployments(t).main
	got := d.policyOf(d.logicalID(d.stack.Schedules.Role))
	want := []stmt{
		{Sid: "InvokeLauncher", Effect: "Allow", Actions: []string{"lambda:InvokeFunction"},
			Resources: []string{"${" + d.logicalID(d.stack.Functions.Launcher.Function) + ".Arn}"}},
		{Sid: "SendToDeadLetters", Effect: "Allow", Actions: []string{"sqs:SendMessage"},
			Resources: []string{"${" + d.logicalID(d.stack.DeadLetters.Schedules) + ".Arn}"}},
	}
	if len(got) != len(want) {
		t.Fatalf("statements %v, want %v", got, want)
	}
	for i := range want {
		if got[i].String() != want[i].String() {
			t.Errorf("stmt %d = %v, want %v", i, got[i], want[i])
		}
	}
	d.hasResource(t, "AWS::IAM::Role", map[string]any{
		"AssumeRolePolicyDocument": objectLike(map[string]any{"Statement": []any{objectLike(map[string]any{
			"Principal": map[string]any{"Service": "scheduler.amazonaws.com"},
			"Condition": map[string]any{"StringEquals": map[string]any{"aws:SourceAccount": map[string]any{"Ref": "AWS::AccountId"}}},
		})}}),
	})
}

func TestCallbackTargetsFromContextAreAddedByArn(t *testing.T) {
	d := deployments(t).alt
	got := d.policyOf(d.logicalID(d.stack.Functions.Tracker.Role))
	q, _ := find(got, "SendToReplyQueues")
	m, _ := find(got, "CompleteTaskTokens")
	if !slices.Contains(q.Resources, "arn:aws:sqs:eu-west-1:123456789012:partner-replies") {
		t.Errorf("SendToReplyQueues = %v", q)
	}
	if !slices.Contains(m.Resources, "arn:aws:states:eu-west-1:123456789012:stateMachine:billing") {
		t.Errorf("CompleteTaskTokens = %v", m)
	}
	e, _ := find(got, "PutResultEvents")
	if !slices.Contains(e.Resources, "arn:aws:events:eu-west-1:123456789012:event-bus/partner") || len(e.Resources) != 2 {
		t.Errorf("PutResultEvents = %v, want the deployment's bus and the partner's", e)
	}
	// The launcher is told which buses it may name, to refuse any other.
	fn := d.resources("AWS::Lambda::Function")[d.logicalID(d.stack.Functions.Launcher.Function)]
	vars := fn["Properties"].(map[string]any)["Environment"].(map[string]any)["Variables"].(map[string]any)
	if vars[deploy.EnvCallbackBuses] != "arn:aws:events:eu-west-1:123456789012:event-bus/partner" {
		t.Errorf("%s = %v", deploy.EnvCallbackBuses, vars[deploy.EnvCallbackBuses])
	}
}

// The grants must cover every call the functions' AWS adapters make: a
// method added to their API interfaces fails here before it fails in AWS.
func TestTheGrantsCoverEveryCallOfTheAdapters(t *testing.T) {
	d := deployments(t).main
	fns := d.stack.Functions
	tests := []struct {
		name    string
		iface   reflect.Type
		service string
		fns     []*construct.Function
	}{
		{"the run store (internal/aws/dynamo)", reflect.TypeFor[dynamo.API](), "dynamodb",
			[]*construct.Function{fns.Launcher, fns.Tracker, fns.Reconciler, fns.API}},
		{"the task runner (internal/aws/ecs)", reflect.TypeFor[ecs.API](), "ecs",
			[]*construct.Function{fns.Launcher, fns.Tracker, fns.Reconciler}},
		{"the notifier's events (internal/aws/notify)", reflect.TypeFor[notify.EventsAPI](), "events",
			[]*construct.Function{fns.Launcher, fns.Tracker, fns.Reconciler, fns.API}},
		{"the notifier's queues (internal/aws/notify)", reflect.TypeFor[notify.QueuesAPI](), "sqs",
			[]*construct.Function{fns.Launcher, fns.Tracker, fns.Reconciler, fns.API}},
		{"the notifier's task tokens (internal/aws/notify)", reflect.TypeFor[notify.StatesAPI](), "states",
			[]*construct.Function{fns.Launcher, fns.Tracker, fns.Reconciler, fns.API}},
		{"the log reader (internal/aws/logs)", reflect.TypeFor[logs.API](), "logs", []*construct.Function{fns.API}},
		{"the schedule switch (internal/aws/schedules)", reflect.TypeFor[schedules.API](), "scheduler", []*construct.Function{fns.Reconciler}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, f := range tt.fns {
				policy := d.policyOf(d.logicalID(f.Role))
				for i := range tt.iface.NumMethod() {
					action := tt.service + ":" + tt.iface.Method(i).Name
					if !allows(policy, action) {
						t.Errorf("%s may not %s", *f.Function.Node().Id(), action)
					}
				}
			}
		})
	}
}
