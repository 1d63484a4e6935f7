// Package ecs is the ECS side of Longshore: the Runner starts, stops and
// describes the tasks of runs on Fargate (a dispatch.TaskRunner), and the
// task state change events that EventBridge delivers are decoded here into
// the run package's domain view of a task.
package ecs

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/longshore/longshore/internal/job"
	"github.com/longshore/longshore/internal/run"
)

const (
	// EventSource is the EventBridge source of ECS events.
	EventSource = "aws.ecs"
	// TaskStateChangeType is the EventBridge detail-type of a task state change.
	TaskStateChangeType = "ECS Task State Change"
	// StartedByPrefix starts the startedBy of every task Longshore runs;
	// the run id follows it.
	StartedByPrefix = "longshore:"
)

// StartedBy is the ECS startedBy value of the task of run id.
func StartedBy(runID string) string { return StartedByPrefix + runID }

// TaskStateChange is an EventBridge "ECS Task State Change" event.
// aws-lambda-go has no type for it; the fields follow AWS's documented shape.
type TaskStateChange struct {
	Version    string     `json:"version"`
	ID         string     `json:"id"`
	DetailType string     `json:"detail-type"`
	Source     string     `json:"source"`
	Account    string     `json:"account"`
	Time       time.Time  `json:"time"`
	Region     string     `json:"region"`
	Resources  []string   `json:"resources"`
	Detail     TaskDetail `json:"detail"`
}

// TaskDetail is the detail of a task state change: the task as ECS
// describes it.
type TaskDetail struct {
	Attachments          []Attachment      `json:"attachments,omitempty"`
	AvailabilityZone     string            `json:"availabilityZone,omitempty"`
	CapacityProviderName string            `json:"capacityProviderName,omitempty"`
	ClusterARN           string            `json:"clusterArn"`
	Connectivity         string            `json:"connectivity,omitempty"`
	ConnectivityAt       *time.Time        `json:"connectivityAt,omitempty"`
	Containers           []ContainerDetail `json:"containers,omitempty"`
	CPU                  string            `json:"cpu,omitempty"`
	Memory               string            `json:"memory,omitempty"`
	CreatedAt            *time.Time        `json:"createdAt,omitempty"`
	DesiredStatus        string            `json:"desiredStatus,omitempty"`
	EnableExecuteCommand bool              `json:"enableExecuteCommand"`
	EphemeralStorage     *EphemeralStorage `json:"ephemeralStorage,omitempty"`
	Group                string            `json:"group,omitempty"`
	LaunchType           string            `json:"launchType,omitempty"`
	LastStatus           string            `json:"lastStatus"`
	Overrides            *TaskOverride     `json:"overrides,omitempty"`
	PlatformVersion      string            `json:"platformVersion,omitempty"`
	StartedBy            string            `json:"startedBy,omitempty"`
	TaskARN              string            `json:"taskArn"`
	TaskDefinitionARN    string            `json:"taskDefinitionArn,omitempty"`
	UpdatedAt            *time.Time        `json:"updatedAt,omitempty"`
	// Version increases with every change of the task: use it to drop
	// stale events.
	Version            int64      `json:"version"`
	PullStartedAt      *time.Time `json:"pullStartedAt,omitempty"`
	PullStoppedAt      *time.Time `json:"pullStoppedAt,omitempty"`
	StartedAt          *time.Time `json:"startedAt,omitempty"`
	StopCode           string     `json:"stopCode,omitempty"`
	StoppedReason      string     `json:"stoppedReason,omitempty"`
	StoppingAt         *time.Time `json:"stoppingAt,omitempty"`
	StoppedAt          *time.Time `json:"stoppedAt,omitempty"`
	ExecutionStoppedAt *time.Time `json:"executionStoppedAt,omitempty"`
}

// Attachment is an elastic network interface (or other resource) attached
// to the task.
type Attachment struct {
	ID      string         `json:"id"`
	Type    string         `json:"type"`
	Status  string         `json:"status"`
	Details []KeyValuePair `json:"details,omitempty"`
}

// KeyValuePair is a name and a value, as ECS lists attachment details and
// environment variables.
type KeyValuePair struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// EphemeralStorage is the task's scratch storage.
type EphemeralStorage struct {
	SizeInGiB int `json:"sizeInGiB"`
}

// ContainerDetail is one container of the task.
type ContainerDetail struct {
	ContainerARN string `json:"containerArn,omitempty"`
	LastStatus   string `json:"lastStatus,omitempty"`
	Name         string `json:"name"`
	Image        string `json:"image,omitempty"`
	ImageDigest  string `json:"imageDigest,omitempty"`
	RuntimeID    string `json:"runtimeId,omitempty"`
	TaskARN      string `json:"taskArn,omitempty"`
	CPU          string `json:"cpu,omitempty"`
	Memory       string `json:"memory,omitempty"`
	HealthStatus string `json:"healthStatus,omitempty"`
	// ExitCode is absent when the container never started or is running.
	ExitCode *int   `json:"exitCode,omitempty"`
	Reason   string `json:"reason,omitempty"`
}

