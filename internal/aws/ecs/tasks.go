package ecs

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsecs "github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/smithy-go"

	"github.com/longshore/longshore/internal/deploy"
	"github.com/longshore/longshore/internal/dispatch"
	"github.com/longshore/longshore/internal/run"
)

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
