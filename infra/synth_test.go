package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/longshore/longshore/internal/job"
)

// writeJobs writes a catalog folder from job name to job.yaml content.
func writeJobs(t *testing.T, jobs map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range jobs {
		if err := os.MkdirAll(filepath.Join(dir, name), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name, "job.yaml"), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// synthError builds an app with this context as `cdk synth` would and
// returns what the app prints when it cannot.
func synthError(t *testing.T, context map[string]string) string {
	t.Helper()
	ctx := map[string]any{}
	for k, v := range context {
		ctx[k] = v
	}
	app := awscdk.NewApp(&awscdk.AppProps{Context: &ctx, Outdir: jsii.String(t.TempDir())})
	_, err := buildApp(app)
	if err == nil {
		t.Fatalf("synth with %v succeeded", context)
	}
	var out bytes.Buffer
	report(&out, err)
	return out.String()
}

func TestACatalogThatFailsValidationFailsSynthWithTheSameMessage(t *testing.T) {
	fns, err := emptyFunctions()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		jobs map[string]string
	}{
		{"a misspelt field and a memory Fargate refuses", map[string]string{
			"report": "image: {uri: busybox:1.36}\ncpu: 1024\nmemory: 512\ncomand: [echo]\n",
		}},
		{"a secret written in plain text", map[string]string{
			"leaky": "image: {uri: busybox:1.36}\nenvironment:\n  DB_PASSWORD: hunter2\n",
		}},
		{"two jobs reading one queue", map[string]string{
			"a": "image: {uri: busybox:1.36}\ntriggers:\n  - sqs: {queue: shared}\n",
			"b": "image: {uri: busybox:1.36}\ntriggers:\n  - sqs: {queue: shared}\n",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeJobs(t, tt.jobs)
			// What `longshore validate --jobs DIR` prints (internal/cli):
			// each problem's line, then the count on stderr.
			_, err := job.Load(os.DirFS(dir), dir, job.Options{})
			var pe *job.ProblemsError
			if !errors.As(err, &pe) {
				t.Fatalf("the catalog validates: %v", err)
			}
			var want strings.Builder
			for _, p := range pe.Problems {
				want.WriteString(p.String() + "\n")
			}
			fmt.Fprintf(&want, "%d problem(s) in %s\n", len(pe.Problems), dir)
			got := synthError(t, map[string]string{ctxJobsDir: dir, ctxFunctionsDir: fns})
			if got != want.String() {
				t.Errorf("synth printed\n%s\nlongshore validate prints\n%s", got, want.String())
			}
		})
	}
}

func TestSynthSaysWhatIsMissingOrWrong(t *testing.T) {
	fns, err := emptyFunctions()
	if err != nil {
		t.Fatal(err)
	}
	jobs := filepath.Join("..", "jobs")
	longQueue := strings.Repeat("q", 80)
	tests := []struct {
		name    string
		context map[string]string
		want    string
	}{
		{"the functions are not built", map[string]string{ctxJobsDir: jobs, ctxFunctionsDir: t.TempDir()},
			"bin/lambda after `make build`"},
		{"the jobs folder does not exist", map[string]string{ctxJobsDir: "no-such-jobs", ctxFunctionsDir: fns},
			`jobs folder "no-such-jobs" not found`},
		{"a VPC without subnets", map[string]string{ctxJobsDir: jobs, ctxFunctionsDir: fns, ctxVpcID: "vpc-0123456789abcdef0"},
			"context vpcId and subnetIds go together"},
		{"a queue name too long once prefixed", map[string]string{
			ctxJobsDir:      writeJobs(t, map[string]string{"q": "image: {uri: busybox:1.36}\ntriggers:\n  - sqs: {queue: " + longQueue + "}\n"}),
			ctxFunctionsDir: fns,
		}, "triggers[0].sqs.queue: \"" + longQueue + "\" makes the dead-letter queue longshore-" + longQueue + "-dlq, longer than SQS's 80 characters: use at most 66"},
		{"a webhook with a secret, which EventBridge cannot sign", map[string]string{
			ctxJobsDir: writeJobs(t, map[string]string{"w": "image: {uri: busybox:1.36}\nnotify:\n" +
				"  - webhook: {url: https://hooks.example.com/x, secret: ssm:/hooks/w}\n"}),
			ctxFunctionsDir: fns,
		}, "notify[0].webhook.secret: EventBridge cannot sign a webhook's body with HMAC on AWS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := synthError(t, tt.context); !strings.Contains(got, tt.want) {
				t.Errorf("synth printed %q, want it to say %q", got, tt.want)
			}
		})
	}
}
