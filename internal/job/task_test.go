package job_test

import (
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/longshore/longshore/internal/job"
)

// full sets every task setting; TestAFullJobIsReadAsWritten checks each.
const full = `image: {uri: busybox:1.36}
architecture: arm64
storage: 50
permissions:
  - actions: [s3:GetObject, s3:List*]
    resources: ['arn:aws:s3:::reports', 'arn:aws:s3:::reports/*']
  - actions: [dynamodb:*]
    resources: ['arn:aws:dynamodb:eu-west-1:111122223333:table/usage']
managedPolicies:
  - arn:aws:iam::aws:policy/AmazonSSMReadOnlyAccess
  - arn:aws:iam::111122223333:policy/team/reporting
network:
  subnets: [subnet-0123456789abcdef0, subnet-89abcdef]
  securityGroups: [sg-0123456789abcdef0]
  assignPublicIp: false
tags:
  team: data
  cost-center: "4711"
  owner: Zoë Müller
`

func TestAFullJobIsReadAsWritten(t *testing.T) {
	s, err := job.Parse([]byte(full), "report", "jobs/report/job.yaml")
	if err != nil {
		t.Fatal(err)
	}
	no := false
	want := struct {
		Architecture    job.Architecture
		Storage         int
		Permissions     []job.Permission
		ManagedPolicies []string
		TaskRole        string
		Network         job.Network
		Tags            map[string]string
	}{
		job.ArchitectureARM64, 50,
		[]job.Permission{
			{Actions: []string{"s3:GetObject", "s3:List*"}, Resources: []string{"arn:aws:s3:::reports", "arn:aws:s3:::reports/*"}},
			{Actions: []string{"dynamodb:*"}, Resources: []string{"arn:aws:dynamodb:eu-west-1:111122223333:table/usage"}},
		},
		[]string{"arn:aws:iam::aws:policy/AmazonSSMReadOnlyAccess", "arn:aws:iam::111122223333:policy/team/reporting"},
		"",
		job.Network{Subnets: []string{"subnet-0123456789abcdef0", "subnet-89abcdef"}, SecurityGroups: []string{"sg-0123456789abcdef0"}, AssignPublicIP: &no},
		map[string]string{"team": "data", "cost-center": "4711", "owner": "Zoë Müller"},
	}
	got := want
	got.Architecture, got.Storage, got.Permissions, got.ManagedPolicies = s.Architecture, s.Storage, s.Permissions, s.ManagedPolicies
	got.TaskRole, got.Network, got.Tags = s.TaskRole, s.Network, s.Tags
	if !reflect.DeepEqual(got, want) {
		t.Errorf("read\n%+v\nwant\n%+v", got, want)
	}
	if s.Network.IsZero() {
		t.Error("Network.IsZero() = true for a network with subnets")
	}

	// Written back as YAML, the spec reads as the same spec.
	out, err := yaml.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	again, err := job.Parse(out, "report", "jobs/report/job.yaml")
	if err != nil {
		t.Fatalf("the spec written back does not load: %v\n%s", err, out)
	}
	if !reflect.DeepEqual(again, s) {
		t.Errorf("written back and read again:\n%+v\nwant\n%+v", again, s)
	}
}

func TestATaskRoleIsReadAsWritten(t *testing.T) {
	s, err := job.Parse([]byte(minimal+"taskRole: arn:aws:iam::111122223333:role/service-role/report\nnetwork: {assignPublicIp: true}\n"), "a", "jobs/a/job.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if s.TaskRole != "arn:aws:iam::111122223333:role/service-role/report" || s.Network.AssignPublicIP == nil || !*s.Network.AssignPublicIP || s.Network.IsZero() {
		t.Errorf("taskRole %q network %+v", s.TaskRole, s.Network)
	}
}

