package config_test

import (
	"strings"
	"testing"

	"github.com/longshore/longshore/internal/aws/config"
	"github.com/longshore/longshore/internal/deploy"
)

// full is the environment the CDK app gives every function.
func full() map[string]string {
	return map[string]string{
		config.EnvRegion:         "us-east-1",
		deploy.EnvPrefix:         "longshore",
		deploy.EnvCluster:        "arn:aws:ecs:us-east-1:111122223333:cluster/longshore",
		deploy.EnvSubnets:        "subnet-0a1b2c3d4e5f60001, subnet-0a1b2c3d4e5f60002",
		deploy.EnvSecurityGroups: "sg-0123456789abcdef0",
		deploy.EnvAssignPublicIP: "false",
		deploy.EnvRunsTable:      "longshore-runs",
		deploy.EnvEventBus:       "longshore-results",
		deploy.EnvPayloadBucket:  "longshore-payloads-111122223333",
		deploy.EnvUploadsBucket:  "longshore-uploads-111122223333",
	}
}

func getenv(env map[string]string) func(string) string {
	return func(k string) string { return env[k] }
}

func TestLoadReadsEveryVariableIntoTheConfig(t *testing.T) {
	c, err := config.Load(config.Launcher, getenv(full()))
	if err != nil {
		t.Fatal(err)
	}
	if c.Prefix != "longshore" || c.Region != "us-east-1" || c.Cluster != "arn:aws:ecs:us-east-1:111122223333:cluster/longshore" ||
		strings.Join(c.Subnets, ",") != "subnet-0a1b2c3d4e5f60001,subnet-0a1b2c3d4e5f60002" ||
		strings.Join(c.SecurityGroups, ",") != "sg-0123456789abcdef0" || c.AssignPublicIP ||
		c.RunsTable != "longshore-runs" || c.EventBus != "longshore-results" ||
		c.PayloadBucket != "longshore-payloads-111122223333" || c.UploadsBucket != "longshore-uploads-111122223333" {
		t.Errorf("config = %+v", c)
	}
}

func TestLoadNamesTheVariableThatIsMissingOrMalformed(t *testing.T) {
	tests := []struct {
		name string
		fn   config.Function
		edit func(map[string]string)
		want []string // substrings of the error; none means no error
	}{
		{"the cluster missing fails the launcher", config.Launcher, func(e map[string]string) { delete(e, deploy.EnvCluster) },
			[]string{deploy.EnvCluster + " is not set"}},
		{"every problem is named at once", config.Tracker, func(e map[string]string) {
			delete(e, deploy.EnvRunsTable)
			e[deploy.EnvSubnets] = "subnet-0a1b2c3d4e5f60001,vpc-123"
			e[deploy.EnvAssignPublicIP] = "yes"
		}, []string{deploy.EnvRunsTable + " is not set", deploy.EnvSubnets + `="subnet-0a1b2c3d4e5f60001,vpc-123" is malformed`, deploy.EnvAssignPublicIP + `="yes" is malformed`}},
		{"a cluster name instead of its ARN is malformed", config.API, func(e map[string]string) { e[deploy.EnvCluster] = "longshore" },
			[]string{deploy.EnvCluster + `="longshore" is malformed`}},
		{"more than five security groups is more than ECS takes", config.Launcher, func(e map[string]string) {
			e[deploy.EnvSecurityGroups] = "sg-00000001,sg-00000002,sg-00000003,sg-00000004,sg-00000005,sg-00000006"
		}, []string{deploy.EnvSecurityGroups + " lists 6 values: ECS takes at most 5"}},
		{"the uploads bucket is only the launcher's", config.Reconciler, func(e map[string]string) { delete(e, deploy.EnvUploadsBucket) }, nil},
		{"the api function starts no task: it needs no network nor payload bucket", config.API, func(e map[string]string) {
			delete(e, deploy.EnvSubnets)
			delete(e, deploy.EnvSecurityGroups)
			delete(e, deploy.EnvPayloadBucket)
		}, nil},
		{"the region is Lambda's and required", config.Tracker, func(e map[string]string) { delete(e, config.EnvRegion) },
			[]string{config.EnvRegion + " is not set"}},
		{"a missing prefix is the default one", config.Launcher, func(e map[string]string) { delete(e, deploy.EnvPrefix) }, nil},
		{"an upper-case bucket name is malformed", config.Launcher, func(e map[string]string) { e[deploy.EnvUploadsBucket] = "Uploads" },
			[]string{deploy.EnvUploadsBucket + `="Uploads" is malformed`}},
		{"a maxRunning that is not a number of runs is malformed", config.Tracker, func(e map[string]string) { e[deploy.EnvMaxRunning] = "-3" },
			[]string{deploy.EnvMaxRunning + `="-3" is malformed: want a whole number from 0 to 5000`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := full()
			tt.edit(env)
			_, err := config.Load(tt.fn, getenv(env))
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("Load = %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("Load succeeded")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

func TestTheDefaultPrefixIsTheDeploymentDefault(t *testing.T) {
	env := full()
	delete(env, deploy.EnvPrefix)
	c, err := config.Load(config.Tracker, getenv(env))
	if err != nil || c.Prefix != deploy.DefaultPrefix {
		t.Errorf("prefix %q, %v", c.Prefix, err)
	}
}

func TestAnUnknownFunctionIsRefused(t *testing.T) {
	if _, err := config.Load("scheduler", getenv(full())); err == nil {
		t.Error("Load of an unknown function succeeded")
	}
}
