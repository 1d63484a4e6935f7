package schedule

import (
	"errors"
	"slices"
	"testing"
	"time"
)

func TestBetween(t *testing.T) {
	tests := []struct {
		name     string
		expr     string
		zone     string // "" = UTC
		from, to string // RFC 3339
		limit    int
		want     []string // RFC 3339 in UTC; nil with wantN checks only the count
		wantN    int
	}{
		{"from is in the window and to is not", "rate(1 hour)", "", "2026-11-20T10:00:00Z", "2026-11-20T13:00:00Z", 10,
			[]string{"2026-11-20T10:00:00Z", "2026-11-20T11:00:00Z", "2026-11-20T12:00:00Z"}, 3},
		{"a window starting between two times begins at the next one", "rate(1 hour)", "", "2026-11-20T10:30:00Z", "2026-11-20T13:00:00Z", 10,
			[]string{"2026-11-20T11:00:00Z", "2026-11-20T12:00:00Z"}, 2},
		{"a rate counts from the Unix epoch whatever the zone", "rate(6 hours)", "Europe/Berlin", "2026-11-20T00:00:00Z", "2026-11-21T00:00:00Z", 10,
			[]string{"2026-11-20T00:00:00Z", "2026-11-20T06:00:00Z", "2026-11-20T12:00:00Z", "2026-11-20T18:00:00Z"}, 4},
		{"an empty window holds no times", "rate(1 minute)", "", "2026-11-20T10:00:00Z", "2026-11-20T10:00:00Z", 10, []string{}, 0},
		{"a window ending before it starts holds no times", "rate(1 minute)", "", "2026-11-20T10:00:00Z", "2026-11-20T09:00:00Z", 10, []string{}, 0},
		{"a wall time skipped when clocks go forward does not fire that day", "cron(30 2 * * ? *)", "Europe/Berlin", "2026-03-28T00:00:00Z", "2026-03-31T00:00:00Z", 10,
			[]string{"2026-03-28T01:30:00Z", "2026-03-30T00:30:00Z"}, 2},
		{"a wall time repeated when clocks go back fires once, at its first occurrence", "cron(30 2 * * ? *)", "Europe/Berlin", "2026-10-24T00:00:00Z", "2026-10-27T00:00:00Z", 10,
			[]string{"2026-10-24T00:30:00Z", "2026-10-25T00:30:00Z", "2026-10-26T01:30:00Z"}, 3},
		{"an hourly cron fires 24 times on the 25-hour day clocks go back", "cron(0 * * * ? *)", "Europe/Berlin", "2026-10-24T22:00:00Z", "2026-10-25T23:00:00Z", 100, nil, 24},
		{"an hourly rate fires 25 times on the 25-hour day clocks go back", "rate(1 hour)", "Europe/Berlin", "2026-10-24T22:00:00Z", "2026-10-25T23:00:00Z", 100, nil, 25},
		{"an hourly cron fires 23 times on the 23-hour day clocks go forward", "cron(0 * * * ? *)", "Europe/Berlin", "2026-03-28T23:00:00Z", "2026-03-29T22:00:00Z", 100, nil, 23},
		{"L is the last day of each month", "cron(0 12 L * ? *)", "", "2026-01-01T00:00:00Z", "2026-04-01T00:00:00Z", 10,
			[]string{"2026-01-31T12:00:00Z", "2026-02-28T12:00:00Z", "2026-03-31T12:00:00Z"}, 3},
		{"15W on a Saturday is the Friday before", "cron(0 9 15W * ? *)", "", "2026-08-01T00:00:00Z", "2026-09-01T00:00:00Z", 10,
			[]string{"2026-08-14T09:00:00Z"}, 1},
		{"2#1 is the first Monday of each month", "cron(0 9 ? * 2#1 *)", "", "2026-05-01T00:00:00Z", "2026-07-01T00:00:00Z", 10,
			[]string{"2026-05-04T09:00:00Z", "2026-06-01T09:00:00Z"}, 2},
		{"6L is the last Friday, read in the schedule's zone", "cron(0 1 ? * 6L *)", "America/New_York", "2026-01-01T00:00:00Z", "2026-03-01T00:00:00Z", 10,
			[]string{"2026-01-30T06:00:00Z", "2026-02-27T06:00:00Z"}, 2},
		{"an at() in the window fires once", "at(2026-11-20T10:15:00)", "Europe/Berlin", "2026-11-20T00:00:00Z", "2026-11-21T00:00:00Z", 10,
			[]string{"2026-11-20T09:15:00Z"}, 1},
		{"an at() at the window's end is outside it", "at(2026-11-20T10:15:00)", "", "2026-11-20T00:00:00Z", "2026-11-20T10:15:00Z", 10, []string{}, 0},
		{"an at() at the window's start is inside it", "at(2026-11-20T10:15:00)", "", "2026-11-20T10:15:00Z", "2026-11-20T10:16:00Z", 10,
			[]string{"2026-11-20T10:15:00Z"}, 1},
		{"exactly the limit is allowed", "rate(1 hour)", "", "2026-11-20T00:00:00Z", "2026-11-21T00:00:00Z", 24, nil, 24},
		{"no limit lists every time", "rate(1 minute)", "", "2026-11-20T00:00:00Z", "2026-11-21T00:00:00Z", 0, nil, 1440},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Between(tt.expr, tt.zone, mustTime(t, tt.from), mustTime(t, tt.to), tt.limit)
			if err != nil {
				t.Fatalf("Between: %v", err)
			}
			if len(got) != tt.wantN {
				t.Errorf("Between gave %d times, want %d: %v", len(got), tt.wantN, got)
			}
			if tt.want != nil {
				var s []string
				for _, g := range got {
					s = append(s, g.UTC().Format(time.RFC3339))
				}
				if !slices.Equal(s, tt.want) && !(len(s) == 0 && len(tt.want) == 0) {
					t.Errorf("Between = %v, want %v", s, tt.want)
				}
			}
			for _, g := range got {
				if tt.zone != "" && g.Location().String() != tt.zone {
					t.Errorf("time %s is not in %s", g, tt.zone)
				}
			}
		})
	}
}

