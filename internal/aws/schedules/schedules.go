// Package schedules turns a job's EventBridge Scheduler schedules on and
// off: a job paused at runtime (`longshore pause --aws`) has its schedules
// disabled, not deleted, and enabled again as they were on resume.
package schedules

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/scheduler"
	"github.com/aws/aws-sdk-go-v2/service/scheduler/types"

	"github.com/longshore/longshore/internal/deploy"
	"github.com/longshore/longshore/internal/job"
)

// API is the part of the Scheduler client the switch calls.
type API interface {
	GetSchedule(ctx context.Context, in *scheduler.GetScheduleInput, optFns ...func(*scheduler.Options)) (*scheduler.GetScheduleOutput, error)
	UpdateSchedule(ctx context.Context, in *scheduler.UpdateScheduleInput, optFns ...func(*scheduler.Options)) (*scheduler.UpdateScheduleOutput, error)
}

// Switch enables and disables the schedules a deployment made for its jobs
// (deploy.ScheduleName, in the group deploy.ScheduleGroupName).
type Switch struct {
	API    API
	Prefix string
}

// SetEnabled enables or disables every schedule of a job. Scheduler's
// UpdateSchedule replaces a schedule whole, so each is read and written
// back as it is, with only its state changed; a schedule already in that
// state is left alone. A schedule the deployment does not have (the job
// has no schedule trigger, or its stack is older) is skipped. It returns
// how many schedules it changed.
func (s *Switch) SetEnabled(ctx context.Context, spec *job.Spec, enabled bool) (int, error) {
	want := types.ScheduleStateDisabled
	if enabled {
		want = types.ScheduleStateEnabled
	}
	group := deploy.ScheduleGroupName(s.Prefix)
	changed := 0
	var errs []error
	for i, tr := range spec.Triggers {
		if tr.Schedule == "" {
			continue
		}
		name := deploy.ScheduleName(s.Prefix, spec.Name, i)
		cur, err := s.API.GetSchedule(ctx, &scheduler.GetScheduleInput{Name: aws.String(name), GroupName: aws.String(group)})
		var nf *types.ResourceNotFoundException
		if errors.As(err, &nf) {
			continue
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("read schedule %s: %w", name, err))
			continue
		}
		if cur.State == want {
			continue
		}
		_, err = s.API.UpdateSchedule(ctx, &scheduler.UpdateScheduleInput{
			Name:                       cur.Name,
			GroupName:                  cur.GroupName,
			ScheduleExpression:         cur.ScheduleExpression,
			ScheduleExpressionTimezone: cur.ScheduleExpressionTimezone,
			FlexibleTimeWindow:         cur.FlexibleTimeWindow,
			Target:                     cur.Target,
			Description:                cur.Description,
			StartDate:                  cur.StartDate,
			EndDate:                    cur.EndDate,
			KmsKeyArn:                  cur.KmsKeyArn,
			ActionAfterCompletion:      cur.ActionAfterCompletion,
			State:                      want,
		})
		if err != nil {
			errs = append(errs, fmt.Errorf("set schedule %s %s: %w", name, want, err))
			continue
		}
		changed++
	}
	return changed, errors.Join(errs...)
}

// Sync keeps every job's schedules enabled or disabled as the job's pause
// state says (dispatch.Paused: the job file's paused, overridden by
// `longshore pause` and `resume`). The reconciler runs it every minute, so
// a pause or resume reaches the schedules within a minute, and a switch
// that failed is tried again. It remembers what it applied, and asks
// Scheduler again only when a job's state changes (and once per job when
// the function starts).
type Sync struct {
	Switch interface {
		SetEnabled(ctx context.Context, spec *job.Spec, enabled bool) (int, error)
	}
	Jobs []*job.Spec
	// Paused tells whether a job is paused now (dispatch.Service.PauseState).
	Paused func(ctx context.Context, jobName string) (bool, error)

	applied map[string]bool // job name: enabled, as last switched
}

// Run switches the schedules of the jobs whose state changed, and returns
// how many schedules it changed.
func (s *Sync) Run(ctx context.Context) (int, error) {
	if s.applied == nil {
		s.applied = map[string]bool{}
	}
	switched := 0
	var errs []error
	for _, spec := range s.Jobs {
		if !hasSchedule(spec) {
			continue
		}
		paused, err := s.Paused(ctx, spec.Name)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		enabled := !paused
		if was, ok := s.applied[spec.Name]; ok && was == enabled {
			continue
		}
		n, err := s.Switch.SetEnabled(ctx, spec, enabled)
		switched += n
		if err != nil {
			errs = append(errs, fmt.Errorf("switch the schedules of %s: %w", spec.Name, err))
			continue
		}
		s.applied[spec.Name] = enabled
	}
	return switched, errors.Join(errs...)
}

func hasSchedule(spec *job.Spec) bool {
	for _, tr := range spec.Triggers {
		if tr.Schedule != "" {
			return true
		}
	}
	return false
}
