package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/longshore/longshore/internal/deploy"
)

// deployment is what the bench reads from the CDK app's synthesized
// template: the functions as Lambda runs them and the runs table.
type deployment struct {
	// dir is the cloud assembly (cdk.out).
	dir       string
	functions map[string]function // by deploy.Function* name
	table     tableDef
	resources map[string]cfnResource
}

type cfnResource struct {
	Type       string
	Properties map[string]any
}

// function is one Lambda function of the template.
type function struct {
	name     string // FunctionName
	memoryMB int
	arch     string // arm64 or x86_64
	// env is the function's environment, intrinsics unresolved.
	env map[string]any
	// layers are the folders of its layers' assets in the assembly.
	layers []string
}

// tableDef is the runs table: its key and its global secondary indexes.
type tableDef struct {
	key     string
	pitr    bool
	attrs   map[string]types.ScalarAttributeType
	indexes []indexDef
}

// indexDef is one global secondary index.
type indexDef struct {
	name           string
	hash, rangeKey string
	projection     types.ProjectionType
	nonKey         []string
}

// String describes the index as the template declares it.
func (ix indexDef) String() string {
	s := fmt.Sprintf("%s (%s) %s", ix.name, strings.Join(ix.keys(), ", "), ix.projection)
	if len(ix.nonKey) > 0 {
		s += " " + strings.Join(ix.nonKey, ",")
	}
	return s
}

// keys are the index's key attributes.
func (ix indexDef) keys() []string {
	if ix.rangeKey == "" {
		return []string{ix.hash}
	}
	return []string{ix.hash, ix.rangeKey}
}

// synthesize builds the CDK app and synthesizes it into dir with the
// repository's catalog (SynthesizeTemplate), and reads the template.
func synthesize(ctx context.Context, dir string) (*deployment, error) {
	b, err := SynthesizeTemplate(ctx, ".", dir, nil)
	if err != nil {
		return nil, err
	}
	return parseTemplate(filepath.Join(dir, "cdk.out"), b)
}

// SynthesizeTemplate builds the CDK app (repo/infra) as `make dist` does
// and synthesizes it into dir/cdk.out with the repository's catalog
// (repo/jobs), empty function bootstraps (their code is not read) and the
// context values given, as `longshore synth` does with the release's; it
// returns the template of the one stack. It takes about 15 s, most of it
// node.
func SynthesizeTemplate(ctx context.Context, repo, dir string, context map[string]string) ([]byte, error) {
	if _, err := exec.LookPath("node"); err != nil {
		return nil, fmt.Errorf("node is not installed: the CDK app cannot synthesize (%w)", err)
	}
	jobs, err := filepath.Abs(filepath.Join(repo, "jobs"))
	if err != nil {
		return nil, err
	}
	fns := filepath.Join(dir, "lambda")
	for _, fn := range lambdas {
		if err := os.MkdirAll(filepath.Join(fns, fn), 0o755); err != nil {
			return nil, err
		}
		if err := os.WriteFile(filepath.Join(fns, fn, "bootstrap"), nil, 0o755); err != nil {
			return nil, err
		}
	}
	app := filepath.Join(dir, "longshore-cdk")
	build := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags=-s -w", "-o", app, "./infra")
	build.Dir = repo
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("build the CDK app: %v\n%s", err, out)
	}
	values := map[string]string{"jobsDir": jobs, "functionsDir": fns}
	maps.Copy(values, context)
	ctxJSON, err := json.Marshal(values)
	if err != nil {
		return nil, err
	}
	out := filepath.Join(dir, "cdk.out")
	synth := exec.CommandContext(ctx, app)
	synth.Dir = dir
	synth.Env = append(os.Environ(), "CDK_OUTDIR="+out, "CDK_CONTEXT_JSON="+string(ctxJSON))
	if os.Getenv("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION") == "" {
		synth.Env = append(synth.Env, "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20")
	}
	if b, err := synth.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("synthesize the CDK app: %v\n%s", err, b)
	}
	b, err := os.ReadFile(filepath.Join(out, deploy.DefaultStackName+".template.json"))
	if err != nil {
		return nil, fmt.Errorf("read the synthesized template: %w", err)
	}
	return b, nil
}

