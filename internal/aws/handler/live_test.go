package handler_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awsecs "github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/longshore/longshore/internal/api"
	"github.com/longshore/longshore/internal/aws/ecs"
	"github.com/longshore/longshore/internal/aws/handler"
	"github.com/longshore/longshore/internal/dispatch"
	"github.com/longshore/longshore/internal/run"
	"github.com/longshore/longshore/internal/testsupport/awsfake"
)

// liveRig is the api handler over the fake store and a real ECS runner
// talking to the ECS fake, with one run launched through that runner.
type liveRig struct {
	w      *world
	ecs    *awsfake.Server
	api    *handler.API
	run    run.Run
	task   string
	stored run.Run
}

func newLiveRig(t *testing.T) *liveRig {
	w := newWorld(t)
	fe := awsfake.New(t)
	client := awsecs.New(awsecs.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(fe.URL), Retryer: aws.NopRetryer{},
		Credentials: credentials.NewStaticCredentialsProvider(awsfake.AccessKeyID, awsfake.SecretAccessKey, ""),
	})
	runner := ecs.NewRunner(client, ecs.Options{Cluster: cluster, Prefix: "longshore", Subnets: []string{"subnet-0a1b2c3d4e5f60001"}, Log: quiet})
	l := &liveRig{w: w, ecs: fe}
	l.api = handler.NewAPI(handler.APIOptions{Service: w.svc, Runs: w.store, Tasks: runner, Logs: w.logs, Prefix: "longshore",
		Log: quiet, Now: w.clock.Now})
	l.run = w.launch(t, `{"job": "hello"}`)
	spec, _ := w.jobs.Get("hello")
	ref, err := runner.Start(context.Background(), dispatch.Task{Run: l.run, Job: spec, Env: dispatch.Environment(spec, l.run)})
	if err != nil {
		t.Fatal(err)
	}
	l.task = ref
	if l.stored, err = w.store.Get(context.Background(), l.run.ID); err != nil {
		t.Fatal(err)
	}
	return l
}

func (l *liveRig) describe(status string, startedAt time.Time) {
	task := map[string]any{
		"taskArn": l.task, "clusterArn": cluster, "lastStatus": status, "startedBy": ecs.StartedBy(l.run.ID),
		"startedAt": float64(startedAt.Unix()), "version": float64(2),
		"containers": []any{map[string]any{"name": "app", "lastStatus": status}},
	}
	if status == "PROVISIONING" {
		delete(task, "startedAt") // ECS tells a start time once the task runs
	}
	if status == "STOPPED-UNSTARTED" {
		task["lastStatus"], task["stopCode"] = "STOPPED", "TaskFailedToStart"
		task["stoppedReason"] = "CannotPullContainerError: pull image manifest has been retried 5 time(s)"
		delete(task, "startedAt")
	}
	l.ecs.Describe(l.task, task)
}

func TestTheAPIShowsAStartedRunAsItsTaskIsNow(t *testing.T) {
	started := mondayMorning().Add(40 * time.Second)
	tests := []struct {
		name       string
		ecsStatus  string // "" leaves the task undescribed (MISSING)
		wantStatus run.Status
		wantTask   bool
	}{
		{"a task ECS runs shows its run running, with the task and its start", "RUNNING", run.StatusRunning, true},
		{"a task still provisioning shows its run starting, with the task", "PROVISIONING", run.StatusStarting, true},
		{"a task that has stopped shows its run running until the tracker records the end", "STOPPED", run.StatusRunning, true},
		{"a task ECS does not know shows the run as stored", "", run.StatusStarting, false},
		{"a task that stopped without starting (an image not pulled) shows its run starting, not running", "STOPPED-UNSTARTED", run.StatusStarting, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newLiveRig(t)
			if tt.ecsStatus != "" {
				l.describe(tt.ecsStatus, started)
			}
			out, err := l.api.Serve(ctx, handler.APIRequest{Op: handler.OpGet, ID: l.run.ID})
			if err != nil {
				t.Fatal(err)
			}
			got := out.(api.Run)
			listed, err := l.api.Serve(ctx, handler.APIRequest{Op: handler.OpList, Job: "hello"})
			if err != nil {
				t.Fatal(err)
			}
			runs := listed.(api.RunList).Runs
			if len(runs) != 1 {
				t.Fatalf("listed %d runs, want 1", len(runs))
			}
			shown := []api.Run{got, runs[0]}
			if strings.HasPrefix(tt.ecsStatus, "STOPPED") {
				// A list reads the cluster's active tasks, which a stopped
				// one has left: it shows the run as stored.
				if runs[0].Status != run.StatusStarting {
					t.Errorf("listed %s, want starting as stored", runs[0].Status)
				}
				shown = shown[:1]
			}
			for _, shown := range shown {
				if shown.Status != tt.wantStatus || (shown.TaskRef == l.task) != tt.wantTask {
					t.Errorf("shown %s with task %q; want %s, task shown %v", shown.Status, shown.TaskRef, tt.wantStatus, tt.wantTask)
				}
				if tt.wantStatus == run.StatusRunning && (shown.StartedAt == nil || !shown.StartedAt.Equal(started)) {
					t.Errorf("shown started at %v, want %v", shown.StartedAt, started)
				}
				if tt.wantStatus != run.StatusRunning && shown.StartedAt != nil {
					t.Errorf("a run not started is shown started at %v", shown.StartedAt)
				}
				if shown.ExitCode != nil {
					t.Errorf("a run not recorded as finished shows exit code %d", *shown.ExitCode)
				}
			}
			after, err := l.w.store.Get(ctx, l.run.ID)
			if err != nil || after.Revision != l.stored.Revision {
				t.Errorf("reading the run wrote it: revision %d, was %d (%v)", after.Revision, l.stored.Revision, err)
			}
		})
	}
}

func TestTheLogsOfARunningRunNameItsTasksStream(t *testing.T) {
	l := newLiveRig(t)
	l.describe("RUNNING", mondayMorning())
	out, err := l.api.Serve(ctx, handler.APIRequest{Op: handler.OpLogs, ID: l.run.ID})
	if err != nil {
		t.Fatal(err)
	}
	if page := out.(handler.LogsPage); page.LogStream == "" || page.Done {
		t.Errorf("logs page %+v: want the task's stream, not done", page)
	}
}
