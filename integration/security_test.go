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
	"github.com/aws/aws-sdk-go-v2/service/s3"
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
