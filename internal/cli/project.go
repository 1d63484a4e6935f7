package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/spf13/cobra"

	"github.com/longshore/longshore/internal/deploy"
)

// The release: longshore beside longshore-cdk (the CDK app, which needs
// Node.js) and lambda/<name>/bootstrap (the functions, linux/arm64), as
// `make dist` writes them.
const (
	// EnvHome names the release folder when longshore is not run from it.
	EnvHome = "LONGSHORE_HOME"
	// EnvCDK names a CDK toolkit (its cdk executable) to use instead of the
	// pinned one installed on first use.
	EnvCDK = "LONGSHORE_CDK"
	// CDKToolkitVersion is the CDK toolkit (npm aws-cdk) that reads the
	// cloud assemblies longshore-cdk writes; package.json pins the same.
	CDKToolkitVersion = "2.1148.1"
	cdkAppName        = "longshore-cdk"
)

var functionNames = []string{deploy.FunctionLauncher, deploy.FunctionTracker, deploy.FunctionReconciler, deploy.FunctionAPI}

// contextKeyRe is a CDK context key as `-c KEY=VALUE` takes it.
var contextKeyRe = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9:_.@/-]*$`)

// deployFlags are the flags synth, diff, deploy and destroy share.
type deployFlags struct {
	jobs    string
	out     string
	context []string
}

func (f *deployFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.jobs, "jobs", "jobs", "the jobs folder")
	cmd.Flags().StringVar(&f.out, "out", "cdk.out", "where the cloud assembly is written")
	cmd.Flags().StringArrayVarP(&f.context, "context", "c", nil, "a deployment option, KEY=VALUE (prefix, vpcId, subnetIds, natGateways, logRetentionDays, alarmTopicArn, ...; see infra/README.md)")
	cmd.RegisterFlagCompletionFunc("jobs", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return nil, cobra.ShellCompDirectiveFilterDirs
	})
}

func (a *App) synthCommand() *cobra.Command {
	var f deployFlags
	cmd := &cobra.Command{
		Use:   "synth [--jobs DIR] [--out DIR] [-c KEY=VALUE]...",
		Short: "Write the CloudFormation of a deployment of the catalog (offline)",
		Long: `Write the cloud assembly (CloudFormation template and assets) of a deployment
of the jobs folder into --out, without talking to AWS. The catalog is checked
as "longshore validate" checks it, and checked with cdk-nag's AwsSolutions
rules. Needs the release (longshore-cdk and lambda/ beside longshore, or
$LONGSHORE_HOME) and Node.js; not Go.`,
		Example: `  longshore synth
  longshore synth --jobs ./jobs --out build/cdk.out -c prefix=staging -c natGateways=0`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := a.synth(cmd, f)
			return err
		},
	}
	f.add(cmd)
	return cmd
}

// toolkitCommand is diff, deploy or destroy: synth, then the CDK toolkit
// on the assembly.
func (a *App) toolkitCommand(verb, short, long, example string) *cobra.Command {
	var f deployFlags
	cmd := &cobra.Command{
		Use:     verb + " [--jobs DIR] [--out DIR] [-c KEY=VALUE]... [-- CDK OPTIONS]",
		Short:   short,
		Long:    long,
		Example: example,
		RunE: func(cmd *cobra.Command, args []string) error {
			if n := cmd.ArgsLenAtDash(); n != 0 && len(args) > 0 {
				return usageError("%s takes no arguments: give the CDK toolkit's own options after --, such as -- --profile prod", verb)
			}
			out, err := a.synth(cmd, f)
			if err != nil {
				return err
			}
			cdk, err := a.toolkit(cmd)
			if err != nil {
				return err
			}
			cdkArgs := append([]string{verb, "--app", out}, args...)
			return a.runTool(cmd, cdk, cdkArgs, nil)
		},
	}
	f.add(cmd)
	return cmd
}

func (a *App) diffCommand() *cobra.Command {
	return a.toolkitCommand("diff", "Show what a deploy of the catalog would change on AWS",
		`Synthesize the deployment of the jobs folder (as "longshore synth"), then show
