// Package construct is Longshore as a CDK construct: NewLongshore adds a
// deployment of a job catalog (its network, cluster, task definitions,
// triggers, runs table, results bus and functions) to any stack of a CDK
// app. Longshore's own app (infra/) is a thin main over it.
package construct

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambdadestinations"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/longshore/longshore/internal/deploy"
	"github.com/longshore/longshore/internal/job"
)

// LongshoreProps configure a deployment of Longshore. Only the catalog is
// required (Catalog, or JobsDir to load it from) and the functions' code
// (FunctionsDir); everything else has a default.
type LongshoreProps struct {
	// Catalog is the job catalog (LoadCatalog); when nil, it is loaded from
	// JobsDir.
	Catalog *Catalog
	// JobsDir is the folder holding <name>/job.yaml files, used when
	// Catalog is nil.
	JobsDir string
	// FunctionsDir holds <name>/bootstrap of each function, linux/arm64
	// (the release's lambda/ folder, or `make build`'s bin/lambda).
	FunctionsDir string
	// Prefix names every physical resource (deploy.DefaultPrefix when
	// empty): a second deployment in one account needs its own.
	Prefix string
	// Vpc and Subnets are the network tasks run in by default (Subnets
	// default to the VPC's private subnets); VpcID and SubnetIDs name one by
	// id instead; with none of them, a new VPC is made.
	Vpc       awsec2.IVpc
	Subnets   []awsec2.ISubnet
	VpcID     string
	SubnetIDs []string
	// AssignPublicIP gives tasks public IPs: for existing public subnets.
	AssignPublicIP bool
	// NatGateways of a new VPC (1 when nil); 0 puts tasks in public subnets
	// with public IPs and no NAT gateway.
	NatGateways *int
	// LogRetention of every log group made (one month when empty).
	LogRetention awslogs.RetentionDays
	// AlarmsTopic, when set, is told of every alarm and its recovery.
	AlarmsTopic awssns.ITopic
	// ContainerInsights turns on CloudWatch Container Insights.
	ContainerInsights bool
	// CallbackQueueArns and CallbackStateMachineArns extend the callback
	// targets the functions may reach beyond the deployment's own name
	// prefixes.
	CallbackQueueArns        []string
	CallbackStateMachineArns []string
	// CallbackEventBusArns are the event buses beside the deployment's own
	// that a run's callback of kind event may name; the launcher refuses
	// any other when the run is asked for.
	CallbackEventBusArns []string
	// MaxRunning bounds the runs active at once in the deployment, to stay
	// under the account's Fargate task quota: runs past it wait, queued,
	// until one ends, and never fail for it. 0 sets no bound.
	MaxRunning int
	// HistoryKeep is how long finished runs are kept when their job's
	// history.keep does not say (deploy.DefaultHistoryKeep when zero); the
	// runs table's time to live deletes them then.
	HistoryKeep time.Duration
}

// Longshore is everything one deployment needs, built from its catalog:
// the network, the cluster, each job's task definition, the triggers, the
// runs table, the results bus and the four functions. Its fields are what
// a caller's own constructs may use: grant access to Table.Table, put
// objects in Buckets.Uploads, send to a Queues.Queues entry, invoke
// Functions.Launcher.Function, subscribe to Results.Bus.
type Longshore struct {
	constructs.Construct
	Prefix      string
	Catalog     *Catalog
	CatalogFile *CatalogLayer
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
	// Notifications deliver the jobs' notify entries; nil when there are none.
	Notifications *Notifications
}

