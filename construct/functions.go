package construct

import (
	"path/filepath"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/longshore/longshore/internal/deploy"
)

// functionSpec is what differs between the four functions.
type functionSpec struct {
	name        string
	description string
	timeout     time.Duration
	// memoryMB is the function's memory, which also sets its share of a
	// vCPU (one at 1,769 MB) and the price of each millisecond.
	memoryMB int
}

// launcherTimeout bounds a launcher invocation; SQS trigger queues hide a
// message six times as long.
const launcherTimeout = 60 * time.Second

// functionSpecs: the launcher answers direct invokes (with a short wait
// for the run, capped by its timeout) and SQS batches; the reconciler
// sweeps every run still active every minute.
//
// The launcher and the tracker, which every run invokes, have Lambda's
// least memory: they peak at about 20 MiB (make bench measures it), an SQS
// batch (6 MB at most) adds a few times its size, and most of an
// invocation is spent waiting for DynamoDB, ECS and EventBridge, billed by
// the millisecond at the memory's price. The reconciler and the api read
// pages of up to a thousand runs (the api for every job at once on the
// dashboard's Jobs page), so they keep twice as much, and the CPU with it.
var functionSpecs = []functionSpec{
	{deploy.FunctionLauncher, "Longshore: turn schedules, uploads, messages and invokes into runs", launcherTimeout, 128},
	{deploy.FunctionTracker, "Longshore: record ECS task state changes, classify, retry, notify", 60 * time.Second, 128},
	{deploy.FunctionReconciler, "Longshore: stop timed-out tasks and repair runs whose events were missed", 5 * time.Minute, 256},
	{deploy.FunctionAPI, "Longshore: the runs API of the command line (query, stop, logs)", 30 * time.Second, 256},
}

// FunctionsProps is where the code is and what the functions are told.
type FunctionsProps struct {
	Prefix string
	// Dir holds <name>/bootstrap for each function (linux/arm64).
	Dir       string
	Retention awslogs.RetentionDays
	// Environment is given to every function (deploy.Env*).
	Environment map[string]*string
	// Layers are added to every function: the catalog.
	Layers []awslambda.ILayerVersion
}

// Function is one Lambda with the role and log group it alone uses.
type Function struct {
	Function awslambda.Function
	Role     awsiam.Role
	LogGroup awslogs.LogGroup
}

// Functions are the four Lambdas: provided.al2023 on arm64, handler
// bootstrap, each with a role of its own (no managed policies: it may
// write its own log group, and the stack grants the rest) and a log group
// with retention.
type Functions struct {
	constructs.Construct
	Launcher, Tracker, Reconciler, API *Function
}

// NewFunctions creates the four functions.
func NewFunctions(scope constructs.Construct, id string, props *FunctionsProps) *Functions {
	c := constructs.NewConstruct(scope, &id)
	fs := &Functions{Construct: c}
	for _, spec := range functionSpecs {
		f := newFunction(c, spec, props)
		switch spec.name {
		case deploy.FunctionLauncher:
			fs.Launcher = f
		case deploy.FunctionTracker:
			fs.Tracker = f
		case deploy.FunctionReconciler:
			fs.Reconciler = f
		case deploy.FunctionAPI:
			fs.API = f
		}
	}
	return fs
}

func newFunction(scope constructs.Construct, spec functionSpec, props *FunctionsProps) *Function {
	id := pascal(spec.name)
	name := deploy.FunctionName(props.Prefix, spec.name)
	f := &Function{}
	f.LogGroup = awslogs.NewLogGroup(scope, jsii.String(id+"Logs"), &awslogs.LogGroupProps{
		LogGroupName:  jsii.String("/aws/lambda/" + name),
		Retention:     props.Retention,
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
	})
	f.Role = awsiam.NewRole(scope, jsii.String(id+"Role"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
		Description: jsii.String("Longshore " + spec.name + " function"),
	})
	f.Role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("WriteOwnLogs"),
		Actions:   jsii.Strings("logs:CreateLogStream", "logs:PutLogEvents"),
		Resources: jsii.Strings(*f.LogGroup.LogGroupArn()),
	}))
	env := props.Environment
	f.Function = awslambda.NewFunction(scope, jsii.String(id), &awslambda.FunctionProps{
		FunctionName:  jsii.String(name),
		Description:   jsii.String(spec.description),
		Runtime:       awslambda.Runtime_PROVIDED_AL2023(),
		Architecture:  awslambda.Architecture_ARM_64(),
		Handler:       jsii.String("bootstrap"),
		Code:          awslambda.Code_FromAsset(jsii.String(filepath.Join(props.Dir, spec.name)), nil),
		MemorySize:    jsii.Number(spec.memoryMB),
		Timeout:       awscdk.Duration_Seconds(jsii.Number(spec.timeout.Seconds())),
		Role:          f.Role,
		LogGroup:      f.LogGroup,
		LoggingFormat: awslambda.LoggingFormat_JSON,
		Environment:   &env,
		Layers:        &props.Layers,
	})
	return f
}
