package construct

import (
	"fmt"
	"slices"
	"strconv"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssnssubscriptions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/longshore/longshore/internal/deploy"
	"github.com/longshore/longshore/internal/job"
	"github.com/longshore/longshore/internal/notice"
)

// Delivery of a notification by EventBridge: tried for up to a day, then
// put on the notifications' dead-letter queue.
const (
	notifyRetryAttempts = 185
	notifyMaxEventAge   = 24
)

// NotificationsProps give the jobs and the results bus.
type NotificationsProps struct {
	Prefix string
	Jobs   []*job.Spec
	Bus    awsevents.IEventBus
}

// Notifications deliver the jobs' notify entries (job.Notify) on AWS: one
// EventBridge rule per entry on the results bus, matching the job's result
// events with the entry's outcomes, with one target: the entry's SNS topic,
// a topic made for its email address (KMS-encrypted, TLS only, with an
// email subscription), or an API destination for its webhook. Every target
// puts what it could not deliver on DeadLetters ("<prefix>_notify-dlq"),
// which has an alarm. The message is notice.Template, filled by an input
// transformer. Nil when no job has notifications.
type Notifications struct {
	constructs.Construct
	DeadLetters awssqs.Queue
	Rules       []awsevents.Rule
	// Key encrypts the email topics; nil when there are none.
	Key awskms.Key
}

// NewNotifications creates them. A webhook with a secret is refused:
// EventBridge cannot sign a body (see docs/job-spec.md).
func NewNotifications(scope constructs.Construct, id string, props *NotificationsProps) (*Notifications, error) {
	var some bool
	for _, spec := range props.Jobs {
		for i, n := range spec.Notify {
			some = true
			if n.Webhook != nil && n.Webhook.Secret != "" {
				return nil, fmt.Errorf("%s: notify[%d].webhook.secret: EventBridge cannot sign a webhook's body with HMAC on AWS: "+
					"remove the secret (or deliver through an SNS topic to an endpoint you control)", spec.Path, i)
			}
		}
	}
	if !some {
		return nil, nil
	}
	c := constructs.NewConstruct(scope, &id)
	n := &Notifications{Construct: c, DeadLetters: deadLetterQueue(c, "DeadLetters", props.Prefix+"_notify-dlq")}
	message := awsevents.RuleTargetInput_FromText(jsii.String(notice.Template(func(p string) string {
		return *awsevents.EventField_FromPath(jsii.String("$.detail." + p))
	})))
	for _, spec := range props.Jobs {
		for i, entry := range spec.Notify {
			rid := pascal(spec.Name) + strconv.Itoa(i)
			rule := awsevents.NewRule(c, jsii.String("Rule"+rid), &awsevents.RuleProps{
				EventBus:     props.Bus,
				Description:  jsii.String(fmt.Sprintf("Longshore: notify %s of runs of %s that end %v", entry.Target(), spec.Name, entry.Outcomes())),
				EventPattern: notifyPattern(spec.Name, entry.Outcomes()),
			})
			n.Rules = append(n.Rules, rule)
			switch {
			case entry.SNS != "":
				topic := awssns.Topic_FromTopicArn(c, jsii.String("Topic"+rid), jsii.String(entry.SNS))
				rule.AddTarget(awseventstargets.NewSnsTopic(topic, &awseventstargets.SnsTopicProps{
					Message: message, DeadLetterQueue: n.DeadLetters,
					RetryAttempts: jsii.Number(notifyRetryAttempts), MaxEventAge: awscdk.Duration_Hours(jsii.Number(notifyMaxEventAge)),
				}))
			case entry.Email != "":
				topic := awssns.NewTopic(c, jsii.String("Email"+rid), &awssns.TopicProps{
					DisplayName: jsii.String("Longshore " + spec.Name),
					MasterKey:   n.key(c), EnforceSSL: jsii.Bool(true),
				})
				topic.AddSubscription(awssnssubscriptions.NewEmailSubscription(jsii.String(entry.Email), nil))
				rule.AddTarget(awseventstargets.NewSnsTopic(topic, &awseventstargets.SnsTopicProps{
					Message: message, DeadLetterQueue: n.DeadLetters,
					RetryAttempts: jsii.Number(notifyRetryAttempts), MaxEventAge: awscdk.Duration_Hours(jsii.Number(notifyMaxEventAge)),
				}))
			case entry.Webhook != nil:
				// EventBridge connections need an authorization: this one
				// names the deployment in a header, and holds no secret.
				conn := awsevents.NewConnection(c, jsii.String("Connection"+rid), &awsevents.ConnectionProps{
					Description: jsii.String("Longshore: webhook of " + spec.Name),
					Authorization: awsevents.Authorization_ApiKey(jsii.String("X-Longshore-Deployment"),
						awscdk.SecretValue_UnsafePlainText(jsii.String(props.Prefix))),
				})
				dest := awsevents.NewApiDestination(c, jsii.String("Webhook"+rid), &awsevents.ApiDestinationProps{
					Connection: conn, Endpoint: jsii.String(entry.Webhook.URL), HttpMethod: awsevents.HttpMethod_POST,
					Description: jsii.String("Longshore: webhook of " + spec.Name),
				})
				rule.AddTarget(awseventstargets.NewApiDestination(dest, &awseventstargets.ApiDestinationProps{
					Event: webhookBody(), DeadLetterQueue: n.DeadLetters,
					RetryAttempts: jsii.Number(notifyRetryAttempts), MaxEventAge: awscdk.Duration_Hours(jsii.Number(notifyMaxEventAge)),
				}))
			}
		}
	}
	return n, nil
}

