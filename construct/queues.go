package construct

import (
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambdaeventsources"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/longshore/longshore/internal/deploy"
	"github.com/longshore/longshore/internal/job"
)

// How the launcher reads a job queue: up to ten messages a batch (one
// run each, failures reported per message), at most five batches at once
// per queue so that a burst does not exhaust RunTask's rate, and a message
// delivered maxReceives times goes to the queue's dead-letter queue. The
// visibility timeout is six times the launcher's timeout, as Lambda advises.
const (
	queueBatchSize      = 10
	queueMaxConcurrency = 5
	queueMaxReceives    = 5
	queueRetention      = 4 * 24 * time.Hour
)

// JobQueuesProps lists the jobs whose SQS triggers get a queue.
type JobQueuesProps struct {
	Prefix          string
	Jobs            []*job.Spec
	Launcher        awslambda.IFunction
	LauncherTimeout time.Duration
}

// JobQueue is one job's trigger queue and its dead-letter queue.
type JobQueue struct {
	Job        string
	Queue      awssqs.Queue
	DeadLetter awssqs.Queue
}

// JobQueues are the SQS queues of the catalog's SQS triggers
// (deploy.QueueName, with deploy.DeadLetterQueueName after
// queueMaxReceives deliveries), encrypted and SSL-only, each read by the
// launcher with ReportBatchItemFailures.
type JobQueues struct {
	constructs.Construct
	Queues []*JobQueue
}

// NewJobQueues creates the queues and their event source mappings.
func NewJobQueues(scope constructs.Construct, id string, props *JobQueuesProps) *JobQueues {
	c := constructs.NewConstruct(scope, &id)
	q := &JobQueues{Construct: c}
	for _, spec := range props.Jobs {
		for _, tr := range spec.Triggers {
			if tr.SQS == nil {
				continue
			}
			name := pascal(spec.Name)
			dlq := awssqs.NewQueue(c, jsii.String(name+"DeadLetters"), &awssqs.QueueProps{
				QueueName:       jsii.String(deploy.DeadLetterQueueName(props.Prefix, tr.SQS.Queue)),
				Encryption:      awssqs.QueueEncryption_SQS_MANAGED,
				EnforceSSL:      jsii.Bool(true),
				RetentionPeriod: awscdk.Duration_Days(jsii.Number(deadLetterDays)),
			})
			queue := awssqs.NewQueue(c, jsii.String(name), &awssqs.QueueProps{
				QueueName:         jsii.String(deploy.QueueName(props.Prefix, tr.SQS.Queue)),
				Encryption:        awssqs.QueueEncryption_SQS_MANAGED,
				EnforceSSL:        jsii.Bool(true),
				RetentionPeriod:   awscdk.Duration_Seconds(jsii.Number(queueRetention.Seconds())),
				VisibilityTimeout: awscdk.Duration_Seconds(jsii.Number(6 * props.LauncherTimeout.Seconds())),
				DeadLetterQueue:   &awssqs.DeadLetterQueue{Queue: dlq, MaxReceiveCount: jsii.Number(queueMaxReceives)},
			})
			props.Launcher.AddEventSource(awslambdaeventsources.NewSqsEventSource(queue, &awslambdaeventsources.SqsEventSourceProps{
				BatchSize:               jsii.Number(queueBatchSize),
				ReportBatchItemFailures: jsii.Bool(true),
				MaxConcurrency:          jsii.Number(queueMaxConcurrency),
			}))
			q.Queues = append(q.Queues, &JobQueue{Job: spec.Name, Queue: queue, DeadLetter: dlq})
		}
	}
	return q
}
