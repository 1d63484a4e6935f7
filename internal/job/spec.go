// Package job defines the job spec (jobs/<name>/job.yaml): its types, loading,
// defaults and validation. Every host of Longshore — the local engine, the
// Lambdas and the CDK app — reads jobs through this package.
package job

import (
	"fmt"
	"strings"
	"time"
)

// Spec is one job as declared in jobs/<name>/job.yaml, after defaults.
type Spec struct {
	Name        string   `yaml:"name" json:"name"`
	Description string   `yaml:"description,omitempty" json:"description,omitempty"`
	Image       Image    `yaml:"image,omitempty" json:"image,omitempty"`
	Command     []string `yaml:"command,omitempty" json:"command,omitempty"`
	CPU         int      `yaml:"cpu,omitempty" json:"cpu"`
	Memory      int      `yaml:"memory,omitempty" json:"memory"`
	// Architecture is the CPU architecture the job's image is built for and its task runs on.
	Architecture Architecture `yaml:"architecture,omitempty" json:"architecture"`
	// Storage is the task's ephemeral storage in GiB: 0 (unset) means Fargate's default of 20 GiB.
	Storage     int               `yaml:"storage,omitempty" json:"storage,omitempty"`
	Environment map[string]string `yaml:"environment,omitempty" json:"environment,omitempty"`
	// Secrets maps an environment variable name to a reference:
	// ssm:/param/name or secretsmanager:<arn>[:json-key]. Values are resolved
	// at run time by the host, never stored.
	Secrets     map[string]string `yaml:"secrets,omitempty" json:"secrets,omitempty"`
	Timeout     Duration          `yaml:"timeout,omitempty" json:"timeout"`
	Retries     Retries           `yaml:"retries,omitempty" json:"retries"`
	Concurrency Concurrency       `yaml:"concurrency,omitempty" json:"concurrency"`
	Capacity    Capacity          `yaml:"capacity,omitempty" json:"capacity"`
	// History says how long the job's finished runs are kept.
	History History `yaml:"history,omitempty" json:"history,omitempty"`
	// Paused deploys the job paused: its schedules do not fire and its other
	// triggers are recorded as runs that did not start, until `longshore
	// resume` (see dispatch.Paused for what wins).
	Paused bool `yaml:"paused,omitempty" json:"paused,omitempty"`
	// Permissions are the statements of the inline policy of the task role
	// Longshore creates for the job: each allows its actions on its resources.
	Permissions []Permission `yaml:"permissions,omitempty" json:"permissions,omitempty"`
	// ManagedPolicies are IAM managed policy ARNs attached to that role.
	ManagedPolicies []string `yaml:"managedPolicies,omitempty" json:"managedPolicies,omitempty"`
	// TaskRole is an existing IAM role ARN the job's tasks run as, instead
	// of a role Longshore creates; not together with Permissions or
	// ManagedPolicies.
	TaskRole string `yaml:"taskRole,omitempty" json:"taskRole,omitempty"`
	// Network overrides the deployment's networking for the job's tasks.
	Network Network `yaml:"network,omitempty" json:"network,omitempty"`
	// Tags go on the job's task definition and every task it starts, beside
	// Longshore's own (keys starting with longshore:).
	Tags     map[string]string `yaml:"tags,omitempty" json:"tags,omitempty"`
	Triggers []Trigger         `yaml:"triggers,omitempty" json:"triggers,omitempty"`
	Local    Local             `yaml:"local,omitempty" json:"local,omitempty"`
	// Notify sends a message when a run ends with chosen outcomes (notify.go).
	Notify []Notify `yaml:"notify,omitempty" json:"notify,omitempty"`

	// Dir is the folder that holds job.yaml; Path is the file itself.
	Dir  string `yaml:"-" json:"-"`
	Path string `yaml:"-" json:"-"`
}

// Image says where a job's container image comes from: exactly one of
// Build (a folder with a Containerfile or Dockerfile, relative to the job's
// folder) or URI (an image reference).
type Image struct {
	Build string `yaml:"build,omitempty" json:"build,omitempty"`
	URI   string `yaml:"uri,omitempty" json:"uri,omitempty"`
}

// IsZero reports whether no image is declared.
func (i Image) IsZero() bool { return i.Build == "" && i.URI == "" }

// Retries is a job's retry policy. Attempts counts every attempt, the first
// included: 1 means no retry. Infrastructure failures (a task that never
// started or was interrupted) are retried up to Attempts; an application's
// non-zero exit is retried only when its code is listed in ExitCodes.
// Backoff is the delay before the second attempt, doubled for each later one.
type Retries struct {
	Attempts  int      `yaml:"attempts,omitempty" json:"attempts"`
	ExitCodes []int    `yaml:"exitCodes,omitempty" json:"exitCodes,omitempty"`
	Backoff   Duration `yaml:"backoff,omitempty" json:"backoff"`
}

