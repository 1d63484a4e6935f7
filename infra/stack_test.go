package main

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/longshore/longshore/construct"
	"github.com/longshore/longshore/internal/deploy"
)

var absent = assertions.Match_Absent()

func objectLike(m map[string]any) assertions.Matcher { return assertions.Match_ObjectLike(&m) }
func arrayWith(items ...any) assertions.Matcher      { return assertions.Match_ArrayWith(&items) }

func TestTheDefaultDeploymentProvisionsEveryResource(t *testing.T) {
	d := deployments(t).main
	tests := []struct {
		name  string
		typ   string
		props map[string]any
	}{
		{"a new VPC in two zones", "AWS::EC2::VPC", map[string]any{"CidrBlock": "10.20.0.0/16", "EnableDnsHostnames": true}},
		{"one NAT gateway for the private task subnets", "AWS::EC2::NatGateway", map[string]any{}},
		{"a free S3 gateway endpoint, so ECR layers and payloads skip NAT", "AWS::EC2::VPCEndpoint", map[string]any{
			"VpcEndpointType": "Gateway",
			"ServiceName":     objectLike(map[string]any{"Fn::Join": arrayWith(arrayWith(".s3"))}),
		}},
		{"flow logs of rejected traffic", "AWS::EC2::FlowLog", map[string]any{"TrafficType": "REJECT", "LogDestinationType": "cloud-watch-logs"}},
		{"a task security group without inbound rules", "AWS::EC2::SecurityGroup", map[string]any{
			"GroupDescription":     "Longshore tasks: outbound only, no inbound rules",
			"SecurityGroupIngress": absent,
		}},
		{"the cluster named after the prefix", "AWS::ECS::Cluster", map[string]any{"ClusterName": "longshore"}},
		{"Fargate and Fargate Spot capacity", "AWS::ECS::ClusterCapacityProviderAssociations", map[string]any{
			"CapacityProviders": []any{"FARGATE", "FARGATE_SPOT"},
		}},
		{"hello's image built from its Containerfile as an asset", "AWS::ECS::TaskDefinition", map[string]any{
			"Family": "longshore-hello", "Cpu": "256", "Memory": "512",
			"ContainerDefinitions": []any{objectLike(map[string]any{
				"Name":        deploy.EssentialContainer,
				"Essential":   true,
				"Image":       objectLike(map[string]any{"Fn::Sub": assertions.Match_StringLikeRegexp(jsii.String(`dkr\.ecr\..*container-assets`))}),
				"Environment": []any{map[string]any{"Name": "GREETING", "Value": "hello from Longshore"}},
				"StopTimeout": 30,
				"LogConfiguration": objectLike(map[string]any{
					"LogDriver": "awslogs",
					"Options":   objectLike(map[string]any{"awslogs-stream-prefix": "run"}),
				}),
			})},
			"RuntimePlatform": map[string]any{"CpuArchitecture": "X86_64", "OperatingSystemFamily": "LINUX"},
		}},
		{"soak on Spot stops within the two minutes' notice", "AWS::ECS::TaskDefinition", map[string]any{
			"Family": "longshore-soak", "Cpu": "2048", "Memory": "4096",
			"ContainerDefinitions": []any{objectLike(map[string]any{
				"Name":        deploy.EssentialContainer,
				"StopTimeout": 120,
			})},
		}},
		{"each job's log group with retention", "AWS::Logs::LogGroup", map[string]any{
			"LogGroupName": deploy.LogGroup("longshore", "nightly-report"), "RetentionInDays": 30,
		}},
		{"the nightly schedule in Berlin time, window off, retried, with a dead-letter queue", "AWS::Scheduler::Schedule", map[string]any{
			"Name":                       deploy.ScheduleName("longshore", "nightly-report", 0),
			"GroupName":                  deploy.ScheduleGroupName("longshore"),
			"ScheduleExpression":         "cron(0 3 * * ? *)",
			"ScheduleExpressionTimezone": "Europe/Berlin",
			"FlexibleTimeWindow":         map[string]any{"Mode": "OFF"},
			"State":                      "ENABLED",
			"Target": objectLike(map[string]any{
				"Input":            `{"job":"nightly-report","scheduledTime":"<aws.scheduler.scheduled-time>","scheduleArn":"<aws.scheduler.schedule-arn>","executionId":"<aws.scheduler.execution-id>"}`,
				"RetryPolicy":      map[string]any{"MaximumEventAgeInSeconds": 3600, "MaximumRetryAttempts": 185},
				"DeadLetterConfig": objectLike(map[string]any{}),
			}),
		}},
		{"the uploads bucket: private, encrypted, logged, notifying EventBridge", "AWS::S3::Bucket", map[string]any{
			"PublicAccessBlockConfiguration": map[string]any{
				"BlockPublicAcls": true, "BlockPublicPolicy": true, "IgnorePublicAcls": true, "RestrictPublicBuckets": true,
			},
			"BucketEncryption": objectLike(map[string]any{
				"ServerSideEncryptionConfiguration": []any{objectLike(map[string]any{
					"ServerSideEncryptionByDefault": map[string]any{"SSEAlgorithm": "AES256"},
				})},
			}),
			"NotificationConfiguration": map[string]any{"EventBridgeConfiguration": map[string]any{"EventBridgeEnabled": true}},
			"LoggingConfiguration":      objectLike(map[string]any{"LogFilePrefix": "uploads/"}),
		}},
		{"buckets refuse plain HTTP", "AWS::S3::BucketPolicy", map[string]any{
			"PolicyDocument": objectLike(map[string]any{"Statement": arrayWith(objectLike(map[string]any{
				"Effect": "Deny", "Action": "s3:*",
				"Condition": map[string]any{"Bool": map[string]any{"aws:SecureTransport": "false"}},
			}))}),
		}},
		{"thumbnail's rule matches .jpg keys under incoming/", "AWS::Events::Rule", map[string]any{
			"EventPattern": objectLike(map[string]any{
				"source": []any{"aws.s3"}, "detail-type": []any{"Object Created"},
				"detail": objectLike(map[string]any{
					"object": map[string]any{"key": []any{map[string]any{"wildcard": "incoming/*.jpg"}}},
				}),
			}),
			"Targets": []any{objectLike(map[string]any{
				"DeadLetterConfig": objectLike(map[string]any{}),
				"RetryPolicy":      map[string]any{"MaximumEventAgeInSeconds": 7200, "MaximumRetryAttempts": 185},
			})},
		}},
		{"the orders queue, encrypted, redriven to its dead-letter queue", "AWS::SQS::Queue", map[string]any{
			"QueueName":            deploy.QueueName("longshore", "orders"),
			"SqsManagedSseEnabled": true,
			"VisibilityTimeout":    360,
			"RedrivePolicy":        objectLike(map[string]any{"maxReceiveCount": 5}),
		}},
		{"the orders dead-letter queue", "AWS::SQS::Queue", map[string]any{
			"QueueName": deploy.DeadLetterQueueName("longshore", "orders"), "MessageRetentionPeriod": 1209600,
		}},
		{"queues refuse plain HTTP", "AWS::SQS::QueuePolicy", map[string]any{
			"PolicyDocument": objectLike(map[string]any{"Statement": arrayWith(objectLike(map[string]any{
				"Effect": "Deny", "Action": "sqs:*",
				"Condition": map[string]any{"Bool": map[string]any{"aws:SecureTransport": "false"}},
			}))}),
		}},
		{"the launcher reads the orders queue reporting failed items", "AWS::Lambda::EventSourceMapping", map[string]any{
			"FunctionName":          map[string]any{"Ref": d.logicalID(d.stack.Functions.Launcher.Function)},
			"FunctionResponseTypes": []any{"ReportBatchItemFailures"},
			"BatchSize":             10,
			"ScalingConfig":         map[string]any{"MaximumConcurrency": 5},
		}},
		{"the runs table: on demand, point-in-time recovery, TTL, indexes", "AWS::DynamoDB::Table", map[string]any{
			"BillingMode":                      "PAY_PER_REQUEST",
			"PointInTimeRecoverySpecification": map[string]any{"PointInTimeRecoveryEnabled": true},
			"TimeToLiveSpecification":          map[string]any{"AttributeName": deploy.RunsTableTTL, "Enabled": true},
			"KeySchema":                        []any{map[string]any{"AttributeName": deploy.RunsTableKey, "KeyType": "HASH"}},
			"GlobalSecondaryIndexes": arrayWith(
				objectLike(map[string]any{"IndexName": deploy.RunsByJobIndex, "KeySchema": []any{
					map[string]any{"AttributeName": deploy.RunsJobAttr, "KeyType": "HASH"},
					map[string]any{"AttributeName": deploy.RunsCreatedAttr, "KeyType": "RANGE"},
				}}),
				objectLike(map[string]any{"IndexName": deploy.RunsByStatusIndex}),
				objectLike(map[string]any{"IndexName": deploy.RunsUnreportedIndex, "Projection": map[string]any{"ProjectionType": "ALL"}}),
			),
		}},
		{"the results bus", "AWS::Events::EventBus", map[string]any{"Name": deploy.EventBusName("longshore")}},
		{"every result event kept in the results log group", "AWS::Events::Rule", map[string]any{
			"EventBusName": objectLike(map[string]any{}),
			"EventPattern": map[string]any{"source": []any{deploy.ResultSource}, "detail-type": []any{deploy.ResultDetailType}},
		}},
		{"failed and timed-out runs counted", "AWS::Logs::MetricFilter", map[string]any{
			"FilterPattern": `{ ($.detail.status = "failed") || ($.detail.status = "timed_out") }`,
			"MetricTransformations": []any{objectLike(map[string]any{
				"MetricNamespace": "Longshore/longshore", "MetricName": "RunsFailed", "MetricValue": "1",
			})},
		}},
		{"the tracker gets this cluster's stopped tasks", "AWS::Events::Rule", map[string]any{
			"EventPattern": map[string]any{
				"source": []any{"aws.ecs"}, "detail-type": []any{"ECS Task State Change"},
				"detail": map[string]any{
					"clusterArn": []any{map[string]any{"Fn::GetAtt": []any{d.logicalID(d.stack.Cluster.Cluster), "Arn"}}},
					"lastStatus": []any{"STOPPED"},
				},
			},
			"Targets": []any{objectLike(map[string]any{
				"Arn": map[string]any{"Fn::GetAtt": []any{d.logicalID(d.stack.Functions.Tracker.Function), "Arn"}},
			})},
		}},
		{"the reconciler every minute, so timeouts and backoffs are late by a minute at most", "AWS::Events::Rule", map[string]any{
			"ScheduleExpression": "rate(1 minute)",
			"Targets": []any{objectLike(map[string]any{
				"Arn": map[string]any{"Fn::GetAtt": []any{d.logicalID(d.stack.Functions.Reconciler.Function), "Arn"}},
			})},
		}},
		{"failed asynchronous invocations kept in the events dead letters", "AWS::Lambda::EventInvokeConfig", map[string]any{
			"MaximumRetryAttempts": 2,
			"DestinationConfig": map[string]any{"OnFailure": map[string]any{
				"Destination": map[string]any{"Fn::GetAtt": []any{d.logicalID(d.stack.DeadLetters.Events), "Arn"}},
			}},
		}},
		{"an alarm when the schedules' dead letters hold a message", "AWS::CloudWatch::Alarm", map[string]any{
			"AlarmName": "longshore-schedules-dead-letters", "MetricName": "ApproximateNumberOfMessagesVisible",
			"Threshold": 1, "ComparisonOperator": "GreaterThanOrEqualToThreshold",
		}},
		{"an alarm when the orders dead letters hold a message", "AWS::CloudWatch::Alarm", map[string]any{
			"AlarmName": "longshore-queue-orders-dead-letters",
		}},
		{"an alarm when the launcher fails", "AWS::CloudWatch::Alarm", map[string]any{
			"AlarmName": "longshore-launcher-errors", "MetricName": "Errors", "Namespace": "AWS/Lambda",
		}},
		{"an alarm when runs fail", "AWS::CloudWatch::Alarm", map[string]any{
			"AlarmName": "longshore-runs-failed", "MetricName": "RunsFailed", "Namespace": "Longshore/longshore",
			"TreatMissingData": "notBreaching",
		}},
	}
	// The functions every run invokes have Lambda's least memory (make bench
	// prices each run at the template's memory: docs/benchmarks.md).
	functionMemoryMB := map[string]int{
		deploy.FunctionLauncher: 128, deploy.FunctionTracker: 128, deploy.FunctionReconciler: 256, deploy.FunctionAPI: 256,
	}
	for _, fn := range construct.FunctionNames {
		tests = append(tests, struct {
			name  string
			typ   string
			props map[string]any
		}{"the " + fn + " function on provided.al2023, arm64, with its own log group", "AWS::Lambda::Function", map[string]any{
			"FunctionName":  deploy.FunctionName("longshore", fn),
			"Runtime":       "provided.al2023",
			"Architectures": []any{"arm64"},
			"Handler":       "bootstrap",
			"MemorySize":    functionMemoryMB[fn],
			"LoggingConfig": objectLike(map[string]any{"LogGroup": map[string]any{"Ref": assertions.Match_StringLikeRegexp(jsii.String("^Functions" + strings.ToUpper(fn[:1]) + fn[1:] + "Logs"))}}),
			"Environment": map[string]any{"Variables": objectLike(map[string]any{
				deploy.EnvPrefix:         "longshore",
				deploy.EnvCluster:        map[string]any{"Fn::GetAtt": []any{d.logicalID(d.stack.Cluster.Cluster), "Arn"}},
				deploy.EnvSubnets:        objectLike(map[string]any{"Fn::Join": arrayWith(",")}),
				deploy.EnvSecurityGroups: objectLike(map[string]any{"Fn::GetAtt": arrayWith("GroupId")}),
				deploy.EnvAssignPublicIP: "false",
				deploy.EnvRunsTable:      map[string]any{"Ref": d.logicalID(d.stack.Table.Table)},
				deploy.EnvEventBus:       map[string]any{"Ref": d.logicalID(d.stack.Results.Bus)},
				deploy.EnvPayloadBucket:  map[string]any{"Ref": d.logicalID(d.stack.Buckets.Payloads)},
				deploy.EnvUploadsBucket:  map[string]any{"Ref": d.logicalID(d.stack.Buckets.Uploads)},
			})},
		}}, struct {
			name  string
			typ   string
			props map[string]any
		}{"the " + fn + " log group with retention", "AWS::Logs::LogGroup", map[string]any{
			"LogGroupName": "/aws/lambda/" + deploy.FunctionName("longshore", fn), "RetentionInDays": 30,
		}})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { d.hasResource(t, tt.typ, tt.props) })
	}
}

