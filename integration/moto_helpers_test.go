package integration

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os/exec"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dynamotypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	awsecs "github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/scheduler"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/longshore/longshore/internal/aws/dynamo"
	"github.com/longshore/longshore/internal/aws/dynamo/dynamotest"
	"github.com/longshore/longshore/internal/aws/ecs"
	"github.com/longshore/longshore/internal/bench"
	"github.com/longshore/longshore/internal/deploy"
)

// This file is the moto side of moto_test.go: moto_server started on a
// free loopback port, the CDK app's template synthesized and created in it
// (the resources the functions touch), a recording proxy in front of it,
// a Lambda Invoke endpoint that hands the CLI's invokes to the real function
// binaries, and ECS task state change events built from moto's tasks.

const (
	// motoInstall is how to get the moto this suite is written against.
	motoInstall = `pip install "moto[server]==5.2.1"`
	// motoAccount and motoRegion are moto's default account, and the Region
	// every client here names.
	motoAccount = "123456789012"
	motoRegion  = "us-east-1"
	// moto checks no signature: any key will do.
	motoKeyID  = "AKIDMOTOTEST"
	motoSecret = "moto-secret"
	// motoPrefix is the deployment's prefix (the CDK app's default).
	motoPrefix = deploy.DefaultPrefix
)

// startMoto starts moto_server on a free loopback port, in its own process
// group, and returns its URL; the group is killed when the test ends.
// Without moto_server the test is skipped, or fails under
// LONGSHORE_REQUIRE_ALL=1 (as CI runs).
func startMoto(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("moto_server")
	if err != nil {
		dynamotest.Missing(t, "moto_server is not installed: %s", motoInstall)
	}
	for range 3 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		cmd := exec.Command(bin, "-H", "127.0.0.1", "-p", strconv.Itoa(port))
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		out := &lockedBuffer{}
		cmd.Stdout, cmd.Stderr = out, out
		if err := cmd.Start(); err != nil {
			t.Fatalf("start moto_server: %v", err)
		}
		exited := make(chan struct{})
		go func() { cmd.Wait(); close(exited) }()
		kill := func() {
			// The group: moto_server may be a shim (pyenv) over python.
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
		}
		base := "http://127.0.0.1:" + strconv.Itoa(port)
		// Python's imports take seconds here; poll until it answers.
		client := &http.Client{Timeout: 2 * time.Second}
		deadline := time.Now().Add(45 * time.Second)
		up := false
		for !up && time.Now().Before(deadline) {
			select {
			case <-exited:
				deadline = time.Now()
				continue
			default:
			}
			if resp, err := client.Get(base + "/moto-api/"); err == nil {
				resp.Body.Close()
				up = resp.StatusCode == http.StatusOK
			}
			if !up {
				time.Sleep(50 * time.Millisecond)
			}
		}
		if up {
			t.Cleanup(func() {
				kill()
				if t.Failed() {
					t.Logf("moto_server output (last 4 KB):\n%s", lastBytes(out.String(), 4096))
				}
			})
			return base
		}
		kill()
		t.Logf("moto_server on port %d did not come up:\n%s", port, lastBytes(out.String(), 4096))
	}
	t.Fatal("start moto_server: it never answered")
	return ""
}

func lastBytes(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// awsCall is one request the functions sent to AWS (moto), as the recorder
// saw it.
type awsCall struct {
	// Service is the signing name of the request (ecs, dynamodb, sqs, ...).
	Service string
	// Op is the operation: the X-Amz-Target's, the query protocol's Action,
	// or "METHOD /path" for REST services (S3, CloudWatch Logs is JSON).
	Op     string
	Body   []byte
	Status int
}

// json decodes the request body.
func (c awsCall) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(c.Body, &m); err != nil {
		t.Fatalf("%s %s body %q: %v", c.Service, c.Op, c.Body, err)
	}
	return m
}

// recorder passes requests on to moto and keeps them, with moto's status.
type recorder struct {
	url   string
	proxy *httputil.ReverseProxy
	mu    sync.Mutex
	calls []awsCall
}

var scopeRe = regexp.MustCompile(`Credential=[^/]+/[0-9]+/[^/]+/([^/]+)/aws4_request`)

func newRecorder(t *testing.T, target string) *recorder {
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	r := &recorder{proxy: httputil.NewSingleHostReverseProxy(u)}
	r.proxy.ModifyResponse = fixECSAnswer
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	r.url = srv.URL
	return r
}

