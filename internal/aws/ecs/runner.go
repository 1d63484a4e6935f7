package ecs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awsecs "github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/smithy-go"

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

// MaxOverrides is ECS's limit on a RunTask's overrides, counted as the
// characters of their JSON.
const MaxOverrides = 8192

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

// wait sleeps before attempt+1 and reports whether that attempt may be made:
// not past MaxAttempts, and the wait plus the reserve fit before the
// context's deadline.
func (r *Runner) wait(ctx context.Context, attempt int, err error) bool {
	if attempt >= r.o.MaxAttempts || ctx.Err() != nil {
		return false
	}
	d := r.o.Backoff(attempt, err)
	if deadline, ok := ctx.Deadline(); ok && r.o.Now().Add(d+r.o.Reserve).After(deadline) {
		return false
	}
	return r.o.Sleep(ctx, d) == nil
}

// call runs op with the same retries as RunTask's API errors.
func (r *Runner) call(ctx context.Context, op func() error) error {
	for attempt := 1; ; attempt++ {
		err := op()
		if err == nil || !retryable(err) || !r.wait(ctx, attempt, err) {
			return err
		}
	}
}

// refused reports whether ECS answered RunTask with an error a retry cannot
// clear. An error that is not ECS's answer (one the SDK could not read, a
// connection lost after the request was sent) leaves the outcome unknown:
// the task may have started, so the call is repeated with the same client
// token, which ECS answers with that task, rather than the run failed.
func refused(err error) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && !retryable(err)
}

// retryable reports whether an API error may clear on its own: what the
// SDK's standard retryer retries (throttling, 5xx, lost connections) and
// ECS's ServerException.
func retryable(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var ae smithy.APIError
	if errors.As(err, &ae) && ae.ErrorCode() == "ServerException" {
		return true
	}
	return retry.IsErrorRetryables(retry.DefaultRetryables).IsErrorRetryable(err) == aws.TrueTernary
}

// throttled reports whether ECS refused the call for its rate (the Fargate
// launch token bucket): the caller waits before starting other runs.
func throttled(err error) bool {
	return retry.IsErrorThrottles(retry.DefaultThrottles).IsErrorThrottle(err) == aws.TrueTernary
}

// compact is an API error as its code and message ("ClientException:
// TaskDefinition is inactive"), without the SDK's request trace: it ends
// up in a run's reason.
func compact(err error) error {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return fmt.Errorf("%s: %s", ae.ErrorCode(), ae.ErrorMessage())
	}
	var de *smithy.DeserializationError
	if errors.As(err, &de) {
		return fmt.Errorf("its answer could not be read (%v)", de.Err)
	}
	return err
}

// failureReason joins the failures of a RunTask answer into one reason.
func failureReason(fs []ecstypes.Failure) string {
	if len(fs) == 0 {
		return "ECS started no task and gave no reason"
	}
	parts := make([]string, 0, len(fs))
	for _, f := range fs {
		p := aws.ToString(f.Reason)
		if d := aws.ToString(f.Detail); d != "" {
			p += " (" + d + ")"
		}
		if a := aws.ToString(f.Arn); a != "" {
			p += " for " + a
		}
		parts = append(parts, p)
	}
	return strings.Join(parts, "; ")
}

// wireOverride is a container override as ECS counts it: the JSON of the
// request's overrides.
type wireOverrides struct {
	ContainerOverrides []wireOverride `json:"containerOverrides"`
}

type wireOverride struct {
	Name        string    `json:"name"`
	Command     []string  `json:"command,omitempty"`
	Environment []wireEnv `json:"environment,omitempty"`
}

type wireEnv struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// overrides builds the task's container overrides. What does not fit ECS's
// 8 KiB is never cut nor sent elsewhere: the task is not started (run
// requests are refused before that, dispatch.MaxOverrideBytes, and trigger
// bodies are kept apart, run.MaxInlineBody, so this is a last guard).
func (r *Runner) overrides(t dispatch.Task) (*ecstypes.TaskOverride, error) {
	env := map[string]string{}
	for k, v := range t.Env {
		if _, secret := t.Job.Secrets[k]; secret {
			continue // never in plain text; the task definition references it
		}
		if jv, ok := t.Job.Environment[k]; ok && jv == v {
			continue // the task definition holds it
		}
		env[k] = v
	}
	w := wireOverride{Name: deploy.EssentialContainer, Command: t.Command, Environment: wireVars(env)}
	if size := overridesSize(w); size > MaxOverrides {
		return nil, &dispatch.StartError{Reason: fmt.Sprintf(
			"start task of run %s: its environment and command take %d bytes of overrides, and ECS allows %d: nothing was started",
			t.Run.ID, size, MaxOverrides)}
	}
	o := ecstypes.ContainerOverride{Name: aws.String(w.Name), Command: w.Command}
	for _, e := range w.Environment {
		o.Environment = append(o.Environment, ecstypes.KeyValuePair{Name: aws.String(e.Name), Value: aws.String(e.Value)})
	}
	return &ecstypes.TaskOverride{ContainerOverrides: []ecstypes.ContainerOverride{o}}, nil
}