func TestEveryJobGetsATaskDefinitionAndEveryTriggerItsResource(t *testing.T) {
	d := deployments(t).main
	counts := map[string]int{
		"AWS::ECS::TaskDefinition":        5, // hello, nightly-report, orders, soak, thumbnail
		"AWS::Scheduler::Schedule":        2, // nightly-report, soak
		"AWS::Lambda::EventSourceMapping": 1, // orders
		"AWS::Lambda::Function":           4,
		"AWS::IAM::Role":                  2*5 + 4 + 1 + 1, // two per job, one per function, Scheduler's, the VPC flow log's
		"AWS::Events::Rule":               4,               // thumbnail's uploads, task state changes, reconciler, results to logs
	}
	for typ, want := range counts {
		t.Run(typ, func(t *testing.T) {
			assert(t, typ, func() { d.template.ResourceCountIs(jsii.String(typ), jsii.Number(want)) })
		})
	}
}

func TestTheScheduleInputDecodesAsTheLaunchersPayload(t *testing.T) {
	d := deployments(t).main
	for id, r := range d.resources("AWS::Scheduler::Schedule") {
		input := r["Properties"].(map[string]any)["Target"].(map[string]any)["Input"].(string)
		var p deploy.SchedulePayload
		if err := json.Unmarshal([]byte(input), &p); err != nil {
			t.Fatalf("%s: input %s: %v", id, input, err)
		}
		want := deploy.SchedulePayload{
			Job: p.Job, ScheduledTime: deploy.SchedulerScheduledTime,
			ScheduleArn: deploy.SchedulerScheduleArn, ExecutionID: deploy.SchedulerExecutionID,
		}
		if p != want || (p.Job != "nightly-report" && p.Job != "soak") {
			t.Errorf("%s: payload %+v, want %+v for nightly-report or soak", id, p, want)
		}
	}
}

