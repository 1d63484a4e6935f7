package schedule

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// rateUnits maps each unit rate(...) accepts to its length in seconds.
var rateUnits = map[string]int64{
	"minute": 60, "minutes": 60,
	"hour": 3600, "hours": 3600,
	"day": 86400, "days": 86400,
}

// parseRate parses "value unit" inside rate(...) and returns the interval in seconds.
func parseRate(inner string) (int64, error) {
	text := strings.TrimSpace(inner)
	parts := strings.Fields(text)
	if len(parts) != 2 {
		return 0, fmt.Errorf(`rate: %q: want "rate(value unit)", e.g. "rate(5 minutes)"`, text)
	}
	value, unit := parts[0], parts[1]
	secs, ok := rateUnits[unit]
	if !ok {
		return 0, fmt.Errorf("rate: %q: unit must be minute, minutes, hour, hours, day or days", text)
	}
	singular := !strings.HasSuffix(unit, "s")
	stem := strings.TrimSuffix(unit, "s")
	if !isDigits(value) {
		return 0, fmt.Errorf("rate: %q: value must be a positive whole number", text)
	}
	limit := int64(math.MaxInt64/int64(time.Second)) / secs // the interval must fit a time.Duration
	n, err := strconv.ParseInt(value, 10, 64)
	if err != nil || n > limit {
		return 0, fmt.Errorf("rate: %q: interval too long, at most %d %ss", text, limit, stem)
	}
	switch {
	case n == 0:
		return 0, fmt.Errorf("rate: %q: value must be a positive whole number", text)
	case n == 1 && !singular:
		return 0, fmt.Errorf(`rate: %q: write "rate(1 %s)" (singular when the value is 1)`, text, stem)
	case n != 1 && singular:
		return 0, fmt.Errorf(`rate: %q: write "rate(%d %ss)" (plural when the value is not 1)`, text, n, stem)
	}
	return n * secs, nil
}

// nextRate returns the first multiple of every seconds since the Unix epoch that is
// strictly after `after`, in loc.
func nextRate(every int64, after time.Time, loc *time.Location) (time.Time, bool) {
	sec := after.Unix() // floors: sub-second parts of after never reach a whole multiple
	rem := sec % every
	if rem < 0 {
		rem += every
	}
	base := sec - rem
	if base > math.MaxInt64-every {
		return time.Time{}, false
	}
	return time.Unix(base+every, 0).In(loc), true
}