// parseTemplate reads the functions and the runs table of a template.
func parseTemplate(dir string, b []byte) (*deployment, error) {
	var tmpl struct {
		Resources map[string]cfnResource
	}
	if err := json.Unmarshal(b, &tmpl); err != nil {
		return nil, fmt.Errorf("read the synthesized template: %w", err)
	}
	d := &deployment{dir: dir, functions: map[string]function{}, resources: tmpl.Resources}
	foundTable := false
	for id, r := range tmpl.Resources {
		switch r.Type {
		case "AWS::Lambda::Function":
			f, err := d.function(r.Properties)
			if err != nil {
				return nil, fmt.Errorf("function %s: %w", id, err)
			}
			for _, name := range lambdas {
				if f.name == deploy.FunctionName(deploy.DefaultPrefix, name) {
					d.functions[name] = f
				}
			}
		case "AWS::DynamoDB::Table":
			t, err := parseTable(r.Properties)
			if err != nil {
				return nil, fmt.Errorf("table %s: %w", id, err)
			}
			if slices.ContainsFunc(t.indexes, func(ix indexDef) bool { return ix.name == deploy.RunsByStatusIndex }) {
				d.table, foundTable = t, true
			}
		}
	}
	for _, name := range lambdas {
		if _, ok := d.functions[name]; !ok {
			return nil, fmt.Errorf("the template has no function %s", deploy.FunctionName(deploy.DefaultPrefix, name))
		}
	}
	if !foundTable {
		return nil, fmt.Errorf("the template has no runs table (one with index %s)", deploy.RunsByStatusIndex)
	}
	return d, nil
}

func (d *deployment) function(p map[string]any) (function, error) {
	f := function{arch: "x86_64", env: map[string]any{}}
	f.name, _ = p["FunctionName"].(string)
	mem, ok := p["MemorySize"].(float64)
	if !ok {
		return f, fmt.Errorf("no MemorySize")
	}
	f.memoryMB = int(mem)
	if archs, ok := p["Architectures"].([]any); ok && len(archs) == 1 {
		f.arch = fmt.Sprint(archs[0])
	}
	if env, ok := p["Environment"].(map[string]any); ok {
		if vars, ok := env["Variables"].(map[string]any); ok {
			f.env = vars
		}
	}
	layers, _ := p["Layers"].([]any)
	for _, l := range layers {
		ref, _ := l.(map[string]any)["Ref"].(string)
		res, ok := d.resources[ref]
		if !ok || res.Type != "AWS::Lambda::LayerVersion" {
			return f, fmt.Errorf("layer %v is no layer of the template", l)
		}
		content, _ := res.Properties["Content"].(map[string]any)
		key, _ := content["S3Key"].(string)
		hash, ok := strings.CutSuffix(key, ".zip")
		if !ok {
			return f, fmt.Errorf("layer %s has no asset", ref)
		}
		f.layers = append(f.layers, filepath.Join(d.dir, "asset."+hash))
	}
	return f, nil
}

func parseTable(p map[string]any) (tableDef, error) {
	t := tableDef{attrs: map[string]types.ScalarAttributeType{}}
	var props struct {
		KeySchema []struct {
			AttributeName, KeyType string
		}
		AttributeDefinitions []struct {
			AttributeName, AttributeType string
		}
		PointInTimeRecoverySpecification struct {
			PointInTimeRecoveryEnabled bool
		}
		GlobalSecondaryIndexes []struct {
			IndexName string
			KeySchema []struct {
				AttributeName, KeyType string
			}
			Projection struct {
				ProjectionType   string
				NonKeyAttributes []string
			}
		}
	}
	b, _ := json.Marshal(p)
	if err := json.Unmarshal(b, &props); err != nil {
		return t, err
	}
	t.pitr = props.PointInTimeRecoverySpecification.PointInTimeRecoveryEnabled
	for _, k := range props.KeySchema {
		if k.KeyType == "HASH" {
			t.key = k.AttributeName
		} else {
			return t, fmt.Errorf("a sort key (%s): the runs table has none", k.AttributeName)
		}
	}
	for _, a := range props.AttributeDefinitions {
		t.attrs[a.AttributeName] = types.ScalarAttributeType(a.AttributeType)
	}
	for _, g := range props.GlobalSecondaryIndexes {
		ix := indexDef{name: g.IndexName, projection: types.ProjectionType(g.Projection.ProjectionType), nonKey: g.Projection.NonKeyAttributes}
		if ix.projection == "" {
			ix.projection = types.ProjectionTypeAll
		}
		for _, k := range g.KeySchema {
			if k.KeyType == "HASH" {
				ix.hash = k.AttributeName
			} else {
				ix.rangeKey = k.AttributeName
			}
		}
		t.indexes = append(t.indexes, ix)
	}
	return t, nil
}

