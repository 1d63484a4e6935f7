package construct

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// AlarmsProps lists what to watch.
type AlarmsProps struct {
	Prefix string
	// DeadLetters maps a name (for the alarm's id and text) to a dead-letter queue.
	DeadLetters map[string]awssqs.IQueue
	// Functions maps a function's short name to it.
	Functions  map[string]awslambda.IFunction
	RunsFailed awscloudwatch.IMetric
	// Topic, when set, is notified of every alarm and its recovery.
	Topic awssns.ITopic
}

// Alarms go off when something needs a person: a dead-letter queue holds a
// message (a trigger or a task event was not delivered), a function
// failed, or a run failed or timed out. They are named "<prefix>-...".
type Alarms struct {
	constructs.Construct
	Alarms []awscloudwatch.Alarm
}

// NewAlarms creates the alarms, in a stable order.
func NewAlarms(scope constructs.Construct, id string, props *AlarmsProps) *Alarms {
	c := constructs.NewConstruct(scope, &id)
	a := &Alarms{Construct: c}
	var action awscloudwatch.IAlarmAction
	if props.Topic != nil {
		action = awscloudwatchactions.NewSnsAction(props.Topic)
	}
	add := func(id, name, description string, metric awscloudwatch.IMetric) {
		alarm := awscloudwatch.NewAlarm(c, jsii.String(id), &awscloudwatch.AlarmProps{
			AlarmName:          jsii.String(props.Prefix + "-" + name),
			AlarmDescription:   jsii.String(description),
			Metric:             metric,
			Threshold:          jsii.Number(1),
			EvaluationPeriods:  jsii.Number(1),
			ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
			TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
		})
		if action != nil {
			alarm.AddAlarmAction(action)
			alarm.AddOkAction(action)
		}
		a.Alarms = append(a.Alarms, alarm)
	}
	for _, name := range sortedKeys(props.DeadLetters) {
		q := props.DeadLetters[name]
		add("DeadLetters"+pascal(name), name+"-dead-letters",
			"Messages are waiting in the dead-letter queue "+name+": read them, fix the cause, then redrive or delete them.",
			q.MetricApproximateNumberOfMessagesVisible(&awscloudwatch.MetricOptions{
				Period: awscdk.Duration_Minutes(jsii.Number(5)), Statistic: jsii.String("Maximum"),
			}))
	}
	for _, name := range sortedKeys(props.Functions) {
		add("Errors"+pascal(name), name+"-errors",
			"The "+name+" function failed: see its log group /aws/lambda/"+props.Prefix+"-"+name+".",
			props.Functions[name].MetricErrors(&awscloudwatch.MetricOptions{
				Period: awscdk.Duration_Minutes(jsii.Number(5)), Statistic: jsii.String("Sum"),
			}))
	}
	add("RunsFailed", "runs-failed",
		"A run failed or timed out: `longshore runs --status failed` lists them; the results log group has each outcome.",
		props.RunsFailed)
	return a
}
