package cli

import (
	"testing"
	"time"

	"github.com/longshore/longshore/internal/api"
)

func TestRunsGetShowsEachNotificationTargetsLatestStateOnOneLine(t *testing.T) {
	at := time.Date(2026, 12, 4, 3, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		ns   []api.Notification
		want string
	}{
		{"no notifications show nothing", nil, ""},
		{"a webhook delivered after a retry says how many attempts",
			[]api.Notification{{Target: "webhook https://x", At: at, Status: "retrying", Error: "HTTP 500"}, {Target: "webhook https://x", At: at, Status: "delivered"}},
			"webhook https://x: delivered after 2 attempts"},
		{"an sns target not delivered locally says why, beside the webhook",
			[]api.Notification{{Target: "webhook https://x", At: at, Status: "delivered"}, {Target: "sns arn:aws:sns:us-east-1:123456789012:a", At: at, Status: "not delivered locally", Error: "SNS is AWS only"}},
			"webhook https://x: delivered; sns arn:aws:sns:us-east-1:123456789012:a: not delivered locally (SNS is AWS only)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := notificationsWord(tt.ns); got != tt.want {
				t.Errorf("notificationsWord = %q, want %q", got, tt.want)
			}
		})
	}
}
