// Package dynamo is the runs store on DynamoDB: one table (TableSchema),
// conditional writes for create-if-absent and for every update, and
// indexes to list runs by job, by status and those whose report is pending.
// It passes the RunStore contract (storetest) against dynalite.
package dynamo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/longshore/longshore/internal/deploy"
	"github.com/longshore/longshore/internal/dispatch"
	"github.com/longshore/longshore/internal/run"
)

var _ dispatch.RunStore = (*Store)(nil)

// API is the part of the DynamoDB client the store calls. Throttling is
// the client's to retry (the host gives it a patient retryer).
type API interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, optFns ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
}

// Page sizes and bounds of List.
const (
	DefaultLimit = 50
	MaxLimit     = 1000
	// maxExamined bounds the items one List reads per index partition when
	// it filters (a job's runs among all failed runs): a page may then come
	// back short, with a cursor to go on.
	maxExamined = 2000
)

// DefaultRetention is how long a finished run is kept before DynamoDB's
// time to live deletes it.
const DefaultRetention = deploy.DefaultHistoryKeep

// claimSlack keeps a key claim past its run's own retention: a claim that
// outlives its run could only revive the run for a trigger delivered again
// months later, which no AWS trigger does (SQS keeps messages 14 days; the
// stack lets Scheduler retry for an hour, construct.scheduleMaxEventAge, and
// Scheduler allows a day at most).
const claimSlack = 30 * 24 * time.Hour

// Options configure a Store.
type Options struct {
	Table string
	// Retention after a run finishes (DefaultRetention when zero).
	Retention time.Duration
	// KeepFor, when set, is how long the runs of a job are kept after they
	// finish (the job's history.keep); 0 means Retention.
	KeepFor func(jobName string) time.Duration
}

// ErrFinished is returned by Update when it would change the status of a
// finished run: a terminal run keeps its outcome.
var ErrFinished = errors.New("the run has finished: its outcome cannot change")

// Store is a dispatch.RunStore on one DynamoDB table.
//
// Every run is an item keyed by its id, holding the run as JSON (doc) and,
// beside it, the attributes the indexes and conditions read: job, status,
// createdAt (RFC 3339 UTC, fixed width, so it sorts), revision, the
// idempotency key, unreported (only while a finished run's report is
// pending) and expiresAt (finished runs). Each idempotency key is claimed
// by an item "key#<key>" naming its run.
//
// Create writes a run whose id is its key's (run.KeyID: every run the core
// makes) with one PutItem if absent: the id is the claim. For any other id
// it claims the key (PutItem if absent) and then writes the run (PutItem
// if absent). When the claim exists, the run it names is returned; if that
// run is not there yet (its writer is still on its way, or died between
// the two writes), the caller writes the run under the claimed id itself,
// if absent: of all the writers of one key, exactly one creates the run, and
// it has the claimed id. Dynalite has no transactions, and this needs none.
//
// Update puts the run if its stored revision is the one it read, its key is
// the same, and it is not finished with another status (ErrFinished).
type Store struct {
	api API
	o   Options
}

// New returns the store over client.
func New(client API, o Options) *Store {
	if o.Retention <= 0 {
		o.Retention = DefaultRetention
	}
	return &Store{api: client, o: o}
}

// Create implements dispatch.RunStore.
func (s *Store) Create(ctx context.Context, r run.Run) (run.Run, bool, error) {
	if r.ID == "" || r.Key == "" {
		return run.Run{}, false, fmt.Errorf("create run %q: a run needs an id and an idempotency key", r.ID)
	}
	r.Revision = 1
	if r.ID == run.KeyID(r.Key) {
		// The id is the key's: the run item itself is the key's claim.
		return s.createKeyed(ctx, r)
	}
	for range 3 {
		holder, err := s.claim(ctx, r)
		if err != nil {
			return run.Run{}, false, fmt.Errorf("create run %s: %w", r.ID, err)
		}
		if holder == "" {
			// The key was claimed meanwhile and its claim has expired: claim again.
			continue
		}
		mine := r
		mine.ID = holder
		created, err := s.putNew(ctx, mine)
		if err != nil {
			return run.Run{}, false, fmt.Errorf("create run %s: %w", mine.ID, err)
		}
		if created {
			return mine, true, nil
		}
		existing, err := s.Get(ctx, holder)
		if err != nil {
			return run.Run{}, false, fmt.Errorf("create run %s: read the run holding key %q: %w", r.ID, r.Key, err)
		}
		if existing.Key != r.Key {
			return run.Run{}, false, fmt.Errorf("create run %s: the id is taken by a run with another idempotency key", holder)
		}
		return existing, false, nil
	}
	return run.Run{}, false, fmt.Errorf("create run %s: the claim of key %q keeps vanishing", r.ID, r.Key)
}

