// Package deploy is the contract between the CDK app (infra/) and the
// Lambdas (functions/): the names the app gives to what it provisions for
// each job, and the environment variables through which it tells each
// function where things are. Both sides use these functions and constants,
// so the two cannot drift apart.
package deploy

import (
	"strconv"
	"strings"
	"time"
)

// Environment variables the CDK app sets on the functions.
const (
	// EnvPrefix is the name prefix of this deployment (default DefaultPrefix).
	EnvPrefix = "LONGSHORE_PREFIX"
	// EnvCluster is the ECS cluster's ARN.
	EnvCluster = "LONGSHORE_CLUSTER_ARN"
	// EnvSubnets is a comma-separated list of subnet ids for tasks.
	EnvSubnets = "LONGSHORE_SUBNETS"
	// EnvSecurityGroups is a comma-separated list of security group ids for tasks.
	EnvSecurityGroups = "LONGSHORE_SECURITY_GROUPS"
	// EnvAssignPublicIP is "true" when tasks get a public IP (public subnets without NAT).
	EnvAssignPublicIP = "LONGSHORE_ASSIGN_PUBLIC_IP"
	// EnvRunsTable is the DynamoDB runs table's name.
	EnvRunsTable = "LONGSHORE_RUNS_TABLE"
	// EnvEventBus is the name of the event bus that receives result events.
	EnvEventBus = "LONGSHORE_EVENT_BUS"
	// EnvPayloadBucket holds payloads too large for ECS overrides (passed by reference).
	EnvPayloadBucket = "LONGSHORE_PAYLOAD_BUCKET"
	// EnvUploadsBucket is the uploads bucket whose objects trigger S3 jobs.
	EnvUploadsBucket = "LONGSHORE_UPLOADS_BUCKET"
	// EnvCallbackBuses is a comma-separated list of the event bus ARNs,
	// beside EnvEventBus, that a callback of kind event may name.
	EnvCallbackBuses = "LONGSHORE_CALLBACK_BUSES"
	// EnvCatalog is the folder holding the deployed catalog's <name>/job.yaml
	// files (CatalogDir in the catalog layer; default CatalogDir).
	EnvCatalog = "LONGSHORE_CATALOG"
	// EnvMaxRunning bounds the runs active at once in the deployment
	// (unset or 0: no bound); runs past it wait, queued.
	EnvMaxRunning = "LONGSHORE_MAX_RUNNING"
	// EnvHistoryKeep is how long finished runs are kept by default, in
	// hours ("2160h"); a job's history.keep overrides it.
	EnvHistoryKeep = "LONGSHORE_HISTORY_KEEP"
)

// DefaultHistoryKeep is how long a deployment keeps finished runs when
// neither it nor the job says otherwise.
const DefaultHistoryKeep = 90 * 24 * time.Hour

// CatalogDir is where the functions find the catalog a deployment ships to
// them: the catalog layer, which Lambda extracts below /opt, holds
// longshore/jobs/<name>/job.yaml. The functions' code is the same for every
// catalog; only the layer differs.
const (
	CatalogDir = "/opt/" + CatalogLayerPath
	// CatalogLayerPath is the catalog's folder inside the layer's archive.
	CatalogLayerPath = "longshore/jobs"
)

// MaxMaxRunning bounds a deployment's maxRunning (EnvMaxRunning): far
// above any account's Fargate task quota.
const MaxMaxRunning = 5000

// DefaultPrefix names a deployment when no prefix is given.
const DefaultPrefix = "longshore"

// EssentialContainer is the name of a job's container in its task definition.
const EssentialContainer = "app"

// TaskFamily is the task definition family of a job; RunTask names the
// family, so the latest active revision runs.
func TaskFamily(prefix, jobName string) string { return prefix + "-" + jobName }

// QueueName is the physical name of a job's SQS trigger queue.
func QueueName(prefix, queue string) string { return prefix + "-" + queue }

// DeadLetterQueueName is the physical name of a queue's dead-letter queue.
func DeadLetterQueueName(prefix, queue string) string { return prefix + "-" + queue + "-dlq" }

// QueueFromName returns the trigger queue named by a physical queue name
// (the last part of an SQS ARN or URL), or false when it is not one of this
// deployment's queues.
func QueueFromName(prefix, physical string) (string, bool) {
	if i := strings.LastIndexAny(physical, ":/"); i >= 0 {
		physical = physical[i+1:]
	}
	q, ok := strings.CutPrefix(physical, prefix+"-")
	if !ok || q == "" || strings.HasSuffix(q, "-dlq") {
		return "", false
	}
	return q, true
}

// LogGroup is the CloudWatch log group of a job's containers.
func LogGroup(prefix, jobName string) string { return "/" + prefix + "/jobs/" + jobName }

// LogStream is the stream of a task's essential container in its job's log
// group, as the awslogs driver names it with stream prefix "run":
// run/app/<task id>.
func LogStream(taskID string) string { return "run/" + EssentialContainer + "/" + taskID }

// FunctionName is the physical name of one of the four functions
// ("launcher", "tracker", "reconciler", "api").
func FunctionName(prefix, function string) string { return prefix + "-" + function }

// ScheduleName is the EventBridge Scheduler schedule of a job's n-th trigger.
func ScheduleName(prefix, jobName string, n int) string {
	return prefix + "-" + jobName + "-" + strconv.Itoa(n)
}