func TestTaskSettingsAtTheEdgesOfWhatIsAllowedPass(t *testing.T) {
	tests := []struct {
		name string
		yaml string
	}{
		{"arm64 on on-demand capacity", "architecture: arm64\ncapacity: on-demand\n"},
		{"x86_64 on Spot", "architecture: x86_64\ncapacity: spot\n"},
		{"the smallest storage Fargate sets", "storage: 21\n"},
		{"the largest storage Fargate sets", "storage: 200\n"},
		{"actions with wildcards", "permissions: [{actions: ['s3:Get*', 's3:Get?bject', 'dynamodb:*', 'execute-api:Invoke'], resources: ['arn:aws:s3:::b/*']}]\n"},
		{"resources in every partition with wildcards for region and account",
			"permissions: [{actions: [s3:GetObject], resources: ['arn:aws-cn:s3:::b', 'arn:aws-us-gov:sqs:*:*:q', 'arn:aws:sqs:eu-west-1:111122223333:q', 'arn:aws:logs:*:111122223333:log-group:/app:*']}]\n"},
		{"as many statements as allowed", "permissions:\n" + strings.Repeat("  - {actions: [s3:GetObject], resources: ['arn:aws:s3:::b/*']}\n", job.MaxPermissions)},
		{"as many managed policies as IAM attaches, with paths", "managedPolicies:\n" + policies(job.MaxManagedPolicies-1) + "  - arn:aws:iam::aws:policy/service-role/AWSLambdaRole\n"},
		{"a task role alone, with a path", "taskRole: arn:aws-us-gov:iam::111122223333:role/jobs/report\n"},
		{"as many subnets as a task takes", "network: {subnets: [" + ids("subnet", job.MaxSubnets) + "]}\n"},
		{"as many security groups as a task takes, without subnets", "network: {securityGroups: [" + ids("sg", job.MaxSecurityGroups) + "]}\n"},
		{"a public IP alone", "network: {assignPublicIp: false}\n"},
		{"as many tags as allowed", "tags:\n" + tags(job.MaxUserTags)},
		{"tags with letters of any script, spaces, the allowed signs and an empty value",
			"tags: {'Kostenstelle Ä': 'München 1', 'a_b.c:d/e=f+g-h@i': 'x y', empty: '', 'k': " + strings.Repeat("v", job.MaxTagValueLength) + "}\n"},
		{"a tag key as long as allowed", "tags: {" + strings.Repeat("k", job.MaxTagKeyLength) + ": v}\n"},
		{"a tag key that only contains aws", "tags: {laws: x, awsome: y}\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, problems := load(t, map[string]string{"a/job.yaml": minimal + tt.yaml}); problems != nil {
				t.Errorf("problems:\n%s", strings.Join(problems, "\n"))
			}
		})
	}
}

func TestAStorageOfFargatesDefaultIsNoSetting(t *testing.T) {
	for _, yaml := range []string{"storage: 20\n", "storage:\n", ""} {
		s, err := job.Parse([]byte(minimal+yaml), "a", "jobs/a/job.yaml")
		if err != nil || s.Storage != 0 {
			t.Errorf("%q: storage %v, %v; want 0 (unset)", yaml, s, err)
		}
	}
}

