package schedule

import (
	"fmt"
	"math/bits"
	"strconv"
	"strings"
)

// Bounds of the year field, as EventBridge documents them.
const (
	minYear = 1970
	maxYear = 2199
)

// cronSpec is a parsed cron(...) expression. Exactly one of dom and dow is "?".
type cronSpec struct {
	minutes, hours, months, years valueSet
	dom                           domRule
	dow                           dowRule
}

// valueSet holds the values a cron field allows, as bits counted from base.
type valueSet struct {
	base int
	bits [4]uint64
}

func (s *valueSet) add(v int) {
	i := v - s.base
	s.bits[i>>6] |= 1 << (i & 63)
}

// next returns the smallest allowed value >= v.
func (s *valueSet) next(v int) (int, bool) {
	i := max(v-s.base, 0)
	if i >= 256 {
		return 0, false
	}
	w := i >> 6
	m := s.bits[w] & (^uint64(0) << (i & 63))
	for m == 0 {
		w++
		if w == len(s.bits) {
			return 0, false
		}
		m = s.bits[w]
	}
	return s.base + w<<6 + bits.TrailingZeros64(m), true
}

func (s *valueSet) has(v int) bool {
	n, ok := s.next(v)
	return ok && n == v
}

// domKind is the form of the day-of-month field.
type domKind int

const (
	domAny            domKind = iota // ?
	domSet                           // values, ranges, steps, *
	domLast                          // L: the last day of the month
	domLastWeekday                   // LW: the last weekday (Monday to Friday) of the month
	domNearestWeekday                // nW: the weekday nearest day n, within the month
)

type domRule struct {
	kind domKind
	days valueSet // domSet
	day  int      // domNearestWeekday
}

// dowKind is the form of the day-of-week field.
type dowKind int

const (
	dowAny  dowKind = iota // ?
	dowSet                 // values, ranges, *, L alone (= 7, Saturday)
	dowLast                // nL: the last weekday n of the month
	dowNth                 // n#k: the k-th weekday n of the month
)

type dowRule struct {
	kind    dowKind
	days    valueSet // dowSet, 1 = Sunday
	weekday int      // dowLast, dowNth
	nth     int      // dowNth
}

// field describes one cron field for parsing and error messages.
type field struct {
	name     string
	min, max int
	names    []string // names[i] stands for min+i
	allowed  string   // what an error message says the field takes
	step     bool     // whether / is allowed
}

var (
	minuteField = field{name: "minutes", min: 0, max: 59, allowed: "0-59, with , - * /", step: true}
	hourField   = field{name: "hours", min: 0, max: 23, allowed: "0-23, with , - * /", step: true}
	domField    = field{name: "day-of-month", min: 1, max: 31, allowed: "1-31, with , - * / ? L W", step: true}
	monthField  = field{name: "month", min: 1, max: 12, allowed: "1-12 or JAN-DEC, with , - * /", step: true,
		names: []string{"JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"}}
	dowField = field{name: "day-of-week", min: 1, max: 7, allowed: "1-7 (1 = SUN), SUN-SAT, with , - * ? L #",
		names: []string{"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"}}
	yearField = field{name: "year", min: minYear, max: maxYear, allowed: "1970-2199, with , - * /", step: true}
)

// invalid is the error for a field value outside what the field takes.
func (f field) invalid(raw string) error {
	return fmt.Errorf("cron %s %q: must be %s", f.name, raw, f.allowed)
}

// errorf is an error about one field with a specific reason.
func (f field) errorf(raw, format string, args ...any) error {
	return fmt.Errorf("cron %s %q: %s", f.name, raw, fmt.Sprintf(format, args...))
}

// parseCron parses the six fields inside cron(...).
func parseCron(inner string) (*cronSpec, error) {
	fs := strings.Fields(inner)
	if len(fs) != 6 {
		return nil, fmt.Errorf("cron: want 6 fields (minutes hours day-of-month month day-of-week year), got %d in %q", len(fs), strings.TrimSpace(inner))
	}
	c := &cronSpec{}
	var err error
	if c.minutes, err = parseSet(minuteField, fs[0]); err != nil {
		return nil, err
	}
	if c.hours, err = parseSet(hourField, fs[1]); err != nil {
		return nil, err
	}
	if c.dom, err = parseDOM(fs[2]); err != nil {
		return nil, err
	}
	if c.months, err = parseSet(monthField, fs[3]); err != nil {
		return nil, err
	}
	if c.dow, err = parseDOW(fs[4]); err != nil {
		return nil, err
	}
	if c.years, err = parseSet(yearField, fs[5]); err != nil {
		return nil, err
	}
	if (c.dom.kind == domAny) == (c.dow.kind == dowAny) {
		return nil, fmt.Errorf(`cron: exactly one of day-of-month and day-of-week must be "?"`)
	}
	return c, nil
}

