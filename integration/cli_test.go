package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestTheExampleCatalogValidates(t *testing.T) {
	got := cli(t, "..", "validate")
	if got.code != 0 || strings.TrimSpace(got.stdout) != "jobs: 5 job(s) valid" {
		t.Errorf("validate = %d %q %q", got.code, got.stdout, got.stderr)
	}
}

func TestABrokenCatalogPrintsOneLinePerProblemAndExits1(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "report/job.yaml", "image: {uri: busybox}\ncpu: 1024\nmemory: 512\ncomand: [x]\n")
	write(t, dir, "ok/job.yaml", "local: {command: [true]}\ntriggers: [{schedule: 'cron(0 9 * * 1 *)'}]\n")
	got := cli(t, dir, "validate", "--jobs", ".")
	// Folders are read in name order: ok before report.
	want := "ok/job.yaml: triggers[0].schedule: cron: exactly one of day-of-month and day-of-week must be \"?\"\n" +
		"report/job.yaml: comand: line 4: unknown field; did you mean \"command\"? (allowed: name, description, image, command, cpu, memory, architecture, storage, environment, secrets, timeout, retries, concurrency, capacity, history, paused, permissions, managedPolicies, taskRole, network, tags, triggers, local, notify)\n" +
		"report/job.yaml: memory: 512 MiB is not allowed with cpu 1024: use 2048-8192 in steps of 1024\n"
	if got.code != 1 || got.stdout != want || got.stderr != "3 problem(s) in .\n" {
		t.Errorf("validate = exit %d, stdout:\n%s\nwant:\n%s\nstderr: %q", got.code, got.stdout, want, got.stderr)
	}
}

func TestValidateOfAMissingFolderIsAUsageError(t *testing.T) {
	got := cli(t, t.TempDir(), "validate", "--jobs", "nope")
	if got.code != 2 || !strings.HasPrefix(got.stderr, `longshore: jobs folder "nope" not found`) || strings.Count(got.stderr, "\n") != 1 {
		t.Errorf("validate = %d %q", got.code, got.stderr)
	}
}

func TestScheduleNextPrintsUTCTimesOnePerLine(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"weekday mornings in Berlin, across the weekend",
			[]string{"cron(0 9 ? * MON-FRI *)", "--tz", "Europe/Berlin", "--from", "2026-11-19T12:00:00Z", "-n", "3"},
			"2026-11-20T08:00:00Z\n2026-11-23T08:00:00Z\n2026-11-24T08:00:00Z\n"},
		{"a one-time schedule prints one line and ends",
			[]string{"at(2026-12-24T18:00:00)", "--tz", "America/New_York", "--from", "2026-11-22T00:00:00Z", "-n", "5"},
			"2026-12-24T23:00:00Z\n"},
		{"a year field ends the list early",
			[]string{"cron(0 0 1 1 ? 2027-2028)", "--from", "2026-11-22T00:00:00Z", "-n", "5"},
			"2027-01-01T00:00:00Z\n2028-01-01T00:00:00Z\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := cli(t, "", append([]string{"schedule", "next"}, tt.args...)...)
			if got.code != 0 || got.stdout != tt.want {
				t.Errorf("exit %d\n%s(stderr %q)\nwant\n%s", got.code, got.stdout, got.stderr, tt.want)
			}
		})
	}
}

func TestScheduleNextRefusesBadInputWithExit2(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"a Unix cron line", []string{"*/5 * * * *"}, "longshore: "},
		{"an unknown zone", []string{"rate(1 hour)", "--tz", "Mars/Olympus"}, "longshore: --tz: "},
		{"a bad --from", []string{"rate(1 hour)", "--from", "tomorrow"}, `longshore: --from "tomorrow" is not an RFC3339 time`},
		{"a count out of range", []string{"rate(1 hour)", "-n", "0"}, "longshore: -n 0 is out of range: use 1 to 1000"},
		{"no expression", nil, "longshore: "},
		{"an unknown flag", []string{"rate(1 hour)", "--zone", "UTC"}, "longshore: unknown flag: --zone"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := cli(t, "", append([]string{"schedule", "next"}, tt.args...)...)
			if got.code != 2 || got.stdout != "" || !strings.HasPrefix(got.stderr, tt.want) || strings.Count(got.stderr, "\n") != 1 {
				t.Errorf("exit %d stdout %q stderr %q; want exit 2 and one line starting %q", got.code, got.stdout, got.stderr, tt.want)
			}
		})
	}
}

func write(t *testing.T, dir, name, content string) {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
