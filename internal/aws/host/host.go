// Package host is Longshore's AWS host: from a function's Config it builds
// the SDK clients, the adapters (ECS runner, DynamoDB store, notifier,
// payload bucket) and the dispatch service over them, as the local engine
// does for `longshore local`. Each function's main wires a Host to its
// handler.
//
// The SDK configuration is read from the Lambda environment here rather
// than by the SDK's config package (LoadDefaultConfig), which with its SSO,
// STS and profile machinery adds about 2.8 MB to each binary (measured:
// 13.2 MB instead of 10.4 MB with every client), past the 12 MB budget. A
// Lambda function needs none of it: its credentials are the
// AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN variables
// and its region AWS_REGION. Endpoints honour AWS_ENDPOINT_URL_<SERVICE>
// and AWS_ENDPOINT_URL, as the SDK does, for tests against fakes.
package host

import (
	crand "crypto/rand"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	awsecs "github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/longshore/longshore/internal/aws/config"
	"github.com/longshore/longshore/internal/aws/dynamo"
	"github.com/longshore/longshore/internal/aws/ecs"
	"github.com/longshore/longshore/internal/aws/notify"
	"github.com/longshore/longshore/internal/aws/payload"
	"github.com/longshore/longshore/internal/cost"
	"github.com/longshore/longshore/internal/dispatch"
	"github.com/longshore/longshore/internal/job"
	"github.com/longshore/longshore/internal/run"
)

// Environment variables of the SDK that the host reads.
const (
	EnvAccessKeyID     = "AWS_ACCESS_KEY_ID"
	EnvSecretAccessKey = "AWS_SECRET_ACCESS_KEY"
	EnvSessionToken    = "AWS_SESSION_TOKEN"
	EnvEndpointURL     = "AWS_ENDPOINT_URL"
	// EnvIgnoreEndpoints, "true", ignores the endpoint variables.
	EnvIgnoreEndpoints = "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"
	// EnvLogLevel is Lambda's log level control (DEBUG, INFO, WARN, ERROR).
	EnvLogLevel = "AWS_LAMBDA_LOG_LEVEL"
)

// Service ids of the endpoint variables: AWS_ENDPOINT_URL_<id>.
const (
	ServiceDynamoDB    = "DYNAMODB"
	ServiceECS         = "ECS"
	ServiceEventBridge = "EVENTBRIDGE"
	ServiceSQS         = "SQS"
	ServiceSFN         = "SFN"
	ServiceS3          = "S3"
	// ServiceCloudWatchLogs is CloudWatch Logs' id in AWS_ENDPOINT_URL_<id>.
	ServiceCloudWatchLogs = "CLOUDWATCH_LOGS"
	ServiceScheduler      = "SCHEDULER"
)

// Host is the AWS side of one function.
type Host struct {
	Config config.Config
	Jobs   *job.Catalog
	// JobFiles are the catalog's files as deployed, by path below the
	// catalog folder (<name>/job.yaml): what `longshore jobs --aws` reads.
	JobFiles map[string]string
	Store    *dynamo.Store
	Runner   *ecs.Runner
	Service  *dispatch.Service
	Log      *slog.Logger
}

// New builds the host of a function from its configuration and the
// process environment (os.Getenv in main).
func New(cfg config.Config, getenv func(string) string) (*Host, error) {
	log := Logger(getenv)
	awsCfg, err := AWSConfig(cfg.Region, getenv)
	if err != nil {
		return nil, err
	}
	catalog, files, err := LoadCatalog(cfg.CatalogDir)
	if err != nil {
		return nil, err
	}
	endpoint := func(service string) *string {
		if e := Endpoint(service, getenv); e != "" {
			return aws.String(e)
		}
		return nil
	}
	db := newDynamoDB(awsCfg, endpoint(ServiceDynamoDB), nil)
	ecsClient := awsecs.NewFromConfig(awsCfg, func(o *awsecs.Options) {
		o.BaseEndpoint = endpoint(ServiceECS)
		// The runner retries within the invocation's deadline.
		o.Retryer = aws.NopRetryer{}
	})
	events := eventbridge.NewFromConfig(awsCfg, func(o *eventbridge.Options) { o.BaseEndpoint = endpoint(ServiceEventBridge) })
	queues := sqs.NewFromConfig(awsCfg, func(o *sqs.Options) { o.BaseEndpoint = endpoint(ServiceSQS) })
	states := sfn.NewFromConfig(awsCfg, func(o *sfn.Options) { o.BaseEndpoint = endpoint(ServiceSFN) })

	// The payload bucket keeps the trigger bodies too large for a run
	// record or a task's environment, each job's below its own prefix.
	var bodies dispatch.BodyStore
	if cfg.PayloadBucket != "" {
		bodies = &payload.Bucket{
			Name: cfg.PayloadBucket, Region: cfg.Region, Endpoint: Endpoint(ServiceS3, getenv), Credentials: awsCfg.Credentials,
		}
	}
	store := dynamo.New(db, dynamo.Options{Table: cfg.RunsTable, Retention: cfg.HistoryKeep, KeepFor: func(name string) time.Duration {
		if spec, ok := catalog.Get(name); ok {
			return spec.History.Keep.D()
		}
		return 0
	}})
	runner := ecs.NewRunner(ecsClient, ecs.Options{
		Cluster: cfg.Cluster, Prefix: cfg.Prefix, Subnets: cfg.Subnets, SecurityGroups: cfg.SecurityGroups,
		AssignPublicIP: cfg.AssignPublicIP, Log: log,
	})
	notifier := notify.New(notify.Options{Bus: cfg.EventBus, Events: events, Queues: queues, States: states, Log: log})
	prices, priced := cost.For(cfg.Region)
	if !priced {
		log.Warn("no Fargate prices for this Region: runs are priced at "+prices.Region+"'s", "region", cfg.Region)
	}
	svc := dispatch.New(dispatch.Deps{
		Jobs: catalog, Store: store, Runner: runner, Notifier: notifier, Now: time.Now, Log: log,
		NewID:  func() (string, error) { return run.NewID(crand.Reader) },
		Bodies: bodies,
		// Every finished run records its task's cost at the Region's list
		// prices (cost.DefaultRegion's where the table has none: the run's
		// costRegion says so).
		Prices: prices, CostBasis: cost.BasisFargate,
		// The runs table keeps the jobs' runtime pauses (read once per job
		// per pauseCacheTTL in each function instance) and the slots of
		// bounded jobs and of the deployment's maxRunning.
		Pauses:     &dispatch.CachedPauses{Store: store, TTL: PauseCacheTTL, Now: time.Now},
		Slots:      store,
		MaxRunning: cfg.MaxRunning,
	})
	return &Host{Config: cfg, Jobs: catalog, JobFiles: files, Store: store, Runner: runner, Service: svc, Log: log}, nil
}

