package schedule

import (
	"fmt"
	"time"
)

// MaxCounted bounds how far Between counts the times of a window it
// refuses: beyond it, TooManyError says "more than".
const MaxCounted = 1_000_000

// TooManyError is a window holding more fire times than the limit.
type TooManyError struct {
	// Count is how many times the window holds; when More is set, the
	// window holds more than Count (counting stopped at MaxCounted).
	Count int
	More  bool
	Limit int
}

func (e *TooManyError) Error() string {
	n := fmt.Sprint(e.Count)
	if e.More {
		n = "more than " + n
	}
	return fmt.Sprintf("the window holds %s fire times, over the limit of %d", n, e.Limit)
}

// Between returns the times the schedule fires in [from, to), in order and
// in loc (nil = UTC), exactly the times Next walks through: a cron wall
// time skipped by a daylight-saving change is not among them and a
// repeated one appears once; a rate counts from the Unix epoch; an at()
// appears when its time is in the window. A window with more than limit
// times gives a *TooManyError saying how many (limit < 1 means no limit).
func (s *Schedule) Between(from, to time.Time, loc *time.Location, limit int) ([]time.Time, error) {
	if s == nil || !from.Before(to) {
		return nil, nil
	}
	var out []time.Time
	n := 0
	// Next is strictly after: start a nanosecond early so that from itself fires.
	for t, ok := s.Next(from.Add(-time.Nanosecond), loc); ok && t.Before(to); t, ok = s.Next(t, loc) {
		n++
		if limit > 0 && n > limit {
			if n > MaxCounted {
				return nil, &TooManyError{Count: MaxCounted, More: true, Limit: limit}
			}
			continue
		}
		out = append(out, t)
	}
	if limit > 0 && n > limit {
		return nil, &TooManyError{Count: n, Limit: limit}
	}
	return out, nil
}

// Between parses expr and reads it in the IANA zone tz ("" = UTC), then
// returns the times it fires in [from, to) as (*Schedule).Between does.
func Between(expr, tz string, from, to time.Time, limit int) ([]time.Time, error) {
	s, err := Parse(expr)
	if err != nil {
		return nil, err
	}
	loc, err := LoadLocation(tz)
	if err != nil {
		return nil, err
	}
	return s.Between(from, to, loc, limit)
}
