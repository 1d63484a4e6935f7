package construct

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// ClusterProps names the cluster and its network.
type ClusterProps struct {
	Prefix            string
	Vpc               awsec2.IVpc
	ContainerInsights bool
}

// Cluster is the ECS cluster every job's tasks run in, with the FARGATE
// and FARGATE_SPOT capacity providers (the launcher picks per run).
type Cluster struct {
	constructs.Construct
	Cluster awsecs.Cluster
	name    string
}

// NewCluster creates the cluster, named after the prefix.
func NewCluster(scope constructs.Construct, id string, props *ClusterProps) *Cluster {
	c := constructs.NewConstruct(scope, &id)
	insights := awsecs.ContainerInsights_DISABLED
	if props.ContainerInsights {
		insights = awsecs.ContainerInsights_ENABLED
	}
	cluster := awsecs.NewCluster(c, jsii.String("Cluster"), &awsecs.ClusterProps{
		ClusterName:                    jsii.String(props.Prefix),
		Vpc:                            props.Vpc,
		EnableFargateCapacityProviders: jsii.Bool(true),
		ContainerInsightsV2:            insights,
	})
	return &Cluster{Construct: c, Cluster: cluster, name: props.Prefix}
}

// ContainerInstanceArns is the ARN pattern of this cluster's container
// instances, the resource ListTasks is authorized on.
func (c *Cluster) ContainerInstanceArns() *string {
	return awscdk.Stack_Of(c.Construct).FormatArn(&awscdk.ArnComponents{
		Service:      jsii.String("ecs"),
		Resource:     jsii.String("container-instance"),
		ResourceName: jsii.String(c.name + "/*"),
	})
}

// TaskArns is the ARN pattern of every task of this cluster, the resource
// of StopTask, DescribeTasks and TagResource.
func (c *Cluster) TaskArns() *string {
	return awscdk.Stack_Of(c.Construct).FormatArn(&awscdk.ArnComponents{
		Service:      jsii.String("ecs"),
		Resource:     jsii.String("task"),
		ResourceName: jsii.String(c.name + "/*"),
	})
}
