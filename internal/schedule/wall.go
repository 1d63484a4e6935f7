package schedule

import "time"

// wall is a wall-clock reading, independent of any zone.
type wall struct {
	year, month, day, hour, minute, second int
}

// wallOf returns t's wall clock in t's own location.
func wallOf(t time.Time) wall {
	y, mo, d := t.Date()
	h, mi, s := t.Clock()
	return wall{y, int(mo), d, h, mi, s}
}

// asUTC returns w read as a UTC time, for civil arithmetic.
func (w wall) asUTC() time.Time {
	return time.Date(w.year, time.Month(w.month), w.day, w.hour, w.minute, w.second, 0, time.UTC)
}

// instant returns when wall clock w happens in loc. A wall time that happens twice
// (clocks going back) gives its first occurrence. A wall time that never happens
// (clocks going forward) gives exists == false and t is w moved forward by the gap,
// as java.time does.
//
// time.Date alone is not enough: for such times it picks an offset on its own terms
// (for an ambiguous time it picks the second occurrence in Europe but the first in
// the Americas), so both cases are detected here by reading the wall clock back.
func (w wall) instant(loc *time.Location) (t time.Time, exists bool) {
	t = time.Date(w.year, time.Month(w.month), w.day, w.hour, w.minute, w.second, 0, loc)
	got := wallOf(t)
	if got != w {
		if ahead := w.asUTC().Sub(got.asUTC()); ahead > 0 {
			// time.Date read w with the offset from after the gap; use the one from before.
			t = t.Add(ahead)
		}
		return t, false
	}
	return firstOccurrence(t), true
}

// firstOccurrence returns the earliest instant with the same wall clock as t: when
// the zone period holding t began with the clocks going back, the same reading may
// also have happened in the period before.
func firstOccurrence(t time.Time) time.Time {
	start, _ := t.ZoneBounds()
	if start.IsZero() {
		return t
	}
	_, off := t.Zone()
	_, prevOff := start.Add(-time.Nanosecond).Zone()
	if prevOff <= off {
		return t
	}
	if e := t.Add(-time.Duration(prevOff-off) * time.Second); e.Before(start) {
		return e
	}
	return t
}

// daysIn returns the number of days in month mo of year y.
func daysIn(y, mo int) int {
	switch mo {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// weekday returns the day of the week of y-mo-d, 1 = Sunday to 7 = Saturday as in cron.
func weekday(y, mo, d int) int {
	return int(time.Date(y, time.Month(mo), d, 0, 0, 0, 0, time.UTC).Weekday()) + 1
}
