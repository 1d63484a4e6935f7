package construct

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/longshore/longshore/internal/deploy"
)

// ResultsProps names the bus and sets the log retention.
type ResultsProps struct {
	Prefix    string
	Retention awslogs.RetentionDays
}

// Results is where finished runs are announced: the results event bus
// (deploy.EventBusName), a rule copying every result event on it
// (deploy.ResultSource, deploy.ResultDetailType) into a log group
// (deploy.ResultsLogGroup: a searchable history of outcomes) and a metric
// counting the failed and timed-out runs among them.
type Results struct {
	constructs.Construct
	Bus        awsevents.EventBus
	LogGroup   awslogs.LogGroup
	RunsFailed awscloudwatch.Metric
}

// NewResults creates the bus, its archive log group and the metric.
func NewResults(scope constructs.Construct, id string, props *ResultsProps) *Results {
	c := constructs.NewConstruct(scope, &id)
	stack := awscdk.Stack_Of(c)
	r := &Results{Construct: c}
	r.Bus = awsevents.NewEventBus(c, jsii.String("Bus"), &awsevents.EventBusProps{
		EventBusName: jsii.String(deploy.EventBusName(props.Prefix)),
		Description:  jsii.String("Longshore: one event per finished run"),
	})
	name := deploy.ResultsLogGroup(props.Prefix)
	r.LogGroup = awslogs.NewLogGroup(c, jsii.String("Logs"), &awslogs.LogGroupProps{
		LogGroupName:  jsii.String(name),
		Retention:     props.Retention,
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
	})
	// EventBridge writes to a log group under a resource policy. The L2
	// target would install it with a custom resource (a Lambda); this is
	// the same policy, for this one log group, in CloudFormation.
	policy := awslogs.NewCfnResourcePolicy(c, jsii.String("EventsMayWrite"), &awslogs.CfnResourcePolicyProps{
		PolicyName: jsii.String(props.Prefix + "-results-events"),
		PolicyDocument: stack.ToJsonString(map[string]interface{}{
			"Version": "2012-10-17",
			"Statement": []map[string]interface{}{{
				"Sid":       "EventBridgeWritesResults",
				"Effect":    "Allow",
				"Principal": map[string]interface{}{"Service": "events.amazonaws.com"},
				"Action":    []string{"logs:CreateLogStream", "logs:PutLogEvents"},
				"Resource":  r.LogGroup.LogGroupArn(),
				"Condition": map[string]interface{}{
					"ArnEquals": map[string]interface{}{"aws:SourceArn": stack.FormatArn(&awscdk.ArnComponents{
						Service: jsii.String("events"), Resource: jsii.String("rule"),
						ResourceName: jsii.String(deploy.EventBusName(props.Prefix) + "/" + props.Prefix + "-results-to-logs"),
					})},
				},
			}},
		}, nil),
	})
	rule := awsevents.NewCfnRule(c, jsii.String("ToLogs"), &awsevents.CfnRuleProps{
		Name:         jsii.String(props.Prefix + "-results-to-logs"),
		Description:  jsii.String("Longshore: keep every result event in " + name),
		EventBusName: r.Bus.EventBusName(),
		EventPattern: map[string]interface{}{
			"source":      []string{deploy.ResultSource},
			"detail-type": []string{deploy.ResultDetailType},
		},
		Targets: []*awsevents.CfnRule_TargetProperty{{
			Id: jsii.String("ResultsLog"),
			Arn: stack.FormatArn(&awscdk.ArnComponents{
				Service: jsii.String("logs"), Resource: jsii.String("log-group"),
				ResourceName: jsii.String(name), ArnFormat: awscdk.ArnFormat_COLON_RESOURCE_NAME,
			}),
		}},
	})
	rule.Node().AddDependency(policy)
	rule.Node().AddDependency(r.LogGroup)

	namespace := "Longshore/" + props.Prefix
	awslogs.NewMetricFilter(c, jsii.String("RunsFailed"), &awslogs.MetricFilterProps{
		LogGroup: r.LogGroup,
		FilterPattern: awslogs.FilterPattern_Any(
			awslogs.FilterPattern_StringValue(jsii.String("$.detail.status"), jsii.String("="), jsii.String("failed")),
			awslogs.FilterPattern_StringValue(jsii.String("$.detail.status"), jsii.String("="), jsii.String("timed_out")),
		),
		MetricNamespace: jsii.String(namespace),
		MetricName:      jsii.String("RunsFailed"),
		MetricValue:     jsii.String("1"),
	})
	r.RunsFailed = awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
		Namespace:  jsii.String(namespace),
		MetricName: jsii.String("RunsFailed"),
		Statistic:  jsii.String("Sum"),
		Period:     awscdk.Duration_Minutes(jsii.Number(5)),
	})
	return r
}