// fixECSAnswer gives ECS's types to what moto answers otherwise: moto
// writes a task's containers' cpu and memory as JSON numbers, where ECS
// (and so the Go SDK, which refuses the answer: "deserialization failed,
// expected string, got 0") has strings.
func fixECSAnswer(resp *http.Response) error {
	if !strings.HasPrefix(resp.Request.Header.Get("X-Amz-Target"), "AmazonEC2ContainerServiceV20141113.") || resp.StatusCode != http.StatusOK {
		return nil
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var doc any
	if dec.Decode(&doc) == nil {
		var walk func(v any, containers bool)
		walk = func(v any, containers bool) {
			switch x := v.(type) {
			case map[string]any:
				if containers {
					for _, k := range []string{"cpu", "memory", "memoryReservation"} {
						if n, ok := x[k].(json.Number); ok {
							x[k] = n.String()
						}
					}
				}
				for k, e := range x {
					walk(e, k == "containers")
				}
			case []any:
				for _, e := range x {
					walk(e, containers)
				}
			}
		}
		walk(doc, false)
		if fixed, err := json.Marshal(doc); err == nil {
			body = fixed
		}
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	resp.Header.Set("Content-Length", strconv.Itoa(len(body)))
	return nil
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (r *recorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	req.Body = io.NopCloser(bytes.NewReader(body))
	c := awsCall{Body: body}
	if m := scopeRe.FindStringSubmatch(req.Header.Get("Authorization")); m != nil {
		c.Service = m[1]
	}
	switch target := req.Header.Get("X-Amz-Target"); {
	case target != "":
		c.Op = target[strings.LastIndexByte(target, '.')+1:]
	case strings.HasPrefix(req.Header.Get("Content-Type"), "application/x-www-form-urlencoded"):
		form, _ := url.ParseQuery(string(body))
		c.Op = form.Get("Action")
	default:
		c.Op = req.Method + " " + req.URL.Path
	}
	sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
	r.proxy.ServeHTTP(sw, req)
	c.Status = sw.status
	r.mu.Lock()
	r.calls = append(r.calls, c)
	r.mu.Unlock()
}

// ops returns the calls of an operation so far.
func (r *recorder) ops(op string) []awsCall {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []awsCall
	for _, c := range r.calls {
		if c.Op == op {
			out = append(out, c)
		}
	}
	return out
}

// motoClients are the test's own clients of moto (not through the
// recorder: what the test does is not what the functions did).
type motoClients struct {
	url    string
	ecs    *awsecs.Client
	db     *dynamodb.Client
	events *eventbridge.Client
	sqs    *sqs.Client
	sfn    *sfn.Client
	logs   *cloudwatchlogs.Client
	s3     *s3.Client
	sched  *scheduler.Client
}

func newMotoClients(endpoint string) *motoClients {
	cfg := aws.Config{Region: motoRegion, Credentials: credentials.NewStaticCredentialsProvider(motoKeyID, motoSecret, "")}
	ep := aws.String(endpoint)
	return &motoClients{
		url:    endpoint,
		ecs:    awsecs.NewFromConfig(cfg, func(o *awsecs.Options) { o.BaseEndpoint = ep }),
		db:     dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) { o.BaseEndpoint = ep }),
		events: eventbridge.NewFromConfig(cfg, func(o *eventbridge.Options) { o.BaseEndpoint = ep }),
		sqs:    sqs.NewFromConfig(cfg, func(o *sqs.Options) { o.BaseEndpoint = ep }),
		sfn:    sfn.NewFromConfig(cfg, func(o *sfn.Options) { o.BaseEndpoint = ep }),
		logs:   cloudwatchlogs.NewFromConfig(cfg, func(o *cloudwatchlogs.Options) { o.BaseEndpoint = ep }),
		s3:     s3.NewFromConfig(cfg, func(o *s3.Options) { o.BaseEndpoint = ep; o.UsePathStyle = true }),
		sched:  scheduler.NewFromConfig(cfg, func(o *scheduler.Options) { o.BaseEndpoint = ep }),
	}
}

// holdTasks keeps moto's ECS tasks RUNNING until they are stopped: by
// default moto moves a task one status on (DEACTIVATING, STOPPING, ...) at
// every DescribeTasks that names it, so that a task would end on its own
// after a few reads.
func (m *motoClients) holdTasks(t *testing.T, moto string) {
	t.Helper()
	body := `{"model_name": "ecs::task", "transition": {"progression": "manual", "times": 1000000000}}`
	resp, err := http.Post(moto+"/moto-api/state-manager/set-transition", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatalf("set moto's ECS task transitions: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("set moto's ECS task transitions: %s", resp.Status)
	}
}

var ec2IDRe = regexp.MustCompile(`<(vpcId|subnetId|groupId)>([^<]+)</`)

// ec2 sends one EC2 query-protocol request to moto, signed (moto picks the
// service from the signature's scope), and returns the first id in the
// answer. The SDK's EC2 client is not one of this module's dependencies;
// four calls do not need it.
func (m *motoClients) ec2(t *testing.T, action string, params map[string]string) string {
	t.Helper()
	form := url.Values{"Action": {action}, "Version": {"2016-11-15"}}
	for k, v := range params {
		form.Set(k, v)
	}
	body := form.Encode()
	req, err := http.NewRequest(http.MethodPost, m.url+"/", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	sum := sha256.Sum256([]byte(body))
	creds := aws.Credentials{AccessKeyID: motoKeyID, SecretAccessKey: motoSecret}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), "ec2", motoRegion, time.Now()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("EC2 %s: %v", action, err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("EC2 %s: %s\n%s", action, resp.Status, out)
	}
	if m := ec2IDRe.FindSubmatch(out); m != nil {
		return string(m[2])
	}
	return ""
}

// synthesizeApp synthesizes the repository's catalog with empty function
// bootstraps and no NAT gateway (bench.SynthesizeTemplate) and returns the
// template of the one stack. It takes about 15 s here, most of it node: run
// it beside the rest of the setup.
func synthesizeApp(dir string) (map[string]any, error) {
	b, err := bench.SynthesizeTemplate(context.Background(), "..", dir, map[string]string{"natGateways": "0"})
	if err != nil {
		return nil, err
	}
	var tmpl map[string]any
	if err := json.Unmarshal(b, &tmpl); err != nil {
		return nil, fmt.Errorf("read the synthesized template: %w", err)
	}
	return tmpl, nil
}

// motoStack creates a synthesized template's resources in moto, the way
// CloudFormation would, for the resource types the functions touch; it
// resolves the template's intrinsic functions against what it made.
type motoStack struct {
	t         *testing.T
	m         *motoClients
	resources map[string]cfnResource
	refs      map[string]string // logical id -> Ref
	atts      map[string]string // logical id + "." + attribute -> Fn::GetAtt
	created   map[string]int    // resource type -> how many
	// functions' environment by function name, resolved.
	functionEnv map[string]map[string]string
}

type cfnResource struct {
	Type       string
	Properties map[string]any
}

func newMotoStack(t *testing.T, m *motoClients, tmpl map[string]any) *motoStack {
	s := &motoStack{t: t, m: m, resources: map[string]cfnResource{}, refs: map[string]string{}, atts: map[string]string{},
		created: map[string]int{}, functionEnv: map[string]map[string]string{}}
	res, _ := tmpl["Resources"].(map[string]any)
	for id, v := range res {
		r, _ := v.(map[string]any)
		props, _ := r["Properties"].(map[string]any)
		s.resources[id] = cfnResource{Type: fmt.Sprint(r["Type"]), Properties: props}
	}
	return s
}

// ofType lists the logical ids of a type, sorted.
func (s *motoStack) ofType(typ string) []string {
	var ids []string
	for id, r := range s.resources {
		if r.Type == typ {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return ids
}

var subRe = regexp.MustCompile(`\$\{([^}]+)\}`)

// resolve replaces the intrinsic functions in v with the values of what
// was created.
func (s *motoStack) resolve(v any) (any, error) {
	switch x := v.(type) {
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			r, err := s.resolve(e)
			if err != nil {
				return nil, err
			}
			out[i] = r
		}
		return out, nil
	case map[string]any:
		if len(x) == 1 {
			for fn, arg := range x {
				switch fn {
				case "Ref":
					return s.ref(fmt.Sprint(arg))
				case "Fn::GetAtt":
					a, _ := arg.([]any)
					if len(a) != 2 {
						return nil, fmt.Errorf("Fn::GetAtt %v", arg)
					}
					return s.getAtt(fmt.Sprint(a[0]), fmt.Sprint(a[1]))
				case "Fn::Join":
					a, _ := arg.([]any)
					if len(a) != 2 {
						return nil, fmt.Errorf("Fn::Join %v", arg)
					}
					parts, err := s.resolve(a[1])
					if err != nil {
						return nil, err
					}
					var strs []string
					for _, p := range parts.([]any) {
						strs = append(strs, fmt.Sprint(p))
					}
					return strings.Join(strs, fmt.Sprint(a[0])), nil
				case "Fn::Sub":
					text, ok := arg.(string)
					if !ok {
						return nil, fmt.Errorf("Fn::Sub with variables %v", arg)
					}
					var firstErr error
					out := subRe.ReplaceAllStringFunc(text, func(m string) string {
						name := m[2 : len(m)-1]
						var v string
						var err error
						if id, attr, ok := strings.Cut(name, "."); ok && !strings.HasPrefix(name, "AWS::") {
							v, err = s.getAtt(id, attr)
						} else {
							v, err = s.ref(name)
						}
						if err != nil && firstErr == nil {
							firstErr = err
						}
						return v
					})
					return out, firstErr
				case "Fn::GetAZs":
					return []any{motoRegion + "a", motoRegion + "b", motoRegion + "c"}, nil
				case "Fn::Select":
					a, _ := arg.([]any)
					if len(a) != 2 {
						return nil, fmt.Errorf("Fn::Select %v", arg)
					}
					list, err := s.resolve(a[1])
					if err != nil {
						return nil, err
					}
					i, _ := strconv.Atoi(fmt.Sprint(a[0]))
					l, _ := list.([]any)
					if i < 0 || i >= len(l) {
						return nil, fmt.Errorf("Fn::Select %d of %v", i, l)
					}
					return l[i], nil
				}
			}
		}
		out := make(map[string]any, len(x))
		for k, e := range x {
			r, err := s.resolve(e)
			if err != nil {
				return nil, err
			}
			out[k] = r
		}
		return out, nil
	}
	return v, nil
}

func (s *motoStack) ref(name string) (string, error) {
	switch name {
	case "AWS::Region":
		return motoRegion, nil
	case "AWS::AccountId":
		return motoAccount, nil
	case "AWS::Partition":
		return "aws", nil
	case "AWS::URLSuffix":
		return "amazonaws.com", nil
	case "AWS::StackName":
		return deploy.DefaultStackName, nil
	}
	if v, ok := s.refs[name]; ok {
		return v, nil
	}
	return "", fmt.Errorf("Ref %s: the moto deployment did not create it (%s)", name, s.resources[name].Type)
}

func (s *motoStack) getAtt(id, attr string) (string, error) {
	if v, ok := s.atts[id+"."+attr]; ok {
		return v, nil
	}
	// Roles are not created (moto would not enforce them): their ARNs are
	// names only, as RegisterTaskDefinition needs.
	if s.resources[id].Type == "AWS::IAM::Role" && attr == "Arn" {
		return "arn:aws:iam::" + motoAccount + ":role/" + id, nil
	}
	return "", fmt.Errorf("Fn::GetAtt %s.%s: the moto deployment did not create it (%s)", id, attr, s.resources[id].Type)
}

// props resolves the properties of a resource, or only those named.
func (s *motoStack) props(id string, only ...string) map[string]any {
	s.t.Helper()
	props := s.resources[id].Properties
	if len(only) > 0 {
		props = map[string]any{}
		for _, k := range only {
			if v, ok := s.resources[id].Properties[k]; ok {
				props[k] = v
			}
		}
	}
	p, err := s.resolve(props)
	if err != nil {
		s.t.Fatalf("resource %s (%s): %v", id, s.resources[id].Type, err)
	}
	out, _ := p.(map[string]any)
	if out == nil {
		out = map[string]any{}
	}
	return out
}

// decode converts resolved properties (the template's names are the API's,
// in PascalCase) into an SDK input; the keys left out are not sent.
func (s *motoStack) decode(id string, props map[string]any, keys []string, into any) {
	s.t.Helper()
	sub := map[string]any{}
	for _, k := range keys {
		if v, ok := props[k]; ok {
			sub[k] = v
		}
	}
	b, _ := json.Marshal(sub)
	if err := json.Unmarshal(b, into); err != nil {
		s.t.Fatalf("resource %s: properties %s do not fit %T: %v", id, b, into, err)
	}
}

// cfnString is a resolved property as text: numbers (JSON's float64) in
// plain digits.
func cfnString(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	return fmt.Sprint(v)
}

// create makes, in dependency order, the resources of the types the
// functions use: network, cluster, log groups, the runs table, the results
// bus, queues, buckets, task definitions, and the schedule group and
// schedules (which the reconciler disables and enables); and resolves each
// function's environment. Rules are read by the test (rule), not created:
// their targets are Lambda functions moto cannot run.
func (s *motoStack) create() {
	t, m, ctx := s.t, s.m, context.Background()
	s.t.Helper()
	for _, id := range s.ofType("AWS::EC2::VPC") {
		p := s.props(id)
		vpc := m.ec2(t, "CreateVpc", map[string]string{"CidrBlock": cfnString(p["CidrBlock"])})
		// RunTask with awsvpc on Fargate answers 500 in moto unless the
		// VPC has DNS hostnames (so does the CDK's VPC).
		if p["EnableDnsHostnames"] == true {
			m.ec2(t, "ModifyVpcAttribute", map[string]string{"VpcId": vpc, "EnableDnsHostnames.Value": "true"})
		}
		s.refs[id], s.atts[id+".VpcId"] = vpc, vpc
		s.created["AWS::EC2::VPC"]++
	}
	for _, id := range s.ofType("AWS::EC2::Subnet") {
		p := s.props(id)
		subnet := m.ec2(t, "CreateSubnet", map[string]string{"VpcId": cfnString(p["VpcId"]), "CidrBlock": cfnString(p["CidrBlock"]),
			"AvailabilityZone": cfnString(p["AvailabilityZone"])})
		s.refs[id], s.atts[id+".SubnetId"] = subnet, subnet
		s.created["AWS::EC2::Subnet"]++
	}
	for _, id := range s.ofType("AWS::EC2::SecurityGroup") {
		p := s.props(id)
		// CloudFormation names a group from its stack and logical id.
		sg := m.ec2(t, "CreateSecurityGroup", map[string]string{"GroupName": deploy.DefaultStackName + "-" + id,
			"GroupDescription": cfnString(p["GroupDescription"]), "VpcId": cfnString(p["VpcId"])})
		s.refs[id], s.atts[id+".GroupId"] = sg, sg
		s.created["AWS::EC2::SecurityGroup"]++
	}
	for _, id := range s.ofType("AWS::ECS::Cluster") {
		p := s.props(id)
		out, err := m.ecs.CreateCluster(ctx, &awsecs.CreateClusterInput{ClusterName: aws.String(cfnString(p["ClusterName"]))})
		if err != nil {
			t.Fatalf("CreateCluster: %v", err)
		}
		s.refs[id], s.atts[id+".Arn"] = aws.ToString(out.Cluster.ClusterName), aws.ToString(out.Cluster.ClusterArn)
		s.created["AWS::ECS::Cluster"]++
	}
	for _, id := range s.ofType("AWS::Logs::LogGroup") {
		p := s.props(id)
		name := cfnString(p["LogGroupName"])
		if _, err := m.logs.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(name)}); err != nil {
			t.Fatalf("CreateLogGroup %s: %v", name, err)
		}
		s.refs[id], s.atts[id+".Arn"] = name, "arn:aws:logs:"+motoRegion+":"+motoAccount+":log-group:"+name+":*"
		s.created["AWS::Logs::LogGroup"]++
	}
	for _, id := range s.ofType("AWS::DynamoDB::Table") {
		p := s.props(id)
		var in dynamodb.CreateTableInput
		s.decode(id, p, []string{"AttributeDefinitions", "KeySchema", "GlobalSecondaryIndexes", "LocalSecondaryIndexes", "BillingMode"}, &in)
		name := cfnString(p["TableName"])
		if name == "" {
			name = deploy.DefaultStackName + "-" + id
		}
		in.TableName = aws.String(name)
		out, err := m.db.CreateTable(ctx, &in)
		if err != nil {
			t.Fatalf("CreateTable %s: %v", name, err)
		}
		if ttl, ok := p["TimeToLiveSpecification"].(map[string]any); ok && ttl["Enabled"] == true {
			if _, err := m.db.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{TableName: aws.String(name),
				TimeToLiveSpecification: &dynamotypes.TimeToLiveSpecification{AttributeName: aws.String(cfnString(ttl["AttributeName"])), Enabled: aws.Bool(true)}}); err != nil {
				t.Fatalf("UpdateTimeToLive %s: %v", name, err)
			}
		}
		s.refs[id], s.atts[id+".Arn"] = name, aws.ToString(out.TableDescription.TableArn)
		s.created["AWS::DynamoDB::Table"]++
	}
	for _, id := range s.ofType("AWS::Events::EventBus") {
		p := s.props(id)
		out, err := m.events.CreateEventBus(ctx, &eventbridge.CreateEventBusInput{Name: aws.String(cfnString(p["Name"]))})
		if err != nil {
			t.Fatalf("CreateEventBus: %v", err)
		}
		s.refs[id], s.atts[id+".Name"], s.atts[id+".Arn"] = cfnString(p["Name"]), cfnString(p["Name"]), aws.ToString(out.EventBusArn)
		s.created["AWS::Events::EventBus"]++
	}
	// Dead-letter queues first: the others name them in their RedrivePolicy.
	queues := s.ofType("AWS::SQS::Queue")
	sort.SliceStable(queues, func(i, j int) bool {
		_, ri := s.resources[queues[i]].Properties["RedrivePolicy"]
		_, rj := s.resources[queues[j]].Properties["RedrivePolicy"]
		return !ri && rj
	})
	for _, id := range queues {
		p := s.props(id)
		name := cfnString(p["QueueName"])
		if name == "" {
			name = deploy.DefaultStackName + "-" + id
		}
		attrs := map[string]string{}
		for _, k := range []string{"VisibilityTimeout", "MessageRetentionPeriod"} {
			if v, ok := p[k]; ok {
				attrs[k] = cfnString(v)
			}
		}
		if rp, ok := p["RedrivePolicy"]; ok {
			b, _ := json.Marshal(rp)
			attrs["RedrivePolicy"] = string(b)
		}
		url, arn := m.queue(t, name, attrs)
		s.refs[id], s.atts[id+".Arn"], s.atts[id+".QueueName"], s.atts[id+".QueueUrl"] = url, arn, name, url
		s.created["AWS::SQS::Queue"]++
	}
	for _, id := range s.ofType("AWS::S3::Bucket") {
		p := s.props(id)
		name := cfnString(p["BucketName"])
		if name == "" {
			// CloudFormation's generated names are lower case, unique.
			name = strings.ToLower(deploy.DefaultStackName + "-" + id + "-" + motoAccount)
		}
		if _, err := m.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
			t.Fatalf("CreateBucket %s: %v", name, err)
		}
		s.refs[id], s.atts[id+".Arn"] = name, "arn:aws:s3:::"+name
		s.created["AWS::S3::Bucket"]++
	}
	for _, id := range s.ofType("AWS::ECS::TaskDefinition") {
		p := s.props(id)
		var in awsecs.RegisterTaskDefinitionInput
		s.decode(id, p, []string{"Family", "ContainerDefinitions", "Cpu", "Memory", "NetworkMode", "RequiresCompatibilities",
			"RuntimePlatform", "ExecutionRoleArn", "TaskRoleArn", "EphemeralStorage", "Tags"}, &in)
		// moto sums the containers' own memory to place a task, and fails
		// (500) when a container has none; Fargate reads the task's.
		for i := range in.ContainerDefinitions {
			if in.ContainerDefinitions[i].Memory == nil && in.Memory != nil {
				mem, _ := strconv.Atoi(*in.Memory)
				in.ContainerDefinitions[i].Memory = aws.Int32(int32(mem))
			}
		}
		out, err := m.ecs.RegisterTaskDefinition(ctx, &in)
		if err != nil {
			t.Fatalf("RegisterTaskDefinition %s: %v", aws.ToString(in.Family), err)
		}
		s.refs[id] = aws.ToString(out.TaskDefinition.TaskDefinitionArn)
		s.created["AWS::ECS::TaskDefinition"]++
	}
	for _, id := range s.ofType("AWS::Lambda::Function") {
		// Only the name and environment: the code, layers and role are not made.
		p := s.props(id, "FunctionName", "Environment")
		name := cfnString(p["FunctionName"])
		s.refs[id], s.atts[id+".Arn"] = name, "arn:aws:lambda:"+motoRegion+":"+motoAccount+":function:"+name
		env := map[string]string{}
		if vars, ok := deepGet(p, "Environment", "Variables").(map[string]any); ok {
			for k, v := range vars {
				env[k] = cfnString(v)
			}
		}
		s.functionEnv[name] = env
	}
	for _, id := range s.ofType("AWS::Scheduler::ScheduleGroup") {
		p := s.props(id)
		name := cfnString(p["Name"])
		out, err := m.sched.CreateScheduleGroup(ctx, &scheduler.CreateScheduleGroupInput{Name: aws.String(name)})
		if err != nil {
			t.Fatalf("CreateScheduleGroup %s: %v", name, err)
		}
		s.refs[id], s.atts[id+".Arn"] = name, aws.ToString(out.ScheduleGroupArn)
		s.created["AWS::Scheduler::ScheduleGroup"]++
	}
	// Schedules after the functions and queues: their targets are the
	// launcher, their dead letters go to a queue. Every property is sent
	// (the reconciler's switch must write them all back as they are); one
	// this does not know fails the test rather than go missing.
	scheduleKeys := []string{"Name", "GroupName", "Description", "ScheduleExpression", "ScheduleExpressionTimezone",
		"FlexibleTimeWindow", "State", "Target", "StartDate", "EndDate", "KmsKeyArn"}
	for _, id := range s.ofType("AWS::Scheduler::Schedule") {
		for k := range s.resources[id].Properties {
			if !slices.Contains(scheduleKeys, k) {
				t.Fatalf("schedule %s has a property %s the moto deployment does not create", id, k)
			}
		}
		p := s.props(id)
		var in scheduler.CreateScheduleInput
		s.decode(id, p, scheduleKeys, &in)
		out, err := m.sched.CreateSchedule(ctx, &in)
		if err != nil {
			t.Fatalf("CreateSchedule %s: %v", aws.ToString(in.Name), err)
		}
		s.refs[id], s.atts[id+".Arn"] = aws.ToString(in.Name), aws.ToString(out.ScheduleArn)
		s.created["AWS::Scheduler::Schedule"]++
	}
	var skipped []string
	for _, id := range slices.Sorted(maps.Keys(s.resources)) {
		typ := s.resources[id].Type
		if _, ok := s.created[typ]; !ok && !slices.Contains(skipped, typ) {
			skipped = append(skipped, typ)
		}
	}
	slices.Sort(skipped)
	t.Logf("created in moto from the template: %v; not created (moto is not needed for them, or they target Lambda): %s",
		s.created, strings.Join(skipped, ", "))
}

