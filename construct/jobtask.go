package construct

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecrassets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/longshore/longshore/internal/deploy"
	"github.com/longshore/longshore/internal/job"
)

// Stop timeouts: the time between SIGTERM and SIGKILL when a task is
// stopped. Fargate Spot gives two minutes' notice, the most ECS allows.
const (
	spotStopTimeout     = 120 * time.Second
	onDemandStopTimeout = 30 * time.Second
)

// JobTaskProps describes one job of the catalog.
type JobTaskProps struct {
	Prefix string
	Job    *job.Spec
	// JobsDir is the catalog folder, to find image.build.
	JobsDir   string
	Retention awslogs.RetentionDays
	// Uploads is read by the jobs with S3 triggers, each below its own keys.
	Uploads awss3.IBucket
	// Payloads holds payloads passed by reference, each job below its own prefix.
	Payloads awss3.IBucket
}

// JobTask is a job's Fargate task definition (family deploy.TaskFamily),
// its log group and its two roles: the task role (the job's own
// permissions) and the execution role (pull the image, write the logs,
// read exactly the job's secrets).
type JobTask struct {
	constructs.Construct
	Job            *job.Spec
	Family         string
	TaskDefinition awsecs.FargateTaskDefinition
	LogGroup       awslogs.LogGroup
	// TaskRole is the role Longshore makes for the job (with its
	// permissions and managedPolicies), or its taskRole imported.
	TaskRole      awsiam.IRole
	ExecutionRole awsiam.Role
}

// NewJobTask creates the task definition of one job.
func NewJobTask(scope constructs.Construct, id string, props *JobTaskProps) (*JobTask, error) {
	c := constructs.NewConstruct(scope, &id)
	spec := props.Job
	t := &JobTask{Construct: c, Job: spec, Family: deploy.TaskFamily(props.Prefix, spec.Name)}

	image, err := containerImage(c, props.JobsDir, spec)
	if err != nil {
		return nil, err
	}
	t.TaskRole = taskRole(c, spec)
	t.ExecutionRole = awsiam.NewRole(c, jsii.String("ExecutionRole"), &awsiam.RoleProps{
		AssumedBy:   ecsTasksPrincipal(c),
		Description: jsii.String("Longshore job " + spec.Name + ": pull its image, write its logs, read its secrets"),
	})
	t.LogGroup = awslogs.NewLogGroup(c, jsii.String("Logs"), &awslogs.LogGroupProps{
		LogGroupName:  jsii.String(deploy.LogGroup(props.Prefix, spec.Name)),
		Retention:     props.Retention,
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
	})
	t.TaskDefinition = awsecs.NewFargateTaskDefinition(c, jsii.String("Task"), &awsecs.FargateTaskDefinitionProps{
		Family:         jsii.String(t.Family),
		Cpu:            jsii.Number(float64(spec.CPU)),
		MemoryLimitMiB: jsii.Number(float64(spec.Memory)),
		TaskRole:       t.TaskRole,
		ExecutionRole:  t.ExecutionRole,
		// Validation keeps arm64 off Fargate Spot, which runs x86_64 only.
		RuntimePlatform: &awsecs.RuntimePlatform{
			CpuArchitecture:       cpuArchitecture(spec.Architecture),
			OperatingSystemFamily: awsecs.OperatingSystemFamily_LINUX(),
		},
	})
	if spec.Storage != 0 {
		cfn := t.TaskDefinition.Node().DefaultChild().(awsecs.CfnTaskDefinition)
		cfn.SetEphemeralStorage(&awsecs.CfnTaskDefinition_EphemeralStorageProperty{SizeInGiB: jsii.Number(float64(spec.Storage))})
	}
	for _, k := range sortedKeys(spec.Tags) {
		awscdk.Tags_Of(t.TaskDefinition).Add(jsii.String(k), jsii.String(spec.Tags[k]), nil)
	}
	stop := onDemandStopTimeout
	if spec.Capacity != job.CapacityOnDemand {
		stop = spotStopTimeout
	}
	opts := &awsecs.ContainerDefinitionOptions{
		ContainerName: jsii.String(deploy.EssentialContainer),
		Image:         image,
		Essential:     jsii.Bool(true),
		Logging: awsecs.LogDriver_AwsLogs(&awsecs.AwsLogDriverProps{
			LogGroup:     t.LogGroup,
			StreamPrefix: jsii.String("run"),
		}),
		StopTimeout: awscdk.Duration_Seconds(jsii.Number(stop.Seconds())),
	}
	if len(spec.Command) > 0 {
		opts.Command = jsii.Strings(spec.Command...)
	}
	if len(spec.Environment) > 0 {
		env := map[string]*string{}
		for k, v := range spec.Environment {
			env[k] = jsii.String(v)
		}
		opts.Environment = &env
	}
	t.TaskDefinition.AddContainer(jsii.String("App"), opts)

	if err := t.addSecrets(); err != nil {
		return nil, err
	}
	t.grantObjects(props)
	return t, nil
}

