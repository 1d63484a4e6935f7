package dispatch_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/longshore/longshore/internal/dispatch"
	"github.com/longshore/longshore/internal/dispatch/fake"
	"github.com/longshore/longshore/internal/job"
	"github.com/longshore/longshore/internal/run"
)

// mondayMorning is when every test starts.
func mondayMorning() time.Time { return time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC) }

type catalog map[string]*job.Spec

func (c catalog) Get(name string) (*job.Spec, bool) { s, ok := c[name]; return s, ok }

func (c catalog) Jobs() []*job.Spec {
	var out []*job.Spec
	for _, name := range slices.Sorted(maps.Keys(c)) {
		out = append(out, c[name])
	}
	return out
}

type world struct {
	t       *testing.T
	catalog catalog
	newID   func() (string, error)
	svc     *dispatch.Service
	store   *fake.Store
	runner  *fake.Runner
	notes   *fake.Notifier
	clock   *fake.Clock
}

// newWorld builds the services over fakes, with jobs given as name: job.yaml.
func newWorld(t *testing.T, jobs map[string]string) *world {
	t.Helper()
	cat := catalog{}
	for name, y := range jobs {
		s, err := job.Parse([]byte(y), name, "jobs/"+name+"/job.yaml")
		if err != nil {
			t.Fatalf("job %s: %v", name, err)
		}
		cat[name] = s
	}
	w := &world{t: t, store: fake.NewStore(), runner: fake.NewRunner(), notes: &fake.Notifier{}, clock: fake.NewClock(mondayMorning())}
	var n atomic.Int64 // triggers may be launched from many goroutines
	w.catalog = cat
	w.newID = func() (string, error) { return fmt.Sprintf("r-%016x", n.Add(1)), nil }
	w.svc = dispatch.New(dispatch.Deps{
		Jobs: cat, Store: w.store, Runner: w.runner, Notifier: w.notes, Now: w.clock.Now,
		NewID: w.newID,
		Log:   slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	return w
}

const hello = "image: {uri: busybox}\nenvironment: {GREETING: hi}\nsecrets: {DB_PASSWORD: 'ssm:/db'}\ntimeout: 10m\n"

var ctx = context.Background()

func invoke(jobName, key string) dispatch.Request {
	return dispatch.Request{Job: jobName, Trigger: run.Trigger{Kind: run.TriggerInvoke}, Key: key}
}

func (w *world) launch(req dispatch.Request) run.Run {
	w.t.Helper()
	got, err := w.svc.Launch(ctx, req)
	if err != nil {
		w.t.Fatalf("Launch: %v", err)
	}
	return got.Run
}

// observe reports the run's task in a phase, as the runner would.
func (w *world) observe(id string, ts run.TaskState) dispatch.Observed {
	w.t.Helper()
	ts = w.runner.SetState(id, ts)
	got, err := w.svc.Observe(ctx, ts)
	if err != nil {
		w.t.Fatalf("Observe: %v", err)
	}
	return got
}

func (w *world) get(id string) run.Run {
	w.t.Helper()
	r, err := w.store.Get(ctx, id)
	if err != nil {
		w.t.Fatalf("Get %s: %v", id, err)
	}
	return r
}

func running() run.TaskState { return run.TaskState{Phase: run.PhaseRunning} }

func exited(code int) run.TaskState {
	return run.TaskState{Phase: run.PhaseStopped, StopCode: run.StopCodeEssentialExited,
		Containers: []run.Container{{Name: "app", ExitCode: &code}}}
}

func stoppedByUser() run.TaskState {
	code := 143
	return run.TaskState{Phase: run.PhaseStopped, StopCode: run.StopCodeUserInitiated, StoppedReason: "Task stopped by user",
		Containers: []run.Container{{Name: "app", ExitCode: &code}}}
}

func failedToStart(reason string) run.TaskState {
	return run.TaskState{Phase: run.PhaseStopped, StopCode: run.StopCodeFailedToStart, StoppedReason: reason,
		Containers: []run.Container{{Name: "app"}}}
}

func exitCode(r run.Run) string {
	if r.ExitCode == nil {
		return "null"
	}
	return fmt.Sprint(*r.ExitCode)
}

func TestALaunchedRunGetsTheEnvironmentLongshorePromises(t *testing.T) {
	w := newWorld(t, map[string]string{"hello": hello})
	at := time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		req  dispatch.Request
		want map[string]string
	}{
		{"an invoke with an override", dispatch.Request{Job: "hello", Trigger: run.Trigger{Kind: run.TriggerInvoke}, Env: map[string]string{"EXIT_CODE": "3", "GREETING": "hey"}},
			map[string]string{"GREETING": "hey", "EXIT_CODE": "3", "LONGSHORE_TRIGGER": "invoke", "LONGSHORE_JOB": "hello", "LONGSHORE_ATTEMPT": "1"}},
		{"a schedule", dispatch.Request{Job: "hello", Trigger: run.Trigger{Kind: run.TriggerSchedule, ScheduledTime: &at}},
			map[string]string{"GREETING": "hi", "LONGSHORE_TRIGGER": "schedule", "LONGSHORE_SCHEDULED_TIME": "2026-11-23T08:00:00Z"}},
		{"an upload", dispatch.Request{Job: "hello", Trigger: run.Trigger{Kind: run.TriggerS3, Bucket: "uploads", Key: "in/a b.csv", Sequencer: "01"}},
			map[string]string{"LONGSHORE_TRIGGER": "s3", "LONGSHORE_S3_BUCKET": "uploads", "LONGSHORE_S3_KEY": "in/a b.csv"}},
		{"a message", dispatch.Request{Job: "hello", Trigger: run.Trigger{Kind: run.TriggerSQS, Queue: "hello", MessageID: "m-1", Body: `{"order":7}`}},
			map[string]string{"LONGSHORE_TRIGGER": "sqs", "LONGSHORE_SQS_MESSAGE_ID": "m-1", "LONGSHORE_SQS_BODY": `{"order":7}`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := w.launch(tt.req)
			task, started := w.runner.Task(r.ID)
			if r.Status != run.StatusStarting || !started {
				t.Fatalf("run is %s, task started %v; want starting with a task", r.Status, started)
			}
			tt.want["LONGSHORE_RUN_ID"] = r.ID
			for k, v := range tt.want {
				if got := task.Task.Env[k]; got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
			if _, leaked := task.Task.Env["DB_PASSWORD"]; leaked {
				t.Error("the secret reference was put in the environment; the runner resolves secrets")
			}
		})
	}
}

func TestTheSameTriggerTwiceMakesOneRun(t *testing.T) {
	at := time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)
	atLater := at.Add(20 * time.Second) // the same scheduled minute, delivered again
	tests := []struct {
		name          string
		first, second dispatch.Request
	}{
		{"a schedule fired twice in its minute",
			dispatch.Request{Job: "hello", Trigger: run.Trigger{Kind: run.TriggerSchedule, ScheduledTime: &at}},
			dispatch.Request{Job: "hello", Trigger: run.Trigger{Kind: run.TriggerSchedule, ScheduledTime: &atLater}}},
		{"an upload event delivered twice",
			dispatch.Request{Job: "hello", Trigger: run.Trigger{Kind: run.TriggerS3, Bucket: "b", Key: "in/x.csv", Sequencer: "0055"}},
			dispatch.Request{Job: "hello", Trigger: run.Trigger{Kind: run.TriggerS3, Bucket: "b", Key: "in/x.csv", Sequencer: "0055"}}},
		{"an SQS message redelivered",
			dispatch.Request{Job: "hello", Trigger: run.Trigger{Kind: run.TriggerSQS, MessageID: "m-1"}},
			dispatch.Request{Job: "hello", Trigger: run.Trigger{Kind: run.TriggerSQS, MessageID: "m-1"}}},
		{"an invoke repeated with its key", invoke("hello", "deploy-42"), invoke("hello", "deploy-42")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t, map[string]string{"hello": hello})
			first := w.launch(tt.first)
			again, err := w.svc.Launch(ctx, tt.second)
			if err != nil {
				t.Fatalf("second Launch: %v", err)
			}
			if !again.Duplicate || again.Run.ID != first.ID {
				t.Errorf("second launch made run %s (duplicate %v), want run %s again", again.Run.ID, again.Duplicate, first.ID)
			}
			if n := len(w.store.Runs()); n != 1 {
				t.Errorf("%d runs stored, want 1", n)
			}
			if n := w.runner.Count(); n != 1 {
				t.Errorf("%d tasks started, want 1", n)
			}
		})
	}
}