func deepGet(v any, path ...string) any {
	for _, p := range path {
		m, _ := v.(map[string]any)
		v = m[p]
	}
	return v
}

// rule returns the resolved EventPattern and bus ("" for the default bus)
// of the template's one rule whose pattern's source is source.
func (s *motoStack) rule(source string) (pattern map[string]any, bus string) {
	s.t.Helper()
	var found []string
	for _, id := range s.ofType("AWS::Events::Rule") {
		src, _ := deepGet(s.resources[id].Properties, "EventPattern", "source").([]any)
		if slices.Contains(src, any(source)) {
			found = append(found, id)
		}
	}
	if len(found) != 1 {
		s.t.Fatalf("rules of source %s in the template: %v, want one", source, found)
	}
	p := s.props(found[0])
	pattern, _ = p["EventPattern"].(map[string]any)
	return pattern, cfnString(p["EventBusName"])
}

// queue creates an SQS queue with attributes and returns its URL and ARN.
func (m *motoClients) queue(t *testing.T, name string, attrs map[string]string) (string, string) {
	t.Helper()
	ctx := context.Background()
	out, err := m.sqs.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: attrs})
	if err != nil {
		t.Fatalf("CreateQueue %s: %v", name, err)
	}
	got, err := m.sqs.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: out.QueueUrl,
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	if err != nil {
		t.Fatalf("GetQueueAttributes %s: %v", name, err)
	}
	return aws.ToString(out.QueueUrl), got.Attributes[string(sqstypes.QueueAttributeNameQueueArn)]
}

