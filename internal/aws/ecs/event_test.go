package ecs

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/longshore/longshore/internal/run"
)

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func fixtures(t testing.TB) []string {
	t.Helper()
	names, err := filepath.Glob(filepath.Join("testdata", "ecs-*.json"))
	if err != nil || len(names) == 0 {
		t.Fatalf("no fixtures in testdata (%v)", err)
	}
	for i := range names {
		names[i] = filepath.Base(names[i])
	}
	return names
}

func parseFixture(t *testing.T, name string) TaskStateChange {
	t.Helper()
	ev, err := ParseTaskStateChange(readFixture(t, name))
	if err != nil {
		t.Fatalf("parse %s: %v", name, err)
	}
	return ev
}

// TestRoundTrip decodes every fixture, encodes it again and checks that
// nothing was lost or changed (times compared as instants: ".000Z" and "Z"
// are the same time).
func TestRoundTrip(t *testing.T) {
	for _, name := range fixtures(t) {
		t.Run(name, func(t *testing.T) {
			original := readFixture(t, name)
			ev := parseFixture(t, name)
			encoded, err := json.Marshal(ev)
			if err != nil {
				t.Fatal(err)
			}
			var want, got any
			if err := json.Unmarshal(original, &want); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(encoded, &got); err != nil {
				t.Fatal(err)
			}
			if diff := compareJSON("", normalise(want), normalise(got)); diff != "" {
				t.Errorf("round trip changed the event: %s", diff)
			}
		})
	}
}

// normalise replaces strings that are RFC 3339 times by time values.
func normalise(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			v[k] = normalise(e)
		}
	case []any:
		for i, e := range v {
			v[i] = normalise(e)
		}
	case string:
		if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
			return t.UTC()
		}
	}
	return v
}

// compareJSON returns where two decoded JSON values first differ, or "".
func compareJSON(path string, want, got any) string {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return path + ": not an object"
		}
		for k := range w {
			if _, ok := g[k]; !ok {
				return path + "." + k + ": dropped"
			}
			if d := compareJSON(path+"."+k, w[k], g[k]); d != "" {
				return d
			}
		}
		for k := range g {
			if _, ok := w[k]; !ok {
				return path + "." + k + ": added"
			}
		}
		return ""
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return path + ": array differs"
		}
		for i := range w {
			if d := compareJSON(path+"["+strconv.Itoa(i)+"]", w[i], g[i]); d != "" {
				return d
			}
		}
		return ""
	}
	if !reflect.DeepEqual(want, got) {
		return path + ": " + jsonString(want) + " became " + jsonString(got)
	}
	return ""
}

func jsonString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestTaskStateOfFixtures(t *testing.T) {
	tests := []struct {
		file    string
		phase   run.TaskPhase
		version int64
		code    string
		exits   map[string]*int
	}{
		{"ecs-task-running.json", run.PhaseRunning, 3, "", map[string]*int{"app": nil}},
		{"ecs-task-running-stale.json", run.PhaseRunning, 2, "", map[string]*int{"app": nil}},
		{"ecs-task-stopped-exit-0.json", run.PhaseStopped, 5, "EssentialContainerExited", map[string]*int{"app": intp(0)}},
		{"ecs-task-stopped-exit-3.json", run.PhaseStopped, 5, "EssentialContainerExited", map[string]*int{"app": intp(3)}},
		{"ecs-task-stopped-no-ip.json", run.PhaseStopped, 1, "TaskFailedToStart", map[string]*int{"app": nil}},
		{"ecs-task-stopped-oom.json", run.PhaseStopped, 5, "EssentialContainerExited", map[string]*int{"app": intp(137)}},
		{"ecs-task-stopped-secret-denied.json", run.PhaseStopped, 2, "TaskFailedToStart", map[string]*int{"app": nil}},
		{"ecs-task-stopped-sidecar.json", run.PhaseStopped, 5, "EssentialContainerExited", map[string]*int{"log-router": intp(0), "app": intp(1)}},
		{"ecs-task-stopped-spot.json", run.PhaseStopped, 5, "SpotInterruption", map[string]*int{"app": intp(143)}},
		{"ecs-task-stopped-user.json", run.PhaseStopped, 5, "UserInitiated", map[string]*int{"app": intp(143)}},
	}
	if len(tests) != len(fixtures(t)) {
		t.Errorf("%d fixtures in testdata, %d tested here: test every fixture", len(fixtures(t)), len(tests))
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			ev := parseFixture(t, tt.file)
			ts := ev.TaskState("")
			if ts.RunID != "r-7f3a2c91" {
				t.Errorf("run id = %q, want r-7f3a2c91 (from startedBy)", ts.RunID)
			}
			if ts.TaskRef != ev.Detail.TaskARN || !strings.HasPrefix(ts.TaskRef, "arn:aws:ecs:") {
				t.Errorf("task ref = %q, want the task ARN", ts.TaskRef)
			}
			if ts.Phase != tt.phase || ts.Version != tt.version || ts.StopCode != tt.code {
				t.Errorf("phase, version, stop code = %s, %d, %q; want %s, %d, %q", ts.Phase, ts.Version, ts.StopCode, tt.phase, tt.version, tt.code)
			}
			if ts.Essential != run.DefaultEssential {
				t.Errorf("essential = %q, want %q by default", ts.Essential, run.DefaultEssential)
			}
			if len(ts.Containers) != len(tt.exits) {
				t.Fatalf("containers = %+v, want %d", ts.Containers, len(tt.exits))
			}
			for _, c := range ts.Containers {
				want, ok := tt.exits[c.Name]
				if !ok || !sameInt(c.ExitCode, want) {
					t.Errorf("container %s exit code = %v, want %v", c.Name, show(c.ExitCode), show(want))
				}
			}
			if tt.phase == run.PhaseStopped && (ts.StoppedAt == nil || !ts.StoppedAt.Equal(time.Date(2026, 11, 22, 10, 5, 12, 0, time.UTC))) {
				t.Errorf("stoppedAt = %v, want 2026-11-22T10:05:12Z", ts.StoppedAt)
			}
			if ev.Detail.StartedAt != nil && (ts.StartedAt == nil || !ts.StartedAt.Equal(*ev.Detail.StartedAt)) {
				t.Errorf("startedAt = %v, want %v", ts.StartedAt, ev.Detail.StartedAt)
			}
			if ev.Detail.PullStartedAt != nil && ts.PullStartedAt == nil || ev.Detail.PullStoppedAt != nil && ts.PullStoppedAt == nil {
				t.Errorf("pull times were dropped")
			}
		})
	}
}

