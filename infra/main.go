// Command infra is Longshore's CDK app (run by cdk.json: `go run ./infra`).
// It reads the job catalog the functions are built with and synthesizes
// one stack holding everything a deployment needs. Configuration comes
// from CDK context: see Config.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/longshore/longshore/internal/job"
)

func main() {
	os.Exit(run(os.Stderr))
}

// run synthesizes the app, or prints why it cannot and returns 1. The CDK
// reports what it refuses by panicking (through jsii): that is printed as
// one line too, not as a Go stack.
func run(stderr io.Writer) (code int) {
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(stderr, "synth: %v\n", r)
			code = 1
		}
	}()
	props := &awscdk.AppProps{}
	if os.Getenv("CDK_OUTDIR") == "" {
		// Outside the CDK CLI, write where the CLI would.
		props.Outdir = jsii.String("cdk.out")
	}
	app := awscdk.NewApp(props)
	if _, err := buildApp(app); err != nil {
		report(stderr, err)
		return 1
	}
	app.Synth(nil)
	return 0
}

// buildApp reads the configuration from the app's context and adds the
// deployment it describes, checked by cdk-nag.
func buildApp(app awscdk.App) (*LongshoreStack, error) {
	setFeatureFlags(app)
	cfg, err := readConfig(contextLookup(app.Node()))
	if err != nil {
		return nil, err
	}
	stack, err := addDeployment(app, cfg)
	if err != nil {
		return nil, err
	}
	checkWithNag(app)
	return stack, nil
}

// setFeatureFlags sets featureFlags on the app, before any stack is added.
func setFeatureFlags(app awscdk.App) {
	for flag, v := range featureFlags {
		app.Node().SetContext(jsii.String(flag), v)
	}
}

// addDeployment loads and validates the catalog exactly as `longshore
// validate` does, checks the functions' code is built, and adds the stack
// with its cdk-nag suppressions.
func addDeployment(app awscdk.App, cfg Config) (*LongshoreStack, error) {
	cat, err := loadCatalog(cfg.JobsDir)
	if err != nil {
		return nil, err
	}
	if err := cfg.checkFunctions(); err != nil {
		return nil, err
	}
	stack, err := NewLongshoreStack(app, cfg.StackName, &LongshoreStackProps{
		StackProps: awscdk.StackProps{StackName: jsii.String(cfg.StackName)},
		Config:     cfg,
		Catalog:    cat,
	})
	if err != nil {
		return nil, err
	}
	awscdk.Tags_Of(stack.Stack).Add(jsii.String("longshore:deployment"), jsii.String(cfg.Prefix), nil)
	suppressNagFindings(stack, cfg)
	return stack, nil
}

// featureFlags are the CDK feature flags the stack relies on, set here
// rather than in cdk.json so that tests synthesize the same template.
var featureFlags = map[string]any{
	// Server access logs are delivered under a bucket policy, not an ACL
	// (the buckets enforce bucket-owner object ownership).
	"@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy": true,
}

// loadCatalog loads the jobs folder as `longshore validate --jobs DIR` does.
func loadCatalog(dir string) (*job.Catalog, error) {
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return nil, fmt.Errorf("jobs folder %q not found: give the folder holding <name>/job.yaml files with -c %s=DIR", dir, ctxJobsDir)
	}
	cat, err := job.Load(os.DirFS(dir), dir, job.Options{})
	var pe *job.ProblemsError
	if errors.As(err, &pe) {
		return nil, &catalogError{dir: dir, problems: pe}
	}
	if err != nil {
		return nil, fmt.Errorf("load the job catalog: %w", err)
	}
	return cat, nil
}

// catalogError is a catalog that does not validate, with the folder it was
// read from, so that it is reported as `longshore validate` reports it.
type catalogError struct {
	dir      string
	problems *job.ProblemsError
}

func (e *catalogError) Error() string { return e.problems.Error() }
func (e *catalogError) Unwrap() error { return e.problems }

// report prints an error: a catalog's problems one line each, exactly as
// `longshore validate` prints them, then their count; the problems only a
// deployment has (names too long for AWS) the same way.
func report(w io.Writer, err error) {
	var ce *catalogError
	var pe *job.ProblemsError
	switch {
	case errors.As(err, &ce):
		printProblems(w, ce.problems)
		fmt.Fprintf(w, "%d problem(s) in %s\n", len(ce.problems.Problems), ce.dir)
		return
	case errors.As(err, &pe):
		printProblems(w, pe)
		fmt.Fprintf(w, "%d problem(s) for a deployment\n", len(pe.Problems))
		return
	}
	fmt.Fprintf(w, "synth: %v\n", err)
}

func printProblems(w io.Writer, pe *job.ProblemsError) {
	for _, p := range pe.Problems {
		fmt.Fprintln(w, p.String())
	}
}