// ruleToQueue puts a rule with pattern on bus ("" for the default bus)
// whose target is the queue at arn.
func (m *motoClients) ruleToQueue(t *testing.T, name, bus string, pattern map[string]any, arn string) {
	t.Helper()
	ctx := context.Background()
	p, _ := json.Marshal(pattern)
	in := &eventbridge.PutRuleInput{Name: aws.String(name), EventPattern: aws.String(string(p))}
	if bus != "" {
		in.EventBusName = aws.String(bus)
	}
	if _, err := m.events.PutRule(ctx, in); err != nil {
		t.Fatalf("PutRule %s: %v", name, err)
	}
	targets := &eventbridge.PutTargetsInput{Rule: aws.String(name), Targets: []ebtypes.Target{{Id: aws.String("queue"), Arn: aws.String(arn)}}}
	if bus != "" {
		targets.EventBusName = aws.String(bus)
	}
	if _, err := m.events.PutTargets(ctx, targets); err != nil {
		t.Fatalf("PutTargets %s: %v", name, err)
	}
}

// messages is what arrived on a queue, kept across receives.
type messages struct {
	m    *motoClients
	url  string
	mu   sync.Mutex
	seen []string
}

// find returns the first message seen on the queue that matches, waiting
// for it (long polls) up to 15 seconds.
func (q *messages) find(t *testing.T, what string, match func(body string) bool) string {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for wait := int32(0); ; wait = 1 {
		for _, b := range q.receive(t, wait) {
			if match(b) {
				return b
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s arrived on %s within 15s", what, q.url)
		}
	}
}

// receive takes every message waiting on the queue (deleting them), the
// first receive waiting up to wait seconds for one, and returns all bodies
// seen so far.
func (q *messages) receive(t *testing.T, wait int32) []string {
	t.Helper()
	ctx := context.Background()
	q.mu.Lock()
	defer q.mu.Unlock()
	for {
		out, err := q.m.sqs.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(q.url), MaxNumberOfMessages: 10,
			WaitTimeSeconds: wait})
		wait = 0
		if err != nil {
			t.Fatalf("ReceiveMessage %s: %v", q.url, err)
		}
		if len(out.Messages) == 0 {
			return slices.Clone(q.seen)
		}
		for _, msg := range out.Messages {
			q.seen = append(q.seen, aws.ToString(msg.Body))
			if _, err := q.m.sqs.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(q.url), ReceiptHandle: msg.ReceiptHandle}); err != nil {
				t.Fatalf("DeleteMessage: %v", err)
			}
		}
	}
}