// TestClassifyFixtures checks what a user sees for each stopped fixture:
// status, cause, exit code, reason and whether a retry is worth it.
func TestClassifyFixtures(t *testing.T) {
	tests := []struct {
		name      string
		file      string
		stop      run.StopRequest
		status    run.Status
		cause     run.Cause
		exit      *int
		reason    string
		transient bool
	}{
		{"an app that exits 0 succeeds", "ecs-task-stopped-exit-0.json", run.StopNone,
			run.StatusSucceeded, run.CauseNone, intp(0), "exited with code 0", false},
		{"an app that exits 3 fails with its code", "ecs-task-stopped-exit-3.json", run.StopNone,
			run.StatusFailed, run.CauseExit, intp(3), "exited with code 3", false},
		{"no free addresses in the subnet is a transient start failure", "ecs-task-stopped-no-ip.json", run.StopNone,
			run.StatusFailed, run.CauseStart, nil, "never started: no free IP addresses in subnet subnet-0a1b2c3d4e5f60001", true},
		{"an out-of-memory kill says so", "ecs-task-stopped-oom.json", run.StopNone,
			run.StatusFailed, run.CauseExit, intp(137), "out of memory: OutOfMemoryError: Container killed due to memory usage", false},
		{"a secret the execution role cannot read names the secret", "ecs-task-stopped-secret-denied.json", run.StopNone,
			run.StatusFailed, run.CauseStart, nil, "never started: the execution role cannot read secret arn:aws:secretsmanager:us-east-1:111122223333:secret:longshore/db-AbCdEf", false},
		{"the app's exit 1 decides over the sidecar's 0", "ecs-task-stopped-sidecar.json", run.StopNone,
			run.StatusFailed, run.CauseExit, intp(1), "exited with code 1", false},
		{"a Spot interruption is transient and keeps the exit code", "ecs-task-stopped-spot.json", run.StopNone,
			run.StatusFailed, run.CauseInterrupted, intp(143), `interrupted: Fargate Spot reclaimed the capacity ("Your Spot Task was interrupted.")`, true},
		{"a user stop outside Longshore cancels and quotes ECS", "ecs-task-stopped-user.json", run.StopNone,
			run.StatusCancelled, run.CauseNone, intp(143), `stopped outside Longshore: "Task stopped by user: timeout after 3600s"`, false},
		{"a user stop asked for the timeout times out", "ecs-task-stopped-user.json", run.StopTimeout,
			run.StatusTimedOut, run.CauseNone, intp(143), "stopped after the job's timeout", false},
		{"a user stop asked for a cancel cancels", "ecs-task-stopped-user.json", run.StopCancel,
			run.StatusCancelled, run.CauseNone, intp(143), "cancelled on request", false},
		{"a user stop asked for a replace says so", "ecs-task-stopped-user.json", run.StopReplace,
			run.StatusCancelled, run.CauseNone, intp(143), "replaced by a newer run", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := run.Classify(parseFixture(t, tt.file).TaskState(""), tt.stop)
			if o.Status != tt.status || o.Cause != tt.cause || !sameInt(o.ExitCode, tt.exit) {
				t.Errorf("outcome = %s/%q exit %s; want %s/%q exit %s", o.Status, o.Cause, show(o.ExitCode), tt.status, tt.cause, show(tt.exit))
			}
			if o.Reason != tt.reason {
				t.Errorf("reason = %q\nwant %q", o.Reason, tt.reason)
			}
			if o.Transient != tt.transient {
				t.Errorf("transient = %v, want %v", o.Transient, tt.transient)
			}
		})
	}
	t.Run("the running fixtures are not finished", func(t *testing.T) {
		for _, f := range []string{"ecs-task-running.json", "ecs-task-running-stale.json"} {
			if o := run.Classify(parseFixture(t, f).TaskState(""), run.StopNone); o.Status != run.StatusRunning {
				t.Errorf("%s: status = %s, want running", f, o.Status)
			}
		}
	})
}