func TestAnInvokeWithoutAKeyIsANewRunEachTime(t *testing.T) {
	w := newWorld(t, map[string]string{"hello": hello})
	a, b := w.launch(invoke("hello", "")), w.launch(invoke("hello", ""))
	if a.ID == b.ID || w.runner.Count() != 2 {
		t.Errorf("runs %s and %s, %d tasks; want two runs and two tasks", a.ID, b.ID, w.runner.Count())
	}
}

func TestOverridesThatFitATaskAreTakenWhole(t *testing.T) {
	w := newWorld(t, map[string]string{"hello": hello})
	env := map[string]string{"DATA": strings.Repeat("x", dispatch.MaxOverrideBytes-50)}
	if size := dispatch.OverrideSize(env, nil); size > dispatch.MaxOverrideBytes || size < dispatch.MaxOverrideBytes-20 {
		t.Fatalf("the test's overrides take %d bytes, want just under %d", size, dispatch.MaxOverrideBytes)
	}
	r := w.launch(dispatch.Request{Job: "hello", Trigger: run.Trigger{Kind: run.TriggerInvoke}, Env: env})
	if got := w.get(r.ID).Env["DATA"]; got != env["DATA"] {
		t.Errorf("stored %d bytes of DATA, want all %d", len(got), len(env["DATA"]))
	}
}

func TestOverridesThatHoldNoSecretAreStoredWithTheRun(t *testing.T) {
	w := newWorld(t, map[string]string{"hello": hello})
	env := map[string]string{"EXIT_CODE": "3", "TOKENIZER": "bpe", "API_TOKEN": ""}
	r := w.launch(dispatch.Request{Job: "hello", Trigger: run.Trigger{Kind: run.TriggerInvoke}, Env: env})
	if got := w.get(r.ID).Env; len(got) != 3 || got["EXIT_CODE"] != "3" || got["TOKENIZER"] != "bpe" {
		t.Errorf("stored overrides %v, want %v", got, env)
	}
}