func TestTheOutputsLetTheCLIFindTheDeployment(t *testing.T) {
	d := deployments(t).main
	outputs := d.json["Outputs"].(map[string]any)
	keys := []string{
		deploy.OutputClusterArn, deploy.OutputLauncherFunction, deploy.OutputTrackerFunction,
		deploy.OutputReconcilerFunction, deploy.OutputAPIFunction, deploy.OutputUploadsBucket,
		deploy.OutputPayloadBucket, deploy.OutputRunsTable, deploy.OutputEventBus,
		deploy.OutputResultsLogGroup, deploy.OutputSchedulesDeadLetters,
	}
	for _, key := range keys {
		t.Run(key, func(t *testing.T) {
			o, ok := outputs[key].(map[string]any)
			if !ok {
				t.Fatalf("no output %s among %v", key, slices.Sorted(maps.Keys(outputs)))
			}
			if got, want := flatten(o["Export"].(map[string]any)["Name"]), deploy.ExportName("longshore", key); got != want {
				t.Errorf("export name = %s, want %s", got, want)
			}
		})
	}
	t.Run("the orders queue URL", func(t *testing.T) {
		o, ok := outputs[deploy.OutputQueueURLPrefix+"Orders"].(map[string]any)
		if !ok {
			t.Fatalf("no queue output among %v", slices.Sorted(maps.Keys(outputs)))
		}
		if got, want := flatten(o["Export"].(map[string]any)["Name"]), deploy.QueueURLExport("longshore", "orders"); got != want {
			t.Errorf("export name = %s, want %s", got, want)
		}
		if got := flatten(o["Value"]); got != "${"+d.logicalID(d.stack.Queues.Queues[0].Queue)+"}" {
			t.Errorf("value = %s, want the queue's Ref (its URL)", got)
		}
	})
	t.Run("the launcher's name", func(t *testing.T) {
		o := outputs[deploy.OutputLauncherFunction].(map[string]any)
		if got := flatten(o["Value"]); got != "${"+d.logicalID(d.stack.Functions.Launcher.Function)+"}" {
			t.Errorf("value = %s", got)
		}
	})
}