// TestApplyFixturesInAnyOrder feeds a run the events of one task in the
// orders EventBridge may deliver them: the run ends succeeded every time,
// and the stale running event (version 2) after the stopped one (version 5)
// is dropped.
func TestApplyFixturesInAnyOrder(t *testing.T) {
	now := time.Date(2026, 11, 22, 10, 5, 14, 0, time.UTC)
	orders := []struct {
		name    string
		files   []string
		applied []bool
	}{
		{"in order", []string{"ecs-task-running-stale.json", "ecs-task-running.json", "ecs-task-stopped-exit-0.json"}, []bool{true, true, true}},
		{"the stale running event after the stop", []string{"ecs-task-running.json", "ecs-task-stopped-exit-0.json", "ecs-task-running-stale.json"}, []bool{true, true, false}},
		{"the stop before any running event", []string{"ecs-task-stopped-exit-0.json", "ecs-task-running-stale.json", "ecs-task-running.json"}, []bool{true, false, false}},
		{"the stop delivered twice", []string{"ecs-task-stopped-exit-0.json", "ecs-task-stopped-exit-0.json"}, []bool{true, false}},
		{"an older running event after a newer one", []string{"ecs-task-running.json", "ecs-task-running-stale.json"}, []bool{true, false}},
	}
	for _, o := range orders {
		t.Run(o.name, func(t *testing.T) {
			r := run.Run{ID: "r-7f3a2c91", Job: "hello", Attempt: 1, Status: run.StatusStarting}
			for i, f := range o.files {
				var applied bool
				r, applied = run.Apply(r, parseFixture(t, f).TaskState(""), now)
				if applied != o.applied[i] {
					t.Errorf("event %d (%s): applied = %v, want %v", i+1, f, applied, o.applied[i])
				}
			}
			last := o.files[len(o.files)-1]
			if strings.Contains(strings.Join(o.files, " "), "stopped") {
				if r.Status != run.StatusSucceeded || r.TaskVersion != 5 || !sameInt(r.ExitCode, intp(0)) || r.StoppedAt == nil {
					t.Errorf("after %s: run = %s version %d exit %s stoppedAt %v; want succeeded version 5 exit 0 with stoppedAt",
						last, r.Status, r.TaskVersion, show(r.ExitCode), r.StoppedAt)
				}
			} else if r.Status != run.StatusRunning || r.TaskVersion != 3 {
				t.Errorf("run = %s version %d, want running version 3", r.Status, r.TaskVersion)
			}
			if r.StartedAt == nil || !r.StartedAt.Equal(time.Date(2026, 11, 22, 10, 0, 35, 0, time.UTC)) {
				t.Errorf("startedAt = %v, want the task's 10:00:35", r.StartedAt)
			}
		})
	}
}

func TestParseTaskStateChangeRefuses(t *testing.T) {
	valid := string(readFixture(t, "ecs-task-running.json"))
	tests := []struct {
		name string
		data string
		want string
	}{
		{"malformed JSON", `{"source": "aws.ecs",`, "decode ECS task state change: unexpected end of JSON input"},
		{"not an object", `[1, 2]`, "decode ECS task state change: json: cannot unmarshal array"},
		{"an event from another source", strings.Replace(valid, `"source": "aws.ecs"`, `"source": "aws.s3"`, 1),
			`decode ECS task state change: source is "aws.s3", want "aws.ecs"`},
		{"another ECS event", strings.Replace(valid, `"detail-type": "ECS Task State Change"`, `"detail-type": "ECS Container Instance State Change"`, 1),
			`decode ECS task state change: detail-type is "ECS Container Instance State Change", want "ECS Task State Change"`},
		{"a detail without a task", `{"source": "aws.ecs", "detail-type": "ECS Task State Change", "detail": {"lastStatus": "RUNNING"}}`,
			"decode ECS task state change: detail has no taskArn"},
		{"a detail without a status", `{"source": "aws.ecs", "detail-type": "ECS Task State Change", "detail": {"taskArn": "arn:t"}}`,
			"decode ECS task state change of arn:t: detail has no lastStatus"},
		{"a version that is not a number", strings.Replace(valid, `"version": 3`, `"version": "3"`, 1),
			"decode ECS task state change: json: cannot unmarshal string"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseTaskStateChange([]byte(tt.data))
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("error = %q\nwant it to start with %q", err, tt.want)
			}
		})
	}
}