// NewLongshore adds a deployment to scope, which must be inside a stack.
// Its errors are the catalog's problems (as `longshore validate` prints
// them) and those only a deployment has (names too long for AWS, an image
// folder that is gone), each naming the job file and field.
func NewLongshore(scope constructs.Construct, id string, props *LongshoreProps) (*Longshore, error) {
	p := *props
	if p.Prefix == "" {
		p.Prefix = deploy.DefaultPrefix
	}
	if err := CheckPrefix(p.Prefix); err != nil {
		return nil, fmt.Errorf("prefix: %w", err)
	}
	if p.HistoryKeep == 0 {
		p.HistoryKeep = deploy.DefaultHistoryKeep
	}
	if p.HistoryKeep < job.MinHistoryKeep || p.HistoryKeep > job.MaxHistoryKeep {
		return nil, fmt.Errorf("historyKeep: %s is out of range: 1h to 3650d", job.FormatDays(p.HistoryKeep))
	}
	if p.MaxRunning < 0 || p.MaxRunning > deploy.MaxMaxRunning {
		return nil, fmt.Errorf("maxRunning: %d is out of range: 1 to %d runs at once, or 0 for no bound", p.MaxRunning, deploy.MaxMaxRunning)
	}
	if p.LogRetention == "" {
		p.LogRetention = awslogs.RetentionDays_ONE_MONTH
	}
	nat := 1
	if p.NatGateways != nil {
		nat = *p.NatGateways
	}
	if p.Catalog == nil {
		if p.JobsDir == "" {
			return nil, errors.New("no job catalog: give LongshoreProps.Catalog or JobsDir")
		}
		cat, err := LoadCatalog(p.JobsDir)
		if err != nil {
			return nil, err
		}
		p.Catalog = cat
	}
	if err := checkFunctions(p.FunctionsDir); err != nil {
		return nil, err
	}
	jobs := p.Catalog.Jobs()
	if err := checkNames(p.Prefix, jobs); err != nil {
		return nil, err
	}
	c := constructs.NewConstruct(scope, &id)
	// The feature flags the resources rely on, for this construct's tree
	// only, whatever the app sets.
	for flag, v := range featureFlags {
		c.Node().SetContext(jsii.String(flag), v)
	}
	stack := c
	s := &Longshore{Construct: c, Prefix: p.Prefix, Catalog: p.Catalog}
	retention := p.LogRetention
	var err error
	if s.CatalogFile, err = NewCatalogLayer(stack, "Catalog", &CatalogLayerProps{Catalog: p.Catalog}); err != nil {
		return nil, err
	}

	s.Network = NewNetwork(stack, "Network", &NetworkProps{
		Prefix: p.Prefix, Retention: retention, Vpc: p.Vpc, Subnets: p.Subnets, VpcID: p.VpcID, SubnetIDs: p.SubnetIDs,
		NatGateways: nat, AssignPublicIP: p.AssignPublicIP || (p.Vpc == nil && p.VpcID == "" && nat == 0),
	})
	s.Cluster = NewCluster(stack, "Cluster", &ClusterProps{
		Prefix: p.Prefix, Vpc: s.Network.Vpc, ContainerInsights: p.ContainerInsights,
	})
	s.Buckets = NewBuckets(stack, "Buckets", &BucketsProps{})
	s.Table = NewRunsTable(stack, "RunsTable", &RunsTableProps{})
	s.Results = NewResults(stack, "Results", &ResultsProps{Prefix: p.Prefix, Retention: retention})
	s.DeadLetters = NewDeadLetters(stack, "DeadLetters", &DeadLettersProps{Prefix: p.Prefix})

	subnets := s.Network.SubnetIDs()
	for _, spec := range jobs {
		t, err := NewJobTask(stack, "Job"+pascal(spec.Name), &JobTaskProps{
			Prefix: p.Prefix, Job: spec, JobsDir: p.Catalog.Dir(), Retention: retention,
			Uploads: s.Buckets.Uploads, Payloads: s.Buckets.Payloads,
		})
		if err != nil {
			return nil, err
		}
		s.Tasks = append(s.Tasks, t)
	}

	s.Functions = NewFunctions(stack, "Functions", &FunctionsProps{
		Prefix: p.Prefix, Dir: p.FunctionsDir, Retention: retention,
		Environment: map[string]*string{
			deploy.EnvPrefix:         jsii.String(p.Prefix),
			deploy.EnvCluster:        s.Cluster.Cluster.ClusterArn(),
			deploy.EnvSubnets:        awscdk.Fn_Join(jsii.String(","), &subnets),
			deploy.EnvSecurityGroups: s.Network.SecurityGroup.SecurityGroupId(),
			deploy.EnvAssignPublicIP: jsii.String(strconv.FormatBool(s.Network.AssignPublicIP)),
			deploy.EnvRunsTable:      s.Table.Table.TableName(),
			deploy.EnvEventBus:       s.Results.Bus.EventBusName(),
			deploy.EnvPayloadBucket:  s.Buckets.Payloads.BucketName(),
			deploy.EnvUploadsBucket:  s.Buckets.Uploads.BucketName(),
			deploy.EnvCatalog:        jsii.String(deploy.CatalogDir),
			deploy.EnvCallbackBuses:  jsii.String(strings.Join(p.CallbackEventBusArns, ",")),
			deploy.EnvMaxRunning:     jsii.String(strconv.Itoa(p.MaxRunning)),
			deploy.EnvHistoryKeep:    jsii.String(p.HistoryKeep.String()),
		},
		Layers: []awslambda.ILayerVersion{s.CatalogFile.Layer},
	})
	fns := s.Functions
	grants := &Grants{
		Prefix: p.Prefix, Cluster: s.Cluster, Tasks: s.Tasks, Bus: s.Results.Bus, Payloads: s.Buckets.Payloads,
		Table:             s.Table.Table,
		CallbackQueueArns: p.CallbackQueueArns, CallbackStateMachineArns: p.CallbackStateMachineArns,
		CallbackEventBusArns: p.CallbackEventBusArns,
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

	s.Schedules, err = NewSchedules(stack, "Schedules", &SchedulesProps{
		Prefix: p.Prefix, Jobs: jobs, Launcher: fns.Launcher.Function, DeadLetters: s.DeadLetters.Schedules,
	})
	if err != nil {
		return nil, err
	}
	// The reconciler disables the schedules of paused jobs and enables
	// those of resumed ones (internal/aws/schedules).
	s.Schedules.GrantSwitch(fns.Reconciler.Role)
	s.Uploads = NewUploadTriggers(stack, "UploadTriggers", &UploadTriggersProps{
		Jobs: jobs, Bucket: s.Buckets.Uploads, Launcher: fns.Launcher.Function, DeadLetters: s.DeadLetters.Events,
	})
	s.Queues = NewJobQueues(stack, "JobQueues", &JobQueuesProps{
		Prefix: p.Prefix, Jobs: jobs, Launcher: fns.Launcher.Function, LauncherTimeout: launcherTimeout,
	})
	s.Tracking = NewTracking(stack, "Tracking", &TrackingProps{
		ClusterArn: s.Cluster.Cluster.ClusterArn(), Tracker: fns.Tracker.Function,
		Reconciler: fns.Reconciler.Function, DeadLetters: s.DeadLetters.Events,
	})

	deadLetters := map[string]awssqs.IQueue{"schedules": s.DeadLetters.Schedules, "events": s.DeadLetters.Events}
	notifications, err := NewNotifications(stack, "Notifications", &NotificationsProps{Prefix: p.Prefix, Jobs: jobs, Bus: s.Results.Bus})
	if err != nil {
		return nil, err
	}
	if s.Notifications = notifications; notifications != nil {
		deadLetters["notify"] = notifications.DeadLetters
	}
	for _, q := range s.Queues.Queues {
		deadLetters["queue-"+q.Job] = q.DeadLetter
	}
	s.Alarms = NewAlarms(stack, "Alarms", &AlarmsProps{
		Prefix:      p.Prefix,
		DeadLetters: deadLetters,
		Functions: map[string]awslambda.IFunction{
			deploy.FunctionLauncher: fns.Launcher.Function, deploy.FunctionTracker: fns.Tracker.Function,
			deploy.FunctionReconciler: fns.Reconciler.Function, deploy.FunctionAPI: fns.API.Function,
		},
		RunsFailed: s.Results.RunsFailed,
		Topic:      p.AlarmsTopic,
	})
	s.addOutputs(p.Prefix)
	suppressNagFindings(s, p.ContainerInsights)
	return s, nil
}

// featureFlags are the CDK feature flags Longshore's resources rely on.
var featureFlags = map[string]any{
	// Server access logs are delivered under a bucket policy, not an ACL
	// (the buckets enforce bucket-owner object ownership).
	"@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy": true,
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
