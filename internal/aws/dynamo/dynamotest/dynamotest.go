// Package dynamotest runs dynalite (npm, installed by `npm ci`) for tests:
// a DynamoDB that speaks the real wire protocol, with the runs table
// created from dynamo.TableSchema.
package dynamotest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
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
	s, err := Run()
	if errors.Is(err, ErrMissing) {
		Missing(t, "%v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return s.URL
}

// ErrMissing is Run's error when node or dynalite is not installed.
var ErrMissing = errors.New("dynalite cannot run")

// Server is a dynalite process (Run).
type Server struct {
	// URL is its endpoint.
	URL    string
	cmd    *exec.Cmd
	exited chan struct{}
}

// Stop kills the process and waits for it.
func (s *Server) Stop() {
	s.cmd.Process.Kill()
	<-s.exited
}

// Run starts dynalite on a free loopback port, for a test (Start) or a
// benchmark; the caller stops it. Without node or dynalite (npm ci) the
// error wraps ErrMissing.
func Run() (*Server, error) {
	node, err := exec.LookPath("node")
	if err != nil {
		return nil, fmt.Errorf("%w: node is not installed", ErrMissing)
	}
	root, err := moduleRoot()
	if err != nil {
		return nil, err
	}
	cli := filepath.Join(root, "node_modules", "dynalite", "cli.js")
	if _, err := os.Stat(cli); err != nil {
		return nil, fmt.Errorf("%w: dynalite is not installed (%s): run npm ci", ErrMissing, cli)
	}
	var outs []string
	for range 3 {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		cmd := exec.Command(node, cli, "--port", strconv.Itoa(port),
			"--createTableMs", "0", "--deleteTableMs", "0", "--updateTableMs", "0")
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			return nil, fmt.Errorf("start dynalite: %w", err)
		}
		exited := make(chan struct{})
		go func() { cmd.Wait(); close(exited) }()
		addr := "127.0.0.1:" + strconv.Itoa(port)
		if waitListening(addr, exited, 15*time.Second) {
			return &Server{URL: "http://" + addr, cmd: cmd, exited: exited}, nil
		}
		cmd.Process.Kill()
		<-exited
		outs = append(outs, fmt.Sprintf("port %d: %s", port, out.String()))
	}
	return nil, fmt.Errorf("start dynalite: it never listened (%s)", strings.Join(outs, "; "))
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
	if err := Create(ctx, client, dynamo.TableSchema(name)); err != nil {
		t.Fatal(err)
	}
	return name
}

// Create creates a table and waits until it is active.
func Create(ctx context.Context, client *dynamodb.Client, in *dynamodb.CreateTableInput) error {
	name := aws.ToString(in.TableName)
	if _, err := client.CreateTable(ctx, in); err != nil {
		return fmt.Errorf("create table %s: %w", name, err)
	}
	// Even with --createTableMs 0, dynalite makes the table active on its
	// next tick.
	for {
		out, err := client.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
		if err == nil && out.Table.TableStatus == types.TableStatusActive {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("table %s never became active: %v", name, err)
		case <-time.After(5 * time.Millisecond):
		}
	}
}
