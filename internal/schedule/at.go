package schedule

import (
	"fmt"
	"strings"
)

// parseAt parses "yyyy-mm-ddThh:mm:ss" inside at(...), strictly: two-digit fields,
// no fraction, no zone, a real calendar date.
func parseAt(inner string) (wall, error) {
	s := strings.TrimSpace(inner)
	const layout = "dddd-dd-ddTdd:dd:dd"
	if len(s) != len(layout) {
		return wall{}, atShapeError(s)
	}
	for i := 0; i < len(layout); i++ {
		if layout[i] == 'd' && (s[i] < '0' || s[i] > '9') || layout[i] != 'd' && s[i] != layout[i] {
			return wall{}, atShapeError(s)
		}
	}
	num := func(from, to int) int {
		n := 0
		for _, c := range s[from:to] {
			n = n*10 + int(c-'0')
		}
		return n
	}
	w := wall{num(0, 4), num(5, 7), num(8, 10), num(11, 13), num(14, 16), num(17, 19)}
	if w.month < 1 || w.month > 12 || w.day < 1 || w.day > daysIn(w.year, w.month) ||
		w.hour > 23 || w.minute > 59 || w.second > 59 {
		return wall{}, fmt.Errorf("at: %q: not a real date and time", s)
	}
	return w, nil
}

func atShapeError(s string) error {
	return fmt.Errorf(`at: %q: want yyyy-mm-ddThh:mm:ss, e.g. "at(2026-03-29T02:30:00)"`, s)
}