func wireVars(env map[string]string) []wireEnv {
	out := make([]wireEnv, 0, len(env))
	for _, k := range slices.Sorted(maps.Keys(env)) {
		out = append(out, wireEnv{Name: k, Value: env[k]})
	}
	return out
}

// overridesSize is the length of the overrides' JSON. Go escapes more than
// ECS counts (<, >, &), so this errs on the safe side.
func overridesSize(w wireOverride) int {
	b, _ := json.Marshal(wireOverrides{ContainerOverrides: []wireOverride{w}})
	return len(b)
}

// MaxStopReason is the longest reason StopTask takes.
const MaxStopReason = 255

// Stop implements dispatch.TaskRunner. A task ECS does not know is not an error.
func (r *Runner) Stop(ctx context.Context, taskRef, reason string) error {
	reason = "longshore: " + reason
	if len(reason) > MaxStopReason {
		reason = reason[:MaxStopReason]
	}
	err := r.call(ctx, func() error {
		_, err := r.api.StopTask(ctx, &awsecs.StopTaskInput{Cluster: aws.String(r.o.Cluster), Task: aws.String(taskRef), Reason: aws.String(reason)})
		return err
	})
	if err != nil && !taskNotFound(err) {
		return fmt.Errorf("stop task %s: %w", taskRef, err)
	}
	return nil
}

// Find returns the ARN of the task started for run id (its startedBy), running
// or recently stopped (ECS lists stopped tasks for about an hour), or
// dispatch.ErrTaskNotFound. ListTasks is not billed.
func (r *Runner) Find(ctx context.Context, runID string) (string, error) {
	for _, desired := range []ecstypes.DesiredStatus{ecstypes.DesiredStatusRunning, ecstypes.DesiredStatusStopped} {
		var out *awsecs.ListTasksOutput
		err := r.call(ctx, func() error {
			var err error
			out, err = r.api.ListTasks(ctx, &awsecs.ListTasksInput{
				Cluster: aws.String(r.o.Cluster), StartedBy: aws.String(StartedBy(runID)), DesiredStatus: desired,
			})
			return err
		})
		if err != nil {
			return "", fmt.Errorf("list the tasks of run %s: %w", runID, err)
		}
		if len(out.TaskArns) > 0 {
			return out.TaskArns[0], nil
		}
	}
	return "", fmt.Errorf("find the task of run %s: %w", runID, dispatch.ErrTaskNotFound)
}

// MaxActive bounds the tasks Active reads: ten pages of ListTasks.
const MaxActive = 1000