// createInput is the table as CreateTable makes it (on demand, as the
// template's is).
func (t tableDef) createInput(name string) *dynamodb.CreateTableInput {
	in := &dynamodb.CreateTableInput{
		TableName:   aws.String(name),
		BillingMode: types.BillingModePayPerRequest,
		KeySchema:   []types.KeySchemaElement{{AttributeName: aws.String(t.key), KeyType: types.KeyTypeHash}},
	}
	names := make([]string, 0, len(t.attrs))
	for n := range t.attrs {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		in.AttributeDefinitions = append(in.AttributeDefinitions, types.AttributeDefinition{AttributeName: aws.String(n), AttributeType: t.attrs[n]})
	}
	for _, ix := range t.indexes {
		g := types.GlobalSecondaryIndex{
			IndexName:  aws.String(ix.name),
			KeySchema:  []types.KeySchemaElement{{AttributeName: aws.String(ix.hash), KeyType: types.KeyTypeHash}},
			Projection: &types.Projection{ProjectionType: ix.projection, NonKeyAttributes: ix.nonKey},
		}
		if ix.rangeKey != "" {
			g.KeySchema = append(g.KeySchema, types.KeySchemaElement{AttributeName: aws.String(ix.rangeKey), KeyType: types.KeyTypeRange})
		}
		in.GlobalSecondaryIndexes = append(in.GlobalSecondaryIndexes, g)
	}
	return in
}

// sameIndexes says how the indexes of a CreateTableInput (the store's
// dynamo.TableSchema, which the store's tests run on) differ from the
// template's, or "" when they do not.
func (t tableDef) sameIndexes(in *dynamodb.CreateTableInput) string {
	other, err := parseTableInput(in)
	if err != nil {
		return err.Error()
	}
	describe := func(ixs []indexDef) []string {
		var s []string
		for _, ix := range ixs {
			nk := slices.Clone(ix.nonKey)
			slices.Sort(nk)
			ix.nonKey = nk
			s = append(s, ix.String())
		}
		slices.Sort(s)
		return s
	}
	a, b := describe(t.indexes), describe(other.indexes)
	if !slices.Equal(a, b) {
		return fmt.Sprintf("the template's indexes are %s; dynamo.TableSchema's are %s", strings.Join(a, "; "), strings.Join(b, "; "))
	}
	return ""
}

func parseTableInput(in *dynamodb.CreateTableInput) (tableDef, error) {
	t := tableDef{}
	for _, g := range in.GlobalSecondaryIndexes {
		ix := indexDef{name: aws.ToString(g.IndexName), projection: g.Projection.ProjectionType, nonKey: g.Projection.NonKeyAttributes}
		for _, k := range g.KeySchema {
			if k.KeyType == types.KeyTypeHash {
				ix.hash = aws.ToString(k.AttributeName)
			} else {
				ix.rangeKey = aws.ToString(k.AttributeName)
			}
		}
		t.indexes = append(t.indexes, ix)
	}
	return t, nil
}

// resolve resolves a value of the template (a function's environment
// variable): Ref and Fn::GetAtt to the physical ids the bench gives the
// resources (physical), Fn::Join of those.
func (d *deployment) resolve(v any, table string) (string, error) {
	switch v := v.(type) {
	case string:
		return v, nil
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64), nil
	case map[string]any:
		if ref, ok := v["Ref"].(string); ok {
			return d.physical(ref, "Ref", table)
		}
		if att, ok := v["Fn::GetAtt"].([]any); ok && len(att) == 2 {
			return d.physical(fmt.Sprint(att[0]), fmt.Sprint(att[1]), table)
		}
		if join, ok := v["Fn::Join"].([]any); ok && len(join) == 2 {
			sep, _ := join[0].(string)
			parts, _ := join[1].([]any)
			var out []string
			for _, p := range parts {
				s, err := d.resolve(p, table)
				if err != nil {
					return "", err
				}
				out = append(out, s)
			}
			return strings.Join(out, sep), nil
		}
	}
	return "", fmt.Errorf("cannot resolve %v", v)
}

// benchAccount and benchCluster name the deployment the functions are told
// they run in.
const (
	benchAccount = "111122223333"
	benchRegion  = "us-east-1"
	benchCluster = "arn:aws:ecs:us-east-1:111122223333:cluster/longshore"
)

func (d *deployment) physical(id, att, table string) (string, error) {
	r, ok := d.resources[id]
	if !ok {
		return "", fmt.Errorf("no resource %s", id)
	}
	short := strings.ToLower(id)
	if len(short) > 8 {
		short = short[len(short)-8:]
	}
	switch r.Type + "." + att {
	case "AWS::DynamoDB::Table.Ref":
		return table, nil
	case "AWS::ECS::Cluster.Arn":
		return benchCluster, nil
	case "AWS::Events::EventBus.Ref":
		return deploy.EventBusName(deploy.DefaultPrefix), nil
	case "AWS::S3::Bucket.Ref":
		return "longshore-bench-" + short, nil
	case "AWS::EC2::SecurityGroup.GroupId":
		return "sg-0" + short, nil
	case "AWS::EC2::Subnet.Ref":
		return "subnet-0" + short, nil
	}
	return "", fmt.Errorf("resource %s (%s): no fake for %s", id, r.Type, att)
}
