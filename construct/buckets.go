package construct

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// Lifetimes of objects the stack keeps for users.
const (
	payloadDays    = 30
	accessLogDays  = 90
	incompleteDays = 7
)

// BucketsProps has nothing to choose yet beyond the construct's place.
type BucketsProps struct{}

// Buckets are the stack's S3 buckets: uploads (objects created here start
// S3-triggered jobs, through EventBridge), payloads (run payloads too large
// for ECS overrides, passed by reference) and the server access logs of both.
// All three block public access, refuse plain HTTP and are encrypted; they
// are kept when the stack is deleted (they hold users' data).
type Buckets struct {
	constructs.Construct
	Uploads    awss3.Bucket
	Payloads   awss3.Bucket
	AccessLogs awss3.Bucket
}

// NewBuckets creates the three buckets.
func NewBuckets(scope constructs.Construct, id string, _ *BucketsProps) *Buckets {
	c := constructs.NewConstruct(scope, &id)
	b := &Buckets{Construct: c}
	b.AccessLogs = awss3.NewBucket(c, jsii.String("AccessLogs"), &awss3.BucketProps{
		BlockPublicAccess: awss3.BlockPublicAccess_BLOCK_ALL(),
		Encryption:        awss3.BucketEncryption_S3_MANAGED,
		EnforceSSL:        jsii.Bool(true),
		ObjectOwnership:   awss3.ObjectOwnership_BUCKET_OWNER_ENFORCED,
		RemovalPolicy:     awscdk.RemovalPolicy_RETAIN,
		LifecycleRules: &[]*awss3.LifecycleRule{{
			Id:         jsii.String("expire-access-logs"),
			Expiration: awscdk.Duration_Days(jsii.Number(accessLogDays)),
		}},
	})
	b.Uploads = awss3.NewBucket(c, jsii.String("Uploads"), &awss3.BucketProps{
		BlockPublicAccess:      awss3.BlockPublicAccess_BLOCK_ALL(),
		Encryption:             awss3.BucketEncryption_S3_MANAGED,
		EnforceSSL:             jsii.Bool(true),
		ObjectOwnership:        awss3.ObjectOwnership_BUCKET_OWNER_ENFORCED,
		RemovalPolicy:          awscdk.RemovalPolicy_RETAIN,
		ServerAccessLogsBucket: b.AccessLogs,
		ServerAccessLogsPrefix: jsii.String("uploads/"),
		LifecycleRules: &[]*awss3.LifecycleRule{{
			Id:                                  jsii.String("abort-incomplete-uploads"),
			AbortIncompleteMultipartUploadAfter: awscdk.Duration_Days(jsii.Number(incompleteDays)),
		}},
	})
	// EventBridge notifications set on the bucket itself: the L2 property
	// would add a custom resource (a Lambda) to do what CloudFormation does.
	cfn := b.Uploads.Node().DefaultChild().(awss3.CfnBucket)
	cfn.SetNotificationConfiguration(&awss3.CfnBucket_NotificationConfigurationProperty{
		EventBridgeConfiguration: &awss3.CfnBucket_EventBridgeConfigurationProperty{EventBridgeEnabled: jsii.Bool(true)},
	})
	b.Payloads = awss3.NewBucket(c, jsii.String("Payloads"), &awss3.BucketProps{
		BlockPublicAccess:      awss3.BlockPublicAccess_BLOCK_ALL(),
		Encryption:             awss3.BucketEncryption_S3_MANAGED,
		EnforceSSL:             jsii.Bool(true),
		ObjectOwnership:        awss3.ObjectOwnership_BUCKET_OWNER_ENFORCED,
		RemovalPolicy:          awscdk.RemovalPolicy_RETAIN,
		ServerAccessLogsBucket: b.AccessLogs,
		ServerAccessLogsPrefix: jsii.String("payloads/"),
		LifecycleRules: &[]*awss3.LifecycleRule{{
			Id:                                  jsii.String("expire-payloads"),
			Expiration:                          awscdk.Duration_Days(jsii.Number(payloadDays)),
			AbortIncompleteMultipartUploadAfter: awscdk.Duration_Days(jsii.Number(incompleteDays)),
		}},
	})
	return b
}