func TestAOneTimeScheduleInThePastIsAProblemWhenTheTimeIsKnown(t *testing.T) {
	now := time.Date(2026, 11, 23, 19, 0, 0, 0, time.UTC)
	tests := []struct {
		name     string
		schedule string
		zone     string
		now      func() time.Time
		want     string
	}{
		{"a day ago in UTC", "at(2026-11-22T19:00:00)", "", func() time.Time { return now },
			`jobs/a/job.yaml: triggers[0].schedule: at(2026-11-22T19:00:00) is in the past (now is 2026-11-23T19:00:00 UTC): it would never fire; remove the trigger or give a later time`},
		{"exactly now", "at(2026-11-23T19:00:00)", "", func() time.Time { return now },
			`jobs/a/job.yaml: triggers[0].schedule: at(2026-11-23T19:00:00) is in the past (now is 2026-11-23T19:00:00 UTC): it would never fire; remove the trigger or give a later time`},
		{"later today in UTC but past in Berlin, read in Berlin", "at(2026-11-23T19:30:00)", "Europe/Berlin", func() time.Time { return now },
			`jobs/a/job.yaml: triggers[0].schedule: at(2026-11-23T19:30:00) is in the past (now is 2026-11-23T20:00:00 Europe/Berlin): it would never fire; remove the trigger or give a later time`},
		{"later today in UTC", "at(2026-11-23T19:30:00)", "", func() time.Time { return now }, ""},
		{"earlier today in UTC but still ahead in New York", "at(2026-11-23T18:00:00)", "America/New_York", func() time.Time { return now }, ""},
		{"long past, when the loader is not told the time", "at(2020-01-01T00:00:00)", "", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			yaml := minimal + "triggers:\n  - schedule: " + tt.schedule + "\n"
			if tt.zone != "" {
				yaml += "    timezone: " + tt.zone + "\n"
			}
			_, err := job.Load(fstest.MapFS{"a/job.yaml": {Data: []byte(yaml)}}, "jobs", job.Options{Now: tt.now})
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tt.want {
				t.Errorf("problems:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
}

func TestAPermissionOnEveryResourceIsAWarning(t *testing.T) {
	const star = minimal + "permissions:\n  - actions: [s3:GetObject]\n    resources: ['*']\n  - actions: [sqs:SendMessage, sqs:GetQueueUrl]\n    resources: ['arn:aws:sqs:*:*:q', '*']\n"
	want := []string{
		`jobs/a/job.yaml: permissions[0].resources[0]: resource "*" grants s3:GetObject on every resource of the account: name the ARNs if you can`,
		`jobs/a/job.yaml: permissions[1].resources[1]: resource "*" grants sqs:SendMessage, sqs:GetQueueUrl on every resource of the account: name the ARNs if you can`,
	}
	cat, problems := load(t, map[string]string{"a/job.yaml": star, "b/job.yaml": minimal})
	if problems != nil {
		t.Fatalf("problems: %v", problems)
	}
	if got := lines(cat.Warnings()); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("warnings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// A catalog with problems still reports its warnings beside them.
	_, err := job.Load(fstest.MapFS{"a/job.yaml": {Data: []byte(star)}, "b/job.yaml": {Data: []byte("cpu: 1\n" + minimal)}}, "jobs", job.Options{})
	var pe *job.ProblemsError
	if !errors.As(err, &pe) || len(pe.Problems) != 1 || strings.Join(lines(pe.Warnings), "\n") != strings.Join(want, "\n") {
		t.Errorf("load = %v, warnings %v", err, pe)
	}
	if strings.Contains(err.Error(), "warning") || strings.Contains(err.Error(), `"*"`) {
		t.Errorf("the error shows the warnings: %v", err)
	}
}

func lines(ps []job.Problem) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.String())
	}
	return out
}

func TestArchitecturesNameThemselvesForECSAndImageBuilds(t *testing.T) {
	for _, tt := range []struct {
		a             job.Architecture
		ecs, platform string
	}{
		{job.ArchitectureX86_64, "X86_64", "linux/amd64"},
		{job.ArchitectureARM64, "ARM64", "linux/arm64"},
	} {
		if tt.a.ECS() != tt.ecs || tt.a.Platform() != tt.platform {
			t.Errorf("%s: ECS %q platform %q, want %q %q", tt.a, tt.a.ECS(), tt.a.Platform(), tt.ecs, tt.platform)
		}
	}
}

// The big example of docs/job-spec.md is a valid job, and sets every field.
func TestTheDocumentedExampleIsAValidJob(t *testing.T) {
	doc, err := os.ReadFile("../../docs/job-spec.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(doc), "```yaml\n")
	example, _, ok2 := strings.Cut(rest, "```")
	if !ok || !ok2 {
		t.Fatal("docs/job-spec.md has no ```yaml example")
	}
	s, err := job.Parse([]byte(example), "nightly-report", "docs/job-spec.md")
	if err != nil {
		t.Fatalf("the example does not load:\n%v", err)
	}
	var node yaml.Node
	if err := yaml.Unmarshal([]byte(example), &node); err != nil {
		t.Fatal(err)
	}
	written := map[string]bool{}
	for i := 0; i < len(node.Content[0].Content); i += 2 {
		written[node.Content[0].Content[i].Value] = true
	}
	st := reflect.TypeFor[job.Spec]()
	for i := range st.NumField() {
		name, _, _ := strings.Cut(st.Field(i).Tag.Get("yaml"), ",")
		if name != "-" && !written[name] && name != "taskRole" {
			t.Errorf("the example does not show %s", name)
		}
	}
	if s.Architecture != job.ArchitectureX86_64 || s.Storage == 0 || len(s.Permissions) == 0 || s.Network.IsZero() || len(s.Tags) == 0 {
		t.Errorf("example read as %+v", s)
	}
}
