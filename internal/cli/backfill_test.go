package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/jonboulle/clockwork"

	"github.com/longshore/longshore/internal/api"
	"github.com/longshore/longshore/internal/aws/remote"
	"github.com/longshore/longshore/internal/deploy"
	"github.com/longshore/longshore/internal/dispatch"
	"github.com/longshore/longshore/internal/dispatch/fake"
	"github.com/longshore/longshore/internal/job"
	"github.com/longshore/longshore/internal/local/scheduler"
)

// paced is the fake deployment's Lambda, one invocation at a time (its
// fakes are not safe for concurrent use), counting how many the CLI had
// in flight at once.
type paced struct {
	l             *lambdas
	mu, count     sync.Mutex
	inflight, max int
}

func (p *paced) Invoke(ctx context.Context, in *lambda.InvokeInput, opts ...func(*lambda.Options)) (*lambda.InvokeOutput, error) {
	p.count.Lock()
	p.inflight++
	p.max = max(p.max, p.inflight)
	p.count.Unlock()
	defer func() { p.count.Lock(); p.inflight--; p.count.Unlock() }()
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.l.Invoke(ctx, in, opts...)
}

func backfillAWS(t *testing.T, inv remote.Invoker, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	app := &App{Stdout: &out, Stderr: &errb, Now: func() time.Time { return now }, Getenv: func(string) string { return "" },
		AWS: remote.New(inv, "")}
	code := app.Main(append(args, "--aws"))
	return result{out.String(), errb.String(), code}
}

func TestABackfillOnAWSHandsTheLauncherTheSchedulersPayloadOncePerTime(t *testing.T) {
	e, l := newDeployment(t)
	p := &paced{l: l}
	window := []string{"backfill", "nightly-report", "--from", "2026-11-20", "--to", "2026-11-23"}

	dry := backfillAWS(t, p, append(window, "--dry-run")...)
	want := []*regexp.Regexp{
		regexp.MustCompile(`^SCHEDULED\s+UTC\s+SCHEDULE$`),
		regexp.MustCompile(`^2026-11-20 03:00 CET\s+2026-11-20T02:00:00Z\s+cron\(0 3 \* \* \? \*\) Europe/Berlin$`),
		regexp.MustCompile(`^2026-11-21 03:00 CET\s+2026-11-21T02:00:00Z\s+cron`),
		regexp.MustCompile(`^2026-11-22 03:00 CET\s+2026-11-22T02:00:00Z\s+cron`),
		regexp.MustCompile(`^3 times from 2026-11-20T00:00:00Z to 2026-11-23T00:00:00Z \(dry run: nothing created\)$`),
	}
	ls := lines(dry.stdout)
	if dry.code != 0 || len(ls) != len(want) {
		t.Fatalf("dry run = %s", dry)
	}
	for i, re := range want {
		if !re.MatchString(ls[i]) {
			t.Errorf("dry run line %d = %q, want %s", i+1, ls[i], re)
		}
	}
	if n := len(e.store.Runs()); n != 0 {
		t.Fatalf("a dry run stored %d runs", n)
	}

	// EventBridge Scheduler fired the 21st itself.
	fired, _ := json.Marshal(deploy.SchedulePayload{Job: "nightly-report", ScheduledTime: "2026-11-21T02:00:00Z",
		ScheduleArn: "arn:aws:scheduler:us-east-1:111122223333:schedule/longshore/longshore-nightly-report-0", ExecutionID: "e-1"})
	if _, err := l.launcher.Handle(context.Background(), fired); err != nil {
		t.Fatal(err)
	}

	steps := []struct {
		name, summary string
		runs          int
	}{
		{"a backfill creates the times that did not fire", "2 created, 1 already there", 3},
		{"a second backfill creates nothing", "0 created, 3 already there", 3},
	}
	for _, s := range steps {
		got := backfillAWS(t, p, window...)
		if got.code != 0 || !strings.HasSuffix(got.stdout, s.summary+"\n") || len(e.store.Runs()) != s.runs {
			t.Errorf("%s: %s\n%d runs stored", s.name, got, len(e.store.Runs()))
		}
	}
	for _, r := range e.store.Runs() {
		if r.Trigger.Kind != "schedule" || !strings.HasPrefix(r.Key, "nightly-report/schedule/2026-11-2") {
			t.Errorf("run %s: trigger %+v, key %s", r.ID, r.Trigger, r.Key)
		}
		if r.Trigger.Schedule != "backfill:longshore/longshore-nightly-report-0" && !strings.HasPrefix(r.Trigger.Schedule, "arn:aws:scheduler:") {
			t.Errorf("run %s: schedule %q names neither the schedule nor a backfill of it", r.ID, r.Trigger.Schedule)
		}
	}
	if p.max > backfillParallel {
		t.Errorf("%d invocations in flight at once, want at most %d", p.max, backfillParallel)
	}
}

