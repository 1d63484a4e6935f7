package schedule

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"
	"time"
)

// Calendar facts used below (checked with `date -d ... +%a` and `zdump -v`):
//
//	2026: 1 Jan Thu, 1 Feb Sun, 1 Mar Sun, 1 May Fri (31 May Sun), 1 Aug Sat,
//	      1 Nov Sun; 31 Jan Sat; 2028-02-29 Tue; 1970-01-01 Thu.
//	Europe/Berlin:       2026-03-29 01:00Z 02:00 CET -> 03:00 CEST; 2026-10-25 01:00Z 03:00 CEST -> 02:00 CET.
//	America/New_York:    2026-03-08 07:00Z 02:00 EST -> 03:00 EDT; 2026-11-01 06:00Z 02:00 EDT -> 01:00 EST.
//	Australia/Lord_Howe: 2026-10-03 15:30Z 02:00 +10:30 -> 02:30 +11 (a half-hour gap).
//	America/Santiago:    2026-09-06 04:00Z 00:00 -04 -> 01:00 -03 (midnight does not exist).

func mustParse(tb testing.TB, expr string) *Schedule {
	tb.Helper()
	s, err := Parse(expr)
	if err != nil {
		tb.Fatalf("Parse(%q): %v", expr, err)
	}
	return s
}

func mustZone(tb testing.TB, name string) *time.Location {
	tb.Helper()
	loc, err := LoadLocation(name)
	if err != nil {
		tb.Fatal(err)
	}
	return loc
}

func mustTime(tb testing.TB, s string) time.Time {
	tb.Helper()
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		tb.Fatal(err)
	}
	return t
}

