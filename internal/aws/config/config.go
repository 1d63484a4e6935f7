// Package config is the configuration of the Lambda functions: the
// environment variables the CDK app sets (named in package deploy), read
// once at cold start into a typed Config. A variable that is missing or
// malformed fails the cold start with a message naming it.
package config

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/longshore/longshore/internal/deploy"
	"github.com/longshore/longshore/internal/job"
)

// Function names one of the four functions; each needs its own set of
// variables (Required).
type Function string

const (
	Launcher   Function = deploy.FunctionLauncher
	Tracker    Function = deploy.FunctionTracker
	Reconciler Function = deploy.FunctionReconciler
	API        Function = deploy.FunctionAPI
)

// EnvRegion is the region the functions run in; Lambda sets it.
const EnvRegion = "AWS_REGION"

// Config is what a function knows about its deployment.
type Config struct {
	Function Function
	// Prefix names the deployment (deploy.DefaultPrefix when unset).
	Prefix string
	Region string
	// Cluster is the ECS cluster's ARN.
	Cluster string
	// Subnets and SecurityGroups are the tasks' awsvpc network.
	Subnets        []string
	SecurityGroups []string
	AssignPublicIP bool
	RunsTable      string
	// EventBus receives the result events (a name or an ARN).
	EventBus string
	// PayloadBucket keeps payloads too large for ECS overrides.
	PayloadBucket string
	// UploadsBucket is the bucket whose objects trigger S3 jobs (launcher only).
	UploadsBucket string
	// CallbackBuses are the event bus ARNs beside EventBus that a callback
	// of kind event may name.
	CallbackBuses []string
	// CatalogDir holds the deployed catalog's <name>/job.yaml files
	// (deploy.EnvCatalog; deploy.CatalogDir, the catalog layer, when unset).
	CatalogDir string
	// MaxRunning bounds the runs active at once in the deployment; 0 sets
	// no bound.
	MaxRunning int
	// HistoryKeep is how long finished runs are kept when their job does
	// not say (deploy.DefaultHistoryKeep when unset).
	HistoryKeep time.Duration
}

// Limits of ECS awsvpc configurations.
const (
	MaxSubnets        = 16
	MaxSecurityGroups = 5
)

