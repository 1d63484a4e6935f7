package main

import (
	"strings"
	"testing"

	"github.com/longshore/longshore/internal/deploy"
)

func TestConfigComesFromContextWithDefaults(t *testing.T) {
	tests := []struct {
		name    string
		context map[string]string
		check   func(Config) bool
		wantErr string
	}{
		{"nothing given is a new VPC with one NAT gateway, prefix longshore", nil, func(c Config) bool {
			return c.Prefix == deploy.DefaultPrefix && c.StackName == deploy.DefaultStackName && c.NatGateways == 1 &&
				!c.AssignPublicIP && c.JobsDir == "jobs" && c.FunctionsDir == "bin/lambda" && c.LogRetentionDays == 30
		}, ""},
		{"no NAT gateways puts tasks in public subnets with public IPs", map[string]string{ctxNatGateways: "0"},
			func(c Config) bool { return c.NatGateways == 0 && c.AssignPublicIP }, ""},
		{"another prefix names its own stack", map[string]string{ctxPrefix: "team-a"},
			func(c Config) bool { return c.StackName == "Longshore-team-a" }, ""},
		{"an existing VPC takes its subnets as a list", map[string]string{ctxVpcID: "vpc-1", ctxSubnetIDs: "subnet-a, subnet-b,"},
			func(c Config) bool {
				return c.VpcID == "vpc-1" && strings.Join(c.SubnetIDs, "|") == "subnet-a|subnet-b"
			}, ""},
		{"subnets without a VPC are refused", map[string]string{ctxSubnetIDs: "subnet-a"}, nil, "go together"},
		{"public IPs with NAT gateways are refused", map[string]string{ctxAssignPublicIP: "true"}, nil, "without NAT gateways"},
		{"a retention CloudWatch does not offer is refused", map[string]string{ctxLogRetentionDays: "31"}, nil, "not a CloudWatch Logs retention"},
		{"a prefix with capitals is refused", map[string]string{ctxPrefix: "Prod"}, nil, "is not a prefix"},
		{"a flag that is not a boolean is refused", map[string]string{ctxContainerInsights: "yes please"}, nil, "not true or false"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := readConfig(lookup(tt.context))
			switch {
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("error = %v, want one saying %q", err, tt.wantErr)
			case tt.wantErr == "" && err != nil:
				t.Errorf("error = %v", err)
			case tt.check != nil && !tt.check(c):
				t.Errorf("config = %+v", c)
			}
		})
	}
}
