package ecs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awsecs "github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/longshore/longshore/internal/deploy"
	"github.com/longshore/longshore/internal/dispatch"
	"github.com/longshore/longshore/internal/job"
	"github.com/longshore/longshore/internal/run"
)

var _ dispatch.TaskRunner = (*Runner)(nil)

// API is the part of the ECS client the runner calls.
type API interface {
	RunTask(ctx context.Context, in *awsecs.RunTaskInput, optFns ...func(*awsecs.Options)) (*awsecs.RunTaskOutput, error)
	StopTask(ctx context.Context, in *awsecs.StopTaskInput, optFns ...func(*awsecs.Options)) (*awsecs.StopTaskOutput, error)
	DescribeTasks(ctx context.Context, in *awsecs.DescribeTasksInput, optFns ...func(*awsecs.Options)) (*awsecs.DescribeTasksOutput, error)
	ListTasks(ctx context.Context, in *awsecs.ListTasksInput, optFns ...func(*awsecs.Options)) (*awsecs.ListTasksOutput, error)
}

// Capacity providers of Fargate.
const (
	ProviderFargate     = "FARGATE"
	ProviderFargateSpot = "FARGATE_SPOT"
)

// Options configure a Runner.
type Options struct {
	// Cluster is the ECS cluster's ARN or name.
	Cluster string
	// Prefix names the deployment: a job's task definition family is
	// deploy.TaskFamily(Prefix, job).
	Prefix string
	// The tasks' awsvpc network.
	Subnets        []string
	SecurityGroups []string
	AssignPublicIP bool

	// Now, Sleep and Backoff drive the retries; tests give fakes. Backoff is
	// the SDK's exponential backoff with full jitter (at most MaxBackoff)
	// when nil, Sleep waits on a timer or the context.
	Now     func() time.Time
	Sleep   func(ctx context.Context, d time.Duration) error
	Backoff func(attempt int, err error) time.Duration
	// MaxAttempts bounds the calls of one operation (default 10); the
	// context's deadline bounds them too.
	MaxAttempts int
	// Reserve is left of the context's deadline when retries stop (default
	// 2s), for the caller to record the outcome.
	Reserve time.Duration
	Log     *slog.Logger
}

// MaxBackoff caps one wait between two attempts.
const MaxBackoff = 20 * time.Second

// Runner is a dispatch.TaskRunner over ECS on Fargate.
//
// Start calls RunTask for the job's task definition family
// (deploy.TaskFamily) with awsvpc networking, startedBy "longshore:<run id>",
// tags carrying the run and the job, and the run id as clientToken, so that
// a repeated Start (a retried call whose answer was lost, a trigger
// delivered twice) returns the task the first one started.
//
// Capacity: on-demand jobs use the FARGATE launch type; spot jobs the
// FARGATE_SPOT capacity provider; spot-then-on-demand jobs try FARGATE_SPOT
// and, when ECS answers that no Spot capacity is available, FARGATE with
// the client token "<run id>-on-demand" (a different request, so a
// different token). A run whose Capacity is set (the retry of a
// spot-then-on-demand job that Spot interrupted: on-demand) starts on that
// capacity instead of its job's.
//
// The container overrides of the essential container (deploy.EssentialContainer)
// carry the run's environment — what differs from the job's declared
// environment, which the task definition holds, and never a secret, which
// the task definition references — and the run's command. ECS allows 8 KiB
// of overrides; a run whose overrides would not fit is never started with
// less than it asked for (nor could the image be made to read them from
// elsewhere: overrides cannot change its entry point). Requests that would
// not fit are refused when asked (dispatch.MaxOverrideBytes), and trigger
// bodies larger than run.MaxInlineBody are passed by reference.
//
// Throttling, 5xx answers, lost connections and transient failures[] of a
// 200 answer (capacity, RESOURCE:*, AGENT) are retried with jittered
// exponential backoff while the context's deadline allows, then reported
// as a transient *dispatch.StartError; failures[] that a retry cannot fix
// and client errors are a permanent *dispatch.StartError. Give the runner a
// client that does not retry on its own (aws.NopRetryer): it does.
type Runner struct {
	api API
	o   Options
}

