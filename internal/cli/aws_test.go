package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda/messages"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/longshore/longshore/internal/api"
	"github.com/longshore/longshore/internal/aws/handler"
	"github.com/longshore/longshore/internal/aws/remote"
	"github.com/longshore/longshore/internal/job"
)

// lambdas answers Invoke as Lambda does, with the real launcher and api
// handlers over the fake engine's service and store.
type lambdas struct {
	launcher *handler.Launcher
	api      *handler.API
	mu       sync.Mutex // the CLI asks for several jobs' runs at once
	calls    []string
}

func (l *lambdas) Invoke(ctx context.Context, in *lambda.InvokeInput, _ ...func(*lambda.Options)) (*lambda.InvokeOutput, error) {
	name := aws.ToString(in.FunctionName)
	l.mu.Lock()
	l.calls = append(l.calls, name)
	l.mu.Unlock()
	var out any
	var err error
	switch name {
	case "longshore-launcher":
		out, err = l.launcher.Handle(ctx, in.Payload)
	case "longshore-api":
		out, err = l.api.Handle(ctx, in.Payload)
	default:
		return nil, &types.ResourceNotFoundException{Message: aws.String("Function not found: " + name)}
	}
	var ie messages.InvokeResponse_Error
	if errors.As(err, &ie) {
		b, _ := json.Marshal(map[string]string{"errorType": ie.Type, "errorMessage": ie.Message})
		return &lambda.InvokeOutput{StatusCode: 200, FunctionError: aws.String("Unhandled"), Payload: b}, nil
	}
	if err != nil {
		return nil, err
	}
	b, _ := json.Marshal(out)
	return &lambda.InvokeOutput{StatusCode: 200, Payload: b}, nil
}

// cloudwatch serves one run's output lines.
type cloudwatch struct{ lines []string }

func (c cloudwatch) Read(_ context.Context, _, _, token string, _ int) ([]handler.LogEvent, string, error) {
	if token == "end" {
		return nil, "end", nil
	}
	var out []handler.LogEvent
	for _, l := range c.lines {
		out = append(out, handler.LogEvent{Time: now, Message: l})
	}
	return out, "end", nil
}

// longshoreAWS runs the CLI with --aws pointed at the fake deployment.
func longshoreAWS(t *testing.T, l *lambdas, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	app := &App{Stdout: &out, Stderr: &errb, Now: func() time.Time { return now }, Getenv: func(string) string { return "" },
		AWS: remote.New(l, ""), After: func(time.Duration) <-chan time.Time { return time.After(time.Millisecond) }}
	code := app.Main(append(args, "--aws"))
	return result{out.String(), errb.String(), code}
}

func newDeployment(t *testing.T) (*fakeEngine, *lambdas) {
	e := newEngine(t, false)
	l := &lambdas{
		launcher: handler.NewLauncher(handler.LauncherOptions{Service: e.svc, Runs: e.store, Jobs: catalogOf(t, e), Now: func() time.Time { return now }}),
		api: handler.NewAPI(handler.APIOptions{Service: e.svc, Runs: e.store, Logs: cloudwatch{lines: []string{"hello from Fargate", "exiting with 3"}},
			JobFiles: deployedFiles, Jobs: catalogOf(t, e).(listed), Pauses: e.svc}),
	}
	return e, l
}

// deployedFiles is the catalog the fake deployment runs, as shipped to its
// functions: not the catalog of this repository.
var deployedFiles = map[string]string{
	"hello/job.yaml":          "image: {uri: busybox}\n",
	"nightly-report/job.yaml": "image: {uri: busybox}\ntriggers:\n  - schedule: cron(0 3 * * ? *)\n    timezone: Europe/Berlin\n",
}

// listed is the fake engine's catalog as the launcher reads it.
type listed struct{ catalog }

func (c listed) Jobs() []*job.Spec {
	var out []*job.Spec
	for _, s := range c.catalog {
		out = append(out, s)
	}
	return out
}

func catalogOf(t *testing.T, _ *fakeEngine) handler.Catalog {
	t.Helper()
	c := catalog{}
	for _, name := range []string{"hello", "nightly-report"} {
		s, err := job.Parse([]byte("image: {uri: busybox}\n"), name, "jobs/"+name+"/job.yaml")
		if err != nil {
			t.Fatal(err)
		}
		c[name] = s
	}
	return listed{c}
}

