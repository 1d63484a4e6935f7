// Command teamapp is a team's own CDK app that adds Longshore beside its
// own resources: the construct package's users start like this.
package main

import (
	"fmt"
	"os"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsssm"
	"github.com/aws/jsii-runtime-go"

	"github.com/longshore/longshore/construct"
)

func main() {
	app := awscdk.NewApp(nil)
	stack := awscdk.NewStack(app, jsii.String("TeamStack"), nil)

	// The team's catalog, checked as `longshore validate` checks it.
	catalog, err := construct.LoadCatalog(os.Getenv("TEAM_JOBS"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	nat := 0
	ls, err := construct.NewLongshore(stack, "Jobs", &construct.LongshoreProps{
		Catalog:      catalog,
		FunctionsDir: os.Getenv("TEAM_FUNCTIONS"),
		Prefix:       "team",
		NatGateways:  &nat,
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}

	// The team's own resources, using what the construct exposes.
	awsssm.NewStringParameter(stack, jsii.String("LauncherName"), &awsssm.StringParameterProps{
		ParameterName: jsii.String("/team/longshore/launcher"),
		StringValue:   ls.Functions.Launcher.Function.FunctionName(),
	})
	awsssm.NewStringParameter(stack, jsii.String("RunsTable"), &awsssm.StringParameterProps{
		ParameterName: jsii.String("/team/longshore/runs-table"),
		StringValue:   ls.Table.Table.TableName(),
	})

	construct.CheckWithNag(app)
	app.Synth(nil)
}