var (
	prefixRe  = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,31}$`)
	regionRe  = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)
	clusterRe = regexp.MustCompile(`^arn:aws[a-z-]*:ecs:[a-z0-9-]+:[0-9]{12}:cluster/[A-Za-z0-9_-]{1,255}$`)
	subnetRe  = regexp.MustCompile(`^subnet-[0-9a-f]{8,17}$`)
	sgRe      = regexp.MustCompile(`^sg-[0-9a-f]{8,17}$`)
	tableRe   = regexp.MustCompile(`^[A-Za-z0-9_.-]{3,255}$`)
	busRe     = regexp.MustCompile(`^([A-Za-z0-9._/-]{1,256}|arn:aws[a-z-]*:events:[a-z0-9-]+:[0-9]{12}:event-bus/[A-Za-z0-9._/-]{1,256})$`)
	busArnRe  = regexp.MustCompile(`^arn:aws[a-z-]*:events:[a-z0-9-]+:[0-9]{12}:event-bus/[A-Za-z0-9._/-]{1,256}$`)
	bucketRe  = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)
)

// Required lists the variables a function cannot start without. The
// launcher, the tracker and the reconciler start tasks (the tracker for
// retries, the reconciler for runs that are due), so they need the
// network and the payload bucket; the api function reads, stops and reports
// runs. LONGSHORE_PREFIX and LONGSHORE_ASSIGN_PUBLIC_IP are optional for all.
func Required(fn Function) []string {
	base := []string{EnvRegion, deploy.EnvCluster, deploy.EnvRunsTable, deploy.EnvEventBus}
	starts := []string{deploy.EnvSubnets, deploy.EnvSecurityGroups, deploy.EnvPayloadBucket}
	switch fn {
	case Launcher:
		return slices.Concat(base, starts, []string{deploy.EnvUploadsBucket})
	case Tracker, Reconciler:
		return slices.Concat(base, starts)
	}
	return base
}

// Load reads the configuration of fn from getenv (os.Getenv in main). It
// reports every problem at once, each naming its variable.
func Load(fn Function, getenv func(string) string) (Config, error) {
	switch fn {
	case Launcher, Tracker, Reconciler, API:
	default:
		return Config{}, fmt.Errorf("configure function %q: unknown function (want launcher, tracker, reconciler or api)", fn)
	}
	l := loader{getenv: getenv, required: Required(fn)}
	c := Config{Function: fn}
	c.Prefix = l.str(deploy.EnvPrefix, prefixRe, "a lower-case name of letters, digits and '-', at most 32 characters")
	if c.Prefix == "" {
		c.Prefix = deploy.DefaultPrefix
	}
	c.Region = l.str(EnvRegion, regionRe, "a region such as eu-west-1")
	c.Cluster = l.str(deploy.EnvCluster, clusterRe, "an ECS cluster ARN (arn:aws:ecs:REGION:ACCOUNT:cluster/NAME)")
	c.Subnets = l.list(deploy.EnvSubnets, subnetRe, "subnet ids (subnet-0123abcd)", MaxSubnets)
	c.SecurityGroups = l.list(deploy.EnvSecurityGroups, sgRe, "security group ids (sg-0123abcd)", MaxSecurityGroups)
	c.AssignPublicIP = l.boolean(deploy.EnvAssignPublicIP)
	c.RunsTable = l.str(deploy.EnvRunsTable, tableRe, "a DynamoDB table name")
	c.EventBus = l.str(deploy.EnvEventBus, busRe, "an event bus name or ARN")
	c.PayloadBucket = l.str(deploy.EnvPayloadBucket, bucketRe, "an S3 bucket name")
	c.UploadsBucket = l.str(deploy.EnvUploadsBucket, bucketRe, "an S3 bucket name")
	c.CallbackBuses = l.list(deploy.EnvCallbackBuses, busArnRe, "event bus ARNs (arn:aws:events:REGION:ACCOUNT:event-bus/NAME)", 100)
	c.MaxRunning = l.number(deploy.EnvMaxRunning, 0, deploy.MaxMaxRunning)
	c.HistoryKeep = l.duration(deploy.EnvHistoryKeep, job.MinHistoryKeep, job.MaxHistoryKeep)
	if c.HistoryKeep == 0 {
		c.HistoryKeep = deploy.DefaultHistoryKeep
	}
	c.CatalogDir = getenv(deploy.EnvCatalog)
	if c.CatalogDir == "" {
		c.CatalogDir = deploy.CatalogDir
	}
	if len(l.problems) > 0 {
		return Config{}, fmt.Errorf("configure the %s function from its environment:\n%w", fn, errors.Join(l.problems...))
	}
	return c, nil
}

type loader struct {
	getenv   func(string) string
	required []string
	problems []error
}

func (l *loader) value(name string) (string, bool) {
	v := strings.TrimSpace(l.getenv(name))
	if v == "" && slices.Contains(l.required, name) {
		l.problems = append(l.problems, fmt.Errorf("%s is not set: the CDK app sets it for this function", name))
		return "", false
	}
	return v, v != ""
}

func (l *loader) str(name string, re *regexp.Regexp, want string) string {
	v, ok := l.value(name)
	if !ok {
		return ""
	}
	if !re.MatchString(v) {
		l.problems = append(l.problems, fmt.Errorf("%s=%q is malformed: want %s", name, v, want))
		return ""
	}
	return v
}

func (l *loader) list(name string, re *regexp.Regexp, want string, most int) []string {
	v, ok := l.value(name)
	if !ok {
		return nil
	}
	var out []string
	for _, item := range strings.Split(v, ",") {
		item = strings.TrimSpace(item)
		if !re.MatchString(item) {
			l.problems = append(l.problems, fmt.Errorf("%s=%q is malformed: %q is not one of the comma-separated %s", name, v, item, want))
			return nil
		}
		if !slices.Contains(out, item) {
			out = append(out, item)
		}
	}
	if len(out) > most {
		l.problems = append(l.problems, fmt.Errorf("%s lists %d values: ECS takes at most %d", name, len(out), most))
		return nil
	}
	return out
}

func (l *loader) number(name string, least, most int) int {
	v, ok := l.value(name)
	if !ok {
		return 0
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < least || n > most {
		l.problems = append(l.problems, fmt.Errorf("%s=%q is malformed: want a whole number from %d to %d", name, v, least, most))
		return 0
	}
	return n
}

func (l *loader) duration(name string, least, most time.Duration) time.Duration {
	v, ok := l.value(name)
	if !ok {
		return 0
	}
	d, err := job.ParseDuration(v)
	if err != nil || d < least || d > most {
		l.problems = append(l.problems, fmt.Errorf("%s=%q is malformed: want a duration from %s to %s, such as 720h or 30d", name, v, job.FormatDays(least), job.FormatDays(most)))
		return 0
	}
	return d
}

func (l *loader) boolean(name string) bool {
	v, ok := l.value(name)
	if !ok {
		return false
	}
	switch v {
	case "true":
		return true
	case "false":
		return false
	}
	l.problems = append(l.problems, fmt.Errorf("%s=%q is malformed: want true or false", name, v))
	return false
}