// lambdaEndpoint serves Lambda's Invoke
// (POST /2015-03-31/functions/{name}/invocations) for the CLI, by handing
// each payload to the real function binary of that name under its fake
// Runtime API, one invocation at a time per function, as one warm Lambda
// instance would. moto's Lambda could not run these binaries.
type lambdaEndpoint struct {
	url string
	mu  sync.Mutex
	fns map[string]*function // by function name (deploy.FunctionName)
	// invoked lists the functions invoked, in order.
	invoked []string
}

func newLambdaEndpoint(t *testing.T, fns map[string]*function) *lambdaEndpoint {
	e := &lambdaEndpoint{fns: maps.Clone(fns)}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /2015-03-31/functions/{name}/invocations", e.invoke)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	e.url = srv.URL
	return e
}

func (e *lambdaEndpoint) invoke(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	// A full or partial ARN names the function after "function:"; a
	// qualifier may follow.
	if i := strings.LastIndex(name, "function:"); i >= 0 {
		name = name[i+len("function:"):]
	}
	name, _, _ = strings.Cut(name, ":")
	e.mu.Lock()
	f, ok := e.fns[name]
	e.mu.Unlock()
	if !ok {
		w.Header().Set("X-Amzn-Errortype", "ResourceNotFoundException")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprintf(w, `{"Type":"User","Message":"Function not found: arn:aws:lambda:%s:%s:function:%s"}`, motoRegion, motoAccount, name)
		return
	}
	if it := r.Header.Get("X-Amz-Invocation-Type"); it != "" && it != "RequestResponse" {
		http.Error(w, "only RequestResponse invokes are served here", http.StatusBadRequest)
		return
	}
	e.mu.Lock()
	e.invoked = append(e.invoked, name)
	e.mu.Unlock()
	payload, _ := io.ReadAll(r.Body)
	res, err := f.call(payload)
	if err != nil {
		w.Header().Set("X-Amzn-Errortype", "ServiceException")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusInternalServerError)
		json.NewEncoder(w).Encode(map[string]string{"Message": err.Error()})
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amz-Executed-Version", "$LATEST")
	if res.failed {
		w.Header().Set("X-Amz-Function-Error", "Unhandled")
	}
	w.WriteHeader(http.StatusOK)
	w.Write(res.body)
}