func TestNext(t *testing.T) {
	tests := []struct {
		name  string
		expr  string
		zone  string // "" = UTC
		after string // RFC 3339
		want  string // RFC 3339 in the zone, "" = fires no more
	}{
		// Plain values, lists, ranges, steps, names.
		{"a daily time fires later the same day", "cron(0 10 * * ? *)", "", "2026-01-05T09:00:00Z", "2026-01-05T10:00:00Z"},
		{"a fire time is not repeated when after is exactly on it", "cron(0 10 * * ? *)", "", "2026-01-05T10:00:00Z", "2026-01-06T10:00:00Z"},
		{"seconds in after do not make the same minute fire again", "cron(* * * * ? *)", "", "2026-01-05T09:00:30Z", "2026-01-05T09:01:00Z"},
		{"a list of minutes picks the next one in the hour", "cron(5,20,45 * * * ? *)", "", "2026-01-05T09:21:00Z", "2026-01-05T09:45:00Z"},
		{"a list of minutes carries into the next hour", "cron(5,20,45 * * * ? *)", "", "2026-01-05T09:46:00Z", "2026-01-05T10:05:00Z"},
		{"a range of hours skips the night", "cron(0 8-17 * * ? *)", "", "2026-01-05T17:30:00Z", "2026-01-06T08:00:00Z"},
		{"a step from zero fires every quarter hour", "cron(0/15 * * * ? *)", "", "2026-01-05T09:16:00Z", "2026-01-05T09:30:00Z"},
		{"a star step counts from the field minimum", "cron(*/20 * * * ? *)", "", "2026-01-05T09:41:00Z", "2026-01-05T10:00:00Z"},
		{"a step inside a range stays inside it (10, 30, 50)", "cron(10-50/20 * * * ? *)", "", "2026-01-05T09:51:00Z", "2026-01-05T10:10:00Z"},
		{"a start with a step runs to the end of the field (hours 1, 11, 21)", "cron(0 1/10 * * ? *)", "", "2026-01-05T11:00:00Z", "2026-01-05T21:00:00Z"},
		{"a wrapping hour range runs through midnight", "cron(0 22-1 * * ? *)", "", "2026-01-05T23:30:00Z", "2026-01-06T00:00:00Z"},
		{"a wrapping hour range leaves the afternoon out", "cron(0 22-1 * * ? *)", "", "2026-01-05T01:30:00Z", "2026-01-05T22:00:00Z"},
		{"month names select months, case-insensitive", "cron(0 0 1 JAN,jul ? *)", "", "2026-01-05T00:00:00Z", "2026-07-01T00:00:00Z"},
		{"a month range with a step (FEB, MAY, AUG, NOV)", "cron(0 0 1 FEB-DEC/3 ? *)", "", "2026-05-01T00:00:00Z", "2026-08-01T00:00:00Z"},
		// Friday 9 Jan 2026 -> Monday 12 Jan.
		{"MON-FRI skips the weekend", "cron(0 9 ? * MON-FRI *)", "", "2026-01-09T10:00:00Z", "2026-01-12T09:00:00Z"},
		{"lower-case weekday names work", "cron(0 9 ? * mon-fri *)", "", "2026-01-09T10:00:00Z", "2026-01-12T09:00:00Z"},
		// Monday 5 Jan 2026 -> Sunday 11 Jan: 1 is Sunday, not Monday as in Unix cron.
		{"day-of-week 1 is Sunday", "cron(0 9 ? * 1 *)", "", "2026-01-05T00:00:00Z", "2026-01-11T09:00:00Z"},
		{"a weekday list of numbers (2 = MON, 4 = WED)", "cron(0 9 ? * 2,4 *)", "", "2026-01-05T10:00:00Z", "2026-01-07T09:00:00Z"},
		// Saturday 10 Jan 2026: FRI-MON wraps through SAT and SUN.
		{"a wrapping weekday range covers the weekend", "cron(0 9 ? * FRI-MON *)", "", "2026-01-10T10:00:00Z", "2026-01-11T09:00:00Z"},
		{"a wrapping weekday range skips midweek", "cron(0 9 ? * FRI-MON *)", "", "2026-01-12T10:00:00Z", "2026-01-16T09:00:00Z"},
		{"a star in day-of-week with ? in day-of-month fires daily", "cron(0 9 ? * * *)", "", "2026-01-05T10:00:00Z", "2026-01-06T09:00:00Z"},
		{"a day-of-month list and step (1, 11, 21, 31)", "cron(0 0 1/10 * ? *)", "", "2026-01-21T00:00:00Z", "2026-01-31T00:00:00Z"},

		// L, W, #.
		{"L in day-of-month is 28 February in a common year", "cron(0 0 L * ? *)", "", "2026-02-01T00:00:00Z", "2026-02-28T00:00:00Z"},
		{"L in day-of-month is 29 February in a leap year", "cron(0 0 L * ? *)", "", "2028-02-01T00:00:00Z", "2028-02-29T00:00:00Z"},
		{"L in day-of-month is the 30th in April", "cron(0 0 L * ? *)", "", "2026-04-01T00:00:00Z", "2026-04-30T00:00:00Z"},
		// Monday 5 Jan 2026 -> Saturday 10 Jan.
		{"L alone in day-of-week means Saturday", "cron(0 9 ? * L *)", "", "2026-01-05T00:00:00Z", "2026-01-10T09:00:00Z"},
		// Fridays in January 2026: 2, 9, 16, 23, 30.
		{"6L is the last Friday of the month", "cron(0 9 ? * 6L *)", "", "2026-01-01T00:00:00Z", "2026-01-30T09:00:00Z"},
		// Fridays in February 2026: 6, 13, 20, 27.
		{"FRIL is the last Friday too", "cron(0 9 ? * FRIL *)", "", "2026-01-31T00:00:00Z", "2026-02-27T09:00:00Z"},
		// Thursdays in January 2026: 1, 8, 15, 22, 29.
		{"5L is the last Thursday, as 5 is THU", "cron(0 9 ? * 5L *)", "", "2026-01-01T12:00:00Z", "2026-01-29T09:00:00Z"},
		// 31 January 2026 is a Saturday.
		{"LW moves a Saturday month end back to Friday", "cron(0 18 LW * ? *)", "", "2026-01-01T00:00:00Z", "2026-01-30T18:00:00Z"},
		// 31 May 2026 is a Sunday.
		{"LW moves a Sunday month end back to Friday", "cron(0 18 lw * ? *)", "", "2026-05-01T00:00:00Z", "2026-05-29T18:00:00Z"},
		// 30 April 2026 is a Thursday.
		{"LW on a weekday month end is that day", "cron(0 18 LW * ? *)", "", "2026-04-01T00:00:00Z", "2026-04-30T18:00:00Z"},
		// 1 August 2026 is a Saturday; 1 July 2026 (Wednesday) has passed.
		{"1W on a Saturday 1st fires Monday the 3rd, not in the month before", "cron(0 9 1W * ? *)", "", "2026-07-02T00:00:00Z", "2026-08-03T09:00:00Z"},
		// April has no 31st; 31 May 2026 is a Sunday.
		{"31W on a Sunday 31st fires Friday the 29th, and not in a 30-day month", "cron(0 9 31W * ? *)", "", "2026-04-01T00:00:00Z", "2026-05-29T09:00:00Z"},
		// 15 August 2026 is a Saturday.
		{"15W on a Saturday fires Friday the 14th", "cron(0 9 15W * ? *)", "", "2026-08-01T00:00:00Z", "2026-08-14T09:00:00Z"},
		// 15 February 2026 is a Sunday.
		{"15W on a Sunday fires Monday the 16th", "cron(0 9 15W * ? *)", "", "2026-02-01T00:00:00Z", "2026-02-16T09:00:00Z"},
		// 15 January 2026 is a Thursday.
		{"15W on a weekday is that day", "cron(0 9 15W * ? *)", "", "2026-01-01T00:00:00Z", "2026-01-15T09:00:00Z"},
		// Tuesdays in January 2026: 6, 13.
		{"3#2 is the second Tuesday", "cron(0 9 ? * 3#2 *)", "", "2026-01-01T00:00:00Z", "2026-01-13T09:00:00Z"},
		{"TUE#2 is the second Tuesday too", "cron(0 9 ? * tue#2 *)", "", "2026-01-13T09:00:00Z", "2026-02-10T09:00:00Z"},
		// Mondays: Jan 5..26 and Feb 2..23 have four; March 2026 has 2, 9, 16, 23, 30.
		{"2#5 waits for a month with a fifth Monday", "cron(0 9 ? * 2#5 *)", "", "2026-01-01T00:00:00Z", "2026-03-30T09:00:00Z"},

		// Years and schedules that end.
		{"a year list fires only in those years", "cron(0 0 1 1 ? 2027,2029)", "", "2027-01-01T00:00:00Z", "2029-01-01T00:00:00Z"},
		{"the last fire of a year field is found", "cron(0 12 31 12 ? 2026)", "", "2026-06-01T00:00:00Z", "2026-12-31T12:00:00Z"},
		{"a year field that has ended fires no more", "cron(0 12 31 12 ? 2026)", "", "2026-12-31T12:00:00Z", ""},
		{"a year range in the past fires no more", "cron(0 0 * * ? 2020-2025)", "", "2026-01-01T00:00:00Z", ""},
		{"30 February never comes", "cron(0 0 30 2 ? *)", "", "2026-01-01T00:00:00Z", ""},
		{"day 31 skips 30-day months", "cron(0 0 31 * ? *)", "", "2026-04-01T00:00:00Z", "2026-05-31T00:00:00Z"},
		{"29 February waits for the next leap year", "cron(0 0 29 2 ? *)", "", "2026-03-01T00:00:00Z", "2028-02-29T00:00:00Z"},
		{"a search from before 1970 starts in 1970", "cron(0 0 1 1 ? *)", "", "1900-06-01T00:00:00Z", "1970-01-01T00:00:00Z"},
		{"the last minute of 2199 fires", "cron(* * * * ? *)", "", "2199-12-31T23:58:00Z", "2199-12-31T23:59:00Z"},
		{"nothing fires after 2199", "cron(* * * * ? *)", "", "2199-12-31T23:59:00Z", ""},

		// Time zones and daylight saving.
		{"a cron time is wall-clock time in the zone", "cron(0 9 * * ? *)", "Asia/Kolkata", "2026-01-05T00:00:00Z", "2026-01-05T09:00:00+05:30"},
		{"02:30 is skipped on the day Berlin springs forward", "cron(30 2 * * ? *)", "Europe/Berlin", "2026-03-28T02:00:00Z", "2026-03-30T02:30:00+02:00"},
		{"hourly goes from 01:00 CET to 03:00 CEST in Berlin", "cron(0 * * * ? *)", "Europe/Berlin", "2026-03-29T00:30:00Z", "2026-03-29T03:00:00+02:00"},
		{"02:30 fires at its first occurrence when Berlin falls back", "cron(30 2 * * ? *)", "Europe/Berlin", "2026-10-24T12:00:00Z", "2026-10-25T02:30:00+02:00"},
		{"02:30 does not fire again in Berlin's repeated hour", "cron(30 2 * * ? *)", "Europe/Berlin", "2026-10-25T00:30:00Z", "2026-10-26T02:30:00+01:00"},
		// After = 02:10 CET, the second pass: the first 02:30 (00:30Z) is already past.
		{"asked during Berlin's second pass, 02:30 waits for the next day", "cron(30 2 * * ? *)", "Europe/Berlin", "2026-10-25T01:10:00Z", "2026-10-26T02:30:00+01:00"},
		// 02:30 CEST (00:30Z) -> 03:00 CET (02:00Z): nothing at 02:00 or 02:30 CET.
		{"every 30 minutes does not fire twice across Berlin's repeated hour", "cron(0/30 * * * ? *)", "Europe/Berlin", "2026-10-25T00:30:00Z", "2026-10-25T03:00:00+01:00"},
		// 7 March 02:30 EST is 07:30Z, before after; 8 March 02:30 does not exist.
		{"02:30 is skipped on the day New York springs forward", "cron(30 2 * * ? *)", "America/New_York", "2026-03-07T12:00:00Z", "2026-03-09T02:30:00-04:00"},
		{"01:30 fires once on the day New York falls back, at 05:30Z", "cron(30 1 * * ? *)", "America/New_York", "2026-10-31T12:00:00Z", "2026-11-01T01:30:00-04:00"},
		{"01:30 does not fire again at 06:30Z, the second 01:30", "cron(30 1 * * ? *)", "America/New_York", "2026-11-01T05:30:00Z", "2026-11-02T01:30:00-05:00"},
		// 01:30 EDT (05:30Z) -> 02:00 EST (07:00Z).
		{"every 30 minutes does not fire twice across New York's repeated hour", "cron(0/30 * * * ? *)", "America/New_York", "2026-11-01T05:30:00Z", "2026-11-01T02:00:00-05:00"},
		{"02:15 is skipped in Lord Howe's half-hour gap", "cron(15 2 * * ? *)", "Australia/Lord_Howe", "2026-10-03T00:00:00Z", "2026-10-05T02:15:00+11:00"},
		{"02:45 still fires after Lord Howe's half-hour gap", "cron(45 2 * * ? *)", "Australia/Lord_Howe", "2026-10-03T12:00:00Z", "2026-10-04T02:45:00+11:00"},
		{"00:30 is skipped when Santiago's midnight does not exist", "cron(30 0 * * ? *)", "America/Santiago", "2026-09-05T12:00:00Z", "2026-09-07T00:30:00-03:00"},

		// rate(...): anchored at the Unix epoch, zone-independent.
		{"rate(5 minutes) fires on multiples of five minutes", "rate(5 minutes)", "", "2026-01-05T09:02:10Z", "2026-01-05T09:05:00Z"},
		{"rate on an exact fire time moves to the next", "rate(5 minutes)", "", "2026-01-05T09:05:00Z", "2026-01-05T09:10:00Z"},
		{"rate(1 minute) fires at the next minute", "rate(1 minute)", "", "2026-01-05T09:05:00.5Z", "2026-01-05T09:06:00Z"},
		{"rate(1 hour) fires on the hour", "rate(1 hour)", "", "2026-01-05T09:59:59Z", "2026-01-05T10:00:00Z"},
		// 2026-01-05 is 20458 days after the epoch = 327328 periods of 90 minutes.
		{"rate(90 minutes) counts from the epoch, not from the hour", "rate(90 minutes)", "", "2026-01-05T01:00:00Z", "2026-01-05T01:30:00Z"},
		{"rate(1 day) fires at midnight UTC whatever the zone", "rate(1 day)", "Europe/Berlin", "2026-01-05T12:00:00Z", "2026-01-06T01:00:00+01:00"},
		// The epoch was a Thursday, and so was 1 January 2026.
		{"rate(7 days) fires on Thursdays at 00:00Z", "rate(7 days)", "", "2026-01-05T00:00:00Z", "2026-01-08T00:00:00Z"},
		{"rate(2 hours) keeps 24-hour days across Berlin's spring-forward", "rate(2 hours)", "Europe/Berlin", "2026-03-29T00:30:00Z", "2026-03-29T04:00:00+02:00"},
		{"rate before the epoch counts back from it", "rate(5 minutes)", "", "1969-12-31T23:58:30Z", "1970-01-01T00:00:00Z"},

		// at(...).
		{"at in the future fires once", "at(2026-06-01T12:00:00)", "", "2026-01-01T00:00:00Z", "2026-06-01T12:00:00Z"},
		{"at in the past fires no more", "at(2026-06-01T12:00:00)", "", "2026-06-01T12:00:00Z", ""},
		{"at is wall-clock time in the zone", "at(2026-06-01T12:00:00)", "Europe/Berlin", "2026-01-01T00:00:00Z", "2026-06-01T12:00:00+02:00"},
		{"at keeps its seconds", "at(2026-06-01T12:00:30)", "", "2026-06-01T12:00:00Z", "2026-06-01T12:00:30Z"},
		{"at on a repeated wall time fires at the first occurrence", "at(2026-11-01T01:30:00)", "America/New_York", "2026-01-01T00:00:00Z", "2026-11-01T01:30:00-04:00"},
		{"at inside New York's spring-forward gap moves forward by the gap", "at(2026-03-08T02:30:00)", "America/New_York", "2026-01-01T00:00:00Z", "2026-03-08T03:30:00-04:00"},
		{"at inside Berlin's spring-forward gap moves forward by the gap", "at(2026-03-29T02:30:00)", "Europe/Berlin", "2026-01-01T00:00:00Z", "2026-03-29T03:30:00+02:00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := mustParse(t, tt.expr)
			loc := mustZone(t, tt.zone)
			got, ok := s.Next(mustTime(t, tt.after), loc)
			if tt.want == "" {
				if ok {
					t.Fatalf("Next = %s, want no more fires", got.Format(time.RFC3339))
				}
				return
			}
			if !ok {
				t.Fatalf("Next reported no more fires, want %s", tt.want)
			}
			if g := got.Format(time.RFC3339); g != tt.want {
				t.Errorf("Next = %s, want %s", g, tt.want)
			}
			if got.Location() != loc {
				t.Errorf("result is in %s, want %s", got.Location(), loc)
			}
		})
	}
}