func TestBadRequestsAreRefusedAndChangeNothing(t *testing.T) {
	tests := []struct {
		name string
		req  dispatch.Request
		want string
	}{
		{"an unknown job", invoke("nope", ""), `unknown job "nope"`},
		{"an override of Longshore's own variable", dispatch.Request{Job: "hello", Trigger: run.Trigger{Kind: run.TriggerInvoke}, Env: map[string]string{"LONGSHORE_RUN_ID": "x"}},
			"environment override LONGSHORE_RUN_ID: names starting with LONGSHORE_ are set by Longshore"},
		{"an override of a secret in plain text", dispatch.Request{Job: "hello", Trigger: run.Trigger{Kind: run.TriggerInvoke}, Env: map[string]string{"DB_PASSWORD": "x"}},
			"environment override DB_PASSWORD: DB_PASSWORD is one of the job's secrets and cannot be overridden in plain text"},
		{"an override that is not a variable name", dispatch.Request{Job: "hello", Trigger: run.Trigger{Kind: run.TriggerInvoke}, Env: map[string]string{"A-B": "x"}},
			`environment override "A-B" is not a variable name`},
		{"an override whose name looks like a secret", dispatch.Request{Job: "hello", Trigger: run.Trigger{Kind: run.TriggerInvoke}, Env: map[string]string{"API_TOKEN": "abc", "MODE": "x"}},
			"API_TOKEN looks like a secret: do not pass secrets as --env or in a run request's env; declare it in the job's secrets: (ssm:/... or secretsmanager:...)"},
		{"a schedule trigger without its time", dispatch.Request{Job: "hello", Trigger: run.Trigger{Kind: run.TriggerSchedule}}, "schedule trigger has no"},
		{"overrides too large for a task, as a 600 KB variable", dispatch.Request{Job: "hello", Trigger: run.Trigger{Kind: run.TriggerInvoke},
			Env: map[string]string{"DATA": strings.Repeat("x", 600_000)}},
			"the run's environment and command take 600044 bytes; a task takes at most 6144 (ECS allows 8 KiB of overrides"},
		{"a callback target longer than any queue URL or bus", dispatch.Request{Job: "hello", Trigger: run.Trigger{Kind: run.TriggerInvoke},
			Callback: &run.Callback{Kind: run.CallbackQueue, Target: "https://sqs/" + strings.Repeat("q", 600_000)}}, "callback: a target takes at most 2048 characters"},
		{"a command too large for a task", dispatch.Request{Job: "hello", Trigger: run.Trigger{Kind: run.TriggerInvoke},
			Command: slices.Repeat([]string{strings.Repeat("y", 100)}, 70)}, "take 7223 bytes; a task takes at most 6144"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t, map[string]string{"hello": hello})
			_, err := w.svc.Launch(ctx, tt.req)
			var re *dispatch.RequestError
			if !errors.As(err, &re) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Launch error = %v, want a RequestError containing %q", err, tt.want)
			}
			if len(w.store.Runs()) != 0 || w.runner.Count() != 0 {
				t.Error("a refused request stored a run or started a task")
			}
		})
	}
}

func TestARunIsTrackedToItsExitCodeAndReportedOnce(t *testing.T) {
	w := newWorld(t, map[string]string{"hello": hello})
	r := w.launch(invoke("hello", ""))
	w.observe(r.ID, running())
	if got := w.get(r.ID); got.Status != run.StatusRunning || got.StartedAt == nil {
		t.Fatalf("after running: %s, started %v", got.Status, got.StartedAt)
	}
	w.clock.Advance(time.Minute)
	stopped := w.observe(r.ID, exited(3))
	got := stopped.Run
	if got.Status != run.StatusFailed || got.Cause != run.CauseExit || exitCode(got) != "3" || got.Reason == "" {
		t.Errorf("run = %s/%s exit %s reason %q, want failed/exit 3 with a reason", got.Status, got.Cause, exitCode(got), got.Reason)
	}
	// The same STOPPED event again, then a stale RUNNING one.
	ts, _ := w.runner.Describe(ctx, got.TaskRef)
	if again, _ := w.svc.Observe(ctx, ts); again.Applied {
		t.Error("a duplicated stopped event was applied again")
	}
	stale := ts
	stale.Phase, stale.Version = run.PhaseRunning, ts.Version-1
	if late, _ := w.svc.Observe(ctx, stale); late.Applied || late.Run.Status != run.StatusFailed {
		t.Errorf("a late running event moved the run to %s", late.Run.Status)
	}
	reports := w.notes.Reports()
	if len(reports) != 1 || reports[0].ID != r.ID || exitCode(reports[0]) != "3" {
		t.Errorf("reports = %d (%v), want one with exit code 3", len(reports), reports)
	}
	if !w.get(r.ID).Notified {
		t.Error("the run is not marked reported")
	}
}

func TestAStoppedEventBeforeAnyOtherStillFinishesTheRun(t *testing.T) {
	w := newWorld(t, map[string]string{"hello": hello})
	r := w.launch(invoke("hello", ""))
	got := w.observe(r.ID, exited(0)).Run
	if got.Status != run.StatusSucceeded || exitCode(got) != "0" {
		t.Errorf("run = %s exit %s, want succeeded 0", got.Status, exitCode(got))
	}
}

func TestObservationsOfTasksThatAreNotOursAreIgnored(t *testing.T) {
	w := newWorld(t, map[string]string{"hello": hello})
	for _, ts := range []run.TaskState{
		{TaskRef: "arn:task/other", Phase: run.PhaseRunning},
		{TaskRef: "arn:task/gone", RunID: "r-00000000000000ff", Phase: run.PhaseStopped},
	} {
		got, err := w.svc.Observe(ctx, ts)
		if err != nil || got.Applied || got.Ignored == "" {
			t.Errorf("Observe(%+v) = %+v, %v; want ignored with a reason", ts, got, err)
		}
	}
}

func TestFailuresAreRetriedByPolicyAndOnlyTheLastAttemptIsReported(t *testing.T) {
	const flaky = "image: {uri: busybox}\nretries: {attempts: 3, exitCodes: [75], backoff: 30s}\n"
	w := newWorld(t, map[string]string{"flaky": flaky})
	first := w.launch(invoke("flaky", ""))
	w.observe(first.ID, exited(75))
	prev := w.get(first.ID)
	if prev.NextRunID == "" {
		t.Fatal("exit 75 is listed in retries.exitCodes but no retry was made")
	}
	second := w.get(prev.NextRunID)
	if second.Attempt != 2 || second.PreviousRunID != first.ID || second.Status != run.StatusQueued {
		t.Fatalf("retry = attempt %d prev %s status %s", second.Attempt, second.PreviousRunID, second.Status)
	}
	if n, _ := w.svc.StartDue(ctx); n != 0 {
		t.Errorf("StartDue started %d runs before the backoff passed", n)
	}
	w.clock.Advance(30 * time.Second)
	if n, err := w.svc.StartDue(ctx); n != 1 || err != nil {
		t.Fatalf("StartDue after the backoff = %d, %v; want 1", n, err)
	}
	task, _ := w.runner.Task(second.ID)
	if task.Task.Env["LONGSHORE_ATTEMPT"] != "2" {
		t.Errorf("LONGSHORE_ATTEMPT = %q, want 2", task.Task.Env["LONGSHORE_ATTEMPT"])
	}
	w.observe(second.ID, exited(75))
	third := w.get(w.get(second.ID).NextRunID)
	w.clock.Advance(time.Minute) // attempt 3 waits twice the backoff
	w.svc.StartDue(ctx)
	w.observe(third.ID, exited(75))
	last := w.get(third.ID)
	if last.Attempt != 3 || last.NextRunID != "" || last.Status != run.StatusFailed {
		t.Errorf("last attempt = %d next %q status %s", last.Attempt, last.NextRunID, last.Status)
	}
	reports := w.notes.Reports()
	if len(reports) != 1 || reports[0].ID != third.ID {
		t.Errorf("reports = %v, want only the third attempt", reports)
	}
	if n := len(w.store.Runs()); n != 3 {
		t.Errorf("%d runs, want 3 attempts", n)
	}
}

