package integration

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

const secretValue = "s3cr3t-Value-9f1c"

// TestSecretValuesAppearNowhereLongshoreWrites gives a job a secret and
// then searches everything the engine wrote — its log, the database, the
// run records, the result events — for the value.
func TestSecretValuesAppearNowhereLongshoreWrites(t *testing.T) {
	jobs, data := t.TempDir(), t.TempDir()
	// The job checks the value by its hash, so the job file does not hold it.
	sum := sha256.Sum256([]byte(secretValue))
	write(t, jobs, "db/job.yaml", "local:\n  command: [sh, -c, 'test \"$(printf %s \"$DB_PASSWORD\" | sha256sum | cut -c1-64)\" = "+hex.EncodeToString(sum[:])+" && echo secret received']\n"+
		"secrets:\n  DB_PASSWORD: ssm:/prod/db/password\n")
	write(t, jobs, "file/job.yaml", "local:\n  command: [sh, -c, 'test -n \"$API_TOKEN\" && echo token received']\n"+
		"secrets:\n  API_TOKEN: secretsmanager:arn:aws:secretsmanager:us-east-1:111122223333:secret:api-AbCdEf:token\n")
	secrets := filepath.Join(t.TempDir(), "secrets.env")
	if err := os.WriteFile(secrets, []byte("secretsmanager:arn:aws:secretsmanager:us-east-1:111122223333:secret:api-AbCdEf:token="+secretValue+"-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("LONGSHORE_SECRET_DB_PASSWORD", secretValue)
	e := startEngine(t, jobs, data, "--secrets", secrets)
	for _, j := range []string{"db", "file"} {
		if got := e.cli("run", j, "--wait"); got.code != 0 || !strings.Contains(got.stdout, "received") {
			t.Fatalf("run %s --wait = %d %q %q", j, got.code, got.stdout, got.stderr)
		}
	}
	raw := e.cli("runs", "--json").stdout
	e.stop(2) // SIGINT: a clean shutdown writes everything out

	found := func(where string, b []byte) {
		if bytes.Contains(b, []byte(secretValue)) {
			t.Errorf("the secret value appears in %s", where)
		}
	}
	found("the engine's output", []byte(e.output()))
	found("runs --json", []byte(raw))
	filepath.WalkDir(data, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, _ := os.ReadFile(p)
		found(p, b)
		return nil
	})
}

// TestKeysThatLookLikePathsOrShellAreJustKeys uploads objects whose keys
// try path traversal and shell injection: each is a run with the key exactly
// as stored, and nothing is written or run outside the data folder.
func TestKeysThatLookLikePathsOrShellAreJustKeys(t *testing.T) {
	jobs := testJobs(t)
	e := startEngine(t, jobs, t.TempDir())
	client := s3.NewFromConfig(awsConfig(), func(o *s3.Options) { o.BaseEndpoint = aws.String(e.s3); o.UsePathStyle = true })
	canary := filepath.Join(t.TempDir(), "pwned")
	keys := []string{
		"incoming/../../../../tmp/escape.csv",
		"incoming/$(touch " + canary + ").csv",
		"incoming/`touch " + canary + "`;.csv",
		"incoming/\"; touch " + canary + "; \".csv",
	}
	for _, k := range keys {
		if _, err := client.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String("uploads"), Key: aws.String(k), Body: strings.NewReader("x")}); err != nil {
			t.Fatalf("PutObject %q: %v", k, err)
		}
	}
	var runs []runJSON
	eventually(t, "every upload has a finished run", func() bool {
		runs = filter(e.list("--job", "echo"), func(r runJSON) bool { return r.Trigger.Kind == "s3" && isTerminal(r.Status) })
		return len(runs) == len(keys)
	})
	got := map[string]bool{}
	for _, r := range runs {
		got[r.Trigger.Key] = true
		if r.Status != "succeeded" {
			t.Errorf("run for %q is %s: %s", r.Trigger.Key, r.Status, r.Reason)
		}
	}
	for _, k := range keys {
		if !got[k] {
			t.Errorf("no run for key %q", k)
		}
	}
	if _, err := os.Stat(canary); err == nil {
		t.Error("a key was run as a shell command")
	}
	if _, err := os.Stat("/tmp/escape.csv"); err == nil {
		t.Error("a key escaped the data folder")
	}
}

// TestAnEngineBeyondThisMachineChecksItsTokenOnEveryEndpoint binds the
// engine to every interface: without a token it refuses to start; with
// one, the runs API wants it as a bearer token and the SQS endpoint wants
// requests signed with it as the access key.
func TestAnEngineBeyondThisMachineChecksItsTokenOnEveryEndpoint(t *testing.T) {
	jobs := testJobs(t)
	refused := cliIn(t, "..", nil, "local", "--jobs", jobs, "--data", t.TempDir(), "--addr", "0.0.0.0:0",
		"--s3-addr", "127.0.0.1:0", "--sqs-addr", "127.0.0.1:0")
	if refused.code != 1 || !strings.Contains(refused.stderr, "--addr 0.0.0.0:0 listens beyond this machine: give a token") {
		t.Fatalf("local --addr 0.0.0.0:0 without a token = %d %q", refused.code, refused.stderr)
	}

	const token = "it-0123456789abcdef"
	e := startEngine(t, jobs, t.TempDir(), "--addr", "0.0.0.0:0", "--sqs-addr", "0.0.0.0:0", "--token", token)
	if got := e.cli("runs"); got.code != 1 || !strings.Contains(got.stderr, "this engine needs its token") {
		t.Errorf("runs without the token = %d %q", got.code, got.stderr)
	}
	if got := cliEnv(t, []string{"LONGSHORE_ENDPOINT=" + e.api, "LONGSHORE_TOKEN=" + token}, "run", "echo", "--wait"); got.code != 0 {
		t.Errorf("run with the token = %d %q", got.code, got.stderr)
	}
	send := func(accessKey string) error {
		cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider(accessKey, "any", "")}
		client := sqs.NewFromConfig(cfg, func(o *sqs.Options) { o.BaseEndpoint = aws.String(e.sqs) })
		_, err := client.GetQueueUrl(context.Background(), &sqs.GetQueueUrlInput{QueueName: aws.String("work")})
		return err
	}
	if err := send("AKIAEXAMPLE"); err == nil {
		t.Error("the SQS endpoint answered a request signed with another access key")
	}
	if err := send(token); err != nil {
		t.Errorf("the SQS endpoint refused a request signed with the token: %v", err)
	}
}