// route hands the invokes of a function to another instance of it (as
// Lambda may serve an invoke from any of a function's instances) until the
// test ends.
func (e *lambdaEndpoint) route(t *testing.T, name string, f *function) {
	t.Helper()
	e.mu.Lock()
	was, ok := e.fns[name]
	e.fns[name] = f
	e.mu.Unlock()
	if !ok {
		t.Fatalf("no function %s behind the Lambda endpoint", name)
	}
	t.Cleanup(func() {
		e.mu.Lock()
		e.fns[name] = was
		e.mu.Unlock()
	})
}

// calls returns how often each function was invoked so far.
func (e *lambdaEndpoint) calls() map[string]int {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := map[string]int{}
	for _, n := range e.invoked {
		out[n]++
	}
	return out
}

// call gives the function one event and waits for its answer, as invoke
// does, but returns an error instead of failing the test: it runs on the
// Lambda endpoint's goroutines.
func (f *function) call(payload []byte) (invokeResult, error) {
	f.runtime.mu.Lock()
	f.runtime.n++
	id := fmt.Sprintf("req-%s-%d", f.name, f.runtime.n)
	f.runtime.mu.Unlock()
	inv := &invocation{id: id, payload: payload, deadline: time.Now().Add(30 * time.Second), result: make(chan invokeResult, 1)}
	timeout := time.After(60 * time.Second)
	select {
	case f.runtime.pending <- inv:
	case <-f.exited:
		return invokeResult{}, fmt.Errorf("%s has exited", f.name)
	case <-timeout:
		return invokeResult{}, fmt.Errorf("%s took no invocation within a minute", f.name)
	}
	select {
	case res := <-inv.result:
		return res, nil
	case <-f.exited:
		return invokeResult{}, fmt.Errorf("%s exited during invocation %s", f.name, id)
	case <-timeout:
		return invokeResult{}, fmt.Errorf("%s did not answer invocation %s within a minute", f.name, id)
	}
}

