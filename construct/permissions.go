package construct

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/jsii-runtime-go"

	"github.com/longshore/longshore/internal/deploy"
)

// Grants is the least-privilege vocabulary of the functions' roles: what it
// takes to start a job's task, to stop or look at one, and to report a
// finished run. Every statement names the resources it applies to.
type Grants struct {
	Prefix   string
	Cluster  *Cluster
	Tasks    []*JobTask
	Bus      awsevents.IEventBus
	Payloads awss3.IBucket
	Table    awsdynamodb.ITable
	// Extra callback targets beyond the deployment's own name prefixes.
	CallbackQueueArns        []string
	CallbackStateMachineArns []string
	CallbackEventBusArns     []string
}

func statement(sid string, actions []string, resources []*string, conditions map[string]interface{}) awsiam.PolicyStatement {
	props := &awsiam.PolicyStatementProps{
		Sid:       jsii.String(sid),
		Actions:   jsii.Strings(actions...),
		Resources: &resources,
	}
	if conditions != nil {
		props.Conditions = &conditions
	}
	return awsiam.NewPolicyStatement(props)
}

// RunTasks lets a role start the catalog's tasks in this cluster: RunTask
// on the catalog's task definition families (any revision), PassRole on
// exactly their task and execution roles and only to ECS tasks, tagging
// only as part of RunTask, and writing payloads passed by reference.
func (g *Grants) RunTasks(role awsiam.IRole) {
	stack := awscdk.Stack_Of(g.Cluster.Construct)
	var families, roles []*string
	for _, t := range g.Tasks {
		families = append(families, stack.FormatArn(&awscdk.ArnComponents{
			Service: jsii.String("ecs"), Resource: jsii.String("task-definition"),
			ResourceName: jsii.String(t.Family + ":*"),
		}))
		roles = append(roles, t.TaskRole.RoleArn(), t.ExecutionRole.RoleArn())
	}
	clusterArn := g.Cluster.Cluster.ClusterArn()
	if len(families) > 0 {
		role.AddToPrincipalPolicy(statement("RunCatalogTasks", []string{"ecs:RunTask"}, families,
			map[string]interface{}{"ArnEquals": map[string]interface{}{"ecs:cluster": clusterArn}}))
		role.AddToPrincipalPolicy(statement("PassJobRolesToEcsTasks", []string{"iam:PassRole"}, roles,
			map[string]interface{}{"StringEquals": map[string]interface{}{"iam:PassedToService": "ecs-tasks.amazonaws.com"}}))
	}
	role.AddToPrincipalPolicy(statement("TagTasksAtRunTask", []string{"ecs:TagResource"}, []*string{g.Cluster.TaskArns()},
		map[string]interface{}{"StringEquals": map[string]interface{}{"ecs:CreateAction": "RunTask"}}))
	role.AddToPrincipalPolicy(statement("WritePayloads", []string{"s3:PutObject"},
		[]*string{g.Payloads.ArnForObjects(jsii.String("payloads/*"))}, nil))
}

// StopAndDescribeTasks lets a role stop, describe and list this cluster's
// tasks. ListTasks (finding a run's task by its startedBy) is authorized on
// container instances: this cluster's, and only for this cluster.
func (g *Grants) StopAndDescribeTasks(role awsiam.IRole) {
	inCluster := map[string]interface{}{"ArnEquals": map[string]interface{}{"ecs:cluster": g.Cluster.Cluster.ClusterArn()}}
	role.AddToPrincipalPolicy(statement("StopAndDescribeClusterTasks", []string{"ecs:StopTask", "ecs:DescribeTasks"},
		[]*string{g.Cluster.TaskArns()}, inCluster))
	role.AddToPrincipalPolicy(statement("ListClusterTasks", []string{"ecs:ListTasks"}, []*string{g.Cluster.ContainerInstanceArns()}, inCluster))
}

// Notify lets a role report finished runs: put events on the results bus,
// send to reply queues named deploy.ReplyQueuePrefix (and the queues the
// context adds), and complete Step Functions task tokens of state machines
// named deploy.CallbackStateMachinePrefix (and those the context adds), all
// in the deployment's own account and Region.
func (g *Grants) Notify(role awsiam.IRole) {
	stack := awscdk.Stack_Of(g.Cluster.Construct)
	buses := []*string{g.Bus.EventBusArn()}
	for _, a := range g.CallbackEventBusArns {
		buses = append(buses, jsii.String(a))
	}
	role.AddToPrincipalPolicy(statement("PutResultEvents", []string{"events:PutEvents"}, buses, nil))
	queues := []*string{stack.FormatArn(&awscdk.ArnComponents{
		Service: jsii.String("sqs"), Resource: jsii.String(deploy.ReplyQueuePrefix(g.Prefix) + "*"),
		ArnFormat: awscdk.ArnFormat_NO_RESOURCE_NAME,
	})}
	for _, a := range g.CallbackQueueArns {
		queues = append(queues, jsii.String(a))
	}
	role.AddToPrincipalPolicy(statement("SendToReplyQueues", []string{"sqs:SendMessage"}, queues, nil))
	machines := []*string{stack.FormatArn(&awscdk.ArnComponents{
		Service: jsii.String("states"), Resource: jsii.String("stateMachine"),
		ResourceName: jsii.String(deploy.CallbackStateMachinePrefix(g.Prefix) + "*"),
		ArnFormat:    awscdk.ArnFormat_COLON_RESOURCE_NAME,
	})}
	for _, a := range g.CallbackStateMachineArns {
		machines = append(machines, jsii.String(a))
	}
	role.AddToPrincipalPolicy(statement("CompleteTaskTokens", []string{"states:SendTaskSuccess", "states:SendTaskFailure"}, machines, nil))
}

// ReadJobLogs lets a role read the jobs' container logs.
func (g *Grants) ReadJobLogs(role awsiam.IRole) {
	var groups []*string
	for _, t := range g.Tasks {
		groups = append(groups, t.LogGroup.LogGroupArn())
	}
	if len(groups) > 0 {
		role.AddToPrincipalPolicy(statement("ReadJobLogs", []string{"logs:GetLogEvents"}, groups, nil))
	}
}

// runsTableActions are the calls the run store makes (internal/aws/dynamo's
// API interface): conditional puts, reads, queries of the indexes, and
// the conditional updates that take and free the slots of bounded jobs.
var runsTableActions = []string{"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:UpdateItem"}

// runsIndexes are the runs table's indexes, each queried by name.
var runsIndexes = []string{deploy.RunsByJobIndex, deploy.RunsByStatusIndex, deploy.RunsUnreportedIndex}

// ReadWriteRuns lets a role use the runs table as the run store does, and
// nothing else (no scans, deletes, streams or table management).
func (g *Grants) ReadWriteRuns(role awsiam.IRole) {
	role.AddToPrincipalPolicy(statement("ReadWriteRuns", runsTableActions, []*string{g.Table.TableArn()}, nil))
	var indexes []*string
	for _, idx := range runsIndexes {
		indexes = append(indexes, jsii.String(*g.Table.TableArn()+"/index/"+idx))
	}
	role.AddToPrincipalPolicy(statement("QueryRunIndexes", []string{"dynamodb:Query"}, indexes, nil))
}