how it differs from what is deployed, with the CDK toolkit (npm aws-cdk,
pinned; installed once into a cache on first use) and your AWS credentials.`,
		`  longshore diff
  longshore diff -c prefix=staging -- --profile staging`)
}

func (a *App) deployCommand() *cobra.Command {
	return a.toolkitCommand("deploy", "Deploy the catalog to AWS",
		`Synthesize the deployment of the jobs folder (as "longshore synth"), then
deploy it with the CDK toolkit (npm aws-cdk, pinned; installed once into a
cache on first use) and your AWS credentials. Like "cdk deploy", it asks
before widening IAM permissions or security groups; pass -- --require-approval
never to skip that. Needs a bootstrapped account ("cdk bootstrap").`,
		`  longshore deploy
  longshore deploy --jobs ./jobs -c prefix=staging -c alarmTopicArn=arn:aws:sns:eu-west-1:111122223333:oncall`)
}

func (a *App) destroyCommand() *cobra.Command {
	return a.toolkitCommand("destroy", "Delete a deployment from AWS",
		`Delete the deployment's stack with the CDK toolkit, asking first (-- --force
does not ask). The runs table and the buckets are kept (their data is yours);
everything else is deleted.`,
		`  longshore destroy -c prefix=staging`)
}

// release finds the release folder: $LONGSHORE_HOME, or the folder
// holding the running longshore.
func (a *App) release() (string, error) {
	dir := a.Getenv(EnvHome)
	from := "$" + EnvHome
	if dir == "" {
		exe, err := a.executable()
		if err != nil {
			return "", &exitError{code: ExitFailure, err: fmt.Errorf("find the release: %w", err)}
		}
		dir, from = filepath.Dir(exe), "the folder of longshore"
	}
	var missing []string
	if st, err := os.Stat(filepath.Join(dir, cdkAppName)); err != nil || st.IsDir() {
		missing = append(missing, cdkAppName)
	}
	for _, fn := range functionNames {
		if st, err := os.Stat(filepath.Join(dir, "lambda", fn, "bootstrap")); err != nil || st.IsDir() {
			missing = append(missing, "lambda/"+fn+"/bootstrap")
		}
	}
	if len(missing) > 0 {
		return "", &exitError{code: ExitFailure, err: fmt.Errorf("the release is not in %s (%s): %s missing; run longshore from the release folder (make dist writes dist/) or set %s to it",
			dir, from, strings.Join(missing, ", "), EnvHome)}
	}
	return dir, nil
}

func (a *App) executable() (string, error) {
	exe, err := os.Executable()
	if err != nil {
		return "", err
	}
	return filepath.EvalSymlinks(exe)
}

// synth runs longshore-cdk on the jobs folder and returns the assembly's
// folder.
func (a *App) synth(cmd *cobra.Command, f deployFlags) (string, error) {
	ctx := map[string]string{}
	for _, kv := range f.context {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || !contextKeyRe.MatchString(k) {
			return "", usageError("-c %q is not KEY=VALUE: write it like -c prefix=staging", kv)
		}
		if k == "jobsDir" || k == "functionsDir" {
			return "", usageError("-c %s is set by longshore: use --jobs for the catalog; the functions come from the release", k)
		}
		ctx[k] = v
	}
	if st, err := os.Stat(f.jobs); err != nil || !st.IsDir() {
		return "", usageError("jobs folder %q not found: give the folder holding <name>/job.yaml files with --jobs (longshore init makes one)", f.jobs)
	}
	home, err := a.release()
	if err != nil {
		return "", err
	}
	node, err := exec.LookPath("node")
	if err != nil {
		return "", &exitError{code: ExitFailure, err: errors.New("node not found on PATH: the CDK runs on Node.js (20 or later); install it and try again")}
	}
	out, err := filepath.Abs(f.out)
	if err != nil {
		return "", &exitError{code: ExitFailure, err: err}
	}
	// The app runs in this folder: the jobs folder as the user named it,
	// so that problems name its files as validate does.
	ctx["jobsDir"] = f.jobs
	ctx["functionsDir"] = filepath.Join(home, "lambda")
	ctxJSON, err := json.Marshal(ctx)
	if err != nil {
		return "", &exitError{code: ExitFailure, err: err}
	}
	env := []string{"CDK_OUTDIR=" + out, "CDK_CONTEXT_JSON=" + string(ctxJSON)}
	if a.Getenv("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION") == "" {
		if major := nodeMajor(node); major != "" {
			env = append(env, "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION="+major, "JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION=1")
		}
	}
	if err := a.runTool(cmd, filepath.Join(home, cdkAppName), nil, env); err != nil {
		return "", err
	}
	errs, warns, err := deploy.AssemblyMessages(out)
	if err != nil {
		return "", &exitError{code: ExitFailure, err: err}
	}
	for _, m := range warns {
		fmt.Fprintf(a.Stderr, "warning: %s\n", m)
	}
	for _, m := range errs {
		fmt.Fprintf(a.Stderr, "error: %s\n", m)
	}
	if len(errs) > 0 {
		return "", &exitError{code: ExitFailure, err: fmt.Errorf("the deployment has %d error(s) (above): nothing was deployed", len(errs))}
	}
	fmt.Fprintf(a.Stderr, "longshore synth: cloud assembly of %s in %s\n", f.jobs, f.out)
	return out, nil
}

// nodeMajor is the major version of node ("20"), or "" when it cannot tell.
func nodeMajor(node string) string {
	b, err := exec.Command(node, "--version").Output()
	if err != nil {
		return ""
	}
	v := strings.TrimPrefix(strings.TrimSpace(string(b)), "v")
	major, _, _ := strings.Cut(v, ".")
	return major
}

// toolkit returns the CDK toolkit's cdk executable: $LONGSHORE_CDK, or
// the pinned aws-cdk, installed with npm into the user's cache on first use.
func (a *App) toolkit(cmd *cobra.Command) (string, error) {
	if p := a.Getenv(EnvCDK); p != "" {
		return p, nil
	}
	cache := a.Getenv("XDG_CACHE_HOME")
	if cache == "" {
		d, err := os.UserCacheDir()
		if err != nil {
			return "", &exitError{code: ExitFailure, err: fmt.Errorf("find a cache folder for the CDK toolkit: %w; set %s to a cdk executable", err, EnvCDK)}
		}
		cache = d
	}
	dir := filepath.Join(cache, "longshore", "aws-cdk-"+CDKToolkitVersion)
	cdk := filepath.Join(dir, "node_modules", "aws-cdk", "bin", "cdk")
	if _, err := os.Stat(cdk); err == nil {
		return cdk, nil
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		return "", &exitError{code: ExitFailure, err: fmt.Errorf("npm not found on PATH: it installs the CDK toolkit (aws-cdk@%s) once; install Node.js with npm, or set %s to a cdk executable", CDKToolkitVersion, EnvCDK)}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", &exitError{code: ExitFailure, err: fmt.Errorf("make the CDK toolkit's folder: %w", err)}
	}
	fmt.Fprintf(a.Stderr, "longshore: installing the CDK toolkit aws-cdk@%s into %s (once)\n", CDKToolkitVersion, dir)
	install := []string{"install", "--prefix", dir, "--no-audit", "--no-fund", "--no-save", "--loglevel", "error", "aws-cdk@" + CDKToolkitVersion}
	if err := a.runTool(cmd, npm, install, nil); err != nil {
		return "", &exitError{code: ExitFailure, err: fmt.Errorf("install the CDK toolkit: %w", err)}
	}
	return cdk, nil
}

// runTool runs a program with the command's output streams (and standard
// input, for the toolkit's questions), the environment plus env.
func (a *App) runTool(cmd *cobra.Command, prog string, args, env []string) error {
	c := exec.CommandContext(cmd.Context(), prog, args...)
	c.Stdout, c.Stderr = a.Stdout, a.Stderr
	c.Stdin = cmd.InOrStdin()
	c.Env = append(os.Environ(), env...)
	if err := c.Run(); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return silentExit(ExitFailure)
		}
		return &exitError{code: ExitFailure, err: fmt.Errorf("run %s: %w", filepath.Base(prog), err)}
	}
	return nil
}

// initCommand makes a catalog with one example job.
func (a *App) initCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "init [DIR]",
		Short: "Start a job catalog: DIR/jobs with one example job",
		Long: `Make DIR/jobs (DIR defaults to the current folder) holding one commented
