package host

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/longshore/longshore/internal/aws/dynamo"
	"github.com/longshore/longshore/internal/dispatch"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestEndpointsFollowTheSDKsVariables(t *testing.T) {
	tests := []struct {
		name string
		vars map[string]string
		want string
	}{
		{"none set: AWS's own endpoint", map[string]string{}, ""},
		{"the general variable", map[string]string{"AWS_ENDPOINT_URL": "http://127.0.0.1:1"}, "http://127.0.0.1:1"},
		{"the service's own variable wins", map[string]string{"AWS_ENDPOINT_URL": "http://127.0.0.1:1", "AWS_ENDPOINT_URL_DYNAMODB": "http://127.0.0.1:2"}, "http://127.0.0.1:2"},
		{"ignored when asked", map[string]string{"AWS_ENDPOINT_URL": "http://127.0.0.1:1", EnvIgnoreEndpoints: "true"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Endpoint(ServiceDynamoDB, env(tt.vars)); got != tt.want {
				t.Errorf("Endpoint = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestTheSDKConfigNeedsLambdasCredentials(t *testing.T) {
	_, err := AWSConfig("us-east-1", env(map[string]string{EnvAccessKeyID: "AKID"}))
	if err == nil || !strings.Contains(err.Error(), EnvSecretAccessKey) {
		t.Errorf("AWSConfig = %v, want an error naming %s", err, EnvSecretAccessKey)
	}
	cfg, err := AWSConfig("us-east-1", env(map[string]string{EnvAccessKeyID: "AKID", EnvSecretAccessKey: "s", EnvSessionToken: "tok"}))
	if err != nil {
		t.Fatal(err)
	}
	creds, err := cfg.Credentials.Retrieve(context.Background())
	if err != nil || creds.AccessKeyID != "AKID" || creds.SessionToken != "tok" {
		t.Errorf("credentials %+v, %v", creds, err)
	}
}

type noBackoff struct{}

func (noBackoff) BackoffDelay(int, error) (time.Duration, error) { return 0, nil }

func TestTheRunsTableClientRidesOutThrottling(t *testing.T) {
	tests := []struct {
		name      string
		throttles int32
		wantErr   bool
	}{
		{"a burst of throttling is retried until the read succeeds", DynamoDBAttempts - 1, false},
		{"throttling that never ends is an error after the last attempt", 100, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var calls atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/x-amz-json-1.0")
				if calls.Add(1) <= tt.throttles {
					w.WriteHeader(400)
					w.Write([]byte(`{"__type":"com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException","message":"slow down"}`))
					return
				}
				w.Write([]byte(`{}`))
			}))
			defer srv.Close()
			cfg, _ := AWSConfig("us-east-1", env(map[string]string{EnvAccessKeyID: "AKID", EnvSecretAccessKey: "s"}))
			store := dynamo.New(newDynamoDB(cfg, aws.String(srv.URL), noBackoff{}), dynamo.Options{Table: "runs"})
			_, err := store.Get(context.Background(), "r-0000000000000001")
			var throttled *types.ProvisionedThroughputExceededException
			switch {
			case tt.wantErr && !errors.As(err, &throttled):
				t.Errorf("Get = %v, want the throttling error", err)
			case !tt.wantErr && !errors.Is(err, dispatch.ErrNotFound):
				t.Errorf("Get = %v, want ErrNotFound after the retries", err)
			}
			if want := min(tt.throttles+1, DynamoDBAttempts); calls.Load() != want {
				t.Errorf("%d calls, want %d", calls.Load(), want)
			}
		})
	}
}
