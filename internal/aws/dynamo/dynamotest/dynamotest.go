// Package dynamotest runs dynalite (npm, installed by `npm ci`) for tests:
// a DynamoDB that speaks the real wire protocol, with the runs table
// created from dynamo.TableSchema.
package dynamotest

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/longshore/longshore/internal/aws/dynamo"
)

// RequireAllEnv, set to 1, turns a missing tool (node, dynalite) from a
// skipped test into a failed one.
const RequireAllEnv = "LONGSHORE_REQUIRE_ALL"

// Missing skips t, or fails it when RequireAllEnv is 1.
func Missing(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv(RequireAllEnv) == "1" {
		t.Fatalf("%s (%s=1)", msg, RequireAllEnv)
	}
	t.Skip(msg)
}

// Start starts dynalite on a free port for the test and returns its
// endpoint URL; it is killed when the test ends. Without node or dynalite
// the test is skipped (failed under LONGSHORE_REQUIRE_ALL=1).
func Start(t testing.TB) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		Missing(t, "node is not installed: dynalite cannot run")
	}
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	cli := filepath.Join(root, "node_modules", "dynalite", "cli.js")
	if _, err := os.Stat(cli); err != nil {
		Missing(t, "dynalite is not installed (%s): run npm ci", cli)
	}
	for range 3 {
		port, err := freePort()
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(node, cli, "--port", strconv.Itoa(port),
			"--createTableMs", "0", "--deleteTableMs", "0", "--updateTableMs", "0")
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatalf("start dynalite: %v", err)
		}
		exited := make(chan struct{})
		go func() { cmd.Wait(); close(exited) }()
		addr := "127.0.0.1:" + strconv.Itoa(port)
		if waitListening(addr, exited, 15*time.Second) {
			t.Cleanup(func() {
				cmd.Process.Kill()
				<-exited
			})
			return "http://" + addr
		}
		cmd.Process.Kill()
		<-exited
		t.Logf("dynalite on port %d did not come up: %s", port, out.String())
	}
	t.Fatal("start dynalite: it never listened")
	return ""
}

func waitListening(addr string, exited <-chan struct{}, within time.Duration) bool {
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return false
		default:
		}
		if c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond); err == nil {
			c.Close()
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return false
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// moduleRoot is the folder of go.mod above the working directory.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod above the working directory")
		}
		dir = parent
	}
}

// Client is a DynamoDB client for endpoint with test credentials, retrying
// as the SDK does by default.
func Client(endpoint string, optFns ...func(*dynamodb.Options)) *dynamodb.Client {
	return dynamodb.New(dynamodb.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""),
	}, optFns...)
}

var tables atomic.Int64

// CreateTable creates a runs table (dynamo.TableSchema) with a fresh name
// and returns the name.
func CreateTable(t testing.TB, client *dynamodb.Client) string {
	t.Helper()
	name := fmt.Sprintf("runs-%d-%d", os.Getpid(), tables.Add(1))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := client.CreateTable(ctx, dynamo.TableSchema(name)); err != nil {
		t.Fatalf("create table %s: %v", name, err)
	}
	// Even with --createTableMs 0, dynalite makes the table active on its
	// next tick.
	for {
		out, err := client.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
		if err == nil && out.Table.TableStatus == types.TableStatusActive {
			return name
		}
		select {
		case <-ctx.Done():
			t.Fatalf("table %s never became active: %v", name, err)
		case <-time.After(5 * time.Millisecond):
		}
	}
}
