package construct

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// CheckWithNag runs cdk-nag's AwsSolutions checks on scope (an app or a
// stack): findings become annotations (errors fail `cdk synth`) and
// cdk.out gets a NagReport CSV. Longshore's own suppressions, each with its
// reason, are recorded by NewLongshore.
func CheckWithNag(scope constructs.IConstruct) {
	awscdk.Aspects_Of(scope).Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{Verbose: jsii.Bool(true)}), nil)
}

// suppressNagFindings records the stack's suppressions. Every suppression
// of the project is here, each with its reason, scoped to the constructs
// and (for IAM5) the exact resources it concerns.
func suppressNagFindings(s *Longshore, containerInsights bool) {
	prefix := regexp.QuoteMeta(s.Prefix)
	arn := func(rest string) string {
		return `Resource::arn:<AWS::Partition>:` + rest
	}
	fnRoles := []constructs.IConstruct{
		s.Functions.Launcher.Role, s.Functions.Tracker.Role, s.Functions.Reconciler.Role, s.Functions.API.Role,
	}
	for _, role := range fnRoles {
		suppress(role, "AwsSolutions-IAM5",
			"RunTask names a job's task definition family and ECS runs its latest revision; each deployment registers a new "+
				"revision, so the statement lists every family of the catalog by name with any revision (:*), never another "+
				"family, and is conditioned on ecs:cluster being this cluster.",
			regex(`^`+arn(`ecs:<AWS::Region>:<AWS::AccountId>:task-definition/`+prefix+`-[a-z0-9-]+:\*$`)))
		suppress(role, "AwsSolutions-IAM5",
			"Task ids are made by RunTask, so no task ARN is known before the run: the pattern is this cluster's tasks only "+
				"(task/<cluster>/*); StopTask and DescribeTasks are also conditioned on ecs:cluster, and TagResource on "+
				"ecs:CreateAction = RunTask.",
			regex(`^`+arn(`ecs:<AWS::Region>:<AWS::AccountId>:task/`+prefix+`/\*$`)))
		suppress(role, "AwsSolutions-IAM5",
			"ListTasks, which finds a run's task by its startedBy, is authorized on container instances, which Fargate "+
				"makes and names: this cluster's only (container-instance/<cluster>/*), conditioned on ecs:cluster too.",
			regex(`^`+arn(`ecs:<AWS::Region>:<AWS::AccountId>:container-instance/`+prefix+`/\*$`)))
		suppress(role, "AwsSolutions-IAM5",
			"A payload too large for ECS overrides is one object per run, payloads/<job>/<run id>.json (deploy.PayloadKey), "+
				"whose key exists only once the run does; PutObject only, below payloads/ of the stack's own payload bucket.",
			regex(`^Resource::<[A-Za-z0-9]*BucketsPayloads[0-9A-F]+\.Arn>/payloads/\*$`))
		suppress(role, "AwsSolutions-IAM5",
			"Reply queues belong to callers and are named per request: SendMessage only, to queues of this account and "+
				"Region whose names start with <prefix>_reply- (deploy.ReplyQueuePrefix); more only by naming their ARNs in "+
				"-c callbackQueueArns.",
			regex(`^`+arn(`sqs:<AWS::Region>:<AWS::AccountId>:`+prefix+`_reply-\*$`)))
		suppress(role, "AwsSolutions-IAM5",
			"Step Functions task tokens come from callers' state machines: SendTaskSuccess/Failure only, to state machines "+
				"of this account and Region named <prefix>-* (deploy.CallbackStateMachinePrefix); more only by naming their "+
				"ARNs in -c callbackStateMachineArns.",
			regex(`^`+arn(`states:<AWS::Region>:<AWS::AccountId>:stateMachine:`+prefix+`-\*$`)))
	}
	for _, t := range s.Tasks {
		suppressJobGrants(t)
		suppress(t.TaskRole, "AwsSolutions-IAM5",
			"A task reads only its own run's objects, whose keys exist only at run time: its payload below "+
				"payloads/<job>/ and, for S3-triggered jobs, the uploads matching its triggers' prefix*suffix; GetObject only.",
			regex(`^Resource::<[A-Za-z0-9]*Buckets(Payloads|Uploads)[0-9A-F]+\.Arn>/.*$`))
		suppress(t.ExecutionRole, "AwsSolutions-IAM5",
			"ecr:GetAuthorizationToken has no resource-level permissions (it returns a registry login, not an image); the "+
				"image pulls themselves are limited to the job's own asset or named repository.",
			"Resource::*")
		if len(t.Job.Environment) > 0 {
			suppress(t.TaskDefinition, "AwsSolutions-ECS2",
				"These are the job's non-secret settings from job.yaml environment, which `longshore validate` checks for "+
					"secret-looking names with plain values; every entry of secrets is an ECS secret (valueFrom) read by the "+
					"execution role, never an environment value.")
		}
	}
	if !containerInsights {
		suppress(s.Cluster.Cluster, "AwsSolutions-ECS4",
			"Off by default so that an idle deployment is not billed for Container Insights metrics; every run's outcome, "+
				"exit code and container logs are recorded anyway. Turn it on with -c containerInsights=true.")
	}
	for _, q := range []constructs.IConstruct{s.DeadLetters.Schedules, s.DeadLetters.Events} {
		suppress(q, "AwsSolutions-SQS3",
			"This queue is itself a dead-letter queue (of Scheduler, of EventBridge targets, of Lambda's failed asynchronous "+
				"invocations), which cdk-nag cannot see because no redrive policy names it; an alarm fires when it is not empty.")
	}
	if s.Notifications != nil {
		suppress(s.Notifications.DeadLetters, "AwsSolutions-SQS3",
			"This queue is itself the dead-letter queue of the notification rules' targets, which cdk-nag cannot see "+
				"because no redrive policy names it; an alarm fires when it is not empty.")
	}
}

