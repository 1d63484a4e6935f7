package job_test

import (
	"testing"

	"github.com/longshore/longshore/internal/schedule"
)

// scheduleError is the schedule package's own message for expr, which
// validation passes on unchanged.
func scheduleError(t *testing.T, expr string) string {
	t.Helper()
	_, err := schedule.Parse(expr)
	if err == nil {
		t.Fatalf("schedule.Parse(%q) accepted it", expr)
	}
	return err.Error()
}

func zoneError(t *testing.T, zone string) string {
	t.Helper()
	_, err := schedule.LoadLocation(zone)
	if err == nil {
		t.Fatalf("schedule.LoadLocation(%q) accepted it", zone)
	}
	return err.Error()
}