// key is the KMS key of the email topics, made once: EventBridge may use
// it to publish to them (an AWS managed key would not let it).
func (n *Notifications) key(c constructs.Construct) awskms.Key {
	if n.Key == nil {
		n.Key = awskms.NewKey(c, jsii.String("TopicKey"), &awskms.KeyProps{
			Description:       jsii.String("Longshore: encrypts the notification email topics"),
			EnableKeyRotation: jsii.Bool(true),
			RemovalPolicy:     awscdk.RemovalPolicy_DESTROY,
		})
		n.Key.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:        jsii.String("EventBridgePublishesNotifications"),
			Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String("events.amazonaws.com"), nil)},
			Actions:    jsii.Strings("kms:Decrypt", "kms:GenerateDataKey*"),
			Resources:  jsii.Strings("*"),
		}), jsii.Bool(false))
	}
	return n.Key
}

// notifyPattern matches the result events of job that end with one of
// outcomes (never_started: failed with cause start).
func notifyPattern(jobName string, outcomes []string) *awsevents.EventPattern {
	var statuses []string
	failed, never := slices.Contains(outcomes, job.OutcomeFailed), slices.Contains(outcomes, job.OutcomeNeverStarted)
	for _, o := range outcomes {
		if o != job.OutcomeFailed && o != job.OutcomeNeverStarted || o == job.OutcomeFailed && never {
			statuses = append(statuses, o)
		}
	}
	var alts []map[string]any
	if len(statuses) > 0 {
		alts = append(alts, map[string]any{"status": statuses})
	}
	switch {
	case failed && never:
		// failed with any cause: in statuses.
	case failed:
		alts = append(alts, map[string]any{"status": []string{job.OutcomeFailed}, "cause": []any{map[string]any{"anything-but": []string{"start"}}}})
	case never:
		alts = append(alts, map[string]any{"status": []string{job.OutcomeFailed}, "cause": []string{"start"}})
	}
	detail := map[string]any{"job": []string{jobName}}
	if len(alts) == 1 {
		for k, v := range alts[0] {
			detail[k] = v
		}
	} else {
		detail["$or"] = alts
	}
	return &awsevents.EventPattern{
		Source:     jsii.Strings(deploy.ResultSource),
		DetailType: jsii.Strings(deploy.ResultDetailType),
		Detail:     &detail,
	}
}

// webhookBody is the JSON a webhook receives on AWS: the fields of
// notice.Message the run's result event carries, and its text.
func webhookBody() awsevents.RuleTargetInput {
	f := func(p string) *string { return awsevents.EventField_FromPath(jsii.String("$.detail." + p)) }
	return awsevents.RuleTargetInput_FromObject(map[string]any{
		"job": f("job"), "runId": f("id"), "status": f("status"), "cause": f("cause"), "exitCode": f("exitCode"),
		"reason": f("reason"), "attempt": f("attempt"), "startedAt": f("startedAt"), "stoppedAt": f("stoppedAt"),
		"text": notice.Template(func(p string) string { return *f(p) }),
	})
}