func TestNextWithNilLocationIsUTC(t *testing.T) {
	got, ok := mustParse(t, "cron(0 9 * * ? *)").Next(mustTime(t, "2026-01-05T10:00:00+01:00"), nil)
	if !ok || got.Location() != time.UTC || got.Format(time.RFC3339) != "2026-01-06T09:00:00Z" {
		t.Errorf("Next = %s %v, want 2026-01-06T09:00:00Z in UTC", got, ok)
	}
}

func TestParseAccepts(t *testing.T) {
	tests := []struct {
		name string
		expr string
		kind Kind
	}{
		{"a cron expression with surrounding space is trimmed", "  cron(0 10 * * ? *)\n", KindCron},
		{"cron fields may be separated by several spaces", "cron(0  10 * *\t? *)", KindCron},
		{"a rate in minutes", "rate(5 minutes)", KindRate},
		{"a rate of one hour", "rate(1 hour)", KindRate},
		{"a rate in days", "rate(3 days)", KindRate},
		{"a one-time schedule", "at(2026-03-29T02:30:00)", KindAt},
		{"AWS's example: every 5 minutes, weekdays 8-17", "cron(0/5 8-17 ? * MON-FRI *)", KindCron},
		{"AWS's example: last Friday in some years", "cron(15 10 ? * 6L 2019-2022)", KindCron},
		{"AWS's example: first Monday", "cron(0 9 ? * 2#1 *)", KindCron},
		{"a step of a whole field is allowed", "cron(0/60 * * * ? *)", KindCron},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := mustParse(t, tt.expr)
			if s.Kind() != tt.kind {
				t.Errorf("Kind = %v, want %v", s.Kind(), tt.kind)
			}
			if s.String() != strings.TrimSpace(tt.expr) {
				t.Errorf("String = %q, want %q", s.String(), strings.TrimSpace(tt.expr))
			}
		})
	}
}