func TestAnExitCodeNotListedIsNotRetried(t *testing.T) {
	w := newWorld(t, map[string]string{"flaky": "image: {uri: busybox}\nretries: {attempts: 3, exitCodes: [75]}\n"})
	r := w.launch(invoke("flaky", ""))
	if got := w.observe(r.ID, exited(1)).Run; got.NextRunID != "" || len(w.notes.Reports()) != 1 {
		t.Errorf("exit 1 made a retry (%q) or was not reported", got.NextRunID)
	}
}

func TestStartFailuresAreRetriedOnlyWhenARetryCanHelp(t *testing.T) {
	const job = "image: {uri: busybox}\nretries: {attempts: 2}\n"
	tests := []struct {
		name      string
		reason    string
		wantRetry bool
	}{
		{"no free addresses in the subnet clear up", "InsufficientFreeAddressesInSubnet: Insufficient free addresses in subnet subnet-0a1b", true},
		{"a secret the role cannot read does not", "ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve secret from asm: AccessDeniedException: User: arn:aws:sts::111122223333:assumed-role/x is not authorized to perform: secretsmanager:GetSecretValue", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t, map[string]string{"j": job})
			r := w.launch(invoke("j", ""))
			got := w.observe(r.ID, failedToStart(tt.reason)).Run
			if got.Status != run.StatusFailed || got.Cause != run.CauseStart || got.ExitCode != nil {
				t.Errorf("run = %s/%s exit %s, want failed/start with no exit code", got.Status, got.Cause, exitCode(got))
			}
			if (got.NextRunID != "") != tt.wantRetry {
				t.Errorf("retried = %v, want %v (reason %q)", got.NextRunID != "", tt.wantRetry, got.Reason)
			}
		})
	}
}

func TestAStartTheRunnerRefusesFailsTheRunAndTellsTheCaller(t *testing.T) {
	w := newWorld(t, map[string]string{"hello": hello})
	w.runner.StartErr = &dispatch.StartError{Reason: "CannotPullContainerError: pull image manifest has been retried 5 time(s): not found"}
	r := w.launch(invoke("hello", ""))
	if r.Status != run.StatusFailed || r.Cause != run.CauseStart || !strings.HasPrefix(r.Reason, "never started") {
		t.Errorf("run = %s/%s %q, want failed/start 'never started...'", r.Status, r.Cause, r.Reason)
	}
	if len(w.notes.Reports()) != 1 {
		t.Errorf("%d reports, want 1", len(w.notes.Reports()))
	}
}

func TestAThrottledStartStaysQueuedUntilTheTriggerComesAgain(t *testing.T) {
	w := newWorld(t, map[string]string{"hello": hello})
	w.runner.StartErr = &dispatch.StartError{Transient: true, Reason: "ThrottlingException: Rate exceeded"}
	_, err := w.svc.Launch(ctx, invoke("hello", "k"))
	var se *dispatch.StartError
	if !errors.As(err, &se) || !se.Transient {
		t.Fatalf("Launch error = %v, want a transient StartError for the trigger to retry", err)
	}
	if runs := w.store.Runs(); len(runs) != 1 || runs[0].Status != run.StatusQueued {
		t.Fatalf("runs = %v, want one queued", runs)
	}
	w.runner.StartErr = nil
	again, err := w.svc.Launch(ctx, invoke("hello", "k"))
	if err != nil || !again.Duplicate || again.Run.Status != run.StatusStarting || w.runner.Count() != 1 {
		t.Errorf("redelivery = %+v, %v, %d tasks; want the same run started once", again, err, w.runner.Count())
	}
}

func TestALaunchThatDiedBeforeRecordingItsTaskIsRepairedWithoutASecondTask(t *testing.T) {
	w := newWorld(t, map[string]string{"hello": hello})
	r := w.launch(invoke("hello", "k"))
	// Forget the task reference, as if the launcher died right after starting the task.
	r.TaskRef = ""
	if _, err := w.store.Update(ctx, r); err != nil {
		t.Fatal(err)
	}
	w.clock.Advance(10 * time.Minute)
	got, err := w.svc.Reconcile(ctx, dispatch.ReconcileOptions{Quiet: 5 * time.Minute})
	if err != nil || got.Repaired != 1 {
		t.Fatalf("Reconcile = %+v, %v", got, err)
	}
	task, _ := w.runner.Task(r.ID)
	if w.runner.Count() != 1 || task.Starts != 2 || w.get(r.ID).TaskRef != task.Ref {
		t.Errorf("%d tasks, %d starts, ref %q; want the one task recorded", w.runner.Count(), task.Starts, w.get(r.ID).TaskRef)
	}
}