func TestTaskStateDetails(t *testing.T) {
	base := parseFixture(t, "ecs-task-running.json")
	started := base.Detail.StartedAt
	tests := []struct {
		name      string
		status    string
		startedBy string
		startedAt *time.Time
		essential string
		phase     run.TaskPhase
		runID     string
		wantEss   string
	}{
		{"a provisioning task is pending", "PROVISIONING", "longshore:r-0123456789abcdef", nil, "", run.PhasePending, "r-0123456789abcdef", "app"},
		{"an activating task is pending", "ACTIVATING", "longshore:r-0123456789abcdef", nil, "", run.PhasePending, "r-0123456789abcdef", "app"},
		{"a stopping task that had started is still running", "STOPPING", "longshore:r-0123456789abcdef", started, "", run.PhaseRunning, "r-0123456789abcdef", "app"},
		{"a deprovisioning task that never started is still pending", "DEPROVISIONING", "longshore:r-0123456789abcdef", nil, "", run.PhasePending, "r-0123456789abcdef", "app"},
		{"an unknown status gives no phase", "HIBERNATING", "longshore:r-0123456789abcdef", started, "", "", "r-0123456789abcdef", "app"},
		{"a task started by someone else has no run id", "RUNNING", "ecs-svc/1234567890", started, "", run.PhaseRunning, "", "app"},
		{"a task started by nobody has no run id", "RUNNING", "", started, "", run.PhaseRunning, "", "app"},
		{"the job's essential container is kept", "RUNNING", "longshore:r-0123456789abcdef", started, "worker", run.PhaseRunning, "r-0123456789abcdef", "worker"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := base
			ev.Detail.LastStatus, ev.Detail.StartedBy, ev.Detail.StartedAt = tt.status, tt.startedBy, tt.startedAt
			ts := ev.TaskState(tt.essential)
			if ts.Phase != tt.phase || ts.RunID != tt.runID || ts.Essential != tt.wantEss {
				t.Errorf("phase, run id, essential = %q, %q, %q; want %q, %q, %q", ts.Phase, ts.RunID, ts.Essential, tt.phase, tt.runID, tt.wantEss)
			}
		})
	}
	t.Run("the task state does not share memory with the event", func(t *testing.T) {
		ev := parseFixture(t, "ecs-task-stopped-exit-3.json")
		ts := ev.TaskState("")
		*ev.Detail.Containers[0].ExitCode = 0
		*ev.Detail.StoppedAt = time.Time{}
		if *ts.Containers[0].ExitCode != 3 || ts.StoppedAt.IsZero() {
			t.Error("changing the event changed the task state")
		}
	})
	t.Run("startedBy carries the run id", func(t *testing.T) {
		if got := StartedBy("r-0123456789abcdef"); got != "longshore:r-0123456789abcdef" {
			t.Errorf("StartedBy = %q", got)
		}
	})
}

func FuzzParseTaskStateChange(f *testing.F) {
	for _, name := range fixtures(f) {
		f.Add(readFixture(f, name))
	}
	f.Add([]byte(`{"source":"aws.ecs","detail-type":"ECS Task State Change","detail":{"taskArn":"t","lastStatus":"STOPPED","containers":[{"name":"app","exitCode":-1}]}}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, data []byte) {
		ev, err := ParseTaskStateChange(data)
		if err != nil {
			return
		}
		ts := ev.TaskState("")
		o := run.Classify(ts, run.StopNone)
		if ts.Phase == run.PhaseStopped && (!o.Status.Terminal() || o.Reason == "") {
			t.Errorf("a stopped task classified as %s with reason %q", o.Status, o.Reason)
		}
		run.Apply(run.Run{ID: ts.RunID, Status: run.StatusStarting}, ts, time.Unix(0, 0))
	})
}

func intp(n int) *int { return &n }

func sameInt(a, b *int) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

func show(p *int) string {
	if p == nil {
		return "nil"
	}
	return jsonString(*p)
}