example job, jobs/hello/job.yaml, that runs as a process on this machine and as
a container on AWS Fargate; then print the next steps. Nothing is overwritten:
init refuses when DIR/jobs already exists.`,
		Example: `  longshore init my-jobs && cd my-jobs && longshore local`,
		Args:    cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := "."
			if len(args) == 1 {
				dir = args[0]
			}
			jobs := filepath.Join(dir, "jobs")
			if _, err := os.Lstat(jobs); err == nil {
				return &exitError{code: ExitFailure, err: fmt.Errorf("%s already exists: init writes nothing over it (add jobs as %s/<name>/job.yaml)", jobs, jobs)}
			}
			if err := os.MkdirAll(filepath.Join(jobs, "hello"), 0o755); err != nil {
				return &exitError{code: ExitFailure, err: fmt.Errorf("make %s: %w", jobs, err)}
			}
			p := filepath.Join(jobs, "hello", "job.yaml")
			if err := writeNew(p, exampleJob); err != nil {
				return &exitError{code: ExitFailure, err: err}
			}
			next := "longshore local"
			if dir != "." {
				next = "cd " + dir + " && longshore local"
			}
			fmt.Fprintf(a.Stdout, `Wrote %s: one example job.

Next:
  %-38s # run the catalog on this machine (leave it running)
  longshore run hello --wait --env EXIT_CODE=3  # in another shell: run it, get its exit code
  longshore validate                      # check the job files after each change
  longshore deploy                        # run the same jobs on AWS Fargate (AWS credentials, Node.js)

