package schedule

import "time"

// next returns the first fire time strictly after `after` in loc.
//
// It walks wall-clock candidates in order (nextWall jumps field by field) and turns
// each into an instant. With "first occurrence" for repeated wall times, instants grow
// with wall times, so the first candidate whose instant is after `after` is the answer.
// Candidates are rejected only inside a daylight-saving gap or a repeated hour, so the
// loop runs at most a few dozen times beyond the first candidate.
func (c *cronSpec) next(after time.Time, loc *time.Location) (time.Time, bool) {
	w := wallOf(after.In(loc))
	w.second = 0
	w.minute++ // nextWall carries an overflowing minute into the hour
	for {
		cand, ok := c.nextWall(w)
		if !ok {
			return time.Time{}, false
		}
		if t, exists := cand.instant(loc); exists && t.After(after) {
			return t, true
		}
		w = cand
		w.minute++
	}
}

// nextWall returns the first wall time >= w (seconds ignored) that every field allows,
// and false when there is none up to the end of 2199. Out-of-range components of w
// (minute 60, hour 24, day 32, month 13) carry into the next unit.
func (c *cronSpec) nextWall(w wall) (wall, bool) {
	y, mo, d, h, mi := w.year, w.month, w.day, w.hour, w.minute
	for {
		if y > maxYear {
			return wall{}, false
		}
		ny, ok := c.years.next(y)
		if !ok {
			return wall{}, false
		}
		if ny != y {
			y, mo, d, h, mi = ny, 1, 1, 0, 0
		}
		nmo, ok := c.months.next(mo)
		if !ok {
			y, mo, d, h, mi = y+1, 1, 1, 0, 0
			continue
		}
		if nmo != mo {
			mo, d, h, mi = nmo, 1, 0, 0
		}
		nd, ok := c.nextDay(y, mo, d)
		if !ok {
			mo, d, h, mi = mo+1, 1, 0, 0
			continue
		}
		if nd != d {
			d, h, mi = nd, 0, 0
		}
		nh, ok := c.hours.next(h)
		if !ok {
			d, h, mi = d+1, 0, 0
			continue
		}
		if nh != h {
			h, mi = nh, 0
		}
		nmi, ok := c.minutes.next(mi)
		if !ok {
			h, mi = h+1, 0
			continue
		}
		return wall{year: y, month: mo, day: nd, hour: nh, minute: nmi}, true
	}
}

// nextDay returns the first day >= d of month mo in year y that the day-of-month or
// day-of-week field allows.
func (c *cronSpec) nextDay(y, mo, d int) (int, bool) {
	n := daysIn(y, mo)
	if d < 1 {
		d = 1
	}
	if d > n {
		return 0, false
	}
	switch c.dom.kind {
	case domSet:
		v, ok := c.dom.days.next(d)
		return v, ok && v <= n
	case domLast:
		return n, true
	case domLastWeekday:
		return atOrAfter(nearestWeekday(y, mo, n, n), d)
	case domNearestWeekday:
		if c.dom.day > n {
			return 0, false // like day 31 itself, 31W does not fire in shorter months
		}
		return atOrAfter(nearestWeekday(y, mo, c.dom.day, n), d)
	}
	switch c.dow.kind {
	case dowSet:
		wd := weekday(y, mo, d)
		for ; d <= n; d++ {
			if c.dow.days.has(wd) {
				return d, true
			}
			wd = wd%7 + 1
		}
		return 0, false
	case dowLast:
		last := n - (weekday(y, mo, n)-c.dow.weekday+7)%7
		return atOrAfter(last, d)
	case dowNth:
		first := 1 + (c.dow.weekday-weekday(y, mo, 1)+7)%7
		nth := first + 7*(c.dow.nth-1)
		if nth > n {
			return 0, false
		}
		return atOrAfter(nth, d)
	}
	return 0, false
}

// atOrAfter returns day if it is not before d.
func atOrAfter(day, d int) (int, bool) {
	return day, day >= d
}

// nearestWeekday returns the weekday (Monday to Friday) nearest to day, staying in
// the month of n days: a Saturday moves back to Friday unless it is the 1st (then
// Monday the 3rd), a Sunday moves on to Monday unless it is the last day (then
// Friday, two days back).
func nearestWeekday(y, mo, day, n int) int {
	switch weekday(y, mo, day) {
	case 7: // Saturday
		if day == 1 {
			return 3
		}
		return day - 1
	case 1: // Sunday
		if day == n {
			return day - 2
		}
		return day + 1
	}
	return day
}
