package main

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambdadestinations"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/longshore/longshore/internal/deploy"
	"github.com/longshore/longshore/internal/job"
)

// LongshoreStackProps is a deployment: its configuration and its catalog.
type LongshoreStackProps struct {
	awscdk.StackProps
	Config  Config
	Catalog *job.Catalog
}

// LongshoreStack is everything one deployment needs, built from the catalog.
type LongshoreStack struct {
	awscdk.Stack
	Network     *Network
	Cluster     *Cluster
	Buckets     *Buckets
	Table       *RunsTable
	Results     *Results
	Functions   *Functions
	Tasks       []*JobTask
	DeadLetters *DeadLetters
	Schedules   *Schedules
	Uploads     *UploadTriggers
	Queues      *JobQueues
	Tracking    *Tracking
	Alarms      *Alarms
}

// NewLongshoreStack creates the stack. Its errors are the catalog's
// problems that only a deployment has (names too long for AWS, an image
// folder that is gone) and name the job file and field.
func NewLongshoreStack(scope constructs.Construct, id string, props *LongshoreStackProps) (*LongshoreStack, error) {
	cfg := props.Config
	jobs := props.Catalog.Jobs()
	if err := checkNames(cfg.Prefix, jobs); err != nil {
		return nil, err
	}
	sp := props.StackProps
	if sp.Description == nil {
		sp.Description = jsii.String("Longshore (" + cfg.Prefix + "): containers run as jobs on AWS Fargate")
	}
	stack := awscdk.NewStack(scope, &id, &sp)
	s := &LongshoreStack{Stack: stack}
	retention := cfg.Retention()

	s.Network = NewNetwork(stack, "Network", &NetworkProps{
		Prefix: cfg.Prefix, Retention: retention, VpcID: cfg.VpcID, SubnetIDs: cfg.SubnetIDs,
		NatGateways: cfg.NatGateways, AssignPublicIP: cfg.AssignPublicIP,
	})
	s.Cluster = NewCluster(stack, "Cluster", &ClusterProps{
		Prefix: cfg.Prefix, Vpc: s.Network.Vpc, ContainerInsights: cfg.ContainerInsights,
	})
	s.Buckets = NewBuckets(stack, "Buckets", &BucketsProps{})
	s.Table = NewRunsTable(stack, "RunsTable", &RunsTableProps{})
	s.Results = NewResults(stack, "Results", &ResultsProps{Prefix: cfg.Prefix, Retention: retention})
	s.DeadLetters = NewDeadLetters(stack, "DeadLetters", &DeadLettersProps{Prefix: cfg.Prefix})

	subnets := s.Network.SubnetIDs()
	for _, spec := range jobs {
		t, err := NewJobTask(stack, "Job"+pascal(spec.Name), &JobTaskProps{
			Prefix: cfg.Prefix, Job: spec, JobsDir: cfg.JobsDir, Retention: retention,
			Uploads: s.Buckets.Uploads, Payloads: s.Buckets.Payloads,
		})
		if err != nil {
			return nil, err
		}
		s.Tasks = append(s.Tasks, t)
	}

	s.Functions = NewFunctions(stack, "Functions", &FunctionsProps{
		Prefix: cfg.Prefix, Dir: cfg.FunctionsDir, Retention: retention,
		Environment: map[string]*string{
			deploy.EnvPrefix:         jsii.String(cfg.Prefix),
			deploy.EnvCluster:        s.Cluster.Cluster.ClusterArn(),
			deploy.EnvSubnets:        awscdk.Fn_Join(jsii.String(","), &subnets),
			deploy.EnvSecurityGroups: s.Network.SecurityGroup.SecurityGroupId(),
			deploy.EnvAssignPublicIP: jsii.String(strconv.FormatBool(s.Network.AssignPublicIP)),
			deploy.EnvRunsTable:      s.Table.Table.TableName(),
			deploy.EnvEventBus:       s.Results.Bus.EventBusName(),
			deploy.EnvPayloadBucket:  s.Buckets.Payloads.BucketName(),
			deploy.EnvUploadsBucket:  s.Buckets.Uploads.BucketName(),
		},
	})
	fns := s.Functions
	grants := &Grants{
		Prefix: cfg.Prefix, Cluster: s.Cluster, Tasks: s.Tasks, Bus: s.Results.Bus, Payloads: s.Buckets.Payloads,
		Table:             s.Table.Table,
		CallbackQueueArns: cfg.CallbackQueueArns, CallbackStateMachineArns: cfg.CallbackStateMachineArns,
	}
	// The launcher starts runs (and stops the runs a "replace" job
	// replaces); the tracker retries; the reconciler stops timed-out tasks
	// and retries or finishes lost runs: each may start, stop and report.
	for _, f := range []*Function{fns.Launcher, fns.Tracker, fns.Reconciler} {
		grants.RunTasks(f.Role)
		grants.StopAndDescribeTasks(f.Role)
		grants.Notify(f.Role)
		grants.ReadWriteRuns(f.Role)
		// Asynchronous invocations (schedules, rules) that still fail after
		// Lambda's two retries are kept, with the error, in the dead letters.
		f.Function.ConfigureAsyncInvoke(&awslambda.EventInvokeConfigOptions{
			OnFailure:     awslambdadestinations.NewSqsDestination(s.DeadLetters.Events),
			RetryAttempts: jsii.Number(2),
		})
	}
	// The API queries runs, records stop requests and stops tasks, reads
	// the jobs' logs, and reports a run it cancels before it started.
	grants.StopAndDescribeTasks(fns.API.Role)
	grants.ReadJobLogs(fns.API.Role)
	grants.Notify(fns.API.Role)
	grants.ReadWriteRuns(fns.API.Role)

	var err error
	s.Schedules, err = NewSchedules(stack, "Schedules", &SchedulesProps{
		Prefix: cfg.Prefix, Jobs: jobs, Launcher: fns.Launcher.Function, DeadLetters: s.DeadLetters.Schedules,
	})
	if err != nil {
		return nil, err
	}
	s.Uploads = NewUploadTriggers(stack, "UploadTriggers", &UploadTriggersProps{
		Jobs: jobs, Bucket: s.Buckets.Uploads, Launcher: fns.Launcher.Function, DeadLetters: s.DeadLetters.Events,
	})
	s.Queues = NewJobQueues(stack, "JobQueues", &JobQueuesProps{
		Prefix: cfg.Prefix, Jobs: jobs, Launcher: fns.Launcher.Function, LauncherTimeout: launcherTimeout,
	})
	s.Tracking = NewTracking(stack, "Tracking", &TrackingProps{
		ClusterArn: s.Cluster.Cluster.ClusterArn(), Tracker: fns.Tracker.Function,
		Reconciler: fns.Reconciler.Function, DeadLetters: s.DeadLetters.Events,
	})

	deadLetters := map[string]awssqs.IQueue{"schedules": s.DeadLetters.Schedules, "events": s.DeadLetters.Events}
	for _, q := range s.Queues.Queues {
		deadLetters["queue-"+q.Job] = q.DeadLetter
	}
	s.Alarms = NewAlarms(stack, "Alarms", &AlarmsProps{
		Prefix:      cfg.Prefix,
		DeadLetters: deadLetters,
		Functions: map[string]awslambda.IFunction{
			deploy.FunctionLauncher: fns.Launcher.Function, deploy.FunctionTracker: fns.Tracker.Function,
			deploy.FunctionReconciler: fns.Reconciler.Function, deploy.FunctionAPI: fns.API.Function,
		},
		RunsFailed: s.Results.RunsFailed,
		TopicArn:   cfg.AlarmTopicArn,
	})
	s.addOutputs(cfg.Prefix)
	return s, nil
}

