package deploy

// This file holds what the CDK app provisions beyond deploy.go's names:
// the schedule payload, the outputs the CLI reads to find a deployment, and
// the names and key prefixes the functions' permissions are scoped to.

// SchedulePayload is the input an EventBridge Scheduler schedule sends the
// launcher for a job's schedule trigger. The CDK app writes it with the
// Scheduler placeholders below, which Scheduler replaces on every
// invocation: ScheduledTime is the RFC 3339 time the run was due (UTC, to
// the second), ScheduleArn the schedule that fired, ExecutionID unique per
// invocation but repeated on Scheduler's own retries.
type SchedulePayload struct {
	Job           string `json:"job"`
	ScheduledTime string `json:"scheduledTime"`
	ScheduleArn   string `json:"scheduleArn"`
	ExecutionID   string `json:"executionId"`
}

// Placeholders that EventBridge Scheduler fills in a target's input.
const (
	SchedulerScheduledTime = "<aws.scheduler.scheduled-time>"
	SchedulerScheduleArn   = "<aws.scheduler.schedule-arn>"
	SchedulerExecutionID   = "<aws.scheduler.execution-id>"
)

// DefaultStackName is the CloudFormation stack of a deployment with the
// default prefix.
const DefaultStackName = "Longshore"

// Stack outputs (OutputKey) that the CLI reads to find a deployment; each is
// also exported as ExportName(prefix, key).
const (
	OutputClusterArn           = "ClusterArn"
	OutputLauncherFunction     = "LauncherFunctionName"
	OutputTrackerFunction      = "TrackerFunctionName"
	OutputReconcilerFunction   = "ReconcilerFunctionName"
	OutputAPIFunction          = "ApiFunctionName"
	OutputUploadsBucket        = "UploadsBucketName"
	OutputPayloadBucket        = "PayloadBucketName"
	OutputRunsTable            = "RunsTableName"
	OutputEventBus             = "EventBusName"
	OutputResultsLogGroup      = "ResultsLogGroupName"
	OutputQueueURLPrefix       = "QueueUrl"
	OutputSchedulesDeadLetters = "SchedulesDeadLetterQueueUrl"
)

// ExportName is the CloudFormation export of a deployment's output.
func ExportName(prefix, output string) string { return prefix + ":" + output }

// QueueURLExport is the export holding the URL of a job's trigger queue.
func QueueURLExport(prefix, jobName string) string {
	return ExportName(prefix, OutputQueueURLPrefix+":"+jobName)
}

// EventBusName is the physical name of the results event bus.
func EventBusName(prefix string) string { return prefix + "-results" }

// ResultsLogGroup receives every event put on the results bus (one line per
// finished run); the "runs failing" alarm counts its lines whose
// detail.status is failed or timed_out.
func ResultsLogGroup(prefix string) string { return "/" + prefix + "/results" }

// ScheduleGroupName is the EventBridge Scheduler group holding the jobs'
// schedules.
func ScheduleGroupName(prefix string) string { return prefix }

// PayloadKeyPrefix is where the functions keep a job's trigger bodies that are too
// large for a run (BodyKey); each job's task role may read only below it.
func PayloadKeyPrefix(jobName string) string { return "payloads/" + jobName + "/" }

// ReplyQueuePrefix starts the names of the SQS queues (in the deployment's
// account and Region) that may receive callbacks of kind "queue". It uses
// "_" where job queues (QueueName) use "-", so that no job's trigger queue
// can be a reply queue.
func ReplyQueuePrefix(prefix string) string { return prefix + "_reply-" }

// CallbackStateMachinePrefix starts the names of the Step Functions state
// machines (in the deployment's account and Region) whose task tokens may
// receive callbacks of kind "task-token".
func CallbackStateMachinePrefix(prefix string) string { return prefix + "-" }

// The runs table's key schema, as the CDK app creates it. A run is one item
// keyed by RunsTableKey; the indexes list runs newest first.
const (
	// RunsTableKey is the partition key (string): the run id.
	RunsTableKey = "id"
	// RunsTableTTL is the numeric attribute (epoch seconds) after which
	// DynamoDB deletes an item.
	RunsTableTTL = "expiresAt"
	// RunsByJobIndex is partitioned by RunsJobAttr, sorted by RunsCreatedAttr.
	RunsByJobIndex = "byJob"
	// RunsByStatusIndex is partitioned by RunsStatusAttr, sorted by RunsCreatedAttr.
	RunsByStatusIndex = "byStatus"
	RunsJobAttr       = "job"
	RunsStatusAttr    = "status"
	// RunsCreatedAttr is an RFC 3339 UTC timestamp (string), so that it sorts.
	RunsCreatedAttr = "createdAt"
)
