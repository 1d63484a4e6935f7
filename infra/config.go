package main

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/constructs-go/constructs/v10"

	"github.com/longshore/longshore/construct"
	"github.com/longshore/longshore/internal/deploy"
	"github.com/longshore/longshore/internal/job"
)

// Config is what a deployment may change, read from CDK context
// (`-c key=value` or cdk.json's "context").
type Config struct {
	// Prefix names every physical resource (deploy.DefaultPrefix).
	Prefix string
	// StackName is the CloudFormation stack (deploy.DefaultStackName).
	StackName string
	// JobsDir is the job catalog, shipped to the functions as data.
	JobsDir string
	// FunctionsDir holds <name>/bootstrap for each function (make build).
	FunctionsDir string
	// VpcID and SubnetIDs name an existing network; empty means a new VPC.
	VpcID     string
	SubnetIDs []string
	// AssignPublicIP gives tasks a public IP: for existing public subnets,
	// or a new VPC without NAT gateways.
	AssignPublicIP bool
	// NatGateways of a new VPC: 1 by default; 0 puts tasks in public
	// subnets with public IPs and no NAT (nothing billed while idle).
	NatGateways int
	// LogRetentionDays of every log group the stack creates.
	LogRetentionDays int
	// AlarmTopicArn, when set, receives every alarm's state changes.
	AlarmTopicArn string
	// ContainerInsights turns on CloudWatch Container Insights for the cluster.
	ContainerInsights bool
	// CallbackQueueArns and CallbackStateMachineArns extend the callback
	// targets the functions may reach beyond the deployment's own name prefixes.
	CallbackQueueArns        []string
	CallbackStateMachineArns []string
	// CallbackEventBusArns are the buses beside the deployment's own that
	// event callbacks may name.
	CallbackEventBusArns []string
	// MaxRunning bounds the runs active at once (0: no bound).
	MaxRunning int
	// HistoryKeep is how long finished runs are kept by default.
	HistoryKeep time.Duration
}

// Context keys.
const (
	ctxPrefix                   = "prefix"
	ctxStackName                = "stackName"
	ctxJobsDir                  = "jobsDir"
	ctxFunctionsDir             = "functionsDir"
	ctxVpcID                    = "vpcId"
	ctxSubnetIDs                = "subnetIds"
	ctxAssignPublicIP           = "assignPublicIp"
	ctxNatGateways              = "natGateways"
	ctxLogRetentionDays         = "logRetentionDays"
	ctxAlarmTopicArn            = "alarmTopicArn"
	ctxContainerInsights        = "containerInsights"
	ctxCallbackQueueArns        = "callbackQueueArns"
	ctxCallbackStateMachineArns = "callbackStateMachineArns"
	ctxCallbackEventBusArns     = "callbackEventBusArns"
	ctxMaxRunning               = "maxRunning"
	ctxHistoryKeep              = "historyKeep"
)

// retentionDays maps the days CloudWatch Logs accepts to CDK's names.
var retentionDays = map[int]awslogs.RetentionDays{
	1: awslogs.RetentionDays_ONE_DAY, 3: awslogs.RetentionDays_THREE_DAYS, 5: awslogs.RetentionDays_FIVE_DAYS,
	7: awslogs.RetentionDays_ONE_WEEK, 14: awslogs.RetentionDays_TWO_WEEKS, 30: awslogs.RetentionDays_ONE_MONTH,
	60: awslogs.RetentionDays_TWO_MONTHS, 90: awslogs.RetentionDays_THREE_MONTHS, 120: awslogs.RetentionDays_FOUR_MONTHS,
	150: awslogs.RetentionDays_FIVE_MONTHS, 180: awslogs.RetentionDays_SIX_MONTHS, 365: awslogs.RetentionDays_ONE_YEAR,
	400: awslogs.RetentionDays_THIRTEEN_MONTHS, 545: awslogs.RetentionDays_EIGHTEEN_MONTHS, 731: awslogs.RetentionDays_TWO_YEARS,
	1096: awslogs.RetentionDays_THREE_YEARS, 1827: awslogs.RetentionDays_FIVE_YEARS, 2192: awslogs.RetentionDays_SIX_YEARS,
	2557: awslogs.RetentionDays_SEVEN_YEARS, 2922: awslogs.RetentionDays_EIGHT_YEARS, 3288: awslogs.RetentionDays_NINE_YEARS,
	3653: awslogs.RetentionDays_TEN_YEARS,
}

