package integration

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// release is the release `make dist` writes (make test builds it first):
// the command line, the CDK app and the functions.
func release(t *testing.T) string {
	t.Helper()
	dist, err := filepath.Abs(filepath.Join("..", "dist"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"longshore", "longshore-cdk", "lambda/launcher/bootstrap", "lambda/tracker/bootstrap",
		"lambda/reconciler/bootstrap", "lambda/api/bootstrap"} {
		if _, err := os.Stat(filepath.Join(dist, f)); err != nil {
			msg := fmt.Sprintf("no release in %s (%s missing): run make dist (make test does)", dist, f)
			if os.Getenv("LONGSHORE_REQUIRE_ALL") == "1" {
				t.Fatal(msg)
			}
			t.Skip(msg)
		}
	}
	return dist
}

// user is someone with the release and Node.js, and nothing else of
// Longshore's: no Go, no clone of its repository.
type user struct {
	t    *testing.T
	bin  string
	home string
	env  []string
}

func newUser(t *testing.T) *user {
	t.Helper()
	dist := release(t)
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("Node.js is needed: %v", err)
	}
	path := dist + string(os.PathListSeparator) + filepath.Dir(node) + string(os.PathListSeparator) + "/usr/bin:/bin"
	home := t.TempDir()
	u := &user{t: t, bin: filepath.Join(dist, "longshore"), home: home, env: []string{
		"PATH=" + path, "HOME=" + home, "XDG_CACHE_HOME=" + filepath.Join(home, ".cache"),
		"LONGSHORE_HOME=", "GOFLAGS=", "GOROOT=", "LONGSHORE_ENDPOINT=",
	}}
	// The user's PATH holds no Go.
	which := exec.Command("sh", "-c", "command -v go")
	which.Env = append(os.Environ(), u.env...)
	if out, err := which.Output(); err == nil {
		t.Fatalf("go is on the user's PATH (%s): %s", path, out)
	}
	return u
}

// run runs longshore in dir, a folder of the user's.
func (u *user) run(dir string, args ...string) result {
	u.t.Helper()
	return runBinary(u.t, u.bin, dir, u.env, args...)
}

// reportJob is a job a team adds: the fields real jobs need.
const reportJob = `description: Builds the report.
image: {uri: public.ecr.aws/docker/library/busybox:1.36}
command: [sh, -c, 'echo building; exit 7']
architecture: arm64
storage: 50
permissions:
  - {actions: [s3:GetObject, s3:PutObject], resources: ["arn:aws:s3:::reports/*"]}
  - {actions: [cloudwatch:PutMetricData], resources: ["*"]}
tags: {team: reporting, cost-center: "4711"}
local:
  command: [sh, -c, 'echo "building report $LONGSHORE_RUN_ID"; exit 7']
`

