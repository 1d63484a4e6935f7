package dynamo

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Claim is the PutItem of a key claim naming runID, as Create writes it.
func Claim(table, key, runID string, at time.Time) *dynamodb.PutItemInput {
	return &dynamodb.PutItemInput{TableName: aws.String(table), Item: map[string]types.AttributeValue{
		attrID: str(claimPrefix + key), attrType: str(typeClaim), attrRunID: str(runID),
		attrExpires: num(at.Add(DefaultRetention).Unix()),
	}}
}

// ExpiresAt reads the time to live of run id (0 when it has none).
func ExpiresAt(t *testing.T, client *dynamodb.Client, table, id string) int64 {
	t.Helper()
	out, err := client.GetItem(context.Background(), &dynamodb.GetItemInput{
		TableName: aws.String(table), Key: map[string]types.AttributeValue{attrID: str(id)}, ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	v, ok := out.Item[attrExpires].(*types.AttributeValueMemberN)
	if !ok {
		return 0
	}
	n, _ := strconv.ParseInt(v.Value, 10, 64)
	return n
}
