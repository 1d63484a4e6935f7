package dynamo

import (
	"cmp"
	"context"
	"encoding/base64"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/longshore/longshore/internal/deploy"
	"github.com/longshore/longshore/internal/dispatch"
	"github.com/longshore/longshore/internal/run"
)

// allStatuses lists every status, for a List without filters.
var allStatuses = []run.Status{
	run.StatusQueued, run.StatusStarting, run.StatusRunning,
	run.StatusSucceeded, run.StatusFailed, run.StatusTimedOut, run.StatusCancelled,
}

// position orders runs: newest first by creation, then by id (descending).
type position struct {
	created, id string
}

// before reports whether p comes before q in list order (p is newer).
func (p position) before(q position) bool {
	return cmp.Or(strings.Compare(q.created, p.created), strings.Compare(q.id, p.id)) < 0
}

func (p position) cursor() string {
	return base64.RawURLEncoding.EncodeToString([]byte(p.created + "|" + p.id))
}

func parseCursor(c string) (*position, error) {
	if c == "" {
		return nil, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return nil, fmt.Errorf("cursor %q is not one this store made", c)
	}
	created, id, ok := strings.Cut(string(raw), "|")
	if !ok || len(created) != len(createdLayout) || id == "" {
		return nil, fmt.Errorf("cursor %q is not one this store made", c)
	}
	return &position{created: created, id: id}, nil
}

// partition is one index partition a List reads.
type partition struct {
	index, attr, value string
}

// plan chooses the partitions of a query and whether runs read from them
// still need filtering by job or status.
func plan(q dispatch.Query) []partition {
	byStatus := func(sts []run.Status) []partition {
		var ps []partition
		for _, st := range sts {
			ps = append(ps, partition{deploy.RunsByStatusIndex, attrStatus, string(st)})
		}
		return ps
	}
	switch {
	case q.Unreported:
		return []partition{{deploy.RunsUnreportedIndex, attrUnreported, unreportedValue}}
	case q.Job != "" && len(q.Status) > 0 && !slices.ContainsFunc(q.Status, run.Status.Terminal):
		// Active runs are few: read them and keep the job's.
		return byStatus(q.Status)
	case q.Job != "":
		return []partition{{deploy.RunsByJobIndex, attrJob, q.Job}}
	case len(q.Status) > 0:
		return byStatus(q.Status)
	}
	return byStatus(allStatuses)
}

// matches reports whether a run read from an index belongs to the answer
// (indexes are eventually consistent, and some plans over-read).
func matches(q dispatch.Query, r run.Run) bool {
	switch {
	case q.Job != "" && r.Job != q.Job:
		return false
	case len(q.Status) > 0 && !slices.Contains(q.Status, r.Status):
		return false
	case q.Unreported && !unreported(r):
		return false
	}
	return true
}

type found struct {
	pos position
	run run.Run
}

// List implements dispatch.RunStore: newest first (by creation, then id),
// from the indexes, which DynamoDB keeps eventually consistent. The cursor
// is the position of the last run returned.
func (s *Store) List(ctx context.Context, q dispatch.Query) ([]run.Run, string, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = DefaultLimit
	}
	limit = min(limit, MaxLimit)
	after, err := parseCursor(q.Cursor)
	if err != nil {
		return nil, "", fmt.Errorf("list runs: %w", err)
	}
	seen := map[string]bool{}
	var all []found
	var floor *position // the newest position a partition stopped at for want of budget
	for _, p := range plan(q) {
		got, stop, err := s.readPartition(ctx, p, q, after, limit+1)
		if err != nil {
			return nil, "", fmt.Errorf("list runs: %w", err)
		}
		for _, f := range got {
			if !seen[f.run.ID] {
				seen[f.run.ID] = true
				all = append(all, f)
			}
		}
		if stop != nil && (floor == nil || stop.before(*floor)) {
			floor = stop
		}
	}
	slices.SortFunc(all, func(a, b found) int {
		if a.pos.before(b.pos) {
			return -1
		}
		if b.pos.before(a.pos) {
			return 1
		}
		return 0
	})
	if floor != nil {
		// Past the floor some partition was not read to the end: keep what
		// is certain and go on from the floor next time.
		all = slices.DeleteFunc(all, func(f found) bool { return floor.before(f.pos) })
	}
	next := ""
	switch {
	case len(all) > limit:
		all = all[:limit]
		next = all[limit-1].pos.cursor()
	case floor != nil:
		next = floor.cursor()
	}
	out := make([]run.Run, len(all))
	for i, f := range all {
		out[i] = f.run
	}
	return out, next, nil
}

// readPartition reads one partition newest first, after the cursor, until
// it has want matching runs, is exhausted, or has examined maxExamined
// items; it always reads every item sharing the creation time of the last
// one it keeps, as DynamoDB does not order those by id. It returns the
// position it stopped at when it ran out of budget.
func (s *Store) readPartition(ctx context.Context, p partition, q dispatch.Query, after *position, want int) ([]found, *position, error) {
	cond := "#pk = :pk"
	names := map[string]string{"#pk": p.attr}
	values := map[string]types.AttributeValue{":pk": str(p.value)}
	if after != nil {
		cond += " AND #created <= :created"
		names["#created"] = attrCreated
		values[":created"] = str(after.created)
	}
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(s.o.Table),
		IndexName:                 aws.String(p.index),
		KeyConditionExpression:    aws.String(cond),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: values,
		ScanIndexForward:          aws.Bool(false),
		Limit:                     aws.Int32(int32(min(want, MaxLimit))),
	}
	var out []found
	examined := 0
	var last *position
	for {
		page, err := s.api.Query(ctx, in)
		if err != nil {
			return nil, nil, fmt.Errorf("query %s %s: %w", p.index, p.value, err)
		}
		for _, item := range page.Items {
			pos := position{created: stringAttr(item, attrCreated), id: stringAttr(item, attrID)}
			if after != nil && !after.before(pos) {
				continue // at or before the cursor: returned already
			}
			full := len(out) >= want || examined >= maxExamined
			if full && last != nil && pos.created != last.created {
				if len(out) >= want {
					return out, nil, nil
				}
				return out, last, nil
			}
			examined++
			last = &pos
			r, err := decode(item)
			if err != nil {
				return nil, nil, fmt.Errorf("query %s %s: item %s: %w", p.index, p.value, pos.id, err)
			}
			if matches(q, r) {
				out = append(out, found{pos: pos, run: r})
			}
		}
		if len(page.LastEvaluatedKey) == 0 {
			return out, nil, nil
		}
		in.ExclusiveStartKey = page.LastEvaluatedKey
	}
}
