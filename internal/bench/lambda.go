package bench

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/longshore/longshore/internal/deploy"
)

// lambdas are the four functions.
var lambdas = []string{"launcher", "tracker", "reconciler", "api"}

// Lambdas reports each function's deployable size (arm64, stripped, as
// `make build` makes it) and the cold start of its real bootstrap, built for
// this machine, under a fake Lambda Runtime API: from process start to its
// first request for an invocation, which is what Lambda reports as the
// init duration (configuration read, clients built, the catalog loaded).
func Lambdas(ctx context.Context) ([]Row, error) {
	dir, err := os.MkdirTemp("", "longshore-bench-lambda-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	var rows []Row
	for _, f := range lambdas {
		arm := filepath.Join(dir, f+"-arm64")
		build := exec.CommandContext(ctx, "go", "build", "-tags", "lambda.norpc", "-trimpath", "-ldflags=-s -w", "-o", arm, "./functions/"+f)
		build.Env = append(os.Environ(), "GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0")
		if out, err := build.CombinedOutput(); err != nil {
			return rows, fmt.Errorf("build %s: %v: %s", f, err, out)
		}
		st, err := os.Stat(arm)
		if err != nil {
			return rows, err
		}
		host := filepath.Join(dir, f)
		build = exec.CommandContext(ctx, "go", "build", "-tags", "lambda.norpc", "-o", host, "./functions/"+f)
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := build.CombinedOutput(); err != nil {
			return rows, fmt.Errorf("build %s for this machine: %v: %s", f, err, out)
		}
		var cold []time.Duration
		var peak int64
		for range 5 {
			d, kib, err := coldStart(ctx, host)
			if err != nil {
				return rows, fmt.Errorf("cold start of %s: %w", f, err)
			}
			cold = append(cold, d)
			peak = max(peak, kib)
		}
		rows = append(rows, Row{
			Name: "lambda " + f + ": size (arm64), cold start (median of 5), peak RSS after init",
			Value: fmt.Sprintf("%.2f MB, %s, %.1f MiB", float64(st.Size())/1e6, percentile(cold, 50).Round(100*time.Microsecond),
				float64(peak)/1024),
			Target: "< 12 MB", Met: st.Size() < 12e6,
		})
	}
	return rows, nil
}

// coldStart runs bin under a fake Runtime API and times from the process
// start to its first request for an invocation; it also reads the process's
// peak resident memory (VmHWM) then.
func coldStart(ctx context.Context, bin string) (time.Duration, int64, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, 0, err
	}
	ready := make(chan time.Time, 1)
	failed := make(chan string, 1)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /2018-06-01/runtime/invocation/next", func(w http.ResponseWriter, r *http.Request) {
		select {
		case ready <- time.Now():
		default:
		}
		<-r.Context().Done() // no invocation: the init is what is measured
	})
	mux.HandleFunc("POST /2018-06-01/runtime/init/error", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		select {
		case failed <- string(b):
		default:
		}
		w.WriteHeader(http.StatusAccepted)
	})
	srv := &http.Server{Handler: mux}
	go srv.Serve(l)
	defer srv.Close()

	cmd := exec.CommandContext(ctx, bin)
	cmd.Env = append(benchLambdaEnv(), "AWS_LAMBDA_RUNTIME_API="+l.Addr().String())
	var stderr strings.Builder
	cmd.Stderr = &stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, 0, err
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	defer func() { cmd.Process.Kill(); <-exited }()
	select {
	case at := <-ready:
		return at.Sub(start), statusKiB(cmd.Process.Pid, "VmHWM:"), nil
	case msg := <-failed:
		return 0, 0, fmt.Errorf("init failed: %s", msg)
	case <-exited:
		return 0, 0, fmt.Errorf("exited during init: %s", stderr.String())
	case <-time.After(30 * time.Second):
		return 0, 0, fmt.Errorf("not ready within 30s")
	}
}

// benchLambdaEnv is a complete configuration pointing nowhere: the cold
// start parses it and builds its clients, and the first event is refused
// before any call.
func benchLambdaEnv() []string {
	env := []string{
		"AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=bench", "AWS_SECRET_ACCESS_KEY=bench",
		"AWS_ENDPOINT_URL=http://127.0.0.1:9", "AWS_LAMBDA_FUNCTION_NAME=bench",
		"LONGSHORE_CLUSTER_ARN=arn:aws:ecs:us-east-1:111122223333:cluster/longshore",
		"LONGSHORE_SUBNETS=subnet-0a1b2c3d", "LONGSHORE_SECURITY_GROUPS=sg-0a1b2c3d",
		"LONGSHORE_RUNS_TABLE=longshore-runs", "LONGSHORE_EVENT_BUS=longshore",
		"LONGSHORE_PAYLOAD_BUCKET=longshore-payloads", "LONGSHORE_UPLOADS_BUCKET=longshore-uploads",
	}
	// The catalog, which Lambda mounts from its layer under /opt.
	if jobs, err := filepath.Abs("jobs"); err == nil {
		env = append(env, deploy.EnvCatalog+"="+jobs)
	}
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "PATH=") || strings.HasPrefix(kv, "HOME=") {
			env = append(env, kv)
		}
	}
	return env
}

// Handlers runs the Go benchmarks of the functions' handlers (package
// internal/aws/handler: one per event kind, through the Handle method each
// function's main gives the Lambda runtime, over in-memory ports) and
// reports each one's time and allocations per event.
func Handlers(ctx context.Context) ([]Row, error) {
	cmd := exec.CommandContext(ctx, "go", "test", "-run", "^$", "-bench", ".", "-benchmem", "-benchtime", "200ms", "./internal/aws/handler/")
	out, err := cmd.CombinedOutput()
	if err != nil {
		// The first failure first, then all that go test said.
		lines := strings.Split(string(out), "\n")
		for i, l := range lines {
			if strings.Contains(l, "--- FAIL") && i+1 < len(lines) {
				return nil, fmt.Errorf("go test -bench: %v: %s %s\n%s", err, strings.TrimSpace(l), strings.TrimSpace(lines[i+1]), out)
			}
		}
		return nil, fmt.Errorf("go test -bench: %v: %s", err, out)
	}
	var rows []Row
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		name := strings.TrimPrefix(f[0], "Benchmark")
		if i := strings.LastIndexByte(name, '-'); i > 0 {
			name = name[:i] // the GOMAXPROCS suffix
		}
		units := map[string]string{}
		for i := 2; i+1 < len(f); i += 2 {
			units[f[i+1]] = f[i]
		}
		value := fmt.Sprintf("%s ns/op, %s B/op, %s allocs/op", units["ns/op"], units["B/op"], units["allocs/op"])
		if per, ok := units["ns/msg"]; ok {
			value += fmt.Sprintf(" (%s messages a batch, %s ns/message)", strings.TrimSuffix(units["msgs/op"], ".000"), per)
		}
		rows = append(rows, Row{Name: "handler " + name + ": CPU time and allocations per event", Value: value})
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("go test -bench printed no benchmark: %s", out)
	}
	return rows, nil
}