// Concurrency bounds how many runs of a job are active at once, and says
// what a trigger does when all of them are taken. The zero value sets no
// bound (allow). In a job file it is a mapping ({max: 2, overflow: queue})
// or one of the shorthands allow, forbid ({max: 1, overflow: skip}) and
// replace ({max: 1, overflow: replace}).
type Concurrency struct {
	// Max is the number of runs of the job that may be active at once,
	// 1 to MaxConcurrency; 0 means no bound.
	Max int `yaml:"max,omitempty" json:"max,omitempty"`
	// Overflow is what a trigger does when Max runs are active.
	Overflow Overflow `yaml:"overflow,omitempty" json:"overflow,omitempty"`
}

// Overflow is what a trigger of a job does when the job's runs already
// fill its concurrency.
type Overflow string

const (
	// OverflowQueue keeps the new run queued and starts it when a run of
	// the job ends, in the order the triggers arrived.
	OverflowQueue Overflow = "queue"
	// OverflowSkip records the new run as skipped (cancelled, saying why).
	OverflowSkip Overflow = "skip"
	// OverflowReplace stops the oldest active runs and starts the new one.
	OverflowReplace Overflow = "replace"
)

// MaxConcurrency bounds a job's concurrency.max.
const MaxConcurrency = 100

// The shorthands of a concurrency policy.
var (
	// ConcurrencyAllow starts every run at once, alongside the active ones.
	ConcurrencyAllow = Concurrency{}
	// ConcurrencyForbid skips a new run while one is active.
	ConcurrencyForbid = Concurrency{Max: 1, Overflow: OverflowSkip}
	// ConcurrencyReplace stops the active run and starts the new one.
	ConcurrencyReplace = Concurrency{Max: 1, Overflow: OverflowReplace}
)

// concurrencyShorthands are the words a job file may write for a policy.
var concurrencyShorthands = map[string]Concurrency{
	"allow": ConcurrencyAllow, "forbid": ConcurrencyForbid, "replace": ConcurrencyReplace,
}

// Limited reports whether the policy bounds the job's active runs.
func (c Concurrency) Limited() bool { return c.Max > 0 }

// String is the policy as a job file would write it most briefly.
func (c Concurrency) String() string {
	for word, p := range concurrencyShorthands {
		if p == c {
			return word
		}
	}
	return fmt.Sprintf("max %d, overflow %s", c.Max, c.Overflow)
}

// History says how long a job's runs are kept once they have ended: then
// they are deleted, with their output (locally by the engine, on AWS by
// the runs table's time to live). Zero keeps them as long as the
// deployment's default (deploy.DefaultHistoryKeep unless the deployment
// sets another).
type History struct {
	Keep Duration `yaml:"keep,omitempty" json:"keep,omitempty"`
}

// Bounds of history.keep.
const (
	MinHistoryKeep = time.Hour
	MaxHistoryKeep = 3650 * 24 * time.Hour
)

// Capacity chooses between Fargate on-demand and Spot capacity.
type Capacity string

const (
	CapacityOnDemand         Capacity = "on-demand"
	CapacitySpot             Capacity = "spot"
	CapacitySpotThenOnDemand Capacity = "spot-then-on-demand"
)

// Architecture is a CPU architecture Fargate runs.
type Architecture string

const (
	ArchitectureX86_64 Architecture = "x86_64"
	ArchitectureARM64  Architecture = "arm64"
)

// ECS returns the architecture as an ECS task definition's runtime platform
// names it (cpuArchitecture): "X86_64" or "ARM64".
func (a Architecture) ECS() string { return strings.ToUpper(string(a)) }

// Platform returns the architecture as an OCI platform, for image builds:
// "linux/amd64" or "linux/arm64".
func (a Architecture) Platform() string {
	if a == ArchitectureARM64 {
		return "linux/arm64"
	}
	return "linux/amd64"
}

// Permission is one statement of a job's task role policy: it allows
// Actions (service:Action, wildcards * and ? allowed) on Resources (ARNs,
// or "*").
type Permission struct {
	Actions   []string `yaml:"actions" json:"actions"`
	Resources []string `yaml:"resources" json:"resources"`
}

// Network overrides the deployment's awsvpc settings for a job's tasks.
// What it leaves empty comes from the deployment: security groups alone
// run in the deployment's subnets, and subnets alone with its security groups.
type Network struct {
	Subnets        []string `yaml:"subnets,omitempty" json:"subnets,omitempty"`
	SecurityGroups []string `yaml:"securityGroups,omitempty" json:"securityGroups,omitempty"`
	// AssignPublicIP gives each task a public IP; nil: the deployment's default.
	AssignPublicIP *bool `yaml:"assignPublicIp,omitempty" json:"assignPublicIp,omitempty"`
}