// createKeyed creates a run whose id derives from its key with one
// conditional write; when the id exists, the run holding it is returned.
func (s *Store) createKeyed(ctx context.Context, r run.Run) (run.Run, bool, error) {
	created, err := s.putNew(ctx, r)
	if err != nil {
		return run.Run{}, false, fmt.Errorf("create run %s: %w", r.ID, err)
	}
	if created {
		return r, true, nil
	}
	existing, err := s.Get(ctx, r.ID)
	if err != nil {
		return run.Run{}, false, fmt.Errorf("create run %s: read the run holding key %q: %w", r.ID, r.Key, err)
	}
	if existing.Key != r.Key {
		return run.Run{}, false, fmt.Errorf("create run %s: the id is taken by a run with another idempotency key", r.ID)
	}
	return existing, false, nil
}

// claim claims r's key for r.ID and returns the id of the run holding the
// key (r.ID when the claim is ours), or "" when the claim vanished between
// the two reads.
func (s *Store) claim(ctx context.Context, r run.Run) (string, error) {
	expires := r.CreatedAt.Add(s.keep(r.Job) + claimSlack)
	_, err := s.api.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(s.o.Table),
		Item: map[string]types.AttributeValue{
			attrID:      str(claimPrefix + r.Key),
			attrType:    str(typeClaim),
			attrRunID:   str(r.ID),
			attrExpires: num(expires.Unix()),
		},
		ConditionExpression:      aws.String("attribute_not_exists(#id)"),
		ExpressionAttributeNames: map[string]string{"#id": attrID},
	})
	if err == nil {
		return r.ID, nil
	}
	if !conditionFailed(err) {
		return "", fmt.Errorf("claim key %q: %w", r.Key, err)
	}
	out, err := s.api.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.o.Table),
		Key:            map[string]types.AttributeValue{attrID: str(claimPrefix + r.Key)},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return "", fmt.Errorf("read the claim of key %q: %w", r.Key, err)
	}
	if out.Item == nil {
		return "", nil
	}
	holder := stringAttr(out.Item, attrRunID)
	if holder == "" {
		return "", fmt.Errorf("the claim of key %q names no run", r.Key)
	}
	return holder, nil
}

// putNew writes r unless an item with its id exists.
func (s *Store) putNew(ctx context.Context, r run.Run) (bool, error) {
	item, err := s.item(r)
	if err != nil {
		return false, err
	}
	_, err = s.api.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                aws.String(s.o.Table),
		Item:                     item,
		ConditionExpression:      aws.String("attribute_not_exists(#id)"),
		ExpressionAttributeNames: map[string]string{"#id": attrID},
	})
	if conditionFailed(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("put run: %w", err)
	}
	return true, nil
}

// Get implements dispatch.RunStore with a strongly consistent read.
func (s *Store) Get(ctx context.Context, id string) (run.Run, error) {
	out, err := s.api.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.o.Table),
		Key:            map[string]types.AttributeValue{attrID: str(id)},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return run.Run{}, fmt.Errorf("get run %s: %w", id, err)
	}
	if out.Item == nil || stringAttr(out.Item, attrType) != typeRun {
		return run.Run{}, dispatch.ErrNotFound
	}
	r, err := decode(out.Item)
	if err != nil {
		return run.Run{}, fmt.Errorf("get run %s: %w", id, err)
	}
	return r, nil
}

// terminalStatuses are the statuses a run never leaves.
var terminalStatuses = []run.Status{run.StatusSucceeded, run.StatusFailed, run.StatusTimedOut, run.StatusCancelled}