func TestAnExistingNetworkIsUsedAsGiven(t *testing.T) {
	d := deployments(t).alt
	for _, typ := range []string{"AWS::EC2::VPC", "AWS::EC2::NatGateway", "AWS::EC2::Subnet"} {
		if n := len(d.resources(typ)); n != 0 {
			t.Errorf("%d %s in a deployment into an existing VPC", n, typ)
		}
	}
	d.hasResource(t, "AWS::EC2::SecurityGroup", map[string]any{"VpcId": "vpc-0123456789abcdef0", "SecurityGroupIngress": absent})
	d.hasResource(t, "AWS::Lambda::Function", map[string]any{
		"FunctionName": deploy.FunctionName("alt", deploy.FunctionLauncher),
		"Environment": map[string]any{"Variables": objectLike(map[string]any{
			deploy.EnvSubnets: "subnet-0aaaaaaaaaaaaaaaa,subnet-0bbbbbbbbbbbbbbbb", deploy.EnvPrefix: "alt",
		})},
	})
	d.hasResource(t, "AWS::ECS::Cluster", map[string]any{
		"ClusterName":     "alt",
		"ClusterSettings": []any{map[string]any{"Name": "containerInsights", "Value": "enabled"}},
	})
	d.hasResource(t, "AWS::Logs::LogGroup", map[string]any{"LogGroupName": deploy.LogGroup("alt", "vault"), "RetentionInDays": 7})
	d.hasResource(t, "AWS::CloudWatch::Alarm", map[string]any{
		"AlarmName":    "alt-runs-failed",
		"AlarmActions": []any{"arn:aws:sns:eu-west-1:123456789012:oncall"},
		"OKActions":    []any{"arn:aws:sns:eu-west-1:123456789012:oncall"},
	})
}