// Active describes this cluster's tasks that are meant to run (desired
// status RUNNING: provisioning, pending or running), by the id of the run
// that started them; tasks not started by Longshore are left out. It reads
// at most MaxActive tasks, one ListTasks and one DescribeTasks per hundred.
// Neither call is billed.
func (r *Runner) Active(ctx context.Context) (map[string]run.TaskState, error) {
	var arns []string
	var token *string
	for len(arns) < MaxActive {
		var out *awsecs.ListTasksOutput
		err := r.call(ctx, func() error {
			var err error
			out, err = r.api.ListTasks(ctx, &awsecs.ListTasksInput{
				Cluster: aws.String(r.o.Cluster), DesiredStatus: ecstypes.DesiredStatusRunning, NextToken: token,
			})
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("list the cluster's tasks: %w", err)
		}
		arns = append(arns, out.TaskArns...)
		if token = out.NextToken; token == nil {
			break
		}
	}
	active := make(map[string]run.TaskState, len(arns))
	for batch := range slices.Chunk(arns, 100) {
		var out *awsecs.DescribeTasksOutput
		err := r.call(ctx, func() error {
			var err error
			out, err = r.api.DescribeTasks(ctx, &awsecs.DescribeTasksInput{Cluster: aws.String(r.o.Cluster), Tasks: batch})
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("describe the cluster's tasks: %w", err)
		}
		for _, t := range out.Tasks {
			if ts := TaskStateOf(t); ts.RunID != "" {
				active[ts.RunID] = ts
			}
		}
	}
	return active, nil
}

// taskNotFound reports an ECS answer saying the task does not exist.
func taskNotFound(err error) bool {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return false
	}
	msg := strings.ToLower(ae.ErrorMessage())
	return (ae.ErrorCode() == "InvalidParameterException" || ae.ErrorCode() == "ClientException") &&
		(strings.Contains(msg, "not found") || strings.Contains(msg, "does not exist"))
}

// Describe implements dispatch.TaskRunner. A task ECS no longer knows
// (failures[] with reason MISSING, or no task) is dispatch.ErrTaskNotFound.
func (r *Runner) Describe(ctx context.Context, taskRef string) (run.TaskState, error) {
	var out *awsecs.DescribeTasksOutput
	err := r.call(ctx, func() error {
		var err error
		out, err = r.api.DescribeTasks(ctx, &awsecs.DescribeTasksInput{Cluster: aws.String(r.o.Cluster), Tasks: []string{taskRef}})
		return err
	})
	if err != nil {
		if taskNotFound(err) {
			return run.TaskState{}, fmt.Errorf("describe task %s: %w", taskRef, dispatch.ErrTaskNotFound)
		}
		return run.TaskState{}, fmt.Errorf("describe task %s: %w", taskRef, err)
	}
	for _, t := range out.Tasks {
		if aws.ToString(t.TaskArn) == taskRef || len(out.Tasks) == 1 {
			return TaskStateOf(t), nil
		}
	}
	for _, f := range out.Failures {
		if aws.ToString(f.Reason) != "MISSING" {
			return run.TaskState{}, fmt.Errorf("describe task %s: %s", taskRef, failureReason(out.Failures))
		}
	}
	return run.TaskState{}, fmt.Errorf("describe task %s: %w", taskRef, dispatch.ErrTaskNotFound)
}

// DescribeAll implements dispatch.BatchDescriber: DescribeTasks a hundred
// tasks at a time. Tasks ECS no longer knows (MISSING) are left out.
func (r *Runner) DescribeAll(ctx context.Context, taskRefs []string) (map[string]run.TaskState, error) {
	out := make(map[string]run.TaskState, len(taskRefs))
	for batch := range slices.Chunk(taskRefs, 100) {
		var got *awsecs.DescribeTasksOutput
		err := r.call(ctx, func() error {
			var err error
			got, err = r.api.DescribeTasks(ctx, &awsecs.DescribeTasksInput{Cluster: aws.String(r.o.Cluster), Tasks: batch})
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("describe %d tasks: %w", len(batch), err)
		}
		for _, f := range got.Failures {
			if aws.ToString(f.Reason) != "MISSING" {
				return nil, fmt.Errorf("describe %d tasks: %s", len(batch), failureReason(got.Failures))
			}
		}
		for _, t := range got.Tasks {
			out[aws.ToString(t.TaskArn)] = TaskStateOf(t)
		}
	}
	return out, nil
}

// TaskStateOf is the domain view of a task as DescribeTasks returns it, read
// as the task state change events are (the essential container is
// deploy.EssentialContainer).
func TaskStateOf(t ecstypes.Task) run.TaskState {
	d := TaskDetail{
		ClusterARN:    aws.ToString(t.ClusterArn),
		LastStatus:    aws.ToString(t.LastStatus),
		StartedBy:     aws.ToString(t.StartedBy),
		TaskARN:       aws.ToString(t.TaskArn),
		Version:       t.Version,
		StopCode:      string(t.StopCode),
		StoppedReason: aws.ToString(t.StoppedReason),
		StartedAt:     t.StartedAt,
		StoppedAt:     t.StoppedAt,
		PullStartedAt: t.PullStartedAt,
		PullStoppedAt: t.PullStoppedAt,
		// The capacity the task runs on, for its cost.
		CapacityProviderName: aws.ToString(t.CapacityProviderName),
		LaunchType:           string(t.LaunchType),
	}
	for _, c := range t.Containers {
		cd := ContainerDetail{Name: aws.ToString(c.Name), LastStatus: aws.ToString(c.LastStatus), Reason: aws.ToString(c.Reason)}
		if c.ExitCode != nil {
			code := int(*c.ExitCode)
			cd.ExitCode = &code
		}
		d.Containers = append(d.Containers, cd)
	}
	return TaskStateChange{Detail: d}.TaskState(deploy.EssentialContainer)
}

// TaskID is the id of a task: the last part of its ARN.
func TaskID(taskARN string) string {
	if i := strings.LastIndexByte(taskARN, '/'); i >= 0 {
		return taskARN[i+1:]
	}
	return taskARN
}