// Update implements dispatch.RunStore.
func (s *Store) Update(ctx context.Context, r run.Run) (run.Run, error) {
	next := r
	next.Revision = r.Revision + 1
	item, err := s.item(next)
	if err != nil {
		return run.Run{}, fmt.Errorf("update run %s: %w", r.ID, err)
	}
	values := map[string]types.AttributeValue{
		":run": str(typeRun), ":rev": num(r.Revision), ":key": str(r.Key), ":status": str(string(r.Status)),
	}
	for i, st := range terminalStatuses {
		values[":t"+strconv.Itoa(i)] = str(string(st))
	}
	_, err = s.api.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(s.o.Table),
		Item:      item,
		ConditionExpression: aws.String("#type = :run AND #rev = :rev AND #key = :key AND " +
			"(NOT #status IN (:t0, :t1, :t2, :t3) OR #status = :status)"),
		ExpressionAttributeNames: map[string]string{
			"#type": attrType, "#rev": attrRevision, "#key": attrKey, "#status": attrStatus,
		},
		ExpressionAttributeValues: values,
	})
	if err == nil {
		return next, nil
	}
	if !conditionFailed(err) {
		return run.Run{}, fmt.Errorf("update run %s: %w", r.ID, err)
	}
	// Say which condition failed.
	cur, gerr := s.Get(ctx, r.ID)
	switch {
	case errors.Is(gerr, dispatch.ErrNotFound):
		return run.Run{}, fmt.Errorf("update run %s: %w", r.ID, dispatch.ErrNotFound)
	case gerr != nil:
		return run.Run{}, fmt.Errorf("update run %s: %w (and reading it back: %v)", r.ID, dispatch.ErrConflict, gerr)
	case cur.Revision != r.Revision:
		return run.Run{}, fmt.Errorf("update run %s: %w", r.ID, dispatch.ErrConflict)
	case cur.Key != r.Key:
		return run.Run{}, fmt.Errorf("update run %s: the idempotency key cannot change", r.ID)
	case cur.Status.Terminal() && cur.Status != r.Status:
		return run.Run{}, fmt.Errorf("update run %s (%s) to %s: %w", r.ID, cur.Status, r.Status, ErrFinished)
	}
	return run.Run{}, fmt.Errorf("update run %s: %w", r.ID, dispatch.ErrConflict)
}

// createdLayout writes createdAt: RFC 3339 in UTC with nanoseconds, fixed
// width, so that the string order is the time order.
const createdLayout = "2006-01-02T15:04:05.000000000Z"

func createdAttr(t time.Time) string { return t.UTC().Format(createdLayout) }

// unreported reports whether a run is finished and its outcome still to
// be reported (and it was not retried instead).
func unreported(r run.Run) bool {
	return r.Status.Terminal() && !r.Notified && r.NextRunID == ""
}

// keep is how long a finished run of the job is kept.
func (s *Store) keep(jobName string) time.Duration {
	if s.o.KeepFor != nil {
		if d := s.o.KeepFor(jobName); d > 0 {
			return d
		}
	}
	return s.o.Retention
}

// item is the stored form of r.
func (s *Store) item(r run.Run) (map[string]types.AttributeValue, error) {
	r.CreatedAt = r.CreatedAt.UTC()
	r.UpdatedAt = r.UpdatedAt.UTC()
	doc, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("encode run %s: %w", r.ID, err)
	}
	item := map[string]types.AttributeValue{
		attrID:       str(r.ID),
		attrType:     str(typeRun),
		attrJob:      str(r.Job),
		attrStatus:   str(string(r.Status)),
		attrCreated:  str(createdAttr(r.CreatedAt)),
		attrRevision: num(r.Revision),
		attrKey:      str(r.Key),
		attrDoc:      str(string(doc)),
	}
	if unreported(r) {
		item[attrUnreported] = str(unreportedValue)
	}
	if r.Status.Terminal() {
		end := r.UpdatedAt
		if r.StoppedAt != nil && r.StoppedAt.After(end) {
			end = *r.StoppedAt
		}
		item[attrExpires] = num(end.Add(s.keep(r.Job)).Unix())
	}
	return item, nil
}

func decode(item map[string]types.AttributeValue) (run.Run, error) {
	var r run.Run
	doc := stringAttr(item, attrDoc)
	if doc == "" {
		return r, errors.New("the item has no run document")
	}
	if err := json.Unmarshal([]byte(doc), &r); err != nil {
		return r, fmt.Errorf("decode run document: %w", err)
	}
	return r, nil
}

func str(s string) types.AttributeValue { return &types.AttributeValueMemberS{Value: s} }

func num(n int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}

func stringAttr(item map[string]types.AttributeValue, name string) string {
	if v, ok := item[name].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

func conditionFailed(err error) bool {
	var ccf *types.ConditionalCheckFailedException
	return errors.As(err, &ccf)
}
