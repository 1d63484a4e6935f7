package construct

import (
	"strconv"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/longshore/longshore/internal/deploy"
)

// addOutputs declares the outputs the CLI reads to find a deployment
// (DescribeStacks on the stack, or ListExports): each keyed by a
// deploy.Output* constant and exported as deploy.ExportName(prefix, key).
// Queue URLs are exported per job as deploy.QueueURLExport(prefix, job).
func (s *Longshore) addOutputs(prefix string) {
	out := func(key string, value *string, description, export string) {
		o := awscdk.NewCfnOutput(s.Construct, jsii.String(key), &awscdk.CfnOutputProps{
			Value:       value,
			Description: jsii.String(description),
			ExportName:  jsii.String(export),
		})
		o.OverrideLogicalId(jsii.String(key))
	}
	fns := s.Functions
	for _, o := range []struct {
		key         string
		value       *string
		description string
	}{
		{deploy.OutputClusterArn, s.Cluster.Cluster.ClusterArn(), "The ECS cluster the jobs run in"},
		{deploy.OutputLauncherFunction, fns.Launcher.Function.FunctionName(), "Invoke it to start a run (api.RunRequest)"},
		{deploy.OutputTrackerFunction, fns.Tracker.Function.FunctionName(), "Follows ECS task state changes"},
		{deploy.OutputReconcilerFunction, fns.Reconciler.Function.FunctionName(), "Stops timed-out tasks, starts due retries and repairs runs every minute"},
		{deploy.OutputAPIFunction, fns.API.Function.FunctionName(), "The runs API of the command line"},
		{deploy.OutputUploadsBucket, s.Buckets.Uploads.BucketName(), "Objects created here start the jobs with S3 triggers"},
		{deploy.OutputPayloadBucket, s.Buckets.Payloads.BucketName(), "Run payloads passed by reference"},
		{deploy.OutputRunsTable, s.Table.Table.TableName(), "The DynamoDB table of runs"},
		{deploy.OutputEventBus, s.Results.Bus.EventBusName(), "One event per finished run"},
		{deploy.OutputResultsLogGroup, s.Results.LogGroup.LogGroupName(), "Every result event, kept as a log"},
		{deploy.OutputSchedulesDeadLetters, s.DeadLetters.Schedules.QueueUrl(), "Schedule invocations Scheduler gave up on"},
	} {
		out(o.key, o.value, o.description, deploy.ExportName(prefix, o.key))
	}
	for i, q := range s.Queues.Queues {
		key := deploy.OutputQueueURLPrefix + pascal(q.Job)
		if s.Node().TryFindChild(jsii.String(key)) != nil {
			key += strconv.Itoa(i)
		}
		out(key, q.Queue.QueueUrl(), "The trigger queue of job "+q.Job, deploy.QueueURLExport(prefix, q.Job))
	}
}
