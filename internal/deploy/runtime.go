package deploy

// This file holds what the functions' runtime (internal/aws/...) adds to
// the contract: names the CDK app needs to route, grant or index what the
// functions write.

// The four functions, as FunctionName names them.
const (
	FunctionLauncher   = "launcher"
	FunctionTracker    = "tracker"
	FunctionReconciler = "reconciler"
	FunctionAPI        = "api"
)

// The result event every finished run puts on the results bus (EnvEventBus):
// rules match on this source and detail-type; the detail is the run as
// api.Run encodes it.
const (
	ResultSource     = "longshore"
	ResultDetailType = "Longshore Run Finished"
)

// Tags the ECS runner puts on every task it starts (RunTask with tags needs
// ecs:TagResource); IAM conditions may use them (ecs:ResourceTag/longshore:job).
const (
	TagRun = "longshore:run"
	TagJob = "longshore:job"
)

// BodyKey is the key of a run's trigger body kept in the payload bucket
// (a body larger than run.MaxInlineBody), which the job's task role may
// read: its task gets it as LONGSHORE_SQS_BODY_URI.
func BodyKey(jobName, runID string) string { return PayloadKeyPrefix(jobName) + runID + ".body" }

// The runs table's third index, beside RunsByJobIndex and RunsByStatusIndex:
// a sparse index of the finished runs whose outcome has not been reported
// yet (the reconciler reports them again). Only those items carry
// RunsUnreportedAttr, so the index stays as small as the backlog.
const (
	// RunsUnreportedIndex is partitioned by RunsUnreportedAttr (string),
	// sorted by RunsCreatedAttr, projecting all attributes.
	RunsUnreportedIndex = "unreported"
	RunsUnreportedAttr  = "unreported"
)
