package construct_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/longshore/longshore/internal/deploy"
)

// emptyFunctions is a functions folder of empty bootstraps: the template
// names the code by its hash, which synthesis alone does not run.
func emptyFunctions(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, fn := range []string{"launcher", "tracker", "reconciler", "api"} {
		if err := os.MkdirAll(filepath.Join(dir, fn), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, fn, "bootstrap"), nil, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestATeamsOwnCDKAppAddsLongshoreBesideItsResources(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs a CDK app")
	}
	jobs, err := filepath.Abs(filepath.Join("..", "jobs"))
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	// The app is a module of its own that requires this one (replace
	// ../../..), as a team's repository would.
	cmd := exec.Command("go", "run", ".")
	cmd.Dir = filepath.Join("testdata", "teamapp")
	cmd.Env = append(os.Environ(), "CDK_OUTDIR="+out, "TEAM_JOBS="+jobs, "TEAM_FUNCTIONS="+emptyFunctions(t),
		"JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20", "JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION=1")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go run the team's app: %v\n%s", err, b)
	}

	b, err := os.ReadFile(filepath.Join(out, "TeamStack.template.json"))
	if err != nil {
		t.Fatalf("the team's stack: %v", err)
	}
	var tmpl struct {
		Resources map[string]struct {
			Type       string
			Properties map[string]any
		}
	}
	if err := json.Unmarshal(b, &tmpl); err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	params := map[string]string{}
	for _, r := range tmpl.Resources {
		count[r.Type]++
		if r.Type == "AWS::SSM::Parameter" {
			v, _ := json.Marshal(r.Properties["Value"])
			params[r.Properties["Name"].(string)] = string(v)
		}
	}
	want := map[string]int{"AWS::SSM::Parameter": 2, "AWS::Lambda::Function": 4, "AWS::Lambda::LayerVersion": 1,
		"AWS::ECS::TaskDefinition": 5, "AWS::ECS::Cluster": 1, "AWS::DynamoDB::Table": 1}
	for typ, n := range want {
		if count[typ] != n {
			t.Errorf("%d %s in the team's stack, want %d", count[typ], typ, n)
		}
	}
	// The team's parameters refer to Longshore's resources.
	if !strings.Contains(params["/team/longshore/launcher"], "Ref") || !strings.Contains(params["/team/longshore/runs-table"], "Ref") {
		t.Errorf("the team's parameters = %v, want references to the launcher and the table", params)
	}

	// cdk-nag: nothing found, nothing left unsuppressed.
	errs, warns, err := deploy.AssemblyMessages(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range errs {
		t.Errorf("error: %s", m)
	}
	for _, m := range warns {
		if strings.Contains(m, "AwsSolutions") {
			t.Errorf("warning: %s", m)
		}
	}
	if _, err := os.Stat(filepath.Join(out, "AwsSolutions--TeamStack-NagReport.csv")); err != nil {
		t.Errorf("cdk-nag did not run on the team's stack: %v", err)
	}
}