func TestANewUserInitsRunsAndSynthesizesTheirOwnCatalogWithOnlyTheRelease(t *testing.T) {
	u := newUser(t)

	// init makes a catalog with one example job, and refuses to do it twice.
	got := u.run(u.home, "init", "demo")
	demo := filepath.Join(u.home, "demo")
	if got.code != 0 || !strings.Contains(got.stdout, "cd demo && longshore local") || !strings.Contains(got.stdout, "longshore deploy") {
		t.Fatalf("init demo: %+v", got)
	}
	example, err := os.ReadFile(filepath.Join(demo, "jobs", "hello", "job.yaml"))
	if err != nil || !bytes.Contains(example, []byte("# ")) {
		t.Fatalf("init wrote no commented example job: %v %q", err, example)
	}
	if again := u.run(u.home, "init", "demo"); again.code != 1 || !strings.Contains(again.stderr, "already exists") {
		t.Errorf("init over an existing catalog: %+v", again)
	}
	if after, _ := os.ReadFile(filepath.Join(demo, "jobs", "hello", "job.yaml")); !bytes.Equal(after, example) {
		t.Errorf("a second init changed the example job")
	}

	// The team adds its job; validate passes and lists the wildcard.
	write(t, filepath.Join(demo, "jobs"), "report/job.yaml", reportJob)
	got = u.run(demo, "validate")
	if got.code != 0 || got.stdout != "jobs: 2 job(s) valid\n" ||
		!strings.Contains(got.stderr, `warning: jobs/report/job.yaml: permissions[1].resources[0]: resource "*"`) {
		t.Fatalf("validate: %+v", got)
	}

	// longshore local runs both jobs; run --wait returns each exit code.
	e := startEngineAs(t, u.bin, demo, u.env, "jobs", filepath.Join(u.home, "data"), "--runner", "process")
	for _, tc := range []struct {
		args []string
		code int
		says string
	}{
		{[]string{"run", "report", "--wait"}, 7, "building report r-"},
		{[]string{"run", "hello", "--wait", "--env", "EXIT_CODE=3"}, 3, "hello from hello"},
		{[]string{"run", "hello", "--wait"}, 0, "hello from hello"},
	} {
		got := u.run(demo, append(tc.args, "--endpoint", e.api)...)
		if got.code != tc.code || !strings.Contains(got.stdout, tc.says) {
			t.Errorf("%v: %+v; want exit %d saying %q", tc.args, got, tc.code, tc.says)
		}
	}
	e.stop(syscall.SIGINT)

	// synth writes the deployment of this catalog, offline.
	start := time.Now()
	got = u.run(demo, "synth", "--out", "out")
	if got.code != 0 {
		t.Fatalf("synth: %+v", got)
	}
	t.Logf("synth of a fresh folder took %s", time.Since(start).Round(100*time.Millisecond))
	tmpl := template(t, filepath.Join(demo, "out"))
	report := tmpl.taskDefinition(t, "longshore-report")
	if got := fmt.Sprint(report["RuntimePlatform"]); got != "map[CpuArchitecture:ARM64 OperatingSystemFamily:LINUX]" {
		t.Errorf("report's RuntimePlatform = %s", got)
	}
	if got := fmt.Sprint(report["EphemeralStorage"]); got != "map[SizeInGiB:50]" {
		t.Errorf("report's EphemeralStorage = %s", got)
	}
	tags := map[string]string{}
	for _, tag := range report["Tags"].([]any) {
		kv := tag.(map[string]any)
		tags[kv["Key"].(string)] = fmt.Sprint(kv["Value"])
	}
	if tags["team"] != "reporting" || tags["cost-center"] != "4711" {
		t.Errorf("report's tags = %v", tags)
	}
	role := report["TaskRoleArn"].(map[string]any)["Fn::GetAtt"].([]any)[0].(string)
	policies := tmpl.resources["AWS::IAM::Role"][role]["Policies"].([]any)
	if len(policies) != 1 {
		t.Fatalf("report's task role has %d inline policies, want the job's one: %v", len(policies), policies)
	}
	statements, _ := json.Marshal(policies[0].(map[string]any)["PolicyDocument"].(map[string]any)["Statement"])
	want := `[{"Action":["s3:GetObject","s3:PutObject"],"Effect":"Allow","Resource":"arn:aws:s3:::reports/*","Sid":"Job0"},` +
		`{"Action":"cloudwatch:PutMetricData","Effect":"Allow","Resource":"*","Sid":"Job1"}]`
	if string(statements) != want {
		t.Errorf("report's task role policy =\n%s\nwant exactly the declared statements\n%s", statements, want)
	}

	// deploy synthesizes, then hands the assembly to the CDK toolkit with
	// the options after --; a stand-in toolkit records what it was asked.
	toolkit := filepath.Join(u.home, "cdk")
	asked := filepath.Join(u.home, "cdk.args")
	if err := os.WriteFile(toolkit, []byte("#!/bin/sh\necho \"$@\" > "+asked+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	u.env = append(u.env, "LONGSHORE_CDK="+toolkit)
	if got := u.run(demo, "deploy", "--out", "out", "--", "--require-approval", "never"); got.code != 0 {
		t.Fatalf("deploy: %+v", got)
	}
	if b, _ := os.ReadFile(asked); string(b) != "deploy --app "+filepath.Join(demo, "out")+" --require-approval never\n" {
		t.Errorf("the toolkit was asked %q", b)
	}

	// A broken catalog is refused as validate refuses it, naming the file.
	write(t, filepath.Join(demo, "jobs"), "broken/job.yaml", "image: {uri: busybox}\narchitecture: arm64\ncapacity: spot\n")
	got = u.run(demo, "synth", "--out", "out")
	if got.code != 1 || !strings.Contains(got.stderr, "jobs/broken/job.yaml: ") || !strings.Contains(got.stderr, "x86_64 only") {
		t.Errorf("synth of a broken catalog: %+v", got)
	}

	// Another team's catalog gives the same function code, another catalog layer.
	other := filepath.Join(u.home, "other")
	write(t, filepath.Join(other, "jobs"), "nightly/job.yaml", "image: {uri: busybox:1.36}\ntriggers: [{schedule: 'cron(0 3 * * ? *)'}]\n")
	if got := u.run(other, "synth", "--out", "out", "-c", "prefix=other"); got.code != 0 {
		t.Fatalf("synth of another catalog: %+v", got)
	}
	second := template(t, filepath.Join(other, "out"))
	a, b := tmpl.functionCode(t), second.functionCode(t)
	if len(a) != 4 || !slicesEqual(a, b) {
		t.Errorf("function code of two catalogs differs:\n%v\n%v", a, b)
	}
	if tmpl.layerCode(t) == second.layerCode(t) {
		t.Errorf("two catalogs have the same catalog layer %s", tmpl.layerCode(t))
	}
}

func slicesEqual(a, b []string) bool { return slices.Equal(a, b) }

// synthesized is the template of a cloud assembly's one stack.
type synthesized struct {
	resources map[string]map[string]map[string]any // type -> logical id -> properties
}

func template(t *testing.T, out string) synthesized {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(out, "*.template.json"))
	if len(files) != 1 {
		t.Fatalf("templates in %s: %v, want one", out, files)
	}
	b, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	var tmpl struct {
		Resources map[string]struct {
			Type       string
			Properties map[string]any
		}
	}
	if err := json.Unmarshal(b, &tmpl); err != nil {
		t.Fatalf("read %s: %v", files[0], err)
	}
	s := synthesized{resources: map[string]map[string]map[string]any{}}
	for id, r := range tmpl.Resources {
		if s.resources[r.Type] == nil {
			s.resources[r.Type] = map[string]map[string]any{}
		}
		s.resources[r.Type][id] = r.Properties
	}
	return s
}

func (s synthesized) taskDefinition(t *testing.T, family string) map[string]any {
	t.Helper()
	for _, props := range s.resources["AWS::ECS::TaskDefinition"] {
		if props["Family"] == family {
			return props
		}
	}
	t.Fatalf("no task definition %s", family)
	return nil
}

// functionCode is each function's name and code asset (its S3 key, the
// hash of the code), sorted.
func (s synthesized) functionCode(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, props := range s.resources["AWS::Lambda::Function"] {
		name := strings.TrimPrefix(strings.TrimPrefix(fmt.Sprint(props["FunctionName"]), "longshore-"), "other-")
		out = append(out, name+" "+fmt.Sprint(props["Code"].(map[string]any)["S3Key"]))
	}
	slices.Sort(out)
	return out
}

// layerCode is the catalog layer's asset.
func (s synthesized) layerCode(t *testing.T) string {
	t.Helper()
	layers := s.resources["AWS::Lambda::LayerVersion"]
	if len(layers) != 1 {
		t.Fatalf("%d layers, want the catalog's", len(layers))
	}
	for _, props := range layers {
		return fmt.Sprint(props["Content"].(map[string]any)["S3Key"])
	}
	return ""
}
