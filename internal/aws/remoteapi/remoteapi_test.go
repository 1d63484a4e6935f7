package remoteapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/longshore/longshore/internal/api"
	"github.com/longshore/longshore/internal/aws/handler"
	"github.com/longshore/longshore/internal/aws/remote"
	"github.com/longshore/longshore/internal/aws/remoteapi"
)

func TestEveryEndpointTheDashboardUsesAnswersFromTheDeployment(t *testing.T) {
	tests := []struct {
		name, method, target, body string
		status                     int
		contains                   []string
		check                      func(t *testing.T, d *deployment, a answer)
	}{
		{"the jobs come with their newest runs", "GET", "/v1/jobs", "", 200,
			[]string{`"name":"hello"`, `"lastRun":{"id":"r-00000000000000b2","status":"running"`, `"name":"orders"`},
			func(t *testing.T, d *deployment, a answer) {
				var got struct{ Jobs []api.Job }
				if err := json.Unmarshal([]byte(a.body), &got); err != nil || len(got.Jobs) != 2 || got.Jobs[1].LastRun != nil {
					t.Errorf("jobs = %+v, %v: want orders without a last run", got.Jobs, err)
				}
				// One page of each job for its 30-day cost, which gives its
				// newest run too; one more run of the job that never ran.
				if len(d.listed) != 3 || d.listed[0].Limit != api.CostPage || d.listed[1].Limit != api.CostPage || d.listed[2].Limit != 1 {
					t.Errorf("listed %+v: want a page of each job, then one run of orders", d.listed)
				}
			}},
		{"the runs list passes its filters on", "GET", "/v1/runs?job=hello&status=failed,queued&status=running&limit=5&cursor=c1", "", 200,
			[]string{`"runs":[`, `"id":"r-00000000000000b1"`},
			func(t *testing.T, d *deployment, _ answer) {
				want := api.ListOptions{Job: "hello", Status: []string{"failed", "queued", "running"}, Limit: 5, Cursor: "c1"}
				if len(d.listed) != 1 || !reflect.DeepEqual(d.listed[0], want) {
					t.Errorf("listed %+v, want %+v", d.listed, want)
				}
			}},
		{"a list with more says where it goes on", "GET", "/v1/runs?limit=1", "", 200, []string{`"next":"more"`}, nil},
		{"an empty list is an empty array", "GET", "/v1/runs?job=nope", "", 200, []string{`"runs":[]`}, nil},
		{"a run is the deployment's", "GET", "/v1/runs/r-00000000000000b1", "", 200,
			[]string{`"status":"failed"`, `"exitCode":3`, `"reason":"exited with code 3"`}, nil},
		{"a run starts through the launcher", "POST", "/v1/runs", `{"job":"hello","env":{"EXIT_CODE":"3"}}`, 201,
			[]string{`"job":"hello"`, `"status":"queued"`, `"duplicate":false`},
			func(t *testing.T, d *deployment, _ answer) {
				if len(d.started) != 1 || d.started[0].Env["EXIT_CODE"] != "3" {
					t.Errorf("started %+v", d.started)
				}
			}},
		{"a run asked for again with its key is the same run", "POST", "/v1/runs", `{"job":"hello","key":"again"}`, 200,
			[]string{`"id":"r-00000000000000b2"`, `"duplicate":true`}, nil},
		{"a run stops", "POST", "/v1/runs/r-00000000000000b2/stop", "", 200, []string{`"status":"cancelled"`}, nil},
		{"liveness asks the deployment nothing", "GET", "/healthz", "", 200, []string{`"status":"ok"`},
			func(t *testing.T, d *deployment, _ answer) {
				if len(d.calls) != 0 {
					t.Errorf("calls %v", d.calls)
				}
			}},
		{"the root is the dashboard", "GET", "/", "", 200, []string{"dashboard /"}, nil},
		{"a page of the dashboard is the dashboard", "GET", "/runs/r-00000000000000b1", "", 200, []string{"dashboard /runs/r-00000000000000b1"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newDeployment()
			got := do(t, newHandler(d, remoteapi.Options{}), tt.method, tt.target, tt.body)
			if got.status != tt.status {
				t.Fatalf("%s %s = %s, want %d", tt.method, tt.target, got, tt.status)
			}
			for _, c := range tt.contains {
				if !strings.Contains(got.body, c) {
					t.Errorf("%s %s lacks %s: %s", tt.method, tt.target, c, got.body)
				}
			}
			if tt.check != nil {
				tt.check(t, d, got)
			}
		})
	}
}

