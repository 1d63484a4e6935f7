package handler_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/scheduler"
	"github.com/aws/aws-sdk-go-v2/service/scheduler/types"

	"github.com/longshore/longshore/internal/api"
	"github.com/longshore/longshore/internal/aws/handler"
	"github.com/longshore/longshore/internal/aws/schedules"
	"github.com/longshore/longshore/internal/run"
)

func (w *world) pause(t *testing.T, op, jobName, reason string) api.PauseResponse {
	t.Helper()
	out, err := w.api.Serve(ctx, handler.APIRequest{Op: op, Job: jobName, Reason: reason})
	if err != nil {
		t.Fatalf("%s %s: %v", op, jobName, err)
	}
	return out.(api.PauseResponse)
}

func TestAJobPausedThroughTheAPIFunctionDropsItsSchedulesAndRecordsItsOtherTriggers(t *testing.T) {
	w := newWorld(t)
	if got := w.pause(t, handler.OpPause, "hello", "warehouse migration"); !got.Paused || got.PausedReason != "warehouse migration" || got.PausedSince == nil {
		t.Fatalf("pause answered %+v; want paused since now, with the reason", got)
	}
	w.pause(t, handler.OpPause, "nightly-report", "")

	r := w.launch(t, `{"job": "hello"}`)
	if r.Status != run.StatusCancelled || r.Reason != "did not start: job paused (warehouse migration)" || w.runner.Count() != 0 {
		t.Errorf("an invoke of a paused job made run %s %q and %d tasks; want a cancelled run saying why, no task", r.Status, r.Reason, w.runner.Count())
	}
	before := len(w.runs())
	out, err := w.launcher.Handle(ctx, schedulePayload("nightly-report", "2026-11-23T03:00:00Z"))
	if err != nil {
		t.Fatalf("a schedule firing for a paused job: %v", err)
	}
	if res := out.(handler.LaunchResult); len(res.Runs) != 0 || res.Ignored != "job nightly-report is paused: its schedules start nothing" {
		t.Errorf("the launcher answered %+v for a paused job's schedule; want no run and why", res)
	}
	if len(w.runs()) != before {
		t.Errorf("a paused job's schedule recorded a run; want it dropped")
	}

	out, err = w.api.Serve(ctx, handler.APIRequest{Op: handler.OpPauses})
	if err != nil {
		t.Fatal(err)
	}
	paused := map[string]bool{}
	for _, j := range out.(handler.PausesPage).Jobs {
		paused[j.Job] = j.Paused
	}
	if !paused["hello"] || !paused["nightly-report"] || paused["resize"] || len(paused) != len(w.jobs.Jobs()) {
		t.Errorf("pauses = %v; want every job, hello and nightly-report paused", paused)
	}

	if got := w.pause(t, handler.OpResume, "hello", ""); got.Paused || got.PausedReason != "" {
		t.Errorf("resume answered %+v; want active", got)
	}
	if r := w.launch(t, `{"job": "hello"}`); r.Status != run.StatusStarting {
		t.Errorf("an invoke after the resume made a %s run, want it starting", r.Status)
	}
}

func TestPausingAnUnknownJobIsARequestError(t *testing.T) {
	w := newWorld(t)
	_, err := w.api.Serve(ctx, handler.APIRequest{Op: handler.OpPause, Job: "nope"})
	if errorType(err) != handler.ErrorRequest || !strings.Contains(errorMessage(err), `unknown job "nope"`) {
		t.Errorf("pause of an unknown job = %v (%s); want a RequestError naming it", err, errorType(err))
	}
}

// fakeScheduler keeps schedules as Scheduler does: UpdateSchedule replaces
// one whole.
type fakeScheduler struct {
	s       map[string]*scheduler.GetScheduleOutput
	updates int
}

func (f *fakeScheduler) GetSchedule(_ context.Context, in *scheduler.GetScheduleInput, _ ...func(*scheduler.Options)) (*scheduler.GetScheduleOutput, error) {
	got, ok := f.s[*in.GroupName+"/"+*in.Name]
	if !ok {
		return nil, &types.ResourceNotFoundException{Message: aws.String("Schedule " + *in.Name + " does not exist.")}
	}
	c := *got
	return &c, nil
}