// NewRunner returns a runner over client.
func NewRunner(client API, o Options) *Runner {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Sleep == nil {
		o.Sleep = sleep
	}
	if o.Backoff == nil {
		b := retry.NewExponentialJitterBackoff(MaxBackoff)
		o.Backoff = func(attempt int, err error) time.Duration {
			d, berr := b.BackoffDelay(attempt, err)
			if berr != nil {
				return time.Second
			}
			return d
		}
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 10
	}
	if o.Reserve <= 0 {
		o.Reserve = 2 * time.Second
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	return &Runner{api: client, o: o}
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Start implements dispatch.TaskRunner.
func (r *Runner) Start(ctx context.Context, t dispatch.Task) (string, error) {
	if t.Job == nil {
		return "", &dispatch.StartError{Reason: "start task of run " + t.Run.ID + ": no job"}
	}
	if len(r.o.Subnets) == 0 && len(t.Job.Network.Subnets) == 0 {
		return "", &dispatch.StartError{Reason: "start task of run " + t.Run.ID + ": no subnets are configured for tasks"}
	}
	if t.Resume {
		// The run may have a task already, started more than the client
		// token's 24 hours ago: look before starting one.
		arn, err := r.Find(ctx, t.Run.ID)
		if err == nil {
			return arn, nil
		}
		if !errors.Is(err, dispatch.ErrTaskNotFound) {
			return "", &dispatch.StartError{Transient: true, Reason: "look for the task of run " + t.Run.ID, Err: err}
		}
		if age := r.o.Now().Sub(t.Run.CreatedAt); !t.Run.CreatedAt.IsZero() && age > ClientTokenWindow {
			// ECS forgets a stopped task within hours and the client token
			// after a day: a task started then would be a second one.
			return "", fmt.Errorf("run %s was created %s ago and ECS no longer lists its task: %w",
				t.Run.ID, age.Round(time.Minute), dispatch.ErrTaskNotFound)
		}
	}
	overrides, err := r.overrides(t)
	if err != nil {
		return "", err
	}
	in := r.runTaskInput(t, overrides)
	capacity := t.Job.Capacity
	if t.Run.Capacity != "" {
		capacity = t.Run.Capacity // a retry moved off Spot after an interruption
	}
	switch capacity {
	case job.CapacitySpot, job.CapacitySpotThenOnDemand:
		in.CapacityProviderStrategy = []ecstypes.CapacityProviderStrategyItem{{CapacityProvider: aws.String(ProviderFargateSpot), Weight: 1}}
	default:
		in.LaunchType = ecstypes.LaunchTypeFargate
	}
	fallback := capacity == job.CapacitySpotThenOnDemand
	arn, err := r.runTask(ctx, t.Run.ID, in, fallback)
	var se *dispatch.StartError
	if fallback && errors.As(err, &se) && noCapacity(se.Reason) {
		r.o.Log.Info("no Spot capacity: starting on demand", "run", t.Run.ID, "job", t.Run.Job, "reason", se.Reason)
		in.CapacityProviderStrategy = nil
		in.LaunchType = ecstypes.LaunchTypeFargate
		in.ClientToken = aws.String(t.Run.ID + OnDemandTokenSuffix)
		arn, err = r.runTask(ctx, t.Run.ID, in, false)
	}
	return arn, err
}

// ClientTokenWindow is how long after a run's creation a resumed Start may
// still call RunTask: ECS honours a RunTask client token for 24 hours.
const ClientTokenWindow = 23 * time.Hour

// OnDemandTokenSuffix ends the client token of the on-demand RunTask of a
// spot-then-on-demand job that found no Spot capacity.
const OnDemandTokenSuffix = "-on-demand"

func noCapacity(reason string) bool {
	return strings.Contains(strings.ToLower(reason), "capacity is unavailable")
}

func (r *Runner) runTaskInput(t dispatch.Task, o *ecstypes.TaskOverride) *awsecs.RunTaskInput {
	subnets, groups, public := r.o.Subnets, r.o.SecurityGroups, r.o.AssignPublicIP
	// A job's own network, where it names one, over the deployment's.
	if n := t.Job.Network; len(n.Subnets) > 0 {
		subnets = n.Subnets
	}
	if n := t.Job.Network; len(n.SecurityGroups) > 0 {
		groups = n.SecurityGroups
	}
	if p := t.Job.Network.AssignPublicIP; p != nil {
		public = *p
	}
	assign := ecstypes.AssignPublicIpDisabled
	if public {
		assign = ecstypes.AssignPublicIpEnabled
	}
	return &awsecs.RunTaskInput{
		Cluster:        aws.String(r.o.Cluster),
		TaskDefinition: aws.String(deploy.TaskFamily(r.o.Prefix, t.Job.Name)),
		Count:          aws.Int32(1),
		ClientToken:    aws.String(t.Run.ID),
		StartedBy:      aws.String(StartedBy(t.Run.ID)),
		NetworkConfiguration: &ecstypes.NetworkConfiguration{AwsvpcConfiguration: &ecstypes.AwsVpcConfiguration{
			Subnets: slices.Clone(subnets), SecurityGroups: slices.Clone(groups), AssignPublicIp: assign,
		}},
		Overrides:            o,
		Tags:                 taskTags(t),
		EnableECSManagedTags: true,
	}
}

// taskTags are the tags of a run's task: the job's own (job.yaml tags, for
// cost allocation), then Longshore's, which name the run and the job.
func taskTags(t dispatch.Task) []ecstypes.Tag {
	keys := make([]string, 0, len(t.Job.Tags))
	for k := range t.Job.Tags {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	tags := make([]ecstypes.Tag, 0, len(keys)+2)
	for _, k := range keys {
		tags = append(tags, ecstypes.Tag{Key: aws.String(k), Value: aws.String(t.Job.Tags[k])})
	}
	return append(tags,
		ecstypes.Tag{Key: aws.String(deploy.TagRun), Value: aws.String(t.Run.ID)},
		ecstypes.Tag{Key: aws.String(deploy.TagJob), Value: aws.String(t.Job.Name)},
	)
}

// runTask calls RunTask until it starts the task, fails for good, or the
// deadline leaves no time for another attempt. With giveWay, a failure for
// want of capacity returns at once (the caller tries other capacity).
func (r *Runner) runTask(ctx context.Context, runID string, in *awsecs.RunTaskInput, giveWay bool) (string, error) {
	var last *dispatch.StartError
	for attempt := 1; ; attempt++ {
		out, err := r.api.RunTask(ctx, in)
		var retryErr error
		switch {
		case err != nil && ctx.Err() != nil:
			return "", &dispatch.StartError{Transient: true, Reason: "ECS did not answer RunTask in time", Err: compact(err)}
		case err != nil && refused(err):
			return "", &dispatch.StartError{Reason: "ECS refused RunTask", Err: compact(err)}
		case err != nil:
			retryErr = err
			last = &dispatch.StartError{Transient: true, Throttled: throttled(err), Reason: "ECS did not start the task", Err: compact(err)}
		default:
			for _, task := range out.Tasks {
				if arn := aws.ToString(task.TaskArn); arn != "" {
					return arn, nil
				}
			}
			reason := failureReason(out.Failures)
			o := run.ClassifyStartFailure(reason)
			last = &dispatch.StartError{Transient: o.Transient, Reason: reason}
			if !o.Transient || giveWay && noCapacity(reason) {
				return "", last
			}
			retryErr = errors.New(reason)
		}
		if !r.wait(ctx, attempt, retryErr) {
			r.o.Log.Warn("run task: giving up for now", "run", runID, "attempts", attempt, "err", last)
			return "", last
		}
	}
}