func TestParseRejects(t *testing.T) {
	tests := []struct {
		name string
		expr string
		want string
	}{
		{"an empty expression", "", `unknown expression "": write cron(...), rate(...) or at(...)`},
		{"a Unix crontab line", "*/5 * * * *", `unknown expression "*/5 * * * *": write cron(...), rate(...) or at(...)`},
		{"an upper-case keyword", "CRON(0 0 * * ? *)", `unknown expression "CRON(0 0 * * ? *)": write cron(...), rate(...) or at(...)`},
		{"a missing closing parenthesis", "cron(0 0 * * ? *", `cron: "cron(0 0 * * ? *" must end with ")"`},
		{"five fields, as in Unix cron", "cron(0 0 * * ?)", `cron: want 6 fields (minutes hours day-of-month month day-of-week year), got 5 in "0 0 * * ?"`},
		{"seven fields, as in Quartz with seconds", "cron(0 0 0 * * ? *)", `cron: want 6 fields (minutes hours day-of-month month day-of-week year), got 7 in "0 0 0 * * ? *"`},
		{"minute 60", "cron(60 0 * * ? *)", `cron minutes "60": must be 0-59, with , - * /`},
		{"a question mark in minutes", "cron(? 0 * * ? *)", `cron minutes "?": must be 0-59, with , - * /`},
		{"hour 24", "cron(0 24 * * ? *)", `cron hours "24": must be 0-23, with , - * /`},
		{"an empty list item", "cron(1,,2 0 * * ? *)", `cron minutes "1,,2": must be 0-59, with , - * /`},
		{"a range without an end", "cron(0 5- * * ? *)", `cron hours "5-": must be 0-23, with , - * /`},
		{"a step of zero", "cron(0/0 * * * ? *)", `cron minutes "0/0": step after / must be 1-60`},
		{"a step longer than the field", "cron(0 0/25 * * ? *)", `cron hours "0/25": step after / must be 1-24`},
		{"day-of-month 0", "cron(0 0 0 * ? *)", `cron day-of-month "0": must be 1-31, with , - * / ? L W`},
		{"day-of-month 32", "cron(0 0 32 * ? *)", `cron day-of-month "32": must be 1-31, with , - * / ? L W`},
		{"W without a day", "cron(0 0 W * ? *)", `cron day-of-month "W": must be 1-31, with , - * / ? L W`},
		{"W on a day out of range", "cron(0 0 32W * ? *)", `cron day-of-month "32W": must be 1-31, with , - * / ? L W`},
		{"W on a range", "cron(0 0 1-5W * ? *)", `cron day-of-month "1-5W": must be 1-31, with , - * / ? L W`},
		{"Quartz's L-3, which AWS does not document", "cron(0 0 L-3 * ? *)", `cron day-of-month "L-3": must be 1-31, with , - * / ? L W`},
		{"L in a day-of-month list", "cron(0 0 1,L * ? *)", `cron day-of-month "1,L": ?, L and W must stand alone, not in a list`},
		{"month 13", "cron(0 0 1 13 ? *)", `cron month "13": must be 1-12 or JAN-DEC, with , - * /`},
		{"a misspelt month", "cron(0 0 1 JANUARY ? *)", `cron month "JANUARY": must be 1-12 or JAN-DEC, with , - * /`},
		{"L in the month field", "cron(0 0 1 L ? *)", `cron month "L": must be 1-12 or JAN-DEC, with , - * /`},
		{"day-of-week 8", "cron(0 0 ? * 8 *)", `cron day-of-week "8": must be 1-7 (1 = SUN), SUN-SAT, with , - * ? L #`},
		{"day-of-week 0, Unix cron's Sunday", "cron(0 0 ? * 0 *)", `cron day-of-week "0": must be 1-7 (1 = SUN), SUN-SAT, with , - * ? L #`},
		{"a step in day-of-week, which AWS does not list", "cron(0 0 ? * 1/2 *)", `cron day-of-week "1/2": must be 1-7 (1 = SUN), SUN-SAT, with , - * ? L #`},
		{"L after a weekday out of range", "cron(0 0 ? * 8L *)", `cron day-of-week "8L": must be 1-7 (1 = SUN), SUN-SAT, with , - * ? L #`},
		{"a sixth occurrence", "cron(0 0 ? * 3#6 *)", `cron day-of-week "3#6": the number after # must be 1-5 (3#2 = the second Tuesday)`},
		{"a zeroth occurrence", "cron(0 0 ? * 3#0 *)", `cron day-of-week "3#0": the number after # must be 1-5 (3#2 = the second Tuesday)`},
		{"# on a weekday out of range", "cron(0 0 ? * 9#1 *)", `cron day-of-week "9#1": must be 1-7 (1 = SUN), SUN-SAT, with , - * ? L #`},
		{"two # expressions, AWS's own invalid example", "cron(0 0 ? * 3#1,6#3 *)", `cron day-of-week "3#1,6#3": ?, L and # must stand alone, not in a list`},
		{"year 1969", "cron(0 0 1 1 ? 1969)", `cron year "1969": must be 1970-2199, with , - * /`},
		{"year 2200", "cron(0 0 1 1 ? 2200)", `cron year "2200": must be 1970-2199, with , - * /`},
		{"a backwards year range", "cron(0 0 1 1 ? 2030-2026)", `cron year "2030-2026": range must run from the earlier year to the later`},
		{"both day fields are ?", "cron(0 0 ? * ? *)", `cron: exactly one of day-of-month and day-of-week must be "?"`},
		{"neither day field is ?", "cron(0 0 * * MON *)", `cron: exactly one of day-of-month and day-of-week must be "?"`},
		{"a plural unit with 1", "rate(1 minutes)", `rate: "1 minutes": write "rate(1 minute)" (singular when the value is 1)`},
		{"a plural hour unit with 1", "rate(1 hours)", `rate: "1 hours": write "rate(1 hour)" (singular when the value is 1)`},
		{"a singular unit with 5", "rate(5 minute)", `rate: "5 minute": write "rate(5 minutes)" (plural when the value is not 1)`},
		{"a singular day unit with 2", "rate(2 day)", `rate: "2 day": write "rate(2 days)" (plural when the value is not 1)`},
		{"a rate of zero", "rate(0 minutes)", `rate: "0 minutes": value must be a positive whole number`},
		{"a negative rate", "rate(-5 minutes)", `rate: "-5 minutes": value must be a positive whole number`},
		{"a fractional rate", "rate(1.5 hours)", `rate: "1.5 hours": value must be a positive whole number`},
		{"a rate in weeks", "rate(2 weeks)", `rate: "2 weeks": unit must be minute, minutes, hour, hours, day or days`},
		{"a capitalised unit", "rate(5 Minutes)", `rate: "5 Minutes": unit must be minute, minutes, hour, hours, day or days`},
		{"a rate without a unit", "rate(5)", `rate: "5": want "rate(value unit)", e.g. "rate(5 minutes)"`},
		{"a rate too long for a duration", "rate(999999999999 days)", `rate: "999999999999 days": interval too long, at most 106751 days`},
		{"an at without the T", "at(2026-03-29 02:30:00)", `at: "2026-03-29 02:30:00": want yyyy-mm-ddThh:mm:ss, e.g. "at(2026-03-29T02:30:00)"`},
		{"an at with a zone", "at(2026-03-29T02:30:00Z)", `at: "2026-03-29T02:30:00Z": want yyyy-mm-ddThh:mm:ss, e.g. "at(2026-03-29T02:30:00)"`},
		{"an at without seconds", "at(2026-03-29T02:30)", `at: "2026-03-29T02:30": want yyyy-mm-ddThh:mm:ss, e.g. "at(2026-03-29T02:30:00)"`},
		{"an at with a fraction", "at(2026-03-29T02:30:00.5)", `at: "2026-03-29T02:30:00.5": want yyyy-mm-ddThh:mm:ss, e.g. "at(2026-03-29T02:30:00)"`},
		{"an at on 30 February", "at(2026-02-30T00:00:00)", `at: "2026-02-30T00:00:00": not a real date and time`},
		{"an at at hour 24", "at(2026-03-29T24:00:00)", `at: "2026-03-29T24:00:00": not a real date and time`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Parse(tt.expr)
			if err == nil {
				t.Fatalf("Parse(%q) = %v, want error %q", tt.expr, s, tt.want)
			}
			if s != nil {
				t.Errorf("Parse(%q) returned a schedule with its error", tt.expr)
			}
			if err.Error() != tt.want {
				t.Errorf("Parse(%q) error\n got %s\nwant %s", tt.expr, err, tt.want)
			}
		})
	}
}