func TestTheRunCommandsWorkAgainstADeployment(t *testing.T) {
	e, l := newDeployment(t)
	go func() {
		for {
			if runs := e.store.Runs(); len(runs) == 1 {
				if _, started := e.runner.Task(runs[0].ID); started {
					e.finish(t, runs[0].ID, 3)
					return
				}
			}
			time.Sleep(time.Millisecond)
		}
	}()
	got := longshoreAWS(t, l, "run", "hello", "--env", "EXIT_CODE=3", "--wait")
	if got.code != 3 || !strings.Contains(got.stdout, "exiting with 3") {
		t.Fatalf("run --aws --wait: %s", got)
	}
	id := lines(got.stdout)[0]
	if l.calls[0] != "longshore-launcher" || l.calls[1] != "longshore-api" {
		t.Errorf("calls = %v: want the launcher first, then the api function", l.calls)
	}

	get := longshoreAWS(t, l, "runs", "get", id, "--json")
	var r map[string]any
	if json.Unmarshal([]byte(get.stdout), &r) != nil || r["status"] != "failed" || r["exitCode"] != float64(3) {
		t.Errorf("runs get --aws: %s", get)
	}
	list := longshoreAWS(t, l, "runs", "--job", "hello")
	if list.code != 0 || !strings.Contains(list.stdout, id) {
		t.Errorf("runs --aws: %s", list)
	}
	logs := longshoreAWS(t, l, "logs", id)
	if logs.code != 0 || logs.stdout != "hello from Fargate\nexiting with 3\n" {
		t.Errorf("logs --aws: %s", logs)
	}
	stop := longshoreAWS(t, l, "stop", id)
	if stop.code != 0 || !strings.Contains(stop.stdout, "failed") {
		t.Errorf("stop --aws of a finished run: %s", stop)
	}
}

func TestADeploymentsRefusalsReadAsLocalOnes(t *testing.T) {
	_, l := newDeployment(t)
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"an unknown job", []string{"run", "nope"}, 2, `unknown job "nope"`},
		{"an unknown run", []string{"runs", "get", "r-00000000000000ff"}, 1, "run r-00000000000000ff not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := longshoreAWS(t, l, tt.args...)
			if got.code != tt.code || !strings.Contains(got.stderr, tt.want) || strings.Count(got.stderr, "\n") != 1 {
				t.Errorf("%v: %s", tt.args, got)
			}
		})
	}
}

func TestJobsOfADeploymentAreTheCatalogItRuns(t *testing.T) {
	_, l := newDeployment(t)
	started := longshoreAWS(t, l, "run", "hello")
	if started.code != 0 {
		t.Fatalf("run --aws: %s", started)
	}
	id := strings.TrimSpace(started.stdout)
	got := longshoreAWS(t, l, "jobs", "--json")
	var jobs []api.Job
	if got.code != 0 || json.Unmarshal([]byte(got.stdout), &jobs) != nil || len(jobs) != 2 {
		t.Fatalf("jobs --aws --json: %s", got)
	}
	if jobs[0].Name != "hello" || jobs[0].LastRun == nil || jobs[0].LastRun.ID != id {
		t.Errorf("hello: %+v, want its last run %s", jobs[0], id)
	}
	if jobs[1].Name != "nightly-report" || jobs[1].LastRun != nil || len(jobs[1].Schedules) != 1 || jobs[1].Schedules[0].Timezone != "Europe/Berlin" {
		t.Errorf("nightly-report: %+v, want its Berlin schedule and no run", jobs[1])
	}
	table := longshoreAWS(t, l, "jobs")
	if table.code != 0 || !strings.Contains(table.stdout, "nightly-report") || !strings.Contains(table.stdout, "schedule cron(0 3 * * ? *) Europe/Berlin") {
		t.Errorf("jobs --aws: %s", table)
	}
}

func TestADeploymentThatIsNotThereSaysHowToMakeOne(t *testing.T) {
	var out, errb bytes.Buffer
	app := &App{Stdout: &out, Stderr: &errb, Now: func() time.Time { return now }, Getenv: func(string) string { return "" },
		AWS: remote.New(&lambdas{}, "staging")}
	code := app.Main([]string{"runs", "--aws"})
	if code != 1 || !strings.Contains(errb.String(), "no function staging-api in this account and region") {
		t.Errorf("exit %d: %s", code, errb.String())
	}
}

