package main

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/longshore/longshore/construct"
)

// taskDefinition returns the properties of the task definition of a family.
func (d *deployment) taskDefinition(t *testing.T, family string) map[string]any {
	t.Helper()
	for _, r := range d.resources("AWS::ECS::TaskDefinition") {
		props := r["Properties"].(map[string]any)
		if props["Family"] == family {
			return props
		}
	}
	t.Fatalf("no task definition %s", family)
	return nil
}

// jobTask returns the construct of one job of a deployment.
func (d *deployment) jobTask(t *testing.T, name string) *construct.JobTask {
	t.Helper()
	for _, jt := range d.stack.Tasks {
		if jt.Job.Name == name {
			return jt
		}
	}
	t.Fatalf("no job %s", name)
	return nil
}

func TestAJobsArchitectureStorageAndTagsAreItsTaskDefinitions(t *testing.T) {
	d := deployments(t).alt
	granted := d.taskDefinition(t, "alt-granted")
	tests := []struct {
		name  string
		props map[string]any
		key   string
		want  string
	}{
		{"arm64 is the runtime platform", granted, "RuntimePlatform", "map[CpuArchitecture:ARM64 OperatingSystemFamily:LINUX]"},
		{"storage is the ephemeral storage", granted, "EphemeralStorage", "map[SizeInGiB:50]"},
		{"a job without them runs on x86_64", d.taskDefinition(t, "alt-plain"), "RuntimePlatform", "map[CpuArchitecture:X86_64 OperatingSystemFamily:LINUX]"},
		{"a job without storage gets Fargate's default", d.taskDefinition(t, "alt-plain"), "EphemeralStorage", "<nil>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := fmt.Sprint(tt.props[tt.key]); got != tt.want {
				t.Errorf("%s = %s, want %s", tt.key, got, tt.want)
			}
		})
	}
	t.Run("the job's tags are on its task definition beside the deployment's", func(t *testing.T) {
		tags := map[string]string{}
		for _, tag := range granted["Tags"].([]any) {
			kv := tag.(map[string]any)
			tags[kv["Key"].(string)] = kv["Value"].(string)
		}
		want := map[string]string{"team": "reporting", "cost-center": "4711", "longshore:deployment": "alt"}
		for k, v := range want {
			if tags[k] != v {
				t.Errorf("tags = %v, want %s=%s among them", tags, k, v)
			}
		}
	})
}

func TestAJobsPermissionsAreExactlyItsTaskRolesPolicy(t *testing.T) {
	d := deployments(t).alt
	jt := d.jobTask(t, "granted")
	role := d.resources("AWS::IAM::Role")[d.logicalID(jt.TaskRole)]
	props := role["Properties"].(map[string]any)
	var got []string
	for _, p := range props["Policies"].([]any) {
		policy := p.(map[string]any)
		if policy["PolicyName"] != construct.JobPolicyName {
			t.Errorf("inline policy %v besides the job's", policy["PolicyName"])
			continue
		}
		for _, s := range policy["PolicyDocument"].(map[string]any)["Statement"].([]any) {
			st := toStatement(s.(map[string]any))
			got = append(got, fmt.Sprintf("%s %s %v %v", st.Sid, st.Effect, st.Actions, st.Resources))
		}
	}
	want := []string{
		"Job0 Allow [s3:GetObject s3:PutObject] [arn:aws:s3:::reports/*]",
		"Job1 Allow [dynamodb:Query] [arn:aws:dynamodb:eu-west-1:123456789012:table/orders]",
		"Job2 Allow [cloudwatch:PutMetricData] [*]",
	}
	if !slices.Equal(got, want) {
		t.Errorf("the job's policy =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if got := flatten(props["ManagedPolicyArns"]); got != "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess" {
		t.Errorf("ManagedPolicyArns = %s", got)
	}
	// Longshore's own grant (the run's objects) stays a policy of its own.
	if _, ok := find(d.policyOf(d.logicalID(jt.TaskRole)), "ReadRunObjects"); !ok {
		t.Errorf("the task role lost ReadRunObjects: %v", d.policyOf(d.logicalID(jt.TaskRole)))
	}
}

func TestAJobsTaskRoleIsUsedAsItIs(t *testing.T) {
	d := deployments(t).alt
	td := d.taskDefinition(t, "alt-borrowed")
	if got := flatten(td["TaskRoleArn"]); got != "arn:aws:iam::123456789012:role/team/report-writer" {
		t.Errorf("TaskRoleArn = %s, want the job's taskRole", got)
	}
	// The launcher may pass it to ECS; the run's objects are readable by it.
	var passed []string
	for _, s := range d.policyOf(d.logicalID(d.stack.Functions.Launcher.Role)) {
		if slices.Contains(s.Actions, "iam:PassRole") {
			passed = append(passed, s.Resources...)
		}
	}
	if !slices.Contains(passed, "arn:aws:iam::123456789012:role/team/report-writer") {
		t.Errorf("the launcher may not pass the job's role: PassRole on %v", passed)
	}
	var reads bool
	for _, p := range d.resources("AWS::IAM::Policy") {
		pp := p["Properties"].(map[string]any)
		if flatten(pp["Roles"]) == "team/report-writer" || flatten(pp["Roles"]) == "report-writer" {
			for _, s := range pp["PolicyDocument"].(map[string]any)["Statement"].([]any) {
				if toStatement(s.(map[string]any)).Sid == "ReadRunObjects" {
					reads = true
				}
			}
		}
	}
	if !reads {
		t.Errorf("no ReadRunObjects policy attached to the job's own role")
	}
}

func TestAJobDeployedPausedHasItsSchedulesDisabled(t *testing.T) {
	d := deployments(t).alt
	states := map[string]any{}
	for _, r := range d.resources("AWS::Scheduler::Schedule") {
		props := r["Properties"].(map[string]any)
		states[props["Name"].(string)] = props["State"]
	}
	if states["alt-dormant-0"] != "DISABLED" || states["alt-vault-0"] != "ENABLED" {
		t.Errorf("schedule states %v, want alt-dormant-0 DISABLED and alt-vault-0 ENABLED", states)
	}
}