func TestConcurrencyPolicies(t *testing.T) {
	t.Run("forbid skips the second run and says why", func(t *testing.T) {
		w := newWorld(t, map[string]string{"j": "image: {uri: busybox}\nconcurrency: forbid\n"})
		a := w.launch(invoke("j", ""))
		b := w.launch(invoke("j", ""))
		if b.Status != run.StatusCancelled || !strings.Contains(b.Reason, a.ID) || w.runner.Count() != 1 {
			t.Errorf("second run %s %q, %d tasks; want cancelled naming %s", b.Status, b.Reason, w.runner.Count(), a.ID)
		}
		if r := w.notes.Reports(); len(r) != 1 || r[0].ID != b.ID {
			t.Errorf("the skipped run was not reported: %v", r)
		}
		w.observe(a.ID, exited(0))
		if c := w.launch(invoke("j", "")); c.Status != run.StatusStarting {
			t.Errorf("a run after the first finished is %s, want starting", c.Status)
		}
	})
	t.Run("allow starts both", func(t *testing.T) {
		w := newWorld(t, map[string]string{"j": "image: {uri: busybox}\n"})
		w.launch(invoke("j", ""))
		if b := w.launch(invoke("j", "")); b.Status != run.StatusStarting || w.runner.Count() != 2 {
			t.Errorf("second run %s with %d tasks", b.Status, w.runner.Count())
		}
	})
	t.Run("replace stops the old run, which ends cancelled as replaced", func(t *testing.T) {
		w := newWorld(t, map[string]string{"j": "image: {uri: busybox}\nconcurrency: replace\n"})
		a := w.launch(invoke("j", ""))
		w.observe(a.ID, running())
		b := w.launch(invoke("j", ""))
		task, _ := w.runner.Task(a.ID)
		if b.Status != run.StatusStarting || task.Stopped == "" {
			t.Fatalf("new run %s, old task stop %q", b.Status, task.Stopped)
		}
		old := w.observe(a.ID, stoppedByUser()).Run
		if old.Status != run.StatusCancelled || !strings.Contains(old.Reason, "replaced") {
			t.Errorf("old run %s %q, want cancelled as replaced", old.Status, old.Reason)
		}
	})
}

func TestStoppingARun(t *testing.T) {
	t.Run("a running run is stopped through its task and ends cancelled", func(t *testing.T) {
		w := newWorld(t, map[string]string{"hello": hello})
		r := w.launch(invoke("hello", ""))
		w.observe(r.ID, running())
		if _, err := w.svc.Stop(ctx, r.ID, run.StopCancel); err != nil {
			t.Fatal(err)
		}
		if task, _ := w.runner.Task(r.ID); task.Stopped == "" {
			t.Fatal("the task was not asked to stop")
		}
		if got := w.observe(r.ID, stoppedByUser()).Run; got.Status != run.StatusCancelled {
			t.Errorf("run %s, want cancelled", got.Status)
		}
	})
	t.Run("a queued run is cancelled at once", func(t *testing.T) {
		w := newWorld(t, map[string]string{"hello": hello})
		w.runner.StartErr = &dispatch.StartError{Transient: true, Reason: "throttled"}
		w.svc.Launch(ctx, invoke("hello", "k"))
		id := w.store.Runs()[0].ID
		got, err := w.svc.Stop(ctx, id, run.StopCancel)
		if err != nil || got.Status != run.StatusCancelled || len(w.notes.Reports()) != 1 {
			t.Errorf("Stop = %s, %v, %d reports", got.Status, err, len(w.notes.Reports()))
		}
	})
	t.Run("a finished run is left as it is", func(t *testing.T) {
		w := newWorld(t, map[string]string{"hello": hello})
		r := w.launch(invoke("hello", ""))
		w.observe(r.ID, exited(0))
		if got, err := w.svc.Stop(ctx, r.ID, run.StopCancel); err != nil || got.Status != run.StatusSucceeded {
			t.Errorf("Stop = %s, %v", got.Status, err)
		}
	})
}