// taskSim is what the test makes happen to a task beyond what moto
// tracks: moto's DescribeTasks has no version, no start or stop times and
// no stop code, and gives every container exit code 0 from the start.
type taskSim struct {
	version   int64
	startedAt time.Time
	stopCode  string
	// exitCode of the essential container once stopped (nil: never ran).
	exitCode *int
}

// taskEvent is the ECS Task State Change event of a task as moto
// describes it now, with what moto does not track from sim. Its envelope
// is EventBridge's (source aws.ecs, detail-type ECS Task State Change),
// the detail as ECS writes it (internal/aws/ecs's types, checked against
// AWS's sample events in its tests).
func taskEvent(task ecstypes.Task, sim taskSim) ecs.TaskStateChange {
	d := ecs.TaskDetail{
		ClusterARN:        aws.ToString(task.ClusterArn),
		TaskARN:           aws.ToString(task.TaskArn),
		TaskDefinitionARN: aws.ToString(task.TaskDefinitionArn),
		LastStatus:        aws.ToString(task.LastStatus),
		DesiredStatus:     aws.ToString(task.DesiredStatus),
		StartedBy:         aws.ToString(task.StartedBy),
		Group:             aws.ToString(task.Group),
		LaunchType:        string(task.LaunchType),
		StoppedReason:     aws.ToString(task.StoppedReason),
		Version:           sim.version,
		CPU:               aws.ToString(task.Cpu),
		Memory:            aws.ToString(task.Memory),
	}
	for _, a := range task.Attachments {
		att := ecs.Attachment{ID: aws.ToString(a.Id), Type: aws.ToString(a.Type), Status: aws.ToString(a.Status)}
		for _, kv := range a.Details {
			att.Details = append(att.Details, ecs.KeyValuePair{Name: aws.ToString(kv.Name), Value: aws.ToString(kv.Value)})
		}
		d.Attachments = append(d.Attachments, att)
	}
	if task.Overrides != nil {
		o := &ecs.TaskOverride{}
		for _, co := range task.Overrides.ContainerOverrides {
			c := ecs.ContainerOverride{Name: aws.ToString(co.Name), Command: co.Command}
			for _, kv := range co.Environment {
				c.Environment = append(c.Environment, ecs.KeyValuePair{Name: aws.ToString(kv.Name), Value: aws.ToString(kv.Value)})
			}
			o.ContainerOverrides = append(o.ContainerOverrides, c)
		}
		d.Overrides = o
	}
	stopped := d.LastStatus == "STOPPED"
	if !sim.startedAt.IsZero() {
		started := sim.startedAt.UTC()
		pulled := started.Add(-time.Second)
		d.PullStartedAt, d.PullStoppedAt, d.StartedAt = &pulled, &pulled, &started
	}
	if stopped {
		now := time.Now().UTC()
		d.StopCode, d.StoppingAt, d.StoppedAt, d.ExecutionStoppedAt = sim.stopCode, &now, &now, &now
	}
	for _, c := range task.Containers {
		cd := ecs.ContainerDetail{ContainerARN: aws.ToString(c.ContainerArn), Name: aws.ToString(c.Name), Image: aws.ToString(c.Image),
			TaskARN: d.TaskARN, LastStatus: d.LastStatus}
		if stopped && aws.ToString(c.Name) == deploy.EssentialContainer && sim.exitCode != nil {
			code := *sim.exitCode
			cd.ExitCode = &code
		}
		d.Containers = append(d.Containers, cd)
	}
	return ecs.TaskStateChange{
		Version: "0", ID: fmt.Sprintf("moto-%s-%d", ecs.TaskID(d.TaskARN), sim.version), DetailType: ecs.TaskStateChangeType,
		Source: ecs.EventSource, Account: motoAccount, Time: time.Now().UTC().Truncate(time.Second), Region: motoRegion,
		Resources: []string{d.TaskARN}, Detail: d,
	}
}

// lineReader hands out the lines a process writes, with a deadline.
type lineReader struct {
	lines chan string
}

func newLineReader(r io.Reader) *lineReader {
	l := &lineReader{lines: make(chan string, 256)}
	go func() {
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			l.lines <- sc.Text()
		}
		close(l.lines)
	}()
	return l
}

func (l *lineReader) next(within time.Duration) (string, error) {
	select {
	case line, ok := <-l.lines:
		if !ok {
			return "", errors.New("the output ended")
		}
		return line, nil
	case <-time.After(within):
		return "", fmt.Errorf("no line within %s", within)
	}
}

// runsStore reads the runs table in moto as the functions do.
func runsStore(m *motoClients, table string) *dynamo.Store {
	return dynamo.New(m.db, dynamo.Options{Table: table})
}