func TestLoadLocation(t *testing.T) {
	tests := []struct {
		name    string
		zone    string
		want    string // location name, "" = error
		wantErr string
	}{
		{"an empty name is UTC", "", "UTC", ""},
		{"UTC by name", "UTC", "UTC", ""},
		{"an IANA zone loads from the built-in database", "Europe/Berlin", "Europe/Berlin", ""},
		{"an unknown zone is refused", "Mars/Olympus_Mons", "", `unknown time zone "Mars/Olympus_Mons": use an IANA name such as "Europe/Berlin" or "America/New_York"`},
		{"a path is refused", "../../etc/passwd", "", `unknown time zone "../../etc/passwd": use an IANA name such as "Europe/Berlin" or "America/New_York"`},
		{"the machine's local zone is refused", "Local", "", `time zone "Local": name an IANA zone such as "Europe/Berlin", or leave it empty for UTC`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			loc, err := LoadLocation(tt.zone)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("LoadLocation(%q) error = %v, want %q", tt.zone, err, tt.wantErr)
				}
				return
			}
			if err != nil || loc.String() != tt.want {
				t.Fatalf("LoadLocation(%q) = %v, %v; want %s", tt.zone, loc, err, tt.want)
			}
		})
	}
}

func TestKindString(t *testing.T) {
	for k, want := range map[Kind]string{KindCron: "cron", KindRate: "rate", KindAt: "at", 0: "Kind(0)"} {
		if got := k.String(); got != want {
			t.Errorf("Kind(%d).String() = %q, want %q", int(k), got, want)
		}
	}
}

