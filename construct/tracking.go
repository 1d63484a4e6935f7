package construct

import (
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// ReconcileEvery is how often the reconciler sweeps the active runs: a
// run's timeout and a retry's backoff are acted on within this much of
// their due time. Every minute costs about 43,200 short invocations and
// three index queries each a month (about $0.05 beyond the free tier),
// whatever the number of runs: cheaper than a one-time Scheduler schedule
// per deadline ($1 per million) from about 50,000 runs a month on.
const ReconcileEvery = time.Minute

// TrackingProps names the cluster and the two functions that follow tasks.
type TrackingProps struct {
	ClusterArn  *string
	Tracker     awslambda.IFunction
	Reconciler  awslambda.IFunction
	DeadLetters awssqs.IQueue
}

// Tracking is how the outcome of every task comes back: the ECS "Task
// State Change" events of this cluster go to the tracker, and a rule
// starts the reconciler every minute: timeouts, due retries and what events missed.
type Tracking struct {
	constructs.Construct
	TaskEvents awsevents.Rule
	Reconcile  awsevents.Rule
}

// NewTracking creates the two rules.
func NewTracking(scope constructs.Construct, id string, props *TrackingProps) *Tracking {
	c := constructs.NewConstruct(scope, &id)
	t := &Tracking{Construct: c}
	t.TaskEvents = awsevents.NewRule(c, jsii.String("TaskStateChanges"), &awsevents.RuleProps{
		Description: jsii.String("Longshore: this cluster's ECS task state changes, to the tracker"),
		EventPattern: &awsevents.EventPattern{
			Source:     jsii.Strings("aws.ecs"),
			DetailType: jsii.Strings("ECS Task State Change"),
			// Only a task's end: a run is written when it is created and
			// when its task stops. The steps in between (PROVISIONING ..
			// RUNNING .. DEPROVISIONING) would each cost an invocation, a
			// read and a write per run; the api function reads a started
			// run's live state from ECS when asked for it instead, and the
			// reconciler looks at runs that stay quiet.
			Detail: &map[string]interface{}{
				"clusterArn": []*string{props.ClusterArn},
				"lastStatus": jsii.Strings("STOPPED"),
			},
		},
	})
	t.TaskEvents.AddTarget(awseventstargets.NewLambdaFunction(props.Tracker, &awseventstargets.LambdaFunctionProps{
		DeadLetterQueue: props.DeadLetters,
		MaxEventAge:     awscdk.Duration_Seconds(jsii.Number(ruleMaxEventAge.Seconds())),
		RetryAttempts:   jsii.Number(ruleMaxRetries),
	}))
	t.Reconcile = awsevents.NewRule(c, jsii.String("Reconcile"), &awsevents.RuleProps{
		Description: jsii.String("Longshore: start the reconciler every minute"),
		Schedule:    awsevents.Schedule_Rate(awscdk.Duration_Minutes(jsii.Number(ReconcileEvery.Minutes()))),
	})
	t.Reconcile.AddTarget(awseventstargets.NewLambdaFunction(props.Reconciler, &awseventstargets.LambdaFunctionProps{
		DeadLetterQueue: props.DeadLetters,
		MaxEventAge:     awscdk.Duration_Seconds(jsii.Number(ReconcileEvery.Seconds())),
		RetryAttempts:   jsii.Number(2),
	}))
	return t
}