// cpuArchitecture is the task definition's name for a job's architecture.
func cpuArchitecture(a job.Architecture) awsecs.CpuArchitecture {
	if a == job.ArchitectureARM64 {
		return awsecs.CpuArchitecture_ARM64()
	}
	return awsecs.CpuArchitecture_X86_64()
}

// taskRole is the role the job's container runs as: its taskRole as it is
// (imported; Longshore still attaches read access to the run's objects), or
// a role of its own holding exactly the job's permissions, as one inline
// policy, and its managed policies.
func taskRole(c constructs.Construct, spec *job.Spec) awsiam.IRole {
	if spec.TaskRole != "" {
		return awsiam.Role_FromRoleArn(c, jsii.String("TaskRole"), jsii.String(spec.TaskRole), &awsiam.FromRoleArnOptions{
			Mutable: jsii.Bool(true),
		})
	}
	props := &awsiam.RoleProps{
		AssumedBy:   ecsTasksPrincipal(c),
		Description: jsii.String("Longshore job " + spec.Name + ": the permissions of its container"),
	}
	if len(spec.Permissions) > 0 {
		var statements []awsiam.PolicyStatement
		for i, p := range spec.Permissions {
			statements = append(statements, awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid:       jsii.String(fmt.Sprintf("Job%d", i)),
				Actions:   jsii.Strings(p.Actions...),
				Resources: jsii.Strings(p.Resources...),
			}))
		}
		props.InlinePolicies = &map[string]awsiam.PolicyDocument{
			JobPolicyName: awsiam.NewPolicyDocument(&awsiam.PolicyDocumentProps{Statements: &statements}),
		}
	}
	for i, arn := range spec.ManagedPolicies {
		mp := awsiam.ManagedPolicy_FromManagedPolicyArn(c, jsii.String(fmt.Sprintf("ManagedPolicy%d", i)), jsii.String(arn))
		if props.ManagedPolicies == nil {
			props.ManagedPolicies = &[]awsiam.IManagedPolicy{}
		}
		*props.ManagedPolicies = append(*props.ManagedPolicies, mp)
	}
	return awsiam.NewRole(c, jsii.String("TaskRole"), props)
}

// JobPolicyName is the task role's inline policy holding the statements of
// the job's permissions, exactly as job.yaml declares them.
const JobPolicyName = "job-permissions"

// ecsTasksPrincipal lets ECS tasks of this account (and no one else's,
// against the confused deputy) assume a role.
func ecsTasksPrincipal(scope constructs.Construct) awsiam.IPrincipal {
	stack := awscdk.Stack_Of(scope)
	return awsiam.NewServicePrincipal(jsii.String("ecs-tasks.amazonaws.com"), &awsiam.ServicePrincipalOpts{
		Conditions: &map[string]interface{}{
			"StringEquals": map[string]interface{}{"aws:SourceAccount": stack.Account()},
			"ArnLike": map[string]interface{}{"aws:SourceArn": stack.FormatArn(&awscdk.ArnComponents{
				Service: jsii.String("ecs"), Resource: jsii.String("*"),
				ArnFormat: awscdk.ArnFormat_NO_RESOURCE_NAME,
			})},
		},
	})
}

// ecrImageRe matches a private ECR image: account, Region, repository.
var ecrImageRe = regexp.MustCompile(`^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?/([^:@]+)`)

// containerImage is the job's image: built from image.build as an asset
// (for the job's architecture, with the Containerfile or Dockerfile found there), or
// image.uri as given.
func containerImage(scope constructs.Construct, jobsDir string, spec *job.Spec) (awsecs.ContainerImage, error) {
	if spec.Image.URI != "" {
		return awsecs.ContainerImage_FromRegistry(jsii.String(spec.Image.URI), nil), nil
	}
	if spec.Image.Build == "" {
		return nil, fmt.Errorf("%s: image: the job has no image (image.build or image.uri): AWS runs containers only", spec.Path)
	}
	dir := filepath.Join(jobsDir, filepath.FromSlash(spec.Dir), filepath.FromSlash(spec.Image.Build))
	for _, name := range []string{"Containerfile", "Dockerfile"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
			platform := awsecrassets.Platform_LINUX_AMD64()
			if spec.Architecture == job.ArchitectureARM64 {
				platform = awsecrassets.Platform_LINUX_ARM64()
			}
			return awsecs.ContainerImage_FromAsset(jsii.String(dir), &awsecs.AssetImageProps{
				File:     jsii.String(name),
				Platform: platform,
			}), nil
		}
	}
	return nil, fmt.Errorf("%s: image.build: folder %q has no Containerfile or Dockerfile", spec.Path, spec.Image.Build)
}

