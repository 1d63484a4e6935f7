package construct

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsscheduler"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/longshore/longshore/internal/deploy"
	"github.com/longshore/longshore/internal/job"
)

// Scheduler's retry policy for a schedule's invocation of the launcher: it
// retries with back-off while the invocation fails (throttling, the
// function unavailable) for up to scheduleMaxEventAge, then sends the
// payload to the dead-letter queue. A run started that late is still
// wanted; the launcher's idempotency key (job + scheduled minute) makes
// retries safe.
const (
	scheduleMaxEventAge = time.Hour
	scheduleMaxRetries  = 185
)

// SchedulesProps lists the jobs whose schedule triggers become schedules.
type SchedulesProps struct {
	Prefix      string
	Jobs        []*job.Spec
	Launcher    awslambda.IFunction
	DeadLetters awssqs.IQueue
}

// Schedules are the EventBridge Scheduler schedules of the catalog, one
// per schedule trigger (deploy.ScheduleName, in the group
// deploy.ScheduleGroupName), each invoking the launcher with a
// deploy.SchedulePayload in the trigger's timezone, flexible window off.
type Schedules struct {
	constructs.Construct
	Group     awsscheduler.CfnScheduleGroup
	Role      awsiam.Role
	Schedules []awsscheduler.CfnSchedule
}

// NewSchedules creates the group, the role Scheduler invokes the launcher
// with, and the schedules.
func NewSchedules(scope constructs.Construct, id string, props *SchedulesProps) (*Schedules, error) {
	c := constructs.NewConstruct(scope, &id)
	stack := awscdk.Stack_Of(c)
	s := &Schedules{Construct: c}
	s.Group = awsscheduler.NewCfnScheduleGroup(c, jsii.String("Group"), &awsscheduler.CfnScheduleGroupProps{
		Name: jsii.String(deploy.ScheduleGroupName(props.Prefix)),
	})
	s.Role = awsiam.NewRole(c, jsii.String("Role"), &awsiam.RoleProps{
		AssumedBy: awsiam.NewServicePrincipal(jsii.String("scheduler.amazonaws.com"), &awsiam.ServicePrincipalOpts{
			Conditions: &map[string]interface{}{
				"StringEquals": map[string]interface{}{"aws:SourceAccount": stack.Account()},
			},
		}),
		Description: jsii.String("Longshore schedules: invoke the launcher, or park the payload in the dead-letter queue"),
	})
	s.Role.AddToPrincipalPolicy(statement("InvokeLauncher", []string{"lambda:InvokeFunction"},
		[]*string{props.Launcher.FunctionArn()}, nil))
	s.Role.AddToPrincipalPolicy(statement("SendToDeadLetters", []string{"sqs:SendMessage"},
		[]*string{props.DeadLetters.QueueArn()}, nil))

	for _, spec := range props.Jobs {
		for i, tr := range spec.Triggers {
			if tr.Schedule == "" {
				continue
			}
			input, err := scheduleInput(spec.Name)
			if err != nil {
				return nil, fmt.Errorf("encode the schedule payload of %s: %w", spec.Name, err)
			}
			tz := tr.Timezone
			if tz == "" {
				tz = "UTC"
			}
			// A job deployed paused keeps its schedules, disabled: nothing
			// fires, and resuming enables them as they are.
			state := "ENABLED"
			if spec.Paused {
				state = "DISABLED"
			}
			sched := awsscheduler.NewCfnSchedule(c, jsii.String(fmt.Sprintf("%s%d", pascal(spec.Name), i)), &awsscheduler.CfnScheduleProps{
				Name:                       jsii.String(deploy.ScheduleName(props.Prefix, spec.Name, i)),
				GroupName:                  s.Group.Name(),
				Description:                jsii.String(fmt.Sprintf("Longshore job %s, triggers[%d]", spec.Name, i)),
				ScheduleExpression:         jsii.String(tr.Schedule),
				ScheduleExpressionTimezone: jsii.String(tz),
				FlexibleTimeWindow:         &awsscheduler.CfnSchedule_FlexibleTimeWindowProperty{Mode: jsii.String("OFF")},
				State:                      jsii.String(state),
				Target: &awsscheduler.CfnSchedule_TargetProperty{
					Arn:     props.Launcher.FunctionArn(),
					RoleArn: s.Role.RoleArn(),
					Input:   jsii.String(input),
					RetryPolicy: &awsscheduler.CfnSchedule_RetryPolicyProperty{
						MaximumEventAgeInSeconds: jsii.Number(scheduleMaxEventAge.Seconds()),
						MaximumRetryAttempts:     jsii.Number(scheduleMaxRetries),
					},
					DeadLetterConfig: &awsscheduler.CfnSchedule_DeadLetterConfigProperty{Arn: props.DeadLetters.QueueArn()},
				},
			})
			sched.Node().AddDependency(s.Group)
			s.Schedules = append(s.Schedules, sched)
		}
	}
	return s, nil
}

// GrantSwitch lets a role disable and enable the schedules, as pause and
// resume ask: read and update each of them, by ARN (an update names the
// role Scheduler invokes the launcher with, so the role may pass that role
// to Scheduler, and to nothing else).
func (s *Schedules) GrantSwitch(role awsiam.IRole) {
	if len(s.Schedules) == 0 {
		return
	}
	arns := make([]*string, len(s.Schedules))
	for i, sched := range s.Schedules {
		arns[i] = sched.AttrArn()
	}
	role.AddToPrincipalPolicy(statement("SwitchSchedules", []string{"scheduler:GetSchedule", "scheduler:UpdateSchedule"}, arns, nil))
	role.AddToPrincipalPolicy(statement("PassSchedulesRole", []string{"iam:PassRole"}, []*string{s.Role.RoleArn()},
		map[string]interface{}{"StringEquals": map[string]interface{}{"iam:PassedToService": "scheduler.amazonaws.com"}}))
}

// scheduleInput is the target input of a job's schedules: a
// deploy.SchedulePayload holding Scheduler's placeholders, written without
// HTML escaping (json.Marshal would turn "<" into "\u003c", and Scheduler
// would no longer see its placeholders).
func scheduleInput(jobName string) (string, error) {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	err := enc.Encode(deploy.SchedulePayload{
		Job:           jobName,
		ScheduledTime: deploy.SchedulerScheduledTime,
		ScheduleArn:   deploy.SchedulerScheduleArn,
		ExecutionID:   deploy.SchedulerExecutionID,
	})
	return strings.TrimSuffix(b.String(), "\n"), err
}