func TestNilScheduleDoesNotFire(t *testing.T) {
	var s *Schedule
	if _, ok := s.Next(time.Now(), nil); ok || s.Kind() != 0 || s.String() != "" {
		t.Error("a nil schedule should report no kind, no text and no fire")
	}
}

// refMinute is one minute of a zone's timeline, for the brute-force reference.
type refMinute struct {
	at    time.Time
	wall  wall
	first bool // the first time this wall clock is shown (false in a repeated hour)
}

// timeline lists every minute in [from, to) with its wall clock in loc.
func timeline(from, to time.Time, loc *time.Location) []refMinute {
	out := make([]refMinute, 0, int(to.Sub(from)/time.Minute))
	var maxSeen wall
	for at := from; at.Before(to); at = at.Add(time.Minute) {
		w := wallOf(at.In(loc))
		first := len(out) == 0 || w.asUTC().After(maxSeen.asUTC())
		if first {
			maxSeen = w
		}
		out = append(out, refMinute{at: at, wall: w, first: first})
	}
	return out
}

// refMatches reports whether a wall clock matches c, written independently of
// nextDay: each day rule is read straight from its definition.
func refMatches(c *cronSpec, w wall) bool {
	if !c.minutes.has(w.minute) || !c.hours.has(w.hour) || !c.months.has(w.month) || !c.years.has(w.year) {
		return false
	}
	date := func(d int) time.Time { return time.Date(w.year, time.Month(w.month), d, 0, 0, 0, 0, time.UTC) }
	isWeekday := func(d int) bool { wd := date(d).Weekday(); return wd != time.Saturday && wd != time.Sunday }
	last := date(32).AddDate(0, 0, -date(32).Day()).Day() // the 32nd normalises into next month
	cronWeekday := int(date(w.day).Weekday()) + 1
	switch c.dom.kind {
	case domSet:
		return c.dom.days.has(w.day)
	case domLast:
		return w.day == last
	case domLastWeekday:
		for d := last; d >= 1; d-- {
			if isWeekday(d) {
				return w.day == d
			}
		}
		return false
	case domNearestWeekday:
		if c.dom.day > last {
			return false
		}
		best := 0
		for d := 1; d <= last; d++ { // the closest weekday; ties cannot happen (distance 1 vs 2)
			if isWeekday(d) && (best == 0 || abs(d-c.dom.day) < abs(best-c.dom.day)) {
				best = d
			}
		}
		return w.day == best
	}
	switch c.dow.kind {
	case dowSet:
		return c.dow.days.has(cronWeekday)
	case dowLast:
		return cronWeekday == c.dow.weekday && w.day+7 > last
	case dowNth:
		return cronWeekday == c.dow.weekday && (w.day-1)/7+1 == c.dow.nth
	}
	return false
}

