package dynamo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/longshore/longshore/internal/dispatch"
)

var (
	_ dispatch.Slots      = (*Store)(nil)
	_ dispatch.PauseStore = (*Store)(nil)
)

// The items that control runs, beside the runs in the same table. They have
// no job, status or createdAt, so no index holds them.
//
//	slots#<key>  type slots, holders (SS): the runs holding the key's slots
//	pause#<job>  type pause, doc: the job's runtime pause (dispatch.Pause)
const (
	typeSlots   = "slots"
	typePause   = "pause"
	slotsPrefix = "slots#"
	pausePrefix = "pause#"
	attrHolders = "holders"
)

// TakeSlot implements dispatch.Slots with one conditional UpdateItem on the
// key's item: the run's id is added to its holders if it is one already or
// fewer than max hold one. DynamoDB applies the writes to one item one
// after the other, so runs taking slots at once never exceed max.
func (s *Store) TakeSlot(ctx context.Context, key, runID string, max int) (bool, []string, error) {
	_, err := s.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:           aws.String(s.o.Table),
		Key:                 map[string]types.AttributeValue{attrID: str(slotsPrefix + key)},
		UpdateExpression:    aws.String("ADD #holders :ids SET #type = :slots"),
		ConditionExpression: aws.String("attribute_not_exists(#holders) OR contains(#holders, :id) OR size(#holders) < :max"),
		ExpressionAttributeNames: map[string]string{
			"#holders": attrHolders, "#type": attrType,
		},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":ids":   &types.AttributeValueMemberSS{Value: []string{runID}},
			":id":    str(runID),
			":max":   num(int64(max)),
			":slots": str(typeSlots),
		},
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	if err == nil {
		return true, nil, nil
	}
	var ccf *types.ConditionalCheckFailedException
	if !errors.As(err, &ccf) {
		return false, nil, fmt.Errorf("take a slot of %s for run %s: %w", key, runID, err)
	}
	if ccf.Item != nil {
		return false, holdersOf(ccf.Item), nil
	}
	holders, err := s.SlotHolders(ctx, key)
	return false, holders, err
}

// FreeSlot implements dispatch.Slots: the run's id leaves the holders, if
// it is there (a condition says whether it was).
func (s *Store) FreeSlot(ctx context.Context, key, runID string) (bool, error) {
	_, err := s.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(s.o.Table),
		Key:                       map[string]types.AttributeValue{attrID: str(slotsPrefix + key)},
		UpdateExpression:          aws.String("DELETE #holders :ids"),
		ConditionExpression:       aws.String("contains(#holders, :id)"),
		ExpressionAttributeNames:  map[string]string{"#holders": attrHolders},
		ExpressionAttributeValues: map[string]types.AttributeValue{":ids": &types.AttributeValueMemberSS{Value: []string{runID}}, ":id": str(runID)},
	})
	switch {
	case err == nil:
		return true, nil
	case conditionFailed(err):
		return false, nil
	}
	return false, fmt.Errorf("free the slot of %s held by run %s: %w", key, runID, err)
}

// SlotHolders implements dispatch.Slots.
func (s *Store) SlotHolders(ctx context.Context, key string) ([]string, error) {
	out, err := s.api.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.o.Table),
		Key:            map[string]types.AttributeValue{attrID: str(slotsPrefix + key)},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, fmt.Errorf("list the holders of slots %s: %w", key, err)
	}
	return holdersOf(out.Item), nil
}

func holdersOf(item map[string]types.AttributeValue) []string {
	set, ok := item[attrHolders].(*types.AttributeValueMemberSS)
	if !ok {
		return nil
	}
	return slices.Sorted(slices.Values(set.Value))
}

// GetPause implements dispatch.PauseStore. The read is eventually
// consistent (half the cost of a consistent one): a pause is read for every
// trigger, and may take a moment to be seen anyway (dispatch.CachedPauses).
func (s *Store) GetPause(ctx context.Context, jobName string) (dispatch.Pause, bool, error) {
	out, err := s.api.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(s.o.Table),
		Key:       map[string]types.AttributeValue{attrID: str(pausePrefix + jobName)},
	})
	if err != nil {
		return dispatch.Pause{}, false, fmt.Errorf("read pause of %s: %w", jobName, err)
	}
	if out.Item == nil || stringAttr(out.Item, attrType) != typePause {
		return dispatch.Pause{}, false, nil
	}
	var p dispatch.Pause
	if err := json.Unmarshal([]byte(stringAttr(out.Item, attrDoc)), &p); err != nil {
		return dispatch.Pause{}, false, fmt.Errorf("read pause of %s: %w", jobName, err)
	}
	return p, true, nil
}

// SetPause implements dispatch.PauseStore.
func (s *Store) SetPause(ctx context.Context, p dispatch.Pause) error {
	doc, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("set pause of %s: %w", p.Job, err)
	}
	_, err = s.api.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(s.o.Table),
		Item: map[string]types.AttributeValue{
			attrID: str(pausePrefix + p.Job), attrType: str(typePause), attrDoc: str(string(doc)),
		},
	})
	if err != nil {
		return fmt.Errorf("set pause of %s: %w", p.Job, err)
	}
	return nil
}
