package handler_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"testing/fstest"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awsecs "github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/longshore/longshore/internal/api"
	"github.com/longshore/longshore/internal/aws/ecs"
	"github.com/longshore/longshore/internal/aws/handler"
	"github.com/longshore/longshore/internal/dispatch"
	"github.com/longshore/longshore/internal/dispatch/fake"
	"github.com/longshore/longshore/internal/job"
	"github.com/longshore/longshore/internal/run"
	"github.com/longshore/longshore/internal/testsupport/awsfake"
)

func TestASpotInterruptionIsRetriedOnTheCapacityTheJobAsksFor(t *testing.T) {
	const spotStrategy = "[map[capacityProvider:FARGATE_SPOT weight:1]]"
	tests := []struct {
		name     string
		capacity job.Capacity
		// what the second RunTask asks for: a launch type, or (nil) Spot
		launchType any
		reason     string
	}{
		{"a spot-then-on-demand job is retried on on-demand capacity (FARGATE), and its run says so",
			job.CapacitySpotThenOnDemand, "FARGATE",
			"interrupted on Fargate Spot (SpotInterruption): retried on on-demand capacity"},
		{"a spot job is retried on Spot, as it asks, and its run says it was a Spot interruption",
			job.CapacitySpot, nil,
			"interrupted on Fargate Spot (SpotInterruption): retried on Fargate Spot, as the job's capacity spot asks"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rig := newSpotRig(t, tt.capacity)
			out, err := rig.launcher.Handle(ctx, json.RawMessage(`{"job": "render"}`))
			if err != nil {
				t.Fatalf("launch: %v", err)
			}
			first := out.(api.RunResponse).Run
			calls := rig.ecs.Calls("RunTask")
			if len(calls) != 1 || fmt.Sprint(calls[0].Body["capacityProviderStrategy"]) != spotStrategy {
				t.Fatalf("the first attempt's RunTask calls: %v; want one on FARGATE_SPOT", calls)
			}
			arn, _ := rig.ecs.Task(first.ID)

			res, err := rig.tracker.Handle(ctx, rig.interrupted(first.ID, arn))
			if err != nil || !res.Applied {
				t.Fatalf("tracker = %+v, %v; want the interruption applied", res, err)
			}

			interrupted, err := rig.store.Get(ctx, first.ID)
			if err != nil {
				t.Fatal(err)
			}
			if interrupted.Status != run.StatusFailed || interrupted.Cause != run.CauseInterrupted || interrupted.Reason != tt.reason {
				t.Errorf("interrupted run: %s/%s %q\nwant failed/interrupted %q", interrupted.Status, interrupted.Cause, interrupted.Reason, tt.reason)
			}
			if interrupted.NextRunID == "" {
				t.Fatal("the interrupted run was not retried")
			}
			calls = rig.ecs.Calls("RunTask")
			if len(calls) != 2 {
				t.Fatalf("%d RunTask calls, want 2: the retry starts at once", len(calls))
			}
			retry := calls[1].Body
			if retry["startedBy"] != ecs.StartedBy(interrupted.NextRunID) || retry["launchType"] != tt.launchType {
				t.Errorf("retry's RunTask: startedBy %v launchType %v; want %s, %v", retry["startedBy"], retry["launchType"], ecs.StartedBy(interrupted.NextRunID), tt.launchType)
			}
			strategy := fmt.Sprint(retry["capacityProviderStrategy"])
			if tt.launchType != nil && retry["capacityProviderStrategy"] != nil || tt.launchType == nil && strategy != spotStrategy {
				t.Errorf("retry's capacityProviderStrategy = %s beside launchType %v", strategy, retry["launchType"])
			}

			next, err := rig.store.Get(ctx, interrupted.NextRunID)
			if err != nil {
				t.Fatal(err)
			}
			wantMark := job.Capacity("")
			if tt.capacity == job.CapacitySpotThenOnDemand {
				wantMark = job.CapacityOnDemand
			}
			if next.Attempt != 2 || next.Capacity != wantMark {
				t.Errorf("next attempt %d on %q, want attempt 2 on %q", next.Attempt, next.Capacity, wantMark)
			}
			if shown := api.FromRun(next); shown.Capacity != wantMark {
				t.Errorf("the run JSON shows capacity %q, want %q", shown.Capacity, wantMark)
			}
			if n := len(rig.notes.Reports()); n != 0 {
				t.Errorf("%d reports of a run that was retried, want none", n)
			}
		})
	}
}

// spotRig is the launcher and the tracker over the fake store and a real
// ECS runner talking to the ECS fake, with one job, render, on capacity.
type spotRig struct {
	ecs      *awsfake.Server
	store    *fake.Store
	notes    *fake.Notifier
	launcher *handler.Launcher
	tracker  *handler.Tracker
	t        *testing.T
}

func newSpotRig(t *testing.T, capacity job.Capacity) *spotRig {
	files := fstest.MapFS{"render/job.yaml": {Data: []byte("image: {uri: busybox}\ncapacity: " + string(capacity) +
		"\nretries: {attempts: 2, backoff: 0s}\ntriggers: [invoke]\n")}}
	cat, err := job.Load(files, "jobs", job.Options{SkipFiles: true})
	if err != nil {
		t.Fatal(err)
	}
	fe := awsfake.New(t)
	client := awsecs.New(awsecs.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(fe.URL), Retryer: aws.NopRetryer{},
		Credentials: credentials.NewStaticCredentialsProvider(awsfake.AccessKeyID, awsfake.SecretAccessKey, ""),
	})
	clock := fake.NewClock(mondayMorning())
	runner := ecs.NewRunner(client, ecs.Options{Cluster: cluster, Prefix: "longshore", Subnets: []string{"subnet-0a1b2c3d4e5f60001"},
		Now: clock.Now, Log: quiet})
	rig := &spotRig{ecs: fe, store: fake.NewStore(), notes: &fake.Notifier{}, t: t}
	n := 0
	svc := dispatch.New(dispatch.Deps{Jobs: cat, Store: rig.store, Runner: runner, Notifier: rig.notes, Now: clock.Now, Log: quiet,
		NewID: func() (string, error) { n++; return fmt.Sprintf("r-%016x", n), nil }})
	rig.launcher = handler.NewLauncher(handler.LauncherOptions{Service: svc, Runs: rig.store, Jobs: cat, Prefix: "longshore",
		Now: clock.Now, Log: quiet})
	rig.tracker = handler.NewTracker(handler.TrackerOptions{Service: svc, Cluster: cluster, Log: quiet})
	return rig
}

// interrupted is the STOPPED event of a run's task that Fargate Spot
// reclaimed: the Spot fixture, for that task.
func (rig *spotRig) interrupted(runID, taskARN string) json.RawMessage {
	return edit(rig.t, "ecs-task-stopped-spot.json", func(ev map[string]any) {
		ev["resources"] = []any{taskARN}
		d := ev["detail"].(map[string]any)
		d["taskArn"], d["startedBy"], d["group"] = taskARN, ecs.StartedBy(runID), "family:longshore-render"
		delete(d, "launchType")
		d["capacityProviderName"] = ecs.ProviderFargateSpot
		for _, c := range d["containers"].([]any) {
			c.(map[string]any)["taskArn"] = taskARN
		}
	})
}
