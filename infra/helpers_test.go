package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/longshore/longshore/construct"
)

// The tests synthesize one app once per test binary (node start-up and a
// synth cost seconds) holding two deployments, and share it:
//   - main: the repository's catalog (../jobs) with every default: a new
//     VPC behind one NAT gateway, prefix "longshore";
//   - alt: testdata/jobs (secrets of both kinds, an ECR image, every
//     trigger) in an existing VPC, prefix "alt", with the options on.
type deployment struct {
	cfg      Config
	stack    *LongshoreStack
	template assertions.Template
	json     map[string]any
}

type fixture struct {
	app       awscdk.App
	main, alt *deployment
}

var (
	fixtureOnce sync.Once
	shared      *fixture
	sharedErr   error
	// functionsDir holds an empty bootstrap per function, as `make build`
	// would write real ones.
	functionsDir string
)

func TestMain(m *testing.M) {
	// jsii (1.139) treats node 20 as end of life and prints an 11-line
	// banner on every synth unless JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION
	// names that major version; newer nodes print nothing either way.
	if os.Getenv("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION") == "" {
		os.Setenv("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
	}
	code := m.Run()
	if functionsDir != "" {
		os.RemoveAll(functionsDir)
	}
	os.Exit(code)
}

// emptyFunctions makes (once) a folder with an empty bootstrap per function.
func emptyFunctions() (string, error) {
	if functionsDir != "" {
		return functionsDir, nil
	}
	dir, err := os.MkdirTemp("", "longshore-functions-")
	if err != nil {
		return "", fmt.Errorf("make the functions folder: %w", err)
	}
	for _, name := range construct.FunctionNames {
		if err := os.MkdirAll(filepath.Join(dir, name), 0o755); err != nil {
			return "", fmt.Errorf("make the functions folder: %w", err)
		}
		if err := os.WriteFile(filepath.Join(dir, name, "bootstrap"), nil, 0o755); err != nil {
			return "", fmt.Errorf("make the functions folder: %w", err)
		}
	}
	functionsDir = dir
	return dir, nil
}

// deployments returns the shared app, synthesizing it on first use.
func deployments(t *testing.T) *fixture {
	t.Helper()
	fixtureOnce.Do(func() {
		defer func() {
			if r := recover(); r != nil {
				sharedErr = fmt.Errorf("synthesize the test app: %v", r)
			}
		}()
		shared, sharedErr = newFixture()
	})
	if sharedErr != nil {
		t.Fatal(sharedErr)
	}
	return shared
}

func newFixture() (*fixture, error) {
	fns, err := emptyFunctions()
	if err != nil {
		return nil, err
	}
	out, err := os.MkdirTemp("", "longshore-cdk-out-")
	if err != nil {
		return nil, fmt.Errorf("make the output folder: %w", err)
	}
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(out)})
	setFeatureFlags(app)
	mainCfg, err := readConfig(lookup(map[string]string{
		ctxJobsDir: filepath.Join("..", "jobs"), ctxFunctionsDir: fns,
	}))
	if err != nil {
		return nil, err
	}
	altCfg, err := readConfig(lookup(map[string]string{
		ctxPrefix: "alt", ctxJobsDir: filepath.Join("testdata", "jobs"), ctxFunctionsDir: fns,
		ctxVpcID: "vpc-0123456789abcdef0", ctxSubnetIDs: "subnet-0aaaaaaaaaaaaaaaa, subnet-0bbbbbbbbbbbbbbbb",
		ctxLogRetentionDays: "7", ctxContainerInsights: "true",
		ctxAlarmTopicArn:            "arn:aws:sns:eu-west-1:123456789012:oncall",
		ctxCallbackQueueArns:        "arn:aws:sqs:eu-west-1:123456789012:partner-replies",
		ctxCallbackEventBusArns:     "arn:aws:events:eu-west-1:123456789012:event-bus/partner",
		ctxCallbackStateMachineArns: "arn:aws:states:eu-west-1:123456789012:stateMachine:billing",
	}))
	if err != nil {
		return nil, err
	}
	f := &fixture{app: app}
	for _, d := range []struct {
		cfg Config
		dst **deployment
	}{{mainCfg, &f.main}, {altCfg, &f.alt}} {
		stack, err := addDeployment(app, d.cfg)
		if err != nil {
			return nil, err
		}
		*d.dst = &deployment{cfg: d.cfg, stack: stack}
	}
	construct.CheckWithNag(app)
	for _, d := range []*deployment{f.main, f.alt} {
		d.template = assertions.Template_FromStack(d.stack.Stack, nil)
		d.json = *d.template.ToJSON()
	}
	return f, nil
}

