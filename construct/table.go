package construct

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/longshore/longshore/internal/deploy"
)

// RunsTableProps has nothing to choose yet beyond the construct's place.
type RunsTableProps struct{}

// RunsTable is the DynamoDB table of runs: on demand (nothing billed
// while idle but storage; encrypted with an AWS owned key, free), point-in-time recovery, a TTL attribute, and the
// key schema of deploy.RunsTable*. It is kept when the stack is deleted.
type RunsTable struct {
	constructs.Construct
	Table awsdynamodb.Table
}

// NewRunsTable creates the table.
func NewRunsTable(scope constructs.Construct, id string, _ *RunsTableProps) *RunsTable {
	c := constructs.NewConstruct(scope, &id)
	str := func(name string) *awsdynamodb.Attribute {
		return &awsdynamodb.Attribute{Name: jsii.String(name), Type: awsdynamodb.AttributeType_STRING}
	}
	table := awsdynamodb.NewTable(c, jsii.String("Runs"), &awsdynamodb.TableProps{
		PartitionKey: str(deploy.RunsTableKey),
		BillingMode:  awsdynamodb.BillingMode_PAY_PER_REQUEST,
		PointInTimeRecoverySpecification: &awsdynamodb.PointInTimeRecoverySpecification{
			PointInTimeRecoveryEnabled: jsii.Bool(true),
		},
		TimeToLiveAttribute: jsii.String(deploy.RunsTableTTL),
		Encryption:          awsdynamodb.TableEncryption_DEFAULT,
		RemovalPolicy:       awscdk.RemovalPolicy_RETAIN,
	})
	for _, idx := range []struct{ name, pk string }{
		{deploy.RunsByJobIndex, deploy.RunsJobAttr},
		{deploy.RunsByStatusIndex, deploy.RunsStatusAttr},
		// Sparse: only finished runs not yet reported carry the attribute.
		{deploy.RunsUnreportedIndex, deploy.RunsUnreportedAttr},
	} {
		table.AddGlobalSecondaryIndex(&awsdynamodb.GlobalSecondaryIndexProps{
			IndexName:      jsii.String(idx.name),
			PartitionKey:   str(idx.pk),
			SortKey:        str(deploy.RunsCreatedAttr),
			ProjectionType: awsdynamodb.ProjectionType_ALL,
		})
	}
	return &RunsTable{Construct: c, Table: table}
}