// suppressJobGrants records, by name, each wildcard and AWS managed policy
// a job's owner granted its task role in job.yaml: the owner's decision,
// which `longshore validate` lists as a warning when a resource is "*".
func suppressJobGrants(t *JobTask) {
	spec := t.Job
	for i, p := range spec.Permissions {
		var findings []any
		for _, a := range p.Actions {
			if strings.ContainsAny(a, "*?") {
				findings = append(findings, "Action::"+a)
			}
		}
		for _, r := range p.Resources {
			if strings.ContainsAny(r, "*?") {
				findings = append(findings, "Resource::"+r)
			}
		}
		if len(findings) > 0 {
			suppress(t.TaskRole, "AwsSolutions-IAM5", fmt.Sprintf(
				"Declared by the job's owner in %s, permissions[%d] (%s on %s): a grant of the job's own container, made on purpose.",
				spec.Path, i, strings.Join(p.Actions, ", "), strings.Join(p.Resources, ", ")), findings...)
		}
	}
	for i, arn := range spec.ManagedPolicies {
		if strings.Contains(arn, ":iam::aws:policy/") {
			suppress(t.TaskRole, "AwsSolutions-IAM4", fmt.Sprintf(
				"Declared by the job's owner in %s, managedPolicies[%d]: an AWS managed policy the job's container is meant to have.",
				spec.Path, i), "Policy::"+arn)
		}
	}
}

// suppress records one suppression on a construct and its children,
// limited to the findings appliesTo names when given.
func suppress(c constructs.IConstruct, rule, reason string, appliesTo ...any) {
	sup := &cdknag.NagPackSuppression{Id: jsii.String(rule), Reason: jsii.String(reason)}
	if len(appliesTo) > 0 {
		sup.AppliesTo = &appliesTo
	}
	cdknag.NagSuppressions_AddResourceSuppressions(c, &[]*cdknag.NagPackSuppression{sup}, jsii.Bool(true))
}

// regex is an appliesTo that matches findings by an ECMAScript regular
// expression.
func regex(pattern string) any {
	return &cdknag.RegexAppliesTo{Regex: jsii.String("/" + pattern + "/")}
}