// refusal is AWS refusing a call, as the SDK reports it through remote.
func refusal(status int, code string) error {
	return fmt.Errorf("invoke longshore-api: %w", &smithy.OperationError{ServiceID: "Lambda", OperationName: "Invoke",
		Err: &awshttp.ResponseError{ResponseError: &smithyhttp.ResponseError{
			Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}},
			Err:      &smithy.GenericAPIError{Code: code, Message: "no"}}}})
}

func TestTheDeploymentsErrorsAnswerAsTheLocalAPIsDo(t *testing.T) {
	tests := []struct {
		name           string
		op             string
		err            error
		method, target string
		body           string
		status         int
		message        string
	}{
		{"a request the deployment refuses is a 400 in its words", "start", &remote.Error{Type: handler.ErrorRequest, Message: `unknown job "nope"`},
			"POST", "/v1/runs", `{"job":"nope"}`, 400, `unknown job "nope"`},
		{"a run the deployment does not have is a 404", "get", nil,
			"GET", "/v1/runs/r-00000000000000ff", "", 404, "get run r-00000000000000ff: run not found"},
		{"stopping a run the deployment does not have is a 404", "stop", nil,
			"POST", "/v1/runs/r-00000000000000ff/stop", "", 404, "run not found"},
		{"the output of a run the deployment does not have is a 404", "logs", nil,
			"GET", "/v1/runs/r-00000000000000ff/logs?tail=100", "", 404, "run not found"},
		{"a function that failed is a 500", "list", &remote.Error{Type: handler.ErrorInternal, Message: "list runs: throttled by DynamoDB"},
			"GET", "/v1/runs", "", 500, "list runs: throttled by DynamoDB"},
		{"a start that failed is a 500", "start", &remote.Error{Type: handler.ErrorStart, Message: "launch hello: RunTask: no capacity"},
			"POST", "/v1/runs", `{"job":"hello"}`, 500, "launch hello: RunTask: no capacity"},
		{"a deployment that is not there is a 502 that says what was being done", "list", errors.New("no function longshore-api in this account and region: deploy Longshore (make deploy), or name its prefix with --prefix"),
			"GET", "/v1/runs", "", 502, "list runs: no function longshore-api in this account and region"},
		{"AWS refusing the caller is a 403", "get", refusal(403, "AccessDeniedException"),
			"GET", "/v1/runs/r-00000000000000b1", "", 403, "read run r-00000000000000b1: invoke longshore-api:"},
		{"AWS throttling the caller is a 503", "stop", refusal(429, "TooManyRequestsException"),
			"POST", "/v1/runs/r-00000000000000b1/stop", "", 503, "stop run r-00000000000000b1:"},
		{"a deployment that took too long is a 504", "logs", fmt.Errorf("invoke longshore-api: %w", context.DeadlineExceeded),
			"GET", "/v1/runs/r-00000000000000b1/logs?offset=0", "", 504, "read the output of run r-00000000000000b1:"},
		{"a job whose runs cannot be listed fails the jobs", "list", &remote.Error{Type: handler.ErrorInternal, Message: "boom"},
			"GET", "/v1/jobs", "", 500, "boom"},
		{"a run id that is none is a 400 without asking", "", nil, "GET", "/v1/runs/nope", "", 400, `"nope" is not a run id`},
		{"an unknown status is a 400 without asking", "", nil, "GET", "/v1/runs?status=done", "", 400, `status "done" is unknown`},
		{"a limit out of range is a 400 without asking", "", nil, "GET", "/v1/runs?limit=5000", "", 400, `limit "5000" is out of range: use 1 to 1000`},
		{"a body that is no run request is a 400", "", nil, "POST", "/v1/runs", `{"job":"hello","colour":"red"}`, 400, "request body is not a run request"},
		{"a run request without a job is a 400", "", nil, "POST", "/v1/runs", `{}`, 400, `request has no "job"`},
		{"an unknown endpoint is a 404", "", nil, "GET", "/v1/nope", "", 404, "no such endpoint: GET /v1/nope"},
		{"a method an endpoint does not take is a 405", "", nil, "DELETE", "/v1/runs/r-00000000000000b1", "", 405, "DELETE is not allowed on /v1/runs/r-00000000000000b1: use GET"},
		{"an unknown log stream is a 400", "", nil, "GET", "/v1/runs/r-00000000000000b1/logs?stream=both", "", 400, `stream "both" is unknown`},
		{"both offset and tail is a 400", "", nil, "GET", "/v1/runs/r-00000000000000b1/logs?offset=0&tail=10", "", 400, "give offset or tail, not both"},
		{"a tail out of range is a 400", "", nil, "GET", "/v1/runs/r-00000000000000b1/logs?tail=0", "", 400, `tail "0" is out of range`},
		{"an offset that is no number is a 400", "", nil, "GET", "/v1/runs/r-00000000000000b1/logs?offset=-1", "", 400, `offset "-1" is not a byte offset`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newDeployment()
			if tt.err != nil {
				d.fail[tt.op] = tt.err
			}
			got := do(t, newHandler(d, remoteapi.Options{}), tt.method, tt.target, tt.body)
			var e api.Error
			if err := json.Unmarshal([]byte(got.body), &e); err != nil || got.header.Get("Content-Type") != "application/json" {
				t.Fatalf("%s %s = %s: not a JSON error (%v)", tt.method, tt.target, got, err)
			}
			if got.status != tt.status || !strings.Contains(e.Message, tt.message) {
				t.Errorf("%s %s = %d %q, want %d with %q", tt.method, tt.target, got.status, e.Message, tt.status, tt.message)
			}
			if tt.op == "" && len(d.calls) != 0 {
				t.Errorf("asked the deployment: %v", d.calls)
			}
		})
	}
}

