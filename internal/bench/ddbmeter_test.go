package bench

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

func strAttr(v string) map[string]any { return map[string]any{"S": v} }

// runsTable is a table shaped as the runs table: an index by job, one by
// status and a sparse one, with the projection given.
func runsTable(projection string, nonKey ...string) tableDef {
	ix := func(name, hash string) indexDef {
		return indexDef{name: name, hash: hash, rangeKey: "createdAt", projection: projectionOf(projection), nonKey: nonKey}
	}
	return tableDef{key: "id", indexes: []indexDef{ix("byJob", "job"), ix("byStatus", "status"), ix("unreported", "unreported")}}
}

func projectionOf(p string) types.ProjectionType { return types.ProjectionType(p) }

func runItem(status, doc string, extra ...string) item {
	it := item{"id": strAttr("r-1"), "job": strAttr("hello"), "status": strAttr(status), "createdAt": strAttr("2026-12-04T10:00:00.000000000Z"), "doc": strAttr(doc)}
	for i := 0; i+1 < len(extra); i += 2 {
		it[extra[i]] = strAttr(extra[i+1])
	}
	return it
}

func writes(ws []indexWrite) string {
	var out []string
	for _, w := range ws {
		out = append(out, w.index+" "+w.why)
	}
	return strings.Join(out, ", ")
}

func TestIndexWritesFollowDynamoDBsRules(t *testing.T) {
	all := runsTable("ALL")
	keys := runsTable("KEYS_ONLY")
	small := strings.Repeat("x", 300)
	big := strings.Repeat("x", 1500)
	tests := []struct {
		name          string
		t             tableDef
		before, after item
		want          string
		wru           float64
	}{
		{"a new item enters each index whose keys it has", all, nil, runItem("starting", small), "byJob put, byStatus put", 2},
		{"a changed index key is a delete and a put; a changed projected attribute an update", all,
			runItem("starting", small), runItem("succeeded", small+"y"), "byJob update, byStatus delete+put", 3},
		{"an index entry is written by its own size", all, runItem("starting", small), runItem("succeeded", big),
			"byJob update, byStatus delete+put", 2 + 1 + 2},
		{"keys only: nothing projected changes but the keys", keys, runItem("starting", small), runItem("succeeded", big),
			"byStatus delete+put", 2},
		{"a sparse index holds only items with its key", all, runItem("succeeded", small), runItem("failed", small, "unreported", "true"),
			"byJob update, byStatus delete+put, unreported put", 1 + 2 + 1},
		{"an item losing an index key leaves the index", keys, runItem("failed", small, "unreported", "true"), runItem("failed", small),
			"unreported delete", 1},
		{"nothing indexed changes: no index write", keys, runItem("failed", small), runItem("failed", big), "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := indexWrites(tt.t, tt.before, tt.after)
			if writes(got) != tt.want {
				t.Errorf("writes = %q, want %q", writes(got), tt.want)
			}
			wru := 0.0
			for _, w := range got {
				wru += w.wru
			}
			if wru != tt.wru {
				t.Errorf("%g WRU, want %g", wru, tt.wru)
			}
		})
	}
}

func TestItemSizesAndUnitsAreDynamoDBs(t *testing.T) {
	for _, tt := range []struct {
		v    map[string]any
		want int
	}{
		{strAttr("héllo"), 6},
		{map[string]any{"N": "1804177718"}, 6},
		{map[string]any{"N": "-0.0500"}, 2},
		{map[string]any{"N": "0"}, 1},
		{map[string]any{"BOOL": true}, 1},
		{map[string]any{"B": "AAEC"}, 3},
		{map[string]any{"SS": []any{"ab", "c"}}, 3},
		{map[string]any{"L": []any{map[string]any{"S": "ab"}}}, 6},
		{map[string]any{"M": map[string]any{"k": map[string]any{"S": "ab"}}}, 7},
	} {
		if got := valueSize(tt.v); got != tt.want {
			t.Errorf("size of %v = %d, want %d", tt.v, got, tt.want)
		}
	}
	if got := itemSize(item{"id": strAttr("r-1"), "n": {"N": "12"}}); got != 2+3+1+2 {
		t.Errorf("item size %d", got)
	}
	for _, tt := range []struct {
		size       int
		w, rc, rev float64
	}{{0, 1, 1, 0.5}, {1024, 1, 1, 0.5}, {1025, 2, 1, 0.5}, {4097, 5, 2, 1}} {
		if w, rc, rev := writeUnits(tt.size), readUnits(tt.size, true), readUnits(tt.size, false); w != tt.w || rc != tt.rc || rev != tt.rev {
			t.Errorf("%d bytes: %g WRU, %g and %g RRU; want %g, %g, %g", tt.size, w, rc, rev, tt.w, tt.rc, tt.rev)
		}
	}
}

func TestProjectionKeepsKeysAndIncludedAttributes(t *testing.T) {
	ix := indexDef{name: "byStatus", hash: "status", rangeKey: "createdAt", projection: "INCLUDE", nonKey: []string{"job"}}
	got := project(runItem("failed", "{}"), "id", ix)
	if len(got) != 4 || got["job"] == nil || got["doc"] != nil {
		t.Errorf("projected %v, want id, status, createdAt and job", got)
	}
}

func TestATemplatesFunctionsAndRunsTableAreRead(t *testing.T) {
	tmpl := `{"Resources": {
	  "Layer": {"Type": "AWS::Lambda::LayerVersion", "Properties": {"Content": {"S3Key": "abc.zip"}}},
	  "Table": {"Type": "AWS::DynamoDB::Table", "Properties": {
	    "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
	    "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}, {"AttributeName": "status", "AttributeType": "S"}],
	    "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": true},
	    "GlobalSecondaryIndexes": [{"IndexName": "byStatus", "KeySchema": [{"AttributeName": "status", "KeyType": "HASH"}],
	      "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["job"]}}]}},
	  "L": {"Type": "AWS::Lambda::Function", "Properties": {"FunctionName": "longshore-launcher", "MemorySize": 128,
	    "Architectures": ["arm64"], "Layers": [{"Ref": "Layer"}], "Environment": {"Variables": {"A": {"Ref": "Table"}}}}},
	  "T": {"Type": "AWS::Lambda::Function", "Properties": {"FunctionName": "longshore-tracker", "MemorySize": 256}},
	  "R": {"Type": "AWS::Lambda::Function", "Properties": {"FunctionName": "longshore-reconciler", "MemorySize": 256}},
	  "A": {"Type": "AWS::Lambda::Function", "Properties": {"FunctionName": "longshore-api", "MemorySize": 256}}}}`
	d, err := parseTemplate("/out", []byte(tmpl))
	if err != nil {
		t.Fatal(err)
	}
	l := d.functions["launcher"]
	if l.memoryMB != 128 || l.arch != "arm64" || len(l.layers) != 1 || l.layers[0] != "/out/asset.abc" {
		t.Errorf("launcher = %+v", l)
	}
	if tr := d.functions["tracker"]; tr.memoryMB != 256 || tr.arch != "x86_64" {
		t.Errorf("tracker = %+v, want 256 MB on x86_64 (Lambda's default)", tr)
	}
	if v, err := d.resolve(l.env["A"], "runs"); err != nil || v != "runs" {
		t.Errorf("the table's Ref = %q, %v", v, err)
	}
	if !d.table.pitr || len(d.table.indexes) != 1 || d.table.indexes[0].String() != "byStatus (status) INCLUDE job" {
		t.Errorf("table = %+v", d.table)
	}
}
