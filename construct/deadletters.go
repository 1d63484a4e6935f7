package construct

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// deadLetterDays keeps undelivered messages as long as SQS allows.
const deadLetterDays = 14

// DeadLettersProps names the queues.
type DeadLettersProps struct {
	Prefix string
}

// DeadLetters are the queues where triggers that could not be delivered end
// up: Schedules for EventBridge Scheduler invocations it gave up on, Events
// for EventBridge rule deliveries (S3 uploads, task state changes) and for
// asynchronous invocations a function failed (with Lambda's own record of
// why). Their names start with "<prefix>_" so that no job queue
// (deploy.QueueName: "<prefix>-...") can take them.
type DeadLetters struct {
	constructs.Construct
	Schedules awssqs.Queue
	Events    awssqs.Queue
}

// NewDeadLetters creates the two queues.
func NewDeadLetters(scope constructs.Construct, id string, props *DeadLettersProps) *DeadLetters {
	c := constructs.NewConstruct(scope, &id)
	return &DeadLetters{
		Construct: c,
		Schedules: deadLetterQueue(c, "Schedules", props.Prefix+"_schedules-dlq"),
		Events:    deadLetterQueue(c, "Events", props.Prefix+"_events-dlq"),
	}
}

// deadLetterQueue is an encrypted, SSL-only queue that keeps its messages
// for 14 days.
func deadLetterQueue(scope constructs.Construct, id, name string) awssqs.Queue {
	return awssqs.NewQueue(scope, jsii.String(id), &awssqs.QueueProps{
		QueueName:       jsii.String(name),
		Encryption:      awssqs.QueueEncryption_SQS_MANAGED,
		EnforceSSL:      jsii.Bool(true),
		RetentionPeriod: awscdk.Duration_Days(jsii.Number(deadLetterDays)),
	})
}