func TestReconcile(t *testing.T) {
	opts := dispatch.ReconcileOptions{Quiet: 5 * time.Minute}
	t.Run("a run past its timeout is stopped and ends timed out", func(t *testing.T) {
		w := newWorld(t, map[string]string{"hello": hello}) // timeout 10m
		r := w.launch(invoke("hello", ""))
		w.observe(r.ID, running())
		w.clock.Advance(9 * time.Minute)
		if got, _ := w.svc.Reconcile(ctx, opts); got.TimedOut != 0 {
			t.Fatal("stopped before its timeout")
		}
		w.clock.Advance(2 * time.Minute)
		if got, err := w.svc.Reconcile(ctx, opts); got.TimedOut != 1 || err != nil {
			t.Fatalf("Reconcile = %+v, %v", got, err)
		}
		final := w.observe(r.ID, stoppedByUser()).Run
		if final.Status != run.StatusTimedOut || final.Reason == "" {
			t.Errorf("run %s %q, want timed_out with a reason", final.Status, final.Reason)
		}
	})
	t.Run("a quiet run whose stop event was missed is repaired from the runner", func(t *testing.T) {
		w := newWorld(t, map[string]string{"hello": hello})
		r := w.launch(invoke("hello", ""))
		w.observe(r.ID, running())
		w.runner.SetState(r.ID, exited(4)) // the event never arrives
		w.clock.Advance(6 * time.Minute)
		if got, err := w.svc.Reconcile(ctx, opts); got.Repaired != 1 || err != nil {
			t.Fatalf("Reconcile = %+v, %v", got, err)
		}
		if got := w.get(r.ID); got.Status != run.StatusFailed || exitCode(got) != "4" || !got.Notified {
			t.Errorf("run %s exit %s notified %v", got.Status, exitCode(got), got.Notified)
		}
	})
	t.Run("a run whose task the runner no longer knows is lost, with a reason", func(t *testing.T) {
		w := newWorld(t, map[string]string{"hello": hello})
		r := w.launch(invoke("hello", ""))
		w.observe(r.ID, running())
		w.runner.Forget(r.ID)
		w.clock.Advance(6 * time.Minute)
		w.svc.Reconcile(ctx, opts)
		got := w.get(r.ID)
		if got.Status != run.StatusFailed || got.Cause != run.CauseLost || !strings.Contains(got.Reason, "lost") {
			t.Errorf("run %s/%s %q, want failed/lost", got.Status, got.Cause, got.Reason)
		}
	})
	t.Run("a quiet run still running is left alone, unwritten, and asked about again only after another quiet period", func(t *testing.T) {
		w := newWorld(t, map[string]string{"hello": hello})
		asked := 0
		svc := dispatch.New(dispatch.Deps{Jobs: w.catalog, Store: w.store, Runner: describeCounter{w.runner, &asked},
			Notifier: w.notes, Now: w.clock.Now, NewID: w.newID, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
		l, err := svc.Launch(ctx, invoke("hello", ""))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Observe(ctx, w.runner.SetState(l.Run.ID, running())); err != nil {
			t.Fatal(err)
		}
		before := w.get(l.Run.ID)
		opts := dispatch.ReconcileOptions{Quiet: 2 * time.Minute} // all within the job's timeout
		w.clock.Advance(3 * time.Minute)
		svc.Reconcile(ctx, opts)
		svc.Reconcile(ctx, opts)
		if got := w.get(l.Run.ID); got.Status != run.StatusRunning || got.Revision != before.Revision || asked != 1 {
			t.Errorf("run %s at revision %d (was %d), asked %d times; want running, unwritten, asked once", got.Status, got.Revision, before.Revision, asked)
		}
		w.clock.Advance(time.Minute)
		svc.Reconcile(ctx, opts)
		if asked != 1 {
			t.Errorf("asked %d times within the quiet period after the last look, want 1", asked)
		}
		w.clock.Advance(2 * time.Minute)
		svc.Reconcile(ctx, opts)
		if asked != 2 {
			t.Errorf("asked %d times after another quiet period, want 2", asked)
		}
	})
	t.Run("a quiet run none of whose task's events came has its task found, then its end read", func(t *testing.T) {
		w := newWorld(t, map[string]string{"hello": hello})
		r := w.launch(invoke("hello", ""))
		w.runner.SetState(r.ID, exited(0))                        // no event arrives, not even the task's start
		opts := dispatch.ReconcileOptions{Quiet: 2 * time.Minute} // two sweeps within the job's timeout
		w.clock.Advance(3 * time.Minute)
		if got, err := w.svc.Reconcile(ctx, opts); got.Repaired != 1 || err != nil {
			t.Fatalf("first Reconcile = %+v, %v", got, err)
		}
		if got := w.get(r.ID); got.TaskRef == "" || got.Status != run.StatusStarting {
			t.Fatalf("after the first sweep the run is %s with task %q, want starting with its task", got.Status, got.TaskRef)
		}
		w.clock.Advance(3 * time.Minute)
		w.svc.Reconcile(ctx, opts)
		if got := w.get(r.ID); got.Status != run.StatusSucceeded || !got.Notified || w.runner.Count() != 1 {
			t.Errorf("run %s notified %v with %d tasks, want succeeded, reported, one task", got.Status, got.Notified, w.runner.Count())
		}
	})
	t.Run("a quiet run whose task can neither be found nor safely started again is lost", func(t *testing.T) {
		w := newWorld(t, map[string]string{"hello": hello})
		svc := dispatch.New(dispatch.Deps{Jobs: w.catalog, Store: w.store, Runner: forgetfulRunner{w.runner}, Notifier: w.notes,
			Now: w.clock.Now, NewID: w.newID, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
		l, err := svc.Launch(ctx, invoke("hello", ""))
		if err != nil {
			t.Fatal(err)
		}
		w.clock.Advance(6 * time.Minute)
		svc.Reconcile(ctx, opts)
		got := w.get(l.Run.ID)
		if got.Status != run.StatusFailed || got.Cause != run.CauseLost || !got.Notified || w.runner.Count() != 1 {
			t.Errorf("run %s/%s notified %v with %d tasks, want failed/lost, reported, one task", got.Status, got.Cause, got.Notified, w.runner.Count())
		}
	})
	t.Run("a report that failed is sent when the notifier is back", func(t *testing.T) {
		w := newWorld(t, map[string]string{"hello": hello})
		r := w.launch(invoke("hello", ""))
		w.notes.Err = errors.New("event bus unavailable")
		ts := w.runner.SetState(r.ID, exited(0))
		if _, err := w.svc.Observe(ctx, ts); err == nil {
			t.Fatal("Observe hid the failed report")
		}
		w.notes.Err = nil
		if got, err := w.svc.Reconcile(ctx, opts); got.Settled != 1 || err != nil {
			t.Fatalf("Reconcile = %+v, %v", got, err)
		}
		w.svc.Reconcile(ctx, opts)
		if n := len(w.notes.Reports()); n != 1 {
			t.Errorf("%d reports, want exactly 1", n)
		}
	})
}

func TestASkippedRunIsRecordedOnceAndReported(t *testing.T) {
	w := newWorld(t, map[string]string{"hello": hello})
	at := time.Date(2026, 11, 23, 3, 0, 0, 0, time.UTC)
	req := dispatch.Request{Job: "hello", Trigger: run.Trigger{Kind: run.TriggerSchedule, ScheduledTime: &at}}
	a, err := w.svc.Skip(ctx, req, "missed: the engine was not running")
	if err != nil || a.Status != run.StatusCancelled || a.Reason != "missed: the engine was not running" {
		t.Fatalf("Skip = %+v, %v", a, err)
	}
	b, _ := w.svc.Skip(ctx, req, "missed again")
	if b.ID != a.ID || len(w.store.Runs()) != 1 || len(w.notes.Reports()) != 1 || w.runner.Count() != 0 {
		t.Errorf("second Skip made run %s; %d runs, %d reports, %d tasks", b.ID, len(w.store.Runs()), len(w.notes.Reports()), w.runner.Count())
	}
}

// forgetfulRunner no longer knows any task when a run is resumed, and will
// not start one again, as the ECS runner past its client token's day.
type forgetfulRunner struct{ *fake.Runner }

func (f forgetfulRunner) Start(ctx context.Context, t dispatch.Task) (string, error) {
	if t.Resume {
		return "", fmt.Errorf("the task of run %s is not listed any more: %w", t.Run.ID, dispatch.ErrTaskNotFound)
	}
	return f.Runner.Start(ctx, t)
}

// cancellingRunner cancels the run whose task it is starting, as a user's
// stop arriving at that moment would.
type cancellingRunner struct {
	*fake.Runner
	svc  **dispatch.Service
	done *bool
}

func (c cancellingRunner) Start(ctx context.Context, t dispatch.Task) (string, error) {
	if !*c.done {
		*c.done = true
		if _, err := (*c.svc).Stop(ctx, t.Run.ID, run.StopCancel); err != nil {
			return "", err
		}
	}
	return c.Runner.Start(ctx, t)
}

func TestARunCancelledWhileItsTaskStartsHasTheTaskStopped(t *testing.T) {
	w := newWorld(t, map[string]string{"hello": hello})
	var svc *dispatch.Service
	svc = dispatch.New(dispatch.Deps{Jobs: w.catalog, Store: w.store, Runner: cancellingRunner{w.runner, &svc, new(bool)}, Notifier: w.notes,
		Now: w.clock.Now, NewID: w.newID, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	got, err := svc.Launch(ctx, invoke("hello", ""))
	if err != nil {
		t.Fatal(err)
	}
	task, ok := w.runner.Task(got.Run.ID)
	if !ok || task.Stopped == "" {
		t.Fatalf("task started %v and stopped %q; want its task stopped", ok, task.Stopped)
	}
	end, err := svc.Observe(ctx, w.runner.SetState(got.Run.ID, stoppedByUser()))
	if err != nil {
		t.Fatal(err)
	}
	if end.Run.Status != run.StatusCancelled || w.runner.Count() != 1 {
		t.Errorf("run %s after its task stopped, %d tasks; want cancelled, one task", end.Run.Status, w.runner.Count())
	}
}

// storeWatchingRunner notes, at the first Start, how many runs were stored.
type storeWatchingRunner struct {
	*fake.Runner
	store         *fake.Store
	mu            *sync.Mutex
	storedAtFirst *int
}

func (r storeWatchingRunner) Start(ctx context.Context, t dispatch.Task) (string, error) {
	r.mu.Lock()
	if *r.storedAtFirst < 0 {
		*r.storedAtFirst = len(r.store.Runs())
	}
	r.mu.Unlock()
	return r.Runner.Start(ctx, t)
}

// batchingStore is the fake store with CreateAll, one Create after another.
type batchingStore struct {
	*fake.Store
	batches *int
}

func (b batchingStore) CreateAll(ctx context.Context, runs []run.Run) ([]run.Run, []bool, []error) {
	*b.batches++
	out, created, errs := make([]run.Run, len(runs)), make([]bool, len(runs)), make([]error, len(runs))
	for i, r := range runs {
		out[i], created[i], errs[i] = b.Create(ctx, r)
	}
	return out, created, errs
}

func TestTriggersDueTogetherAreAllStoredBeforeAnyTaskStarts(t *testing.T) {
	for _, batching := range []bool{false, true} {
		t.Run(fmt.Sprintf("a store that creates in batches: %v", batching), func(t *testing.T) {
			triggersDueTogether(t, batching)
		})
	}
}

func triggersDueTogether(t *testing.T, batching bool) {
	w := newWorld(t, map[string]string{"hello": hello})
	first, batches := -1, 0
	var st dispatch.RunStore = w.store
	if batching {
		st = batchingStore{w.store, &batches}
	}
	svc := dispatch.New(dispatch.Deps{Jobs: w.catalog, Store: st,
		Runner: storeWatchingRunner{w.runner, w.store, &sync.Mutex{}, &first}, Notifier: w.notes,
		Now: w.clock.Now, NewID: w.newID, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	at := w.clock.Now().Truncate(time.Minute)
	var reqs []dispatch.Request
	for i := range 50 {
		reqs = append(reqs, dispatch.Request{Job: "hello", Trigger: run.Trigger{Kind: run.TriggerSQS, MessageID: fmt.Sprintf("m-%d", i)}})
	}
	reqs = append(reqs[:10:10], append([]dispatch.Request{{Job: "nope", Trigger: run.Trigger{Kind: run.TriggerSchedule, ScheduledTime: &at}}}, reqs[10:]...)...)
	reqs = append(reqs, reqs[7]) // the same trigger twice
	got, errs := svc.LaunchAll(ctx, reqs, 8)
	if first != 50 {
		t.Errorf("%d runs stored when the first task started, want all 50", first)
	}
	for i := range 51 {
		if i == 10 {
			continue
		}
		if errs[i] != nil || got[i].Run.Status != run.StatusStarting || got[i].Run.Trigger.MessageID != reqs[i].Trigger.MessageID {
			t.Errorf("trigger %d: %s for %q, %v; want its run starting", i, got[i].Run.Status, got[i].Run.Trigger.MessageID, errs[i])
		}
	}
	if got[51].Run.ID != got[7].Run.ID || errs[51] != nil || got[51].Duplicate == got[7].Duplicate {
		t.Errorf("the repeated trigger made run %s (%v), want %s", got[51].Run.ID, errs[51], got[7].Run.ID)
	}
	var re *dispatch.RequestError
	if !errors.As(errs[10], &re) {
		t.Errorf("an unknown job: %v, want a request error", errs[10])
	}
	if batching && batches != 1 {
		t.Errorf("%d batches, want the runs created in one", batches)
	}
	if n, tasks := len(w.store.Runs()), w.runner.Count(); n != 50 || tasks != 50 {
		t.Errorf("%d runs and %d tasks, want 50 of each", n, tasks)
	}
}

// findingRunner can find a run's task, as the ECS runner does by startedBy;
// hidden hides the tasks started so far, as while their launch is on its way.
type findingRunner struct {
	*fake.Runner
	hidden *bool
}

func (f findingRunner) Find(_ context.Context, runID string) (string, error) {
	if t, ok := f.Task(runID); ok && !*f.hidden {
		return t.Ref, nil
	}
	return "", dispatch.ErrTaskNotFound
}

func TestAStopBeforeTheTaskIsRecordedStopsTheTaskOnceFound(t *testing.T) {
	tests := []struct {
		name   string
		hidden bool
	}{
		{"a task the runner finds is recorded and stopped at once", false},
		{"a task not found yet is stopped when its first observation comes", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t, map[string]string{"hello": hello})
			hidden := tt.hidden
			svc := dispatch.New(dispatch.Deps{Jobs: w.catalog, Store: w.store, Runner: findingRunner{w.runner, &hidden},
				Notifier: w.notes, Now: w.clock.Now, NewID: w.newID, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
			l, err := svc.Launch(ctx, invoke("hello", ""))
			if err != nil {
				t.Fatal(err)
			}
			stopped, err := svc.Stop(ctx, l.Run.ID, run.StopCancel)
			if err != nil || stopped.StopReq != run.StopCancel {
				t.Fatalf("Stop = %s asked %q, %v", stopped.Status, stopped.StopReq, err)
			}
			task, _ := w.runner.Task(l.Run.ID)
			if tt.hidden {
				if task.Stopped != "" {
					t.Fatal("a task the runner could not find was stopped")
				}
				if _, err := svc.Observe(ctx, w.runner.SetState(l.Run.ID, running())); err != nil {
					t.Fatal(err)
				}
			}
			if task.Stopped == "" || task.Starts != 1 || w.runner.Count() != 1 {
				t.Errorf("task stopped %q after %d starts, %d tasks; want it stopped, started once, one task", task.Stopped, task.Starts, w.runner.Count())
			}
			end, err := svc.Observe(ctx, w.runner.SetState(l.Run.ID, stoppedByUser()))
			if err != nil || end.Run.Status != run.StatusCancelled {
				t.Errorf("after the task stopped the run is %s (%v), want cancelled", end.Run.Status, err)
			}
		})
	}
}

// describeCounter counts the runner's Describe calls.
type describeCounter struct {
	*fake.Runner
	n *int
}

func (d describeCounter) Describe(ctx context.Context, ref string) (run.TaskState, error) {
	*d.n++
	return d.Runner.Describe(ctx, ref)
}

// batchDescriber describes many tasks in one call, as the ECS runner does.
type batchDescriber struct {
	*fake.Runner
	calls, singles *int
}

func (b batchDescriber) Describe(ctx context.Context, ref string) (run.TaskState, error) {
	*b.singles++
	return b.Runner.Describe(ctx, ref)
}

func (b batchDescriber) DescribeAll(ctx context.Context, refs []string) (map[string]run.TaskState, error) {
	*b.calls++
	out := map[string]run.TaskState{}
	for _, ref := range refs {
		if ts, err := b.Runner.Describe(ctx, ref); err == nil {
			out[ref] = ts
		}
	}
	return out, nil
}

func TestQuietRunsAreAskedAboutInOneBatchWhenTheRunnerCan(t *testing.T) {
	w := newWorld(t, map[string]string{"hello": hello})
	calls, singles := 0, 0
	svc := dispatch.New(dispatch.Deps{Jobs: w.catalog, Store: w.store, Runner: batchDescriber{w.runner, &calls, &singles},
		Notifier: w.notes, Now: w.clock.Now, NewID: w.newID, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	var ids []string
	for range 3 {
		l, err := svc.Launch(ctx, invoke("hello", ""))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Observe(ctx, w.runner.SetState(l.Run.ID, running())); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, l.Run.ID)
	}
	w.runner.SetState(ids[0], exited(4)) // its stop event was missed
	w.runner.Forget(ids[1])              // the runner no longer knows it
	w.clock.Advance(6 * time.Minute)
	got, err := svc.Reconcile(ctx, dispatch.ReconcileOptions{Quiet: 5 * time.Minute})
	if err != nil || got.Repaired != 1 || got.Lost != 1 {
		t.Fatalf("Reconcile = %+v, %v; want one repaired, one lost", got, err)
	}
	if calls != 1 || singles != 0 {
		t.Errorf("%d batch and %d single descriptions, want one batch", calls, singles)
	}
	if a, b, c := w.get(ids[0]), w.get(ids[1]), w.get(ids[2]); exitCode(a) != "4" || b.Cause != run.CauseLost || c.Status != run.StatusRunning {
		t.Errorf("runs %s/%s exit %s, %s/%s, %s; want exit 4, lost, still running", a.Status, a.Cause, exitCode(a), b.Status, b.Cause, c.Status)
	}
}

func TestTheReconcilerStopsATaskFoundForAStopThatWaitedWithoutAQuietPeriod(t *testing.T) {
	w := newWorld(t, map[string]string{"hello": hello})
	hidden := true
	svc := dispatch.New(dispatch.Deps{Jobs: w.catalog, Store: w.store, Runner: findingRunner{w.runner, &hidden},
		Notifier: w.notes, Now: w.clock.Now, NewID: w.newID, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	l, err := svc.Launch(ctx, invoke("hello", ""))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Stop(ctx, l.Run.ID, run.StopCancel); err != nil {
		t.Fatal(err)
	}
	hidden = false // the task is listed now; no event of it comes (on AWS only its end would)
	w.clock.Advance(time.Minute)
	if _, err := svc.Reconcile(ctx, dispatch.ReconcileOptions{Quiet: 10 * time.Minute}); err != nil {
		t.Fatal(err)
	}
	if task, _ := w.runner.Task(l.Run.ID); task.Stopped == "" || w.runner.Count() != 1 {
		t.Errorf("task stopped %q, %d tasks; want the one task stopped at the next sweep", task.Stopped, w.runner.Count())
	}
}