// TaskOverride is what RunTask overrode in the task definition.
type TaskOverride struct {
	ContainerOverrides []ContainerOverride `json:"containerOverrides,omitempty"`
	CPU                string              `json:"cpu,omitempty"`
	Memory             string              `json:"memory,omitempty"`
	ExecutionRoleARN   string              `json:"executionRoleArn,omitempty"`
	TaskRoleARN        string              `json:"taskRoleArn,omitempty"`
}

// ContainerOverride is what RunTask overrode for one container.
type ContainerOverride struct {
	Name        string         `json:"name"`
	Command     []string       `json:"command,omitempty"`
	Environment []KeyValuePair `json:"environment,omitempty"`
}

// ParseTaskStateChange decodes an EventBridge event and checks that it is
// an ECS task state change about a task: source aws.ecs, detail-type
// "ECS Task State Change", a task ARN and a last status.
func ParseTaskStateChange(data []byte) (TaskStateChange, error) {
	var ev TaskStateChange
	if err := json.Unmarshal(data, &ev); err != nil {
		return TaskStateChange{}, fmt.Errorf("decode ECS task state change: %w", err)
	}
	switch {
	case ev.Source != EventSource:
		return TaskStateChange{}, fmt.Errorf("decode ECS task state change: source is %q, want %q", ev.Source, EventSource)
	case ev.DetailType != TaskStateChangeType:
		return TaskStateChange{}, fmt.Errorf("decode ECS task state change: detail-type is %q, want %q", ev.DetailType, TaskStateChangeType)
	case ev.Detail.TaskARN == "":
		return TaskStateChange{}, errors.New("decode ECS task state change: detail has no taskArn")
	case ev.Detail.LastStatus == "":
		return TaskStateChange{}, fmt.Errorf("decode ECS task state change of %s: detail has no lastStatus", ev.Detail.TaskARN)
	}
	return ev, nil
}

// RunID is the id of the run that started the task: what follows
// "longshore:" in startedBy, or "" when Longshore did not start the task
// (callers drop such events). The id is not validated here: it comes from
// ECS, and the store finds no run for an id it never made.
func (ev TaskStateChange) RunID() string {
	id, ok := strings.CutPrefix(ev.Detail.StartedBy, StartedByPrefix)
	if !ok {
		return ""
	}
	return id
}

// TaskState is the domain view of the event. essential names the
// application container (run.DefaultEssential when empty).
//
// The phase follows lastStatus: PROVISIONING, PENDING and ACTIVATING are
// pending; RUNNING is running; DEACTIVATING, STOPPING and DEPROVISIONING are
// still running when the task had started (pending when it never did);
// only STOPPED is stopped. An unknown lastStatus gives an empty phase,
// which run.Apply ignores. The capacity follows capacityProviderName
// (FARGATE_SPOT is spot) or, without one, launchType FARGATE (on-demand).
func (ev TaskStateChange) TaskState(essential string) run.TaskState {
	d := ev.Detail
	if essential == "" {
		essential = run.DefaultEssential
	}
	ts := run.TaskState{
		TaskRef:       d.TaskARN,
		RunID:         ev.RunID(),
		Version:       d.Version,
		Phase:         phase(d),
		StopCode:      d.StopCode,
		StoppedReason: d.StoppedReason,
		Essential:     essential,
		StartedAt:     copyTime(d.StartedAt),
		StoppedAt:     copyTime(d.StoppedAt),
		PullStartedAt: copyTime(d.PullStartedAt),
		PullStoppedAt: copyTime(d.PullStoppedAt),
		Capacity:      capacity(d),
	}
	for _, c := range d.Containers {
		var exit *int
		if c.ExitCode != nil {
			code := *c.ExitCode
			exit = &code
		}
		ts.Containers = append(ts.Containers, run.Container{Name: c.Name, ExitCode: exit, Reason: c.Reason})
	}
	return ts
}

// capacity is the capacity the task runs on: spot on the FARGATE_SPOT
// capacity provider (or when Spot interrupted it), on-demand on FARGATE
// (provider, or launch type without a provider: RunTask with the launch
// type); empty when the task does not say.
func capacity(d TaskDetail) job.Capacity {
	switch {
	case d.CapacityProviderName == ProviderFargateSpot, d.StopCode == run.StopCodeSpotInterruption:
		return job.CapacitySpot
	case d.CapacityProviderName == ProviderFargate, d.CapacityProviderName == "" && d.LaunchType == "FARGATE":
		return job.CapacityOnDemand
	}
	return ""
}

func phase(d TaskDetail) run.TaskPhase {
	switch d.LastStatus {
	case "PROVISIONING", "PENDING", "ACTIVATING":
		return run.PhasePending
	case "RUNNING":
		return run.PhaseRunning
	case "DEACTIVATING", "STOPPING", "DEPROVISIONING":
		if d.StartedAt == nil {
			return run.PhasePending
		}
		return run.PhaseRunning
	case "STOPPED":
		return run.PhaseStopped
	}
	return ""
}

func copyTime(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	c := *t
	return &c
}
