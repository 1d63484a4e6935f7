package dynamo

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/longshore/longshore/internal/deploy"
)

// Attributes of the items. Runs carry every one of them but the claim's;
// a key claim carries id, type, runId and expiresAt.
const (
	attrID         = deploy.RunsTableKey
	attrType       = "type"
	attrJob        = deploy.RunsJobAttr
	attrStatus     = deploy.RunsStatusAttr
	attrCreated    = deploy.RunsCreatedAttr
	attrUnreported = deploy.RunsUnreportedAttr
	attrExpires    = deploy.RunsTableTTL
	attrRevision   = "revision"
	attrKey        = "idempotencyKey"
	attrDoc        = "doc"
	attrRunID      = "runId"
)

// Item types.
const (
	typeRun   = "run"
	typeClaim = "claim"
	// claimPrefix starts the id of the item that claims an idempotency key.
	claimPrefix = "key#"
	// unreportedValue is the only value of attrUnreported.
	unreportedValue = "true"
)

// TTLAttribute is the numeric attribute (epoch seconds) the table's time
// to live reads; it is set on finished runs and on key claims.
const TTLAttribute = deploy.RunsTableTTL

// TableSchema is the runs table as the store expects it: the CDK app
// creates the same (deploy.RunsTable*), and tests create it in dynalite.
// Time to live (TTLAttribute) is enabled separately (UpdateTimeToLive, or
// the CDK table's timeToLiveAttribute).
//
//	key:     id (S): a run id, or "key#<idempotency key>" for the item that claims a key
//	byJob:   job (S), createdAt (S)         runs of a job, newest first
//	byStatus: status (S), createdAt (S)     runs in a status, newest first
//	unreported: unreported (S), createdAt (S)  sparse: finished runs whose report is pending
//
// Every index projects all attributes, so a page of runs is one query.
func TableSchema(name string) *dynamodb.CreateTableInput {
	str := func(n string) types.AttributeDefinition {
		return types.AttributeDefinition{AttributeName: aws.String(n), AttributeType: types.ScalarAttributeTypeS}
	}
	gsi := func(index, pk string) types.GlobalSecondaryIndex {
		return types.GlobalSecondaryIndex{
			IndexName: aws.String(index),
			KeySchema: []types.KeySchemaElement{
				{AttributeName: aws.String(pk), KeyType: types.KeyTypeHash},
				{AttributeName: aws.String(attrCreated), KeyType: types.KeyTypeRange},
			},
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll},
		}
	}
	return &dynamodb.CreateTableInput{
		TableName:   aws.String(name),
		BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{
			str(attrID), str(attrJob), str(attrStatus), str(attrCreated), str(attrUnreported),
		},
		KeySchema: []types.KeySchemaElement{{AttributeName: aws.String(attrID), KeyType: types.KeyTypeHash}},
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{
			gsi(deploy.RunsByJobIndex, attrJob),
			gsi(deploy.RunsByStatusIndex, attrStatus),
			gsi(deploy.RunsUnreportedIndex, attrUnreported),
		},
	}
}