func TestWaitingOnADeploymentAsksEveryTwoSecondsThenLessOften(t *testing.T) {
	e, l := newDeployment(t)
	var waits []time.Duration
	var waited time.Duration
	instant := func(d time.Duration) <-chan time.Time {
		waits = append(waits, d)
		waited += d
		if waited >= 10*time.Minute {
			if runs := e.store.Runs(); len(runs) == 1 {
				if _, started := e.runner.Task(runs[0].ID); started {
					e.finish(t, runs[0].ID, 0)
				}
			}
		}
		c := make(chan time.Time, 1)
		c <- now
		return c
	}
	var out, errb bytes.Buffer
	app := &App{Stdout: &out, Stderr: &errb, Now: func() time.Time { return now }, Getenv: func(string) string { return "" },
		AWS: remote.New(l, ""), After: instant}
	if code := app.Main([]string{"run", "hello", "--wait", "--aws", "--progress", "plain"}); code != 0 {
		t.Fatalf("run --wait --aws: exit %d\n%s%s", code, out.String(), errb.String())
	}
	// Calls of the api function (Get, then the output's tail) per minute waited.
	perMinute := map[int]int{}
	var at time.Duration
	for _, d := range waits {
		if d < awsPollFirst || d > awsPollMost {
			t.Errorf("waited %s between two questions, want %s to %s", d, awsPollFirst, awsPollMost)
		}
		at += d
		perMinute[int((at-time.Nanosecond)/time.Minute)]++
	}
	if perMinute[0] > 30 || perMinute[9] > 2 {
		t.Errorf("questions per minute waited: %v, want at most 30 in the first and 2 once the run has gone on for long", perMinute)
	}
	apiCalls := 0
	for _, c := range l.calls {
		if c == "longshore-api" {
			apiCalls++
		}
	}
	if apiCalls > len(waits)+3 {
		t.Errorf("%d api invocations for %d waits: each wait should cost one", apiCalls, len(waits))
	}
}

func TestFollowingADeploymentsLogsAsksAsOftenAsWaiting(t *testing.T) {
	tests := []struct {
		name  string
		steps int
		want  []time.Duration
	}{
		{"the first minute every two seconds", 31, append(slices.Repeat([]time.Duration{2 * time.Second}, 30), 3*time.Second)},
		{"then half as often again each time, at most every 30 s", 38,
			append(slices.Repeat([]time.Duration{2 * time.Second}, 30), 3*time.Second, 4500*time.Millisecond, 6750*time.Millisecond,
				10125*time.Millisecond, 15187500*time.Microsecond, 22781250*time.Microsecond, 30*time.Second, 30*time.Second)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := pace(awsBackend{})
			var got []time.Duration
			for range tt.steps {
				got = append(got, p.next())
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("waits = %v, want %v", got, tt.want)
			}
		})
	}
	if p := pace(localBackend{}); p.next() != pollEvery || p.next() != pollEvery {
		t.Errorf("a local engine is asked every %s", pollEvery)
	}
}

func TestPausingAJobOfADeploymentRecordsItsRunsAsNotStartedUntilResumed(t *testing.T) {
	e, l := newDeployment(t)
	got := longshoreAWS(t, l, "pause", "hello", "--reason", "warehouse migration")
	if got.code != 0 || !strings.Contains(got.stdout, "hello: paused since") || !strings.Contains(got.stdout, "(warehouse migration)") {
		t.Fatalf("pause --aws: %s", got)
	}
	jobs := longshoreAWS(t, l, "jobs", "hello")
	if jobs.code != 0 || !strings.Contains(jobs.stdout, "paused since") {
		t.Errorf("jobs hello --aws after a pause: %s", jobs)
	}
	waited := longshoreAWS(t, l, "run", "hello", "--wait")
	if waited.code != 1 || !strings.Contains(waited.stdout+waited.stderr, "did not start: job paused (warehouse migration)") {
		t.Errorf("run --wait --aws of a paused job: %s; want exit 1 saying why", waited)
	}
	if e.runner.Count() != 0 {
		t.Errorf("%d tasks started for a paused job", e.runner.Count())
	}
	if got := longshoreAWS(t, l, "resume", "hello"); got.code != 0 || got.stdout != "hello: active\n" {
		t.Errorf("resume --aws: %s", got)
	}
	if got := longshoreAWS(t, l, "run", "hello"); got.code != 0 || e.runner.Count() != 1 {
		t.Errorf("run --aws after the resume: %s, %d tasks", got, e.runner.Count())
	}
	if got := longshoreAWS(t, l, "pause", "nope"); got.code != 2 || !strings.Contains(got.stderr, `unknown job "nope"`) {
		t.Errorf("pause --aws of an unknown job: %s", got)
	}
}