// IsZero reports whether the job keeps the deployment's networking as is.
func (n Network) IsZero() bool {
	return len(n.Subnets) == 0 && len(n.SecurityGroups) == 0 && n.AssignPublicIP == nil
}

// Trigger is one way a job is started. Exactly one of Schedule, S3, SQS,
// Invoke or After is set.
type Trigger struct {
	// Schedule is an EventBridge Scheduler expression: cron(...), rate(...) or at(...).
	Schedule string `yaml:"schedule,omitempty" json:"schedule,omitempty"`
	// Timezone is the IANA zone the schedule is read in; UTC when empty.
	Timezone string         `yaml:"timezone,omitempty" json:"timezone,omitempty"`
	S3       *S3Trigger     `yaml:"s3,omitempty" json:"s3,omitempty"`
	SQS      *SQSTrigger    `yaml:"sqs,omitempty" json:"sqs,omitempty"`
	Invoke   *InvokeTrigger `yaml:"invoke,omitempty" json:"invoke,omitempty"`
	After    *AfterTrigger  `yaml:"after,omitempty" json:"after,omitempty"`
}

// S3Trigger starts a run for each object created in the uploads bucket whose
// key matches Prefix and Suffix.
type S3Trigger struct {
	Prefix string `yaml:"prefix,omitempty" json:"prefix,omitempty"`
	Suffix string `yaml:"suffix,omitempty" json:"suffix,omitempty"`
}

// SQSTrigger starts one run per message on the job's queue.
type SQSTrigger struct {
	// Queue names the queue; the job's name when empty.
	Queue string `yaml:"queue,omitempty" json:"queue,omitempty"`
}

// InvokeTrigger allows one-off runs started by a call. Every job may be
// started by `longshore run`; declaring it documents the intent.
type InvokeTrigger struct{}

// AfterTrigger chains jobs: a run of the job starts when a run of Job ends
// with one of Status (its last attempt: a failure that is retried does not
// count). Written `- after: {job: extract}` or
// `- after: {job: extract, status: [failed, timed_out]}`.
type AfterTrigger struct {
	// Job is the upstream job, in the same catalog.
	Job string `yaml:"job" json:"job"`
	// Status lists the upstream's final statuses that start a run:
	// succeeded, failed, timed_out or cancelled; DefaultAfterStatus when
	// not given.
	Status []string `yaml:"status,omitempty" json:"status,omitempty"`
}

// AfterStatuses are the final statuses an after trigger may name.
var AfterStatuses = []string{"succeeded", "failed", "timed_out", "cancelled"}

// Local says how to run the job as a host process when no container engine
// is at hand.
type Local struct {
	Command []string `yaml:"command,omitempty" json:"command,omitempty"`
	// Dir is the working directory, relative to the job's folder; the job's folder when empty.
	Dir string `yaml:"dir,omitempty" json:"dir,omitempty"`
}

// Duration is a time.Duration written as a Go duration string ("90s", "1h").
type Duration time.Duration

// D returns the duration as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// TriggerWords are the job's triggers in a few words each, as `longshore
// jobs` and the dashboard show them ("schedule rate(1 hour) UTC", "s3
// incoming/*.csv", "sqs orders", "invoke", "after extract (succeeded)").
// queue names an SQS trigger's
// queue where the job runs.
func (s *Spec) TriggerWords(queue func(name string) string) []string {
	var out []string
	for _, t := range s.Triggers {
		switch {
		case t.Schedule != "":
			w := "schedule " + t.Schedule
			if t.Timezone != "" {
				w += " " + t.Timezone
			}
			out = append(out, w)
		case t.S3 != nil:
			out = append(out, "s3 "+t.S3.Prefix+"*"+t.S3.Suffix)
		case t.SQS != nil:
			out = append(out, "sqs "+queue(t.SQS.Queue))
		case t.Invoke != nil:
			out = append(out, "invoke")
		case t.After != nil:
			out = append(out, "after "+t.After.Job+" ("+strings.Join(t.After.Status, ", ")+")")
		}
	}
	return out
}

// MatchS3 returns the names of the jobs with an s3 trigger matching key:
// its prefix and its suffix both match (an empty one matches any key), each
// tested on its own as S3 and EventBridge filters do. A job appears once
// even when several of its triggers match. The local S3 endpoint and the
// launcher function both start runs by it.
func MatchS3(jobs []*Spec, key string) []string {
	var out []string
	for _, j := range jobs {
		for _, t := range j.Triggers {
			if t.S3 != nil && strings.HasPrefix(key, t.S3.Prefix) && strings.HasSuffix(key, t.S3.Suffix) {
				out = append(out, j.Name)
				break
			}
		}
	}
	return out
}