// offsetChanges returns the instants at which the zone's offset changes.
func offsetChanges(line []refMinute) []time.Time {
	var out []time.Time
	for i := 1; i < len(line); i++ {
		if line[i].wall.asUTC().Sub(line[i-1].wall.asUTC()) != time.Minute {
			out = append(out, line[i].at)
		}
	}
	return out
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// TestNextMatchesBruteForce compares Next with a minute-by-minute scan of 2026 (and a
// few days either side) in zones with one-hour, half-hour and midnight changes: this
// is what catches field-jumping bugs.
func TestNextMatchesBruteForce(t *testing.T) {
	exprs := []string{
		"cron(* * * * ? *)",
		"cron(*/7 * * * ? *)",
		"cron(0/30 * * * ? *)",
		"cron(30 2 * * ? *)",
		"cron(0,15,30,45 1-3 * * ? *)",
		"cron(10-50/20 0 * * ? *)",
		"cron(5 0 L * ? *)",
		"cron(*/13 1-3 LW * ? *)",
		"cron(0 9 15W * ? *)",
		"cron(45 23 1W * ? *)",
		"cron(0 9 31W * ? *)",
		"cron(0 0/6 ? * 6L *)",
		"cron(59 23 ? * 1#1 *)",
		"cron(*/20 0-3 ? * SUN *)",
		"cron(0 22-2 * JAN,MAR,SEP-NOV ? *)",
		"cron(0/10 * 1-3 * ? 2026)",
		"cron(30 0 29 2 ? 2024-2028)",
		"cron(0 12 ? * MON-FRI 2027)",
	}
	zones := []string{"", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "America/Santiago", "Asia/Kolkata"}
	from := mustTime(t, "2025-12-25T00:00:00Z")
	to := mustTime(t, "2027-01-08T00:00:00Z")
	rng := rand.New(rand.NewPCG(1, 2))
	for _, zone := range zones {
		loc := mustZone(t, zone)
		line := timeline(from, to, loc)
		for _, expr := range exprs {
			s := mustParse(t, expr)
			var fires []time.Time
			for _, m := range line {
				if m.first && refMatches(s.cron, m.wall) {
					fires = append(fires, m.at.In(loc))
				}
			}
			// expect returns the reference's next fire after a, or the zero time when
			// the window holds none (then Next must answer beyond the window, or false).
			expect := func(a time.Time) time.Time {
				i := sort.Search(len(fires), func(i int) bool { return fires[i].After(a) })
				if i == len(fires) {
					return time.Time{}
				}
				return fires[i]
			}
			check := func(a time.Time) {
				t.Helper()
				want := expect(a)
				got, ok := s.Next(a, loc)
				switch {
				case want.IsZero() && ok && got.Before(to):
					t.Fatalf("%s in %q after %s: Next = %s, reference finds nothing before %s", expr, zone, a, got, to)
				case !want.IsZero() && (!ok || !got.Equal(want)):
					t.Fatalf("%s in %q after %s: Next = %s %v, reference %s", expr, zone, a, got, ok, want)
				}
			}
			stride := max(1, len(fires)/2000)
			for i := 0; i < len(fires); i += stride {
				check(fires[i].Add(-time.Nanosecond))
				check(fires[i])
			}
			for range 2000 {
				check(from.Add(time.Duration(rng.Int64N(int64(to.Sub(from))))))
			}
			for _, change := range offsetChanges(line) { // every minute around each clock change
				for d := -150 * time.Minute; d <= 150*time.Minute; d += time.Minute {
					check(change.Add(d))
					check(change.Add(d + 30*time.Second))
				}
			}
		}
	}
}

// TestNeverFiringSchedulesEndQuickly guards against scanning minute by minute to 2199.
func TestNeverFiringSchedulesEndQuickly(t *testing.T) {
	berlin := mustZone(t, "Europe/Berlin")
	for _, expr := range []string{
		"cron(0 0 30 2 ? *)",
		"cron(* * 31 4,6,9,11 ? *)",
		"cron(* * 31W FEB ? *)",
		"cron(30 2 29 3 ? 2026)", // only a time that Berlin skips
		"cron(0 0 1 1 ? 1970-1975)",
	} {
		s := mustParse(t, expr)
		start := time.Now()
		if got, ok := s.Next(mustTime(t, "2026-01-01T00:00:00Z"), berlin); ok {
			t.Errorf("%s: Next = %s, want no more fires", expr, got)
		}
		if d := time.Since(start); d > 500*time.Millisecond {
			t.Errorf("%s: Next took %s", expr, d)
		}
	}
}

// FuzzParse checks that no input makes Parse or Next panic or hang, and that every
// answer Next gives is strictly after its input and stable.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		"cron(0 10 * * ? *)", "cron(0/15 8-17 ? * MON-FRI *)", "cron(0 0 L * ? *)", "cron(0 0 LW * ? *)",
		"cron(0 9 1W * ? *)", "cron(0 9 ? * 6L 2026-2030)", "cron(0 9 ? * 3#2 *)", "cron(0 22-2 * * ? *)",
		"cron(0 0 30 2 ? *)", "rate(5 minutes)", "rate(1 day)", "at(2026-11-01T01:30:00)", "*/5 * * * *",
		"cron(0 0 ? * 3#1,6#3 *)", "rate(1 minutes)", "at(2026-02-30T00:00:00)",
	} {
		f.Add(seed)
	}
	zones := []*time.Location{time.UTC}
	for _, name := range []string{"Europe/Berlin", "America/New_York", "Australia/Lord_Howe"} {
		zones = append(zones, mustZone(f, name))
	}
	afters := []time.Time{
		{},
		mustTime(f, "1969-12-31T23:59:59Z"),
		mustTime(f, "2026-03-29T00:59:30Z"),
		mustTime(f, "2026-11-01T05:45:00Z"),
		mustTime(f, "2199-12-31T23:00:00Z"),
	}
	f.Fuzz(func(t *testing.T, expr string) {
		s, err := Parse(expr)
		if err != nil {
			if s != nil {
				t.Fatalf("Parse(%q) returned a schedule with an error", expr)
			}
			return
		}
		if s.String() != strings.TrimSpace(expr) {
			t.Fatalf("String() = %q, want the trimmed input", s.String())
		}
		if _, err := Parse(s.String()); err != nil {
			t.Fatalf("String() %q does not parse again: %v", s.String(), err)
		}
		for _, loc := range zones {
			for _, a := range afters {
				got, ok := s.Next(a, loc)
				if !ok {
					continue
				}
				if !got.After(a) {
					t.Fatalf("%s after %s in %s: Next = %s, not after", expr, a, loc, got)
				}
				if s.Kind() == KindCron && got.Second() != 0 {
					t.Fatalf("%s: Next = %s, want whole minutes", expr, got)
				}
				if again, ok := s.Next(got.Add(-time.Nanosecond), loc); !ok || !again.Equal(got) {
					t.Fatalf("%s in %s: Next(%s - 1ns) = %s %v, want %s", expr, loc, got, again, ok, got)
				}
			}
		}
	})
}