// Retention is the log retention as CDK names it.
func (c Config) Retention() awslogs.RetentionDays { return retentionDays[c.LogRetentionDays] }

// contextLookup reads a context value as text ("" when unset).
func contextLookup(node constructs.Node) func(key string) string {
	return func(key string) string {
		v := node.TryGetContext(&key)
		if v == nil {
			return ""
		}
		return strings.TrimSpace(fmt.Sprint(v))
	}
}

// readConfig reads the configuration from context values, with defaults.
func readConfig(ctx func(key string) string) (Config, error) {
	c := Config{
		Prefix:                   orDefault(ctx(ctxPrefix), deploy.DefaultPrefix),
		StackName:                ctx(ctxStackName),
		JobsDir:                  orDefault(ctx(ctxJobsDir), "jobs"),
		FunctionsDir:             orDefault(ctx(ctxFunctionsDir), filepath.Join("bin", "lambda")),
		VpcID:                    ctx(ctxVpcID),
		SubnetIDs:                list(ctx(ctxSubnetIDs)),
		AlarmTopicArn:            ctx(ctxAlarmTopicArn),
		CallbackQueueArns:        list(ctx(ctxCallbackQueueArns)),
		CallbackStateMachineArns: list(ctx(ctxCallbackStateMachineArns)),
		CallbackEventBusArns:     list(ctx(ctxCallbackEventBusArns)),
	}
	if c.StackName == "" {
		c.StackName = deploy.DefaultStackName
		if c.Prefix != deploy.DefaultPrefix {
			c.StackName += "-" + c.Prefix
		}
	}
	var err error
	if c.AssignPublicIP, err = boolean(ctxAssignPublicIP, ctx(ctxAssignPublicIP)); err != nil {
		return Config{}, err
	}
	if c.ContainerInsights, err = boolean(ctxContainerInsights, ctx(ctxContainerInsights)); err != nil {
		return Config{}, err
	}
	if c.NatGateways, err = number(ctxNatGateways, ctx(ctxNatGateways), 1, 0, 3); err != nil {
		return Config{}, err
	}
	if v := ctx(ctxHistoryKeep); v != "" {
		if c.HistoryKeep, err = job.ParseDuration(v); err != nil || c.HistoryKeep < job.MinHistoryKeep || c.HistoryKeep > job.MaxHistoryKeep {
			return Config{}, fmt.Errorf("context %s: %q is not a time to keep runs: give 1h to 3650d, such as 30d", ctxHistoryKeep, v)
		}
	}
	if c.MaxRunning, err = number(ctxMaxRunning, ctx(ctxMaxRunning), 0, 0, deploy.MaxMaxRunning); err != nil {
		return Config{}, err
	}
	if c.LogRetentionDays, err = number(ctxLogRetentionDays, ctx(ctxLogRetentionDays), 30, 1, 3653); err != nil {
		return Config{}, err
	}
	if _, ok := retentionDays[c.LogRetentionDays]; !ok {
		return Config{}, fmt.Errorf("context %s: %d is not a CloudWatch Logs retention: use one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653", ctxLogRetentionDays, c.LogRetentionDays)
	}
	if err := construct.CheckPrefix(c.Prefix); err != nil {
		return Config{}, fmt.Errorf("context %s: %w", ctxPrefix, err)
	}
	if (c.VpcID == "") != (len(c.SubnetIDs) == 0) {
		return Config{}, fmt.Errorf("context %s and %s go together: name an existing VPC and the subnets its tasks run in", ctxVpcID, ctxSubnetIDs)
	}
	if c.VpcID == "" && c.AssignPublicIP && c.NatGateways > 0 {
		return Config{}, fmt.Errorf("context %s: a new VPC gives tasks public IPs only without NAT gateways: add -c %s=0", ctxAssignPublicIP, ctxNatGateways)
	}
	if c.VpcID == "" && c.NatGateways == 0 {
		c.AssignPublicIP = true
	}
	return c, nil
}

func orDefault(v, d string) string {
	if v == "" {
		return d
	}
	return v
}

func list(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func boolean(key, v string) (bool, error) {
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, fmt.Errorf("context %s: %q is not true or false", key, v)
	}
	return b, nil
}

func number(key, v string, def, lo, hi int) (int, error) {
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, fmt.Errorf("context %s: %q is not a whole number from %d to %d", key, v, lo, hi)
	}
	return n, nil
}
