package integration

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestBackfillCreatesAJobsMissedScheduleTimesOnce(t *testing.T) {
	jobs := t.TempDir()
	write(t, jobs, "hourly/job.yaml", "local:\n  command: [sh, -c, 'echo backfilled $LONGSHORE_SCHEDULED_TIME']\ntriggers:\n  - schedule: rate(1 hour)\n")
	write(t, jobs, "adhoc/job.yaml", "local:\n  command: [true]\n")
	e := startEngine(t, jobs, t.TempDir())

	// Three hours that have passed: the engine, started just now, fired none of them.
	to := time.Now().UTC().Truncate(time.Hour).Add(-time.Hour)
	from := to.Add(-3 * time.Hour)
	window := []string{"backfill", "hourly", "--from", from.Format(time.RFC3339), "--to", to.Format(time.RFC3339)}
	var want []string
	for at := from; at.Before(to); at = at.Add(time.Hour) {
		want = append(want, at.Format(time.RFC3339))
	}

	dry := e.cli(append(window, "--dry-run")...)
	if dry.code != 0 || !strings.Contains(dry.stdout, fmt.Sprintf("3 times from %s to %s (dry run: nothing created)", want[0], to.Format(time.RFC3339))) {
		t.Fatalf("backfill --dry-run = %d\n%s%s", dry.code, dry.stdout, dry.stderr)
	}
	for _, at := range want {
		if !regexp.MustCompile(`(?m)^\d{4}-\d\d-\d\d \d\d:00 UTC\s+` + regexp.QuoteMeta(at) + `\s+rate\(1 hour\)$`).MatchString(dry.stdout) {
			t.Errorf("the dry run does not list %s:\n%s", at, dry.stdout)
		}
	}
	if n := len(e.list("--job", "hourly")); n != 0 {
		t.Fatalf("a dry run made %d runs", n)
	}

	first := e.cli(window...)
	if first.code != 0 || !strings.HasSuffix(first.stdout, "3 created, 0 already there\n") {
		t.Fatalf("backfill = %d\n%s%s", first.code, first.stdout, first.stderr)
	}
	var runs []runJSON
	eventually(t, "the three backfilled runs succeed", func() bool {
		runs = filter(e.list("--job", "hourly"), func(r runJSON) bool { return r.Status == "succeeded" })
		return len(runs) == 3
	})
	var got []string
	for _, r := range runs {
		if r.Trigger.Kind != "schedule" {
			t.Errorf("run %s was started by %s", r.ID, r.Trigger.Kind)
		}
		got = append(got, strings.TrimPrefix(strings.TrimSpace(e.cli("logs", r.ID).stdout), "backfilled "))
	}
	if strings.Join(slices.Sorted(slices.Values(got)), " ") != strings.Join(want, " ") {
		t.Errorf("the runs were scheduled at %v, want %v", got, want)
	}

	again := e.cli(append(window, "--json")...)
	var resp struct {
		Created  []string `json:"created"`
		Existing []string `json:"existing"`
	}
	if again.code != 0 || json.Unmarshal([]byte(again.stdout), &resp) != nil || len(resp.Created) != 0 || len(resp.Existing) != 3 {
		t.Errorf("backfill again = %d\n%s%s", again.code, again.stdout, again.stderr)
	}
	if n := len(e.list("--job", "hourly")); n != 3 {
		t.Errorf("after backfilling twice: %d runs, want 3", n)
	}

	refusals := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"a job without a schedule", []string{"backfill", "adhoc", "--from", "2026-01-01", "--to", "2026-01-02"}, 2, "job adhoc has no schedule trigger"},
		{"an unknown job", []string{"backfill", "hourli", "--from", "2026-01-01", "--to", "2026-01-02"}, 1, `did you mean "hourly"?`},
		{"a window over the limit", []string{"backfill", "hourly", "--from", "2020-01-01", "--to", "2021-01-01"}, 2, "fire 8784 times"},
	}
	for _, r := range refusals {
		got := e.cli(r.args...)
		if got.code != r.code || !strings.Contains(got.stderr, r.want) {
			t.Errorf("%s: %v = %d %q, want %d with %q", r.name, r.args, got.code, got.stderr, r.code, r.want)
		}
	}
}