// pascal turns a job or function name into a construct id: "nightly-report"
// becomes "NightlyReport".
func pascal(name string) string {
	var b strings.Builder
	for _, part := range strings.FieldsFunc(name, func(r rune) bool { return r == '-' || r == '_' }) {
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	return b.String()
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// AWS limits on the names the stack derives from the catalog.
const (
	maxQueueName    = 80
	maxScheduleName = 64
)

// checkNames reports the jobs whose derived names AWS would refuse, in the
// form `longshore validate` uses: file, field, what to do.
func checkNames(prefix string, jobs []*job.Spec) error {
	var problems []job.Problem
	for _, spec := range jobs {
		for i, tr := range spec.Triggers {
			if tr.SQS != nil {
				if n := deploy.DeadLetterQueueName(prefix, tr.SQS.Queue); len(n) > maxQueueName {
					problems = append(problems, job.Problem{Path: spec.Path, Field: fmt.Sprintf("triggers[%d].sqs.queue", i),
						Message: fmt.Sprintf("%q makes the dead-letter queue %s, longer than SQS's %d characters: use at most %d", tr.SQS.Queue, n, maxQueueName, maxQueueName-len(n)+len(tr.SQS.Queue))})
				}
			}
			if tr.Schedule != "" {
				if n := deploy.ScheduleName(prefix, spec.Name, i); len(n) > maxScheduleName {
					problems = append(problems, job.Problem{Path: spec.Path, Field: "name",
						Message: fmt.Sprintf("%q makes the schedule name %s, longer than Scheduler's %d characters: shorten the job's name", spec.Name, n, maxScheduleName)})
				}
			}
		}
	}
	if len(problems) > 0 {
		return &job.ProblemsError{Problems: problems}
	}
	return nil
}