func (f *fakeScheduler) UpdateSchedule(_ context.Context, in *scheduler.UpdateScheduleInput, _ ...func(*scheduler.Options)) (*scheduler.UpdateScheduleOutput, error) {
	f.updates++
	f.s[*in.GroupName+"/"+*in.Name] = &scheduler.GetScheduleOutput{
		Name: in.Name, GroupName: in.GroupName, ScheduleExpression: in.ScheduleExpression,
		ScheduleExpressionTimezone: in.ScheduleExpressionTimezone, FlexibleTimeWindow: in.FlexibleTimeWindow,
		Target: in.Target, Description: in.Description, State: in.State,
	}
	return &scheduler.UpdateScheduleOutput{}, nil
}

func TestTheReconcilerDisablesThePausedJobsSchedulesAndEnablesThemOnResume(t *testing.T) {
	w := newWorld(t)
	deployed := &scheduler.GetScheduleOutput{
		Name: aws.String("longshore-nightly-report-0"), GroupName: aws.String("longshore"),
		ScheduleExpression: aws.String("cron(0 3 * * ? *)"), ScheduleExpressionTimezone: aws.String("Europe/Paris"),
		FlexibleTimeWindow: &types.FlexibleTimeWindow{Mode: types.FlexibleTimeWindowModeOff},
		Target: &types.Target{Arn: aws.String("arn:aws:lambda:us-east-1:111122223333:function:longshore-launcher"),
			RoleArn: aws.String("arn:aws:iam::111122223333:role/schedules"), Input: aws.String(`{"job":"nightly-report"}`)},
		Description: aws.String("Longshore job nightly-report, triggers[0]"), State: types.ScheduleStateEnabled,
	}
	sched := &fakeScheduler{s: map[string]*scheduler.GetScheduleOutput{"longshore/longshore-nightly-report-0": deployed}}
	w.reconciler.WithSchedules(&schedules.Sync{
		Switch: &schedules.Switch{API: sched, Prefix: "longshore"},
		Jobs:   w.jobs.Jobs(),
		Paused: func(ctx context.Context, name string) (bool, error) {
			st, err := w.svc.PauseState(ctx, name)
			return st.Paused, err
		},
	})
	sweep := func() handler.ReconcileResult {
		t.Helper()
		res, err := w.reconciler.Handle(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	if res := sweep(); res.SchedulesSwitched != 0 || sched.updates != 0 {
		t.Fatalf("a sweep with nothing paused switched %d schedules", sched.updates)
	}
	w.pause(t, handler.OpPause, "nightly-report", "")
	if res := sweep(); res.SchedulesSwitched != 1 {
		t.Errorf("the sweep after a pause switched %d schedules, want 1", res.SchedulesSwitched)
	}
	got := sched.s["longshore/longshore-nightly-report-0"]
	if got.State != types.ScheduleStateDisabled {
		t.Errorf("the paused job's schedule is %s, want DISABLED", got.State)
	}
	if *got.ScheduleExpression != "cron(0 3 * * ? *)" || *got.ScheduleExpressionTimezone != "Europe/Paris" || *got.Target.Input != `{"job":"nightly-report"}` ||
		*got.Target.RoleArn != "arn:aws:iam::111122223333:role/schedules" || *got.Description != "Longshore job nightly-report, triggers[0]" {
		t.Errorf("the disabled schedule changed besides its state: %+v %+v", got, got.Target)
	}
	if sweep(); sched.updates != 1 {
		t.Errorf("a second sweep updated the schedule again (%d updates)", sched.updates)
	}
	w.pause(t, handler.OpResume, "nightly-report", "")
	sweep()
	if got := sched.s["longshore/longshore-nightly-report-0"]; got.State != types.ScheduleStateEnabled {
		t.Errorf("the resumed job's schedule is %s, want ENABLED", got.State)
	}
}
