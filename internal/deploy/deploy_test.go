package deploy_test

import (
	"testing"

	"github.com/longshore/longshore/internal/deploy"
)

func TestQueueNamesRoundTripThroughARNsAndURLs(t *testing.T) {
	tests := []struct {
		name, physical, want string
		ok                   bool
	}{
		{"an ARN of a trigger queue", "arn:aws:sqs:us-east-1:111122223333:longshore-orders", "orders", true},
		{"a URL of a trigger queue", "https://sqs.us-east-1.amazonaws.com/111122223333/longshore-orders", "orders", true},
		{"a dead-letter queue is not a trigger queue", "arn:aws:sqs:us-east-1:111122223333:longshore-orders-dlq", "", false},
		{"another deployment's queue is not ours", "arn:aws:sqs:us-east-1:111122223333:other-orders", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := deploy.QueueFromName("longshore", tt.physical)
			if got != tt.want || ok != tt.ok {
				t.Errorf("QueueFromName(%q) = %q, %v", tt.physical, got, ok)
			}
		})
	}
	if q, _ := deploy.QueueFromName("longshore", deploy.QueueName("longshore", "orders")); q != "orders" {
		t.Errorf("QueueName does not round-trip: %q", q)
	}
}
