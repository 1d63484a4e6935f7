package api_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/longshore/longshore/internal/api"
)

// refusal is the start of the answer to an override that looks like a secret.
const refusal = "API_TOKEN looks like a secret: do not pass secrets as --env or in a run request's env; declare it in the job's secrets: (ssm:/... or secretsmanager:...)"

func TestAnOverrideThatLooksLikeASecretIsRefusedOnEveryPathAndStoresNothing(t *testing.T) {
	const body = `{"job":"hello","env":{"MODE":"fast","API_TOKEN":"s3cr3t-value"}}`
	tests := []struct {
		name string
		// send makes the request and returns what the caller is told and
		// whether it was told as a request error (400, or a function
		// error of type RequestError).
		send func(t *testing.T, w *world) (string, bool)
	}{
		{"the runs API answers 400", func(t *testing.T, w *world) (string, bool) {
			status, out := w.do(t, "POST", "/v1/runs", body)
			var e api.Error
			json.Unmarshal([]byte(out), &e)
			return e.Message, status == http.StatusBadRequest
		}},
		{"the API client reports the engine's 400", func(t *testing.T, w *world) (string, bool) {
			c, _ := api.NewClient(w.srv.URL)
			_, err := c.Start(context.Background(), api.RunRequest{Job: "hello", Env: map[string]string{"API_TOKEN": "s3cr3t-value"}})
			var se *api.StatusError
			if err == nil {
				return "", false
			}
			isStatus := errors.As(err, &se)
			return err.Error(), isStatus && se.Status == http.StatusBadRequest
		}},
		{"a Lambda-style invoke answers a RequestError function error", func(t *testing.T, w *world) (string, bool) {
			out, err := lambdaClient(w).Invoke(context.Background(), &lambda.InvokeInput{FunctionName: aws.String("launcher"), Payload: []byte(body)})
			if err != nil || out.FunctionError == nil {
				t.Fatalf("Invoke = %+v, %v; want a function error", out, err)
			}
			var e struct{ ErrorType, ErrorMessage string }
			json.Unmarshal(out.Payload, &e)
			return e.ErrorMessage, e.ErrorType == "RequestError"
		}},
		{"an asynchronous Lambda-style invoke is refused too", func(t *testing.T, w *world) (string, bool) {
			out, err := lambdaClient(w).Invoke(context.Background(), &lambda.InvokeInput{FunctionName: aws.String("launcher"),
				InvocationType: types.InvocationTypeEvent, Payload: []byte(body)})
			if err != nil || out.FunctionError == nil {
				t.Fatalf("Invoke = %+v, %v; want a function error", out, err)
			}
			var e struct{ ErrorType, ErrorMessage string }
			json.Unmarshal(out.Payload, &e)
			return e.ErrorMessage, e.ErrorType == "RequestError"
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			msg, asRequestError := tt.send(t, w)
			if !asRequestError || !strings.Contains(msg, refusal) {
				t.Errorf("answer %q (request error %v); want a request error saying %q", msg, asRequestError, refusal)
			}
			if strings.Contains(msg, "s3cr3t-value") {
				t.Errorf("the answer echoes the secret: %q", msg)
			}
			if n := len(w.store.Runs()); n != 0 || w.runner.Count() != 0 {
				t.Errorf("%d runs stored, %d tasks started; want none", n, w.runner.Count())
			}
		})
	}
}

func TestAnOverrideThatHoldsNoSecretStillStartsARun(t *testing.T) {
	w := newWorld(t)
	status, out := w.do(t, "POST", "/v1/runs", `{"job":"hello","env":{"EXIT_CODE":"3","TOKENIZER":"bpe"}}`)
	var resp api.RunResponse
	if err := json.Unmarshal([]byte(out), &resp); status != http.StatusCreated || err != nil {
		t.Fatalf("POST = %d %s", status, out)
	}
	if resp.Env["EXIT_CODE"] != "3" || resp.Env["TOKENIZER"] != "bpe" || len(w.store.Runs()) != 1 {
		t.Errorf("run %+v, %d stored; want the overrides kept and one run", resp.Run, len(w.store.Runs()))
	}
}

func lambdaClient(w *world) *lambda.Client {
	return lambda.New(lambda.Options{Region: "us-east-1", BaseEndpoint: aws.String(w.srv.URL),
		Credentials: credentials.NewStaticCredentialsProvider("local", "local", "")})
}