// PauseCacheTTL is how long a function instance trusts a job's pause state
// it read: a pause or resume takes effect on every trigger within it.
const PauseCacheTTL = 10 * time.Second

// LoadCatalog loads the catalog a deployment ships to its functions (the
// catalog layer's folder, deploy.CatalogDir) as `longshore validate` does,
// less the files beside job.yaml, which are not shipped; and returns its
// job files as they are.
func LoadCatalog(dir string) (*job.Catalog, map[string]string, error) {
	fsys := os.DirFS(dir)
	cat, err := job.Load(fsys, dir, job.Options{SkipFiles: true})
	if err != nil {
		return nil, nil, fmt.Errorf("load the deployed job catalog from %s: %w", dir, err)
	}
	names, err := fs.Glob(fsys, path.Join("*", "job.yaml"))
	if err != nil {
		return nil, nil, fmt.Errorf("list the deployed job catalog in %s: %w", dir, err)
	}
	files := make(map[string]string, len(names))
	for _, name := range names {
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, nil, fmt.Errorf("read the deployed job catalog: %w", err)
		}
		files[name] = string(b)
	}
	return cat, files, nil
}

// DynamoDBAttempts bounds the calls of one DynamoDB operation: throttled
// and failed writes are worth waiting for, as a run is being recorded.
const DynamoDBAttempts = 8

// newDynamoDB is the runs table's client, retrying throttling and server
// errors up to DynamoDBAttempts times with the SDK's jittered backoff (or
// backoff, for tests).
func newDynamoDB(cfg aws.Config, endpoint *string, backoff retry.BackoffDelayer) *dynamodb.Client {
	return dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) {
		o.BaseEndpoint = endpoint
		o.Retryer = retry.NewStandard(func(so *retry.StandardOptions) {
			so.MaxAttempts = DynamoDBAttempts
			so.MaxBackoff = 5 * time.Second
			if backoff != nil {
				so.Backoff = backoff
			}
		})
	})
}

// AWSConfig is the SDK configuration of a Lambda function: its region and
// the credentials Lambda gives it in the environment.
func AWSConfig(region string, getenv func(string) string) (aws.Config, error) {
	id, secret := getenv(EnvAccessKeyID), getenv(EnvSecretAccessKey)
	var missing []string
	if id == "" {
		missing = append(missing, EnvAccessKeyID)
	}
	if secret == "" {
		missing = append(missing, EnvSecretAccessKey)
	}
	if region == "" {
		missing = append(missing, config.EnvRegion)
	}
	if len(missing) > 0 {
		return aws.Config{}, fmt.Errorf("configure the AWS SDK: %s not set (Lambda sets them for the function's role)", strings.Join(missing, ", "))
	}
	return aws.Config{
		Region:      region,
		Credentials: aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider(id, secret, getenv(EnvSessionToken))),
		Retryer:     func() aws.Retryer { return retry.NewStandard() },
	}, nil
}

// Endpoint is the endpoint URL configured for a service, as the SDK reads
// it: AWS_ENDPOINT_URL_<SERVICE>, else AWS_ENDPOINT_URL; "" for AWS's own.
func Endpoint(service string, getenv func(string) string) string {
	if getenv(EnvIgnoreEndpoints) == "true" {
		return ""
	}
	if e := getenv(EnvEndpointURL + "_" + service); e != "" {
		return e
	}
	return getenv(EnvEndpointURL)
}

// Logger writes JSON lines to stderr (CloudWatch Logs), at Lambda's log
// level when it sets one.
func Logger(getenv func(string) string) *slog.Logger {
	level := slog.LevelInfo
	switch strings.ToUpper(getenv(EnvLogLevel)) {
	case "DEBUG", "TRACE":
		level = slog.LevelDebug
	case "WARN":
		level = slog.LevelWarn
	case "ERROR", "FATAL":
		level = slog.LevelError
	}
	return slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
}

// Exit ends a cold start that cannot go on: the error goes to stderr, which
// Lambda logs, and the process exits 1, which Lambda reports as an init
// failure.
func Exit(fn config.Function, err error) {
	var b strings.Builder
	b.WriteString("longshore ")
	b.WriteString(string(fn))
	b.WriteString(": cold start: ")
	b.WriteString(err.Error())
	fmt.Fprintln(os.Stderr, b.String())
	os.Exit(1)
}