func TestOnlyThisMachinesPagesMayUseIt(t *testing.T) {
	tests := []struct {
		name           string
		method, target string
		header         []string
		status         int
	}{
		{"a page at 127.0.0.1 reads", "GET", "/v1/runs", nil, 200},
		{"a page at localhost reads", "GET", "/v1/runs", []string{"Host", "localhost:8760"}, 200},
		{"a page at ::1 reads", "GET", "/v1/runs", []string{"Host", "[::1]:8760"}, 200},
		{"a page at this origin starts runs", "POST", "/v1/runs", []string{"Sec-Fetch-Site", "same-origin", "Origin", "http://127.0.0.1:8760"}, 201},
		{"a name that points here is refused", "GET", "/v1/runs", []string{"Host", "rebound.example.com:8760"}, 403},
		{"a name that points here gets no dashboard either", "GET", "/", []string{"Host", "rebound.example.com"}, 403},
		{"another address of this machine is refused", "GET", "/v1/runs", []string{"Host", "192.168.1.20:8760"}, 403},
		{"a page of another origin cannot start runs", "POST", "/v1/runs", []string{"Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example"}, 403},
		{"a page of another origin cannot stop runs", "POST", "/v1/runs/r-00000000000000b2/stop", []string{"Sec-Fetch-Site", "cross-site"}, 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newDeployment()
			body := ""
			if tt.target == "/v1/runs" && tt.method == "POST" {
				body = `{"job":"hello"}`
			}
			got := do(t, newHandler(d, remoteapi.Options{}), tt.method, tt.target, body, tt.header...)
			if got.status != tt.status {
				t.Errorf("%s %s %v = %s, want %d", tt.method, tt.target, tt.header, got, tt.status)
			}
			if tt.status == 403 && (len(d.started) != 0 || d.count("stop") != 0 || d.count("list") != 0) {
				t.Errorf("a refused request reached the deployment: %v", d.calls)
			}
		})
	}
}
