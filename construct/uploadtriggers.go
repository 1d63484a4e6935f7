package construct

import (
	"strings"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/longshore/longshore/internal/job"
)

// How long EventBridge keeps trying to hand an event to a function before
// it goes to the dead-letter queue.
const (
	ruleMaxEventAge = 2 * time.Hour
	ruleMaxRetries  = 185
)

// UploadTriggersProps lists the jobs whose S3 triggers become rules.
type UploadTriggersProps struct {
	Jobs        []*job.Spec
	Bucket      awss3.IBucket
	Launcher    awslambda.IFunction
	DeadLetters awssqs.IQueue
}

// UploadTriggers are the EventBridge rules, one per job with S3 triggers,
// that send the uploads bucket's "Object Created" events whose key matches
// one of the job's triggers to the launcher, as EventBridge delivers them
// (source aws.s3, the key unencoded). An object matching several jobs
// reaches the launcher once per matching rule.
type UploadTriggers struct {
	constructs.Construct
	Rules map[string]awsevents.Rule
}

// NewUploadTriggers creates the rules.
func NewUploadTriggers(scope constructs.Construct, id string, props *UploadTriggersProps) *UploadTriggers {
	c := constructs.NewConstruct(scope, &id)
	u := &UploadTriggers{Construct: c, Rules: map[string]awsevents.Rule{}}
	for _, spec := range props.Jobs {
		var s3 []job.S3Trigger
		for _, tr := range spec.Triggers {
			if tr.S3 != nil {
				s3 = append(s3, *tr.S3)
			}
		}
		if len(s3) == 0 {
			continue
		}
		object := map[string]interface{}{}
		if keys := keyFilters(s3); keys != nil {
			object["key"] = keys
		}
		detail := map[string]interface{}{
			"bucket": map[string]interface{}{"name": []*string{props.Bucket.BucketName()}},
		}
		if len(object) > 0 {
			detail["object"] = object
		}
		rule := awsevents.NewRule(c, jsii.String(pascal(spec.Name)), &awsevents.RuleProps{
			Description: jsii.String("Longshore job " + spec.Name + ": objects created in the uploads bucket"),
			EventPattern: &awsevents.EventPattern{
				Source:     jsii.Strings("aws.s3"),
				DetailType: jsii.Strings("Object Created"),
				Detail:     &detail,
			},
		})
		rule.AddTarget(awseventstargets.NewLambdaFunction(props.Launcher, &awseventstargets.LambdaFunctionProps{
			DeadLetterQueue: props.DeadLetters,
			MaxEventAge:     awscdk.Duration_Seconds(jsii.Number(ruleMaxEventAge.Seconds())),
			RetryAttempts:   jsii.Number(ruleMaxRetries),
		}))
		u.Rules[spec.Name] = rule
	}
	return u
}

// keyFilters is the EventBridge content filter on detail.object.key that
// matches any of the triggers (the filters of one field are alternatives):
// {"prefix": P}, {"suffix": S}, or, for both, {"wildcard": "P*S"} with P
// and S escaped. It is nil when a trigger matches every key.
func keyFilters(triggers []job.S3Trigger) []map[string]string {
	var out []map[string]string
	for _, t := range triggers {
		switch {
		case t.Prefix == "" && t.Suffix == "":
			return nil
		case t.Suffix == "":
			out = append(out, map[string]string{"prefix": t.Prefix})
		case t.Prefix == "":
			out = append(out, map[string]string{"suffix": t.Suffix})
		default:
			out = append(out, map[string]string{"wildcard": escapeWildcard(t.Prefix) + "*" + escapeWildcard(t.Suffix)})
		}
	}
	return out
}

// escapeWildcard escapes the characters special in an EventBridge wildcard
// pattern: * and \.
func escapeWildcard(s string) string {
	return strings.NewReplacer(`\`, `\\`, `*`, `\*`).Replace(s)
}