func TestABackfillOnAWSThatCannotBeDoneSaysWhy(t *testing.T) {
	_, l := newDeployment(t)
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"an unknown job names the closest", []string{"backfill", "nightly-reprot", "--from", "2026-11-20", "--to", "2026-11-23"}, 1,
			`the deployment longshore has no job "nightly-reprot": unknown job "nightly-reprot"; did you mean "nightly-report"?`},
		{"a job without a schedule", []string{"backfill", "hello", "--from", "2026-11-20", "--to", "2026-11-23"}, 2,
			"job hello has no schedule trigger"},
		{"a window over the limit says how many", []string{"backfill", "nightly-report", "--from", "2020-01-01", "--to", "2026-01-01"}, 2,
			"fire 2192 times from 2020-01-01T00:00:00Z to 2026-01-01T00:00:00Z; one backfill creates at most 1000: narrow the window"},
		{"a window past now", []string{"backfill", "nightly-report", "--from", "2026-11-23", "--to", "2026-11-25"}, 2,
			"the window reaches past now"},
		{"a time that is neither RFC 3339 nor a date", []string{"backfill", "nightly-report", "--from", "yesterday", "--to", "2026-11-23"}, 2,
			`--from "yesterday" is neither an RFC 3339 time`},
		{"no window", []string{"backfill", "nightly-report"}, 2, "backfill needs --from and --to"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := backfillAWS(t, &paced{l: l}, tt.args...)
			if got.code != tt.code || !strings.Contains(got.stderr, tt.want) {
				t.Errorf("%v = %s\nwant exit %d with %q", tt.args, got, tt.code, tt.want)
			}
		})
	}
}

// backfillEngine is an engine's runs API whose backfill is the local
// scheduler's, over fakes.
func backfillEngine(t *testing.T) (string, *fake.Store) {
	t.Helper()
	s, err := job.Parse([]byte("image: {uri: busybox}\ntriggers:\n  - schedule: rate(1 hour)\n"), "hourly", "jobs/hourly/job.yaml")
	if err != nil {
		t.Fatal(err)
	}
	clock := clockwork.NewFakeClockAt(now)
	store := fake.NewStore()
	n := 0
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	svc := dispatch.New(dispatch.Deps{Jobs: catalog{"hourly": s}, Store: store, Runner: fake.NewRunner(), Notifier: &fake.Notifier{},
		Now: clock.Now, Log: log, NewID: func() (string, error) { n++; return fmt.Sprintf("r-%016x", n), nil }})
	sched, err := scheduler.New(scheduler.Options{Jobs: []*job.Spec{s}, Launch: svc, Marks: nil, Clock: clock, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(api.NewHandler(api.Options{Launcher: svc, Runs: store, Logs: noLogs{}, Log: log, Jobs: func() []api.Job { return nil },
		Backfill: func(ctx context.Context, name string, req api.BackfillRequest) (api.BackfillResponse, error) {
			b, err := sched.Backfill(ctx, name, req.From, req.To, req.DryRun)
			if err != nil {
				return api.BackfillResponse{}, err
			}
			return api.BackfillAnswer(name, req, b.Times, b.Runs, b.Errs), nil
		}}))
	t.Cleanup(srv.Close)
	return srv.URL, store
}

func TestABackfillOfTheLocalEngineCreatesEachTimeOnce(t *testing.T) {
	url, store := backfillEngine(t)
	window := []string{"backfill", "hourly", "--from", "2026-11-23T15:00:00Z", "--to", "2026-11-23T17:30:00+01:00"}
	dry := longshore(t, url, append(window, "--dry-run")...)
	if dry.code != 0 || !strings.Contains(dry.stdout, "2 times from 2026-11-23T15:00:00Z to 2026-11-23T16:30:00Z (dry run: nothing created)") ||
		!strings.Contains(dry.stderr, "counted from 1970-01-01T00:00Z") || len(store.Runs()) != 0 {
		t.Fatalf("dry run = %s", dry)
	}
	first := longshore(t, url, window...)
	if first.code != 0 || !regexp.MustCompile(`(?m)^2026-11-23 15:00 UTC\s+2026-11-23T15:00:00Z\s+r-\S+\s+created \(starting\)$`).MatchString(first.stdout) ||
		!strings.HasSuffix(first.stdout, "2 created, 0 already there\n") {
		t.Errorf("backfill = %s", first)
	}
	again := longshore(t, url, append(window, "--json")...)
	var resp api.BackfillResponse
	if again.code != 0 || json.Unmarshal([]byte(again.stdout), &resp) != nil || len(resp.Created) != 0 || len(resp.Existing) != 2 || len(store.Runs()) != 2 {
		t.Errorf("backfill again = %s", again)
	}
	unknown := longshore(t, url, "backfill", "hourli", "--from", "2026-11-22", "--to", "2026-11-23")
	if unknown.code != 1 || !strings.Contains(unknown.stderr, `unknown job "hourli"; did you mean "hourly"?`) {
		t.Errorf("backfill of an unknown job = %s", unknown)
	}
}
