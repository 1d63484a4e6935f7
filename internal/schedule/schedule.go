// Package schedule parses and evaluates EventBridge Scheduler schedule
// expressions: cron(...), rate(...) and at(...).
//
// It is Longshore's only schedule maths: the local engine's scheduler loop and
// the `longshore schedule next` command both call Next, so a schedule fires at
// the same wall-clock times locally as it would on AWS.
//
// Cron fields are wall-clock times in the schedule's time zone. Around daylight
// saving changes it follows EventBridge Scheduler: a wall time that does not
// exist that day (clocks go forward) is skipped, and a wall time that happens
// twice (clocks go back) fires once, at its first occurrence.
package schedule

import (
	"fmt"
	"strings"
	"time"
	_ "time/tzdata" // zones work without /usr/share/zoneinfo (Lambda, scratch images)
)

// Kind of expression. The zero Kind is not a valid kind.
type Kind int

// The kinds of expression EventBridge Scheduler accepts.
const (
	KindCron Kind = iota + 1 // cron(minutes hours day-of-month month day-of-week year)
	KindRate                 // rate(value unit)
	KindAt                   // at(yyyy-mm-ddThh:mm:ss)
)

// String returns "cron", "rate" or "at".
func (k Kind) String() string {
	switch k {
	case KindCron:
		return "cron"
	case KindRate:
		return "rate"
	case KindAt:
		return "at"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Schedule is a parsed EventBridge Scheduler expression. Immutable, safe for concurrent use.
type Schedule struct {
	expr  string
	kind  Kind
	cron  *cronSpec // KindCron
	every int64     // KindRate: the interval in seconds
	at    wall      // KindAt: the wall-clock time
}

// Parse parses cron(...), rate(...) or at(...) exactly as EventBridge Scheduler reads them.
// Leading and trailing white space is ignored; the keywords and rate units are lower case,
// month and weekday names and the letters L and W are case-insensitive.
//
// Where AWS's documentation is silent, Parse follows Quartz, from which AWS's cron comes:
// day-of-week is 1-7 with 1 = SUN (so 6L and FRIL are the last Friday); ?, L, LW, nW, nL
// and n#k must stand alone in their field (AWS documents "3#1,6#3" as invalid); a range
// may wrap (22-2 hours, FRI-MON), except in the year field; a step is 1 to the field's
// width. Day-of-week takes no / (AWS lists only , - * ? L #), and nW does not fire in a
// month without day n (31W skips April), just as plain 31 does.
func Parse(expr string) (*Schedule, error) {
	s := strings.TrimSpace(expr)
	kind, inner, err := split(s)
	if err != nil {
		return nil, err
	}
	sch := &Schedule{expr: s, kind: kind}
	switch kind {
	case KindCron:
		sch.cron, err = parseCron(inner)
	case KindRate:
		sch.every, err = parseRate(inner)
	case KindAt:
		sch.at, err = parseAt(inner)
	}
	if err != nil {
		return nil, err
	}
	return sch, nil
}

// split recognises the expression's kind and returns the text inside its parentheses.
func split(s string) (Kind, string, error) {
	for _, k := range []Kind{KindCron, KindRate, KindAt} {
		prefix := k.String() + "("
		if !strings.HasPrefix(s, prefix) {
			continue
		}
		if !strings.HasSuffix(s, ")") {
			return 0, "", fmt.Errorf(`%s: %q must end with ")"`, k, s)
		}
		return k, s[len(prefix) : len(s)-1], nil
	}
	return 0, "", fmt.Errorf("unknown expression %q: write cron(...), rate(...) or at(...)", s)
}

// LoadLocation loads an IANA time zone such as "Europe/Berlin"; "" means UTC.
// The zone database is built in, so this works on machines without one.
// "Local" is refused: a schedule must not depend on the machine it runs on.
func LoadLocation(name string) (*time.Location, error) {
	if name == "" {
		return time.UTC, nil
	}
	if name == "Local" {
		return nil, fmt.Errorf(`time zone "Local": name an IANA zone such as "Europe/Berlin", or leave it empty for UTC`)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf(`unknown time zone %q: use an IANA name such as "Europe/Berlin" or "America/New_York"`, name)
	}
	return loc, nil
}

// Kind returns the kind of expression.
func (s *Schedule) Kind() Kind {
	if s == nil {
		return 0
	}
	return s.kind
}

// String returns the original expression, trimmed.
func (s *Schedule) String() string {
	if s == nil {
		return ""
	}
	return s.expr
}

// Next returns the first fire time strictly after `after`, evaluated in loc (nil = UTC),
// and false when the schedule fires no more (an at() in the past, a year field that has
// ended). The result is in loc; callers wanting UTC call .UTC() on it.
//
// cron: fields are wall-clock times in loc and results have seconds 0. A wall time
// skipped by a daylight-saving change does not fire that day; a repeated wall time fires
// once, at its first occurrence. Years end at 2199.
//
// rate: fires every interval counted from the Unix epoch (1970-01-01T00:00:00Z), so
// rate(5 minutes) fires at :00, :05, ... and the same times after a restart; rate(N days)
// is N×24 hours, whatever the zone. loc only sets the result's location. AWS instead
// anchors a rate at the schedule's creation (or start) time, so on AWS the phase differs.
//
// at: fires once at that wall-clock time in loc (seconds as written). A time that
// occurs twice gives its first occurrence; a time skipped by clocks going forward is
// moved forward by the gap (02:30 in a 02:00→03:00 gap fires at 03:30).
func (s *Schedule) Next(after time.Time, loc *time.Location) (time.Time, bool) {
	if s == nil {
		return time.Time{}, false
	}
	if loc == nil {
		loc = time.UTC
	}
	switch s.kind {
	case KindCron:
		return s.cron.next(after, loc)
	case KindRate:
		return nextRate(s.every, after, loc)
	case KindAt:
		t, _ := s.at.instant(loc)
		if t.After(after) {
			return t, true
		}
	}
	return time.Time{}, false
}