Every field of a job: https://github.com/longshore/longshore/blob/main/docs/job-spec.md
`, p, next)
			return nil
		},
	}
}

// writeNew writes a file that must not exist yet.
func writeNew(path, content string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if _, err := io.WriteString(f, content); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Close()
}

// exampleJob is the job init writes: runnable as it is, here and on AWS.
const exampleJob = `# A Longshore job: one file for this machine (longshore local) and AWS Fargate
# (longshore deploy). Every field: docs/job-spec.md. Check it with longshore validate.
description: Says hello, then exits with $EXIT_CODE (0 unless given).

# The container image on AWS: a public image here; or build: . with a
# Containerfile beside this file.
image: {uri: public.ecr.aws/docker/library/busybox:1.36}
command: [sh, -c, 'echo "hello from $LONGSHORE_JOB, run $LONGSHORE_RUN_ID (attempt $LONGSHORE_ATTEMPT)"; exit "${EXIT_CODE:-0}"']

cpu: 256        # Fargate CPU units: 1024 is one vCPU
memory: 512     # MiB
timeout: 5m     # stopped, and recorded timed_out, after this
retries: {attempts: 2, exitCodes: [75], backoff: 30s}

triggers:
  - invoke                           # longshore run hello
  # - schedule: cron(0 3 * * ? *)    # every day at 03:00
  #   timezone: Europe/Berlin
  # - s3: {prefix: incoming/, suffix: .csv}
  # - sqs: {}                        # one run per message on the queue "hello"

# On this machine without a container engine, the same work as a process.
local:
  command: [sh, -c, 'echo "hello from $LONGSHORE_JOB, run $LONGSHORE_RUN_ID (attempt $LONGSHORE_ATTEMPT)"; exit "${EXIT_CODE:-0}"']
`
