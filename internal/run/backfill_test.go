package run

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/longshore/longshore/internal/job"
)

func backfillCatalog(t *testing.T) []*job.Spec {
	t.Helper()
	var out []*job.Spec
	for name, yaml := range map[string]string{
		"hourly":  "image: {uri: busybox}\ntriggers:\n  - schedule: rate(1 hour)\n",
		"nightly": "image: {uri: busybox}\ntriggers:\n  - invoke\n  - schedule: cron(30 2 * * ? *)\n    timezone: Europe/Berlin\n",
		"twice":   "image: {uri: busybox}\ntriggers:\n  - schedule: cron(0 * * * ? *)\n  - schedule: cron(0/30 * * * ? *)\n",
		"adhoc":   "image: {uri: busybox}\ntriggers:\n  - invoke\n",
	} {
		s, err := job.Parse([]byte(yaml), name, "jobs/"+name+"/job.yaml")
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

func TestBackfillTimes(t *testing.T) {
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name     string
		job      string
		from, to string
		want     []string // "UTC time|local time|trigger index"
	}{
		{"a rate fires each hour of the window, the end excluded", "hourly", "2026-11-20T10:00:00Z", "2026-11-20T13:00:00Z",
			[]string{"2026-11-20T10:00:00Z|2026-11-20T10:00:00Z|0", "2026-11-20T11:00:00Z|2026-11-20T11:00:00Z|0", "2026-11-20T12:00:00Z|2026-11-20T12:00:00Z|0"}},
		{"a cron is read in its zone and skips a time clocks jump over", "nightly", "2026-03-28T00:00:00Z", "2026-03-31T00:00:00Z",
			[]string{"2026-03-28T01:30:00Z|2026-03-28T02:30:00+01:00|1", "2026-03-30T00:30:00Z|2026-03-30T02:30:00+02:00|1"}},
		{"two schedules due in the same minute are one firing, of the first", "twice", "2026-11-20T10:00:00Z", "2026-11-20T11:01:00Z",
			[]string{"2026-11-20T10:00:00Z|2026-11-20T10:00:00Z|0", "2026-11-20T10:30:00Z|2026-11-20T10:30:00Z|1", "2026-11-20T11:00:00Z|2026-11-20T11:00:00Z|0"}},
		{"a window without a firing lists none", "nightly", "2026-11-20T03:00:00Z", "2026-11-20T04:00:00Z", nil},
		{"a time equal to now has passed", "hourly", "2026-11-30T23:30:00Z", "2026-12-01T00:00:01Z",
			[]string{"2026-12-01T00:00:00Z|2026-12-01T00:00:00Z|0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			from, _ := time.Parse(time.RFC3339, tt.from)
			to, _ := time.Parse(time.RFC3339, tt.to)
			got, err := BackfillTimes(backfillCatalog(t), tt.job, from, to, now, MaxBackfill)
			if err != nil {
				t.Fatal(err)
			}
			var s []string
			for _, f := range got {
				s = append(s, f.At.Format(time.RFC3339)+"|"+f.Local().Format(time.RFC3339)+"|"+string(rune('0'+f.Trigger)))
			}
			if strings.Join(s, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("BackfillTimes =\n%s\nwant\n%s", strings.Join(s, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestBackfillTimesRefuses(t *testing.T) {
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name       string
		job        string
		from, to   string
		limit      int
		want       string
		unknownJob bool
	}{
		{"an unknown job, naming the closest", "hourlly", "2026-11-20T00:00:00Z", "2026-11-21T00:00:00Z", MaxBackfill,
			`unknown job "hourlly"; did you mean "hourly"?`, true},
		{"an unknown job far from any, listing the catalog", "zzzzzzzz", "2026-11-20T00:00:00Z", "2026-11-21T00:00:00Z", MaxBackfill,
			`unknown job "zzzzzzzz": the catalog has adhoc, hourly, nightly, twice`, true},
		{"a job without a schedule", "adhoc", "2026-11-20T00:00:00Z", "2026-11-21T00:00:00Z", MaxBackfill,
			"job adhoc has no schedule trigger", false},
		{"an empty window", "hourly", "2026-11-21T00:00:00Z", "2026-11-20T00:00:00Z", MaxBackfill,
			"the window from 2026-11-21T00:00:00Z to 2026-11-20T00:00:00Z is empty", false},
		{"a window reaching a time after now", "hourly", "2026-11-30T20:00:00Z", "2026-12-01T02:00:00Z", MaxBackfill,
			"the window reaches past now (2026-12-01T00:00:00Z): rate(1 hour) of job hourly is due at 2026-12-01T01:00:00Z", false},
		{"more times than the limit, saying how many", "hourly", "2026-10-01T00:00:00Z", "2026-12-01T00:00:00Z", MaxBackfill,
			"the schedules of job hourly fire 1464 times from 2026-10-01T00:00:00Z to 2026-12-01T00:00:00Z; one backfill creates at most 1000: narrow the window", false},
		{"two schedules over the limit together", "twice", "2026-11-20T00:00:00Z", "2026-11-20T10:00:00Z", 15,
			"the schedules of job twice fire 20 times", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			from, _ := time.Parse(time.RFC3339, tt.from)
			to, _ := time.Parse(time.RFC3339, tt.to)
			got, err := BackfillTimes(backfillCatalog(t), tt.job, from, to, now, tt.limit)
			var be *BackfillError
			if !errors.As(err, &be) {
				t.Fatalf("BackfillTimes = %v, %v; want a BackfillError", got, err)
			}
			if !strings.Contains(err.Error(), tt.want) || be.UnknownJob != tt.unknownJob {
				t.Errorf("error = %q (unknown job %v), want %q (%v)", err, be.UnknownJob, tt.want, tt.unknownJob)
			}
		})
	}
}