// addSecrets declares the job's secrets as ECS secrets (valueFrom, never
// Environment) and lets the execution role read exactly those.
func (t *JobTask) addSecrets() error {
	if len(t.Job.Secrets) == 0 {
		t.grantImagePull()
		return nil
	}
	stack := awscdk.Stack_Of(t.Construct)
	names := make([]string, 0, len(t.Job.Secrets))
	for n := range t.Job.Secrets {
		names = append(names, n)
	}
	sort.Strings(names)
	var entries []map[string]interface{}
	var params, secrets []*string
	for _, name := range names {
		ref, err := job.ParseSecretRef(t.Job.Secrets[name])
		if err != nil {
			return fmt.Errorf("%s: secrets.%s: %w", t.Job.Path, name, err)
		}
		var valueFrom *string
		switch ref.Source {
		case job.SecretSSM:
			arn := jsii.String(ref.Name)
			if !strings.HasPrefix(ref.Name, "arn:") {
				arn = stack.FormatArn(&awscdk.ArnComponents{
					Service: jsii.String("ssm"), Resource: jsii.String("parameter"),
					ResourceName: jsii.String(strings.TrimPrefix(ref.Name, "/")),
				})
			}
			valueFrom = arn
			params = append(params, arn)
		case job.SecretSecretsManager:
			valueFrom = jsii.String(ref.Name)
			if ref.JSONKey != "" {
				valueFrom = jsii.String(ref.Name + ":" + ref.JSONKey + "::")
			}
			// The reference may be the complete ARN or the ARN without
			// Secrets Manager's six-character suffix: allow both, for
			// this one secret.
			secrets = append(secrets, jsii.String(ref.Name), jsii.String(ref.Name+"-??????"))
		}
		entries = append(entries, map[string]interface{}{"Name": name, "ValueFrom": valueFrom})
	}
	cfn := t.TaskDefinition.Node().DefaultChild().(awsecs.CfnTaskDefinition)
	cfn.AddPropertyOverride(jsii.String("ContainerDefinitions.0.Secrets"), entries)
	if len(params) > 0 {
		t.ExecutionRole.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("ReadJobParameters"),
			Actions:   jsii.Strings("ssm:GetParameters"),
			Resources: &params,
		}))
	}
	if len(secrets) > 0 {
		t.ExecutionRole.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("ReadJobSecrets"),
			Actions:   jsii.Strings("secretsmanager:GetSecretValue"),
			Resources: &secrets,
		}))
	}
	t.grantImagePull()
	return nil
}

// grantImagePull lets the execution role pull an image.uri from a private
// ECR repository; assets and public images need nothing more here.
func (t *JobTask) grantImagePull() {
	m := ecrImageRe.FindStringSubmatch(t.Job.Image.URI)
	if m == nil {
		return
	}
	partition := "aws"
	if m[3] != "" {
		partition = "aws-cn"
	}
	repo := fmt.Sprintf("arn:%s:ecr:%s:%s:repository/%s", partition, m[2], m[1], m[4])
	t.ExecutionRole.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("PullJobImage"),
		Actions:   jsii.Strings("ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"),
		Resources: jsii.Strings(repo),
	}))
	t.ExecutionRole.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("AuthenticateToEcr"),
		Actions:   jsii.Strings("ecr:GetAuthorizationToken"),
		Resources: jsii.Strings("*"),
	}))
}

// grantObjects lets the job's container read its payloads and, for each
// S3 trigger, the uploads whose keys match it.
func (t *JobTask) grantObjects(props *JobTaskProps) {
	objects := []*string{props.Payloads.ArnForObjects(jsii.String(deploy.PayloadKeyPrefix(t.Job.Name) + "*"))}
	for _, tr := range t.Job.Triggers {
		if tr.S3 != nil {
			objects = append(objects, props.Uploads.ArnForObjects(jsii.String(tr.S3.Prefix+"*"+tr.S3.Suffix)))
		}
	}
	t.TaskRole.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("ReadRunObjects"),
		Actions:   jsii.Strings("s3:GetObject"),
		Resources: &objects,
	}))
}
