// Command infra is Longshore's CDK app: `go run ./infra` for cdk.json, and
// the release's longshore-cdk, which `longshore synth` and `deploy` run. It
// is a thin main over the construct package: one stack holding one
// deployment, configured from CDK context (see Config).
package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/jsii-runtime-go"

	"github.com/longshore/longshore/construct"
	"github.com/longshore/longshore/internal/job"
)

func main() {
	os.Exit(run(os.Stderr))
}

// run synthesizes the app, or prints why it cannot and returns 1. The CDK
// reports what it refuses by panicking (through jsii): that is printed as
// one line too, not as a Go stack.
func run(stderr io.Writer) (code int) {
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(stderr, "synth: %v\n", r)
			code = 1
		}
	}()
	props := &awscdk.AppProps{}
	if os.Getenv("CDK_OUTDIR") == "" {
		// Outside the CDK CLI, write where the CLI would.
		props.Outdir = jsii.String("cdk.out")
	}
	app := awscdk.NewApp(props)
	if _, err := buildApp(app); err != nil {
		report(stderr, err)
		return 1
	}
	app.Synth(nil)
	return 0
}

// buildApp reads the configuration from the app's context and adds the
// deployment it describes, checked by cdk-nag.
func buildApp(app awscdk.App) (*LongshoreStack, error) {
	setFeatureFlags(app)
	cfg, err := readConfig(contextLookup(app.Node()))
	if err != nil {
		return nil, err
	}
	stack, err := addDeployment(app, cfg)
	if err != nil {
		return nil, err
	}
	construct.CheckWithNag(app)
	return stack, nil
}

// setFeatureFlags sets featureFlags on the app, before any stack is added.
func setFeatureFlags(app awscdk.App) {
	for flag, v := range featureFlags {
		app.Node().SetContext(jsii.String(flag), v)
	}
}

// LongshoreStack is the app's one stack and the deployment in it.
type LongshoreStack struct {
	awscdk.Stack
	*construct.Longshore
}

// addDeployment adds the stack and, inside it, the deployment the
// configuration describes (construct.NewLongshore, with the id "Default",
// which CDK leaves out of logical ids: the resources keep the ids they had
// when the app built them itself).
func addDeployment(app awscdk.App, cfg Config) (*LongshoreStack, error) {
	stack := awscdk.NewStack(app, &cfg.StackName, &awscdk.StackProps{
		StackName:   jsii.String(cfg.StackName),
		Description: jsii.String("Longshore (" + cfg.Prefix + "): containers run as jobs on AWS Fargate"),
	})
	props := &construct.LongshoreProps{
		JobsDir: cfg.JobsDir, FunctionsDir: cfg.FunctionsDir, Prefix: cfg.Prefix,
		VpcID: cfg.VpcID, SubnetIDs: cfg.SubnetIDs, AssignPublicIP: cfg.AssignPublicIP, NatGateways: &cfg.NatGateways,
		LogRetention: cfg.Retention(), ContainerInsights: cfg.ContainerInsights,
		CallbackQueueArns: cfg.CallbackQueueArns, CallbackStateMachineArns: cfg.CallbackStateMachineArns,
		CallbackEventBusArns: cfg.CallbackEventBusArns,
		MaxRunning:           cfg.MaxRunning,
		HistoryKeep:          cfg.HistoryKeep,
	}
	if cfg.AlarmTopicArn != "" {
		props.AlarmsTopic = awssns.Topic_FromTopicArn(stack, jsii.String("AlarmsTopic"), jsii.String(cfg.AlarmTopicArn))
	}
	l, err := construct.NewLongshore(stack, "Default", props)
	if err != nil {
		return nil, err
	}
	awscdk.Tags_Of(stack).Add(jsii.String("longshore:deployment"), jsii.String(cfg.Prefix), nil)
	return &LongshoreStack{Stack: stack, Longshore: l}, nil
}

// featureFlags are the CDK feature flags the stack relies on, set here
// rather than in cdk.json so that tests synthesize the same template.
var featureFlags = map[string]any{
	// Server access logs are delivered under a bucket policy, not an ACL
	// (the buckets enforce bucket-owner object ownership).
	"@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy": true,
}

// report prints an error: a catalog's problems one line each, exactly as
// `longshore validate` prints them, then their count; the problems only a
// deployment has (names too long for AWS) the same way.
func report(w io.Writer, err error) {
	var ce *construct.CatalogError
	var pe *job.ProblemsError
	switch {
	case errors.As(err, &ce):
		printProblems(w, ce.Problems)
		fmt.Fprintf(w, "%d problem(s) in %s\n", len(ce.Problems.Problems), ce.Dir)
		return
	case errors.As(err, &pe):
		printProblems(w, pe)
		fmt.Fprintf(w, "%d problem(s) for a deployment\n", len(pe.Problems))
		return
	}
	fmt.Fprintf(w, "synth: %v\n", err)
}

func printProblems(w io.Writer, pe *job.ProblemsError) {
	for _, p := range pe.Problems {
		fmt.Fprintln(w, p.String())
	}
}
