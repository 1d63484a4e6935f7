package api_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
)

func TestTheLauncherIsInvokedByNameFullARNOrPartialARN(t *testing.T) {
	tests := []struct {
		name     string
		function string
		// wantError is the error code Invoke fails with, "" when it runs.
		wantError string
	}{
		{name: "the function's name", function: "launcher"},
		{name: "the deployed function's name", function: "longshore-launcher"},
		{name: "a name with a version", function: "launcher:$LATEST"},
		{name: "a name with an alias", function: "launcher:live"},
		{name: "a full ARN", function: "arn:aws:lambda:us-east-1:123456789012:function:launcher"},
		{name: "a full ARN with a qualifier", function: "arn:aws:lambda:us-east-1:123456789012:function:launcher:$LATEST"},
		{name: "a full ARN in another partition", function: "arn:aws-us-gov:lambda:us-gov-west-1:123456789012:function:launcher"},
		{name: "a full ARN of the deployed function", function: "arn:aws:lambda:eu-west-1:123456789012:function:longshore-launcher:7"},
		{name: "a partial ARN", function: "123456789012:function:launcher"},
		{name: "a partial ARN with a qualifier", function: "123456789012:function:launcher:live"},
		{name: "another function's name", function: "other", wantError: "ResourceNotFoundException"},
		{name: "another function's ARN", function: "arn:aws:lambda:us-east-1:123456789012:function:other", wantError: "ResourceNotFoundException"},
		{name: "an ARN of another service", function: "arn:aws:sqs:us-east-1:123456789012:launcher", wantError: "InvalidParameterValueException"},
		{name: "an ARN whose account is no account", function: "arn:aws:lambda:us-east-1:1234:function:launcher", wantError: "InvalidParameterValueException"},
		{name: "a name with two qualifiers", function: "launcher:live:again", wantError: "InvalidParameterValueException"},
		{name: "an empty qualifier", function: "launcher:", wantError: "InvalidParameterValueException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			// The SDK escapes the name into the path, colons included.
			client := lambda.New(lambda.Options{Region: "us-east-1", BaseEndpoint: aws.String(w.srv.URL),
				Credentials: credentials.NewStaticCredentialsProvider("local", "local", "")})
			out, err := client.Invoke(context.Background(), &lambda.InvokeInput{FunctionName: aws.String(tt.function), Payload: []byte(`{"job":"hello"}`)})
			if tt.wantError != "" {
				var ae interface{ ErrorCode() string }
				if !errors.As(err, &ae) || ae.ErrorCode() != tt.wantError {
					t.Fatalf("Invoke(%s) = %v, want %s", tt.function, err, tt.wantError)
				}
				if n := len(w.store.Runs()); n != 0 {
					t.Errorf("%d runs for a refused invoke", n)
				}
				return
			}
			if err != nil || out.FunctionError != nil {
				t.Fatalf("Invoke(%s) = %+v, %v", tt.function, out, err)
			}
			if n := len(w.store.Runs()); n != 1 {
				t.Errorf("%d runs, want 1", n)
			}
			// And as a client that does not escape the colons sends it.
			code, body := w.do(t, http.MethodPost, "/2015-03-31/functions/"+strings.ReplaceAll(url.PathEscape(tt.function), "%3A", ":")+"/invocations", `{"job":"hello"}`)
			if code != http.StatusOK || strings.Contains(body, "errorType") {
				t.Errorf("unescaped path: %d %s", code, body)
			}
		})
	}
}