func TestUploadRulesFilterKeysAsTheTriggersSay(t *testing.T) {
	d := deployments(t).alt
	keysOf := map[string]string{}
	for _, r := range d.resources("AWS::Events::Rule") {
		props := r["Properties"].(map[string]any)
		desc, _ := props["Description"].(string)
		pattern, _ := props["EventPattern"].(map[string]any)
		if !strings.Contains(desc, "uploads bucket") {
			continue
		}
		b, _ := json.Marshal(pattern["detail"])
		keysOf[desc] = string(b)
	}
	bucket := d.logicalID(d.stack.Buckets.Uploads)
	want := map[string]string{
		"Longshore job vault: objects created in the uploads bucket": fmt.Sprintf(`{"bucket":{"name":[{"Ref":"%s"}]},"object":{"key":[{"prefix":"in/"},{"suffix":".csv"}]}}`, bucket),
		"Longshore job plain: objects created in the uploads bucket": fmt.Sprintf(`{"bucket":{"name":[{"Ref":"%s"}]}}`, bucket),
	}
	if len(keysOf) != len(want) {
		t.Fatalf("upload rules %v, want %v", keysOf, want)
	}
	for desc, w := range want {
		if keysOf[desc] != w {
			t.Errorf("%s:\n got %s\nwant %s", desc, keysOf[desc], w)
		}
	}
}