func BenchmarkNext(b *testing.B) {
	berlin := mustZone(b, "Europe/Berlin")
	cases := []struct{ name, expr string }{
		{"cron plain", "cron(0 9 * * ? *)"},
		{"cron step", "cron(0/15 8-17 ? * MON-FRI *)"},
		{"cron L", "cron(0 0 L * ? *)"},
		{"cron W", "cron(0 9 15W * ? *)"},
		{"cron #", "cron(0 9 ? * 3#2 *)"},
		{"cron year-bounded", "cron(0 0 1 1 ? 2030-2032)"},
		{"cron never again", "cron(0 0 30 2 ? *)"},
		{"rate", "rate(5 minutes)"},
		{"at", "at(2030-01-01T00:00:00)"},
	}
	// Start times spread over a year, so jumps of every length are measured.
	afters := make([]time.Time, 64)
	for i := range afters {
		afters[i] = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * 137 * time.Hour)
	}
	for _, c := range cases {
		s := mustParse(b, c.expr)
		b.Run(c.name, func(b *testing.B) {
			i := 0
			for b.Loop() {
				s.Next(afters[i%len(afters)], berlin)
				i++
			}
		})
	}
}

// ExampleSchedule_Next shows the answer `longshore schedule next` prints.
func ExampleSchedule_Next() {
	s, _ := Parse("cron(30 1 * * ? *)")
	ny, _ := LoadLocation("America/New_York")
	t := time.Date(2026, 10, 31, 12, 0, 0, 0, time.UTC)
	for range 3 {
		t, _ = s.Next(t, ny)
		fmt.Println(t.Format(time.RFC3339), t.UTC().Format(time.RFC3339))
	}
	// Output:
	// 2026-11-01T01:30:00-04:00 2026-11-01T05:30:00Z
	// 2026-11-02T01:30:00-05:00 2026-11-02T06:30:00Z
	// 2026-11-03T01:30:00-05:00 2026-11-03T06:30:00Z
}