// lookup serves context values from a map, as readConfig reads them.
func lookup(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// assert runs a CDK assertion, whose failures are panics, as a test failure.
func assert(t *testing.T, what string, f func()) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Fatalf("%s: %v", what, r)
		}
	}()
	f()
}

// hasResource asserts that the template has a resource of the type whose
// properties include props (deep, objects matched as subsets).
func (d *deployment) hasResource(t *testing.T, typ string, props map[string]any) {
	t.Helper()
	assert(t, typ, func() { d.template.HasResourceProperties(jsii.String(typ), props) })
}

// resources returns the template's resources of a type, by logical id.
func (d *deployment) resources(typ string) map[string]map[string]any {
	out := map[string]map[string]any{}
	for id, r := range d.json["Resources"].(map[string]any) {
		res := r.(map[string]any)
		if res["Type"] == typ {
			out[id] = res
		}
	}
	return out
}

// logicalID is the template id of a construct's CloudFormation resource.
func (d *deployment) logicalID(c constructs.IConstruct) string {
	return *d.stack.GetLogicalId(c.Node().DefaultChild().(awscdk.CfnElement))
}

// flatten renders a CloudFormation value as one readable string:
// Fn::Join is joined, Ref becomes ${Name} and Fn::GetAtt ${Name.Attr}, so
// that an ARN can be compared with a string such as
// "arn:${AWS::Partition}:ecs:${AWS::Region}:${AWS::AccountId}:task/longshore/*".
func flatten(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = flatten(e)
		}
		return strings.Join(parts, ",")
	case map[string]any:
		if j, ok := x["Fn::Join"].([]any); ok {
			var b strings.Builder
			for i, e := range j[1].([]any) {
				if i > 0 {
					b.WriteString(j[0].(string))
				}
				b.WriteString(flatten(e))
			}
			return b.String()
		}
		if r, ok := x["Ref"]; ok {
			return "${" + r.(string) + "}"
		}
		if g, ok := x["Fn::GetAtt"].([]any); ok {
			return "${" + g[0].(string) + "." + g[1].(string) + "}"
		}
	}
	return fmt.Sprint(v)
}

// stmt is an IAM stmt with its values flattened.
type stmt struct {
	Sid       string
	Effect    string
	Actions   []string
	Resources []string
	// Condition maps "Operator key" to the flattened value.
	Condition map[string]string
}

func (s stmt) String() string {
	return fmt.Sprintf("%s %v on %v if %v", s.Sid, s.Actions, s.Resources, s.Condition)
}

func strs(v any) []string {
	switch x := v.(type) {
	case nil:
		return nil
	case []any:
		out := make([]string, len(x))
		for i, e := range x {
			out[i] = flatten(e)
		}
		sort.Strings(out)
		return out
	default:
		return []string{flatten(x)}
	}
}

// policyOf returns every stmt of the inline policies attached to the
// role with this logical id.
func (d *deployment) policyOf(roleID string) []stmt {
	var out []stmt
	for _, p := range d.resources("AWS::IAM::Policy") {
		props := p["Properties"].(map[string]any)
		attached := false
		for _, r := range props["Roles"].([]any) {
			if flatten(r) == "${"+roleID+"}" {
				attached = true
			}
		}
		if !attached {
			continue
		}
		doc := props["PolicyDocument"].(map[string]any)
		for _, raw := range doc["Statement"].([]any) {
			out = append(out, toStatement(raw.(map[string]any)))
		}
	}
	return out
}

func toStatement(m map[string]any) stmt {
	s := stmt{Effect: flatten(m["Effect"]), Actions: strs(m["Action"]), Resources: strs(m["Resource"])}
	if sid, ok := m["Sid"].(string); ok {
		s.Sid = sid
	}
	if c, ok := m["Condition"].(map[string]any); ok {
		s.Condition = map[string]string{}
		for op, kv := range c {
			for k, v := range kv.(map[string]any) {
				s.Condition[op+" "+k] = flatten(v)
			}
		}
	}
	return s
}

// find returns the stmt with this Sid.
func find(stmts []stmt, sid string) (stmt, bool) {
	for _, s := range stmts {
		if s.Sid == sid {
			return s, true
		}
	}
	return stmt{}, false
}

// allows reports whether any stmt allows the action.
func allows(stmts []stmt, action string) bool {
	for _, s := range stmts {
		for _, a := range s.Actions {
			if a == action {
				return true
			}
		}
	}
	return false
}

// arn builds the flattened ARN CloudFormation makes of stack.FormatArn.
func arn(service, rest string) string {
	return "arn:${AWS::Partition}:" + service + ":${AWS::Region}:${AWS::AccountId}:" + rest
}