// parseDOM parses the day-of-month field: ?, L, LW, nW or a set.
func parseDOM(raw string) (domRule, error) {
	s := strings.ToUpper(raw)
	switch {
	case s == "?":
		return domRule{kind: domAny}, nil
	case strings.Contains(s, ",") && strings.ContainsAny(s, "?LW"):
		return domRule{}, domField.errorf(raw, "?, L and W must stand alone, not in a list")
	case s == "L":
		return domRule{kind: domLast}, nil
	case s == "LW":
		return domRule{kind: domLastWeekday}, nil
	case strings.HasSuffix(s, "W"):
		d, ok := domField.number(s[:len(s)-1])
		if !ok {
			return domRule{}, domField.invalid(raw)
		}
		return domRule{kind: domNearestWeekday, day: d}, nil
	}
	days, err := parseSet(domField, raw)
	return domRule{kind: domSet, days: days}, err
}

// parseDOW parses the day-of-week field: ?, L, nL, n#k or a set.
func parseDOW(raw string) (dowRule, error) {
	s := strings.ToUpper(raw)
	switch {
	case s == "?":
		return dowRule{kind: dowAny}, nil
	case strings.Contains(s, ",") && strings.ContainsAny(s, "?L#"):
		return dowRule{}, dowField.errorf(raw, "?, L and # must stand alone, not in a list")
	case s == "L":
		r := dowRule{kind: dowSet, days: valueSet{base: dowField.min}}
		r.days.add(7)
		return r, nil
	case strings.Contains(s, "#"):
		day, nth, _ := strings.Cut(s, "#")
		wd, ok := dowField.value(day)
		if !ok {
			return dowRule{}, dowField.invalid(raw)
		}
		k, err := strconv.Atoi(nth)
		if err != nil || !isDigits(nth) || k < 1 || k > 5 {
			return dowRule{}, dowField.errorf(raw, "the number after # must be 1-5 (3#2 = the second Tuesday)")
		}
		return dowRule{kind: dowNth, weekday: wd, nth: k}, nil
	case strings.HasSuffix(s, "L"):
		wd, ok := dowField.value(s[:len(s)-1])
		if !ok {
			return dowRule{}, dowField.invalid(raw)
		}
		return dowRule{kind: dowLast, weekday: wd}, nil
	}
	days, err := parseSet(dowField, raw)
	return dowRule{kind: dowSet, days: days}, err
}

// parseSet parses a list of values, ranges and steps: 5, 1-5, *, */15, 0/15, 10-50/10.
// A range whose end is below its start wraps around (22-2 is 22,23,0,1,2), except in
// the year field.
func parseSet(f field, raw string) (valueSet, error) {
	set := valueSet{base: f.min}
	for _, item := range strings.Split(strings.ToUpper(raw), ",") {
		body, stepText, hasStep := strings.Cut(item, "/")
		span := f.max - f.min + 1
		step := 1
		if hasStep {
			if !f.step {
				return set, f.invalid(raw)
			}
			n, ok := parseSmall(stepText)
			if !ok || n < 1 || n > span {
				return set, f.errorf(raw, "step after / must be 1-%d", span)
			}
			step = n
		}
		lo, hi := f.min, f.max
		if body != "*" {
			a, b, isRange := strings.Cut(body, "-")
			var ok bool
			if lo, ok = f.value(a); !ok {
				return set, f.invalid(raw)
			}
			switch {
			case isRange:
				if hi, ok = f.value(b); !ok {
					return set, f.invalid(raw)
				}
			case !hasStep:
				hi = lo
			}
		}
		if hi < lo {
			if f.name == yearField.name {
				return set, f.errorf(raw, "range must run from the earlier year to the later")
			}
			hi += span
		}
		for v := lo; v <= hi; v += step {
			if v > f.max {
				set.add(v - span)
			} else {
				set.add(v)
			}
		}
	}
	return set, nil
}

// value parses one value of field f: a number in range or, where the field has them, a name.
func (f field) value(s string) (int, bool) {
	for i, name := range f.names {
		if s == name {
			return f.min + i, true
		}
	}
	return f.number(s)
}

// number parses a plain number in the field's range.
func (f field) number(s string) (int, bool) {
	n, ok := parseSmall(s)
	return n, ok && n >= f.min && n <= f.max
}

// parseSmall parses 1 to 4 decimal digits.
func parseSmall(s string) (int, bool) {
	if len(s) == 0 || len(s) > 4 || !isDigits(s) {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	return n, err == nil
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return len(s) > 0
}