func TestBetweenRefusesMoreThanTheLimit(t *testing.T) {
	tests := []struct {
		name      string
		expr      string
		from, to  string
		limit     int
		wantCount int
		wantMore  bool
		wantMsg   string
	}{
		{"a day of minutes is 1440 times", "rate(1 minute)", "2026-11-20T00:00:00Z", "2026-11-21T00:00:00Z", 1000, 1440, false,
			"the window holds 1440 fire times, over the limit of 1000"},
		{"one over the limit is refused", "rate(1 hour)", "2026-11-20T00:00:00Z", "2026-11-21T00:00:00Z", 23, 24, false,
			"the window holds 24 fire times, over the limit of 23"},
		{"counting stops at MaxCounted", "rate(1 minute)", "2020-01-01T00:00:00Z", "2030-01-01T00:00:00Z", 1000, MaxCounted, true,
			"the window holds more than 1000000 fire times, over the limit of 1000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Between(tt.expr, "", mustTime(t, tt.from), mustTime(t, tt.to), tt.limit)
			var tm *TooManyError
			if !errors.As(err, &tm) {
				t.Fatalf("Between = %d times, %v; want a TooManyError", len(got), err)
			}
			if tm.Count != tt.wantCount || tm.More != tt.wantMore || tm.Limit != tt.limit || err.Error() != tt.wantMsg {
				t.Errorf("error = %+v %q, want count %d more %v: %q", tm, err, tt.wantCount, tt.wantMore, tt.wantMsg)
			}
		})
	}
}

func TestBetweenGivesWhatNextGives(t *testing.T) {
	for _, expr := range []string{"cron(0/7 1-3 ? * MON,WED *)", "cron(15 2 LW * ? *)", "rate(90 minutes)"} {
		loc := mustZone(t, "America/New_York")
		from, to := mustTime(t, "2026-02-20T00:00:00Z"), mustTime(t, "2026-04-10T00:00:00Z")
		got, err := mustParse(t, expr).Between(from, to, loc, 0)
		if err != nil {
			t.Fatal(err)
		}
		var want []time.Time
		for at, ok := mustParse(t, expr).Next(from.Add(-time.Second), loc); ok && at.Before(to); at, ok = mustParse(t, expr).Next(at, loc) {
			if !at.Before(from) {
				want = append(want, at)
			}
		}
		if !slices.EqualFunc(got, want, time.Time.Equal) {
			t.Errorf("%s: Between gave %d times, walking Next %d", expr, len(got), len(want))
		}
	}
}
