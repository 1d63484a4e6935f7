// Package remote is the CLI's client of a deployment on AWS: it starts runs
// by invoking the launcher function and reads, lists and stops them through
// the api function, with lambda Invoke under the caller's own credentials,
// so who may start or see runs is decided by IAM.
package remote

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing/fstest"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/longshore/longshore/internal/api"
	"github.com/longshore/longshore/internal/aws/handler"
	"github.com/longshore/longshore/internal/deploy"
	"github.com/longshore/longshore/internal/job"
	"github.com/longshore/longshore/internal/run"
)

// Invoker is the part of the Lambda client the Client uses.
type Invoker interface {
	Invoke(ctx context.Context, in *lambda.InvokeInput, opts ...func(*lambda.Options)) (*lambda.InvokeOutput, error)
}

// Client talks to one deployment, named by its prefix.
type Client struct {
	lambda Invoker
	prefix string
}

// New returns a client of the deployment with that prefix ("" for
// deploy.DefaultPrefix).
func New(l Invoker, prefix string) *Client {
	if prefix == "" {
		prefix = deploy.DefaultPrefix
	}
	return &Client{lambda: l, prefix: prefix}
}

// Prefix names the deployment the client talks to.
func (c *Client) Prefix() string { return c.prefix }

// Error is an error the deployment answered.
type Error struct {
	// Type is the function's errorType: handler.ErrorRequest, ErrorNotFound, ...
	Type    string
	Message string
}

func (e *Error) Error() string { return e.Message }

// invoke calls a function with a JSON payload and decodes its answer.
func (c *Client) invoke(ctx context.Context, function string, in, out any) error {
	payload, err := json.Marshal(in)
	if err != nil {
		return fmt.Errorf("encode the request to %s: %w", function, err)
	}
	name := deploy.FunctionName(c.prefix, function)
	res, err := c.lambda.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String(name), Payload: payload})
	if err != nil {
		var nf *types.ResourceNotFoundException
		if errors.As(err, &nf) {
			return fmt.Errorf("no function %s in this account and region: deploy Longshore (make deploy), or name its prefix with --prefix", name)
		}
		return fmt.Errorf("invoke %s: %w", name, err)
	}
	if res.FunctionError != nil {
		var fe struct {
			Type    string `json:"errorType"`
			Message string `json:"errorMessage"`
		}
		if json.Unmarshal(res.Payload, &fe) != nil || fe.Message == "" {
			fe.Message = strings.TrimSpace(string(res.Payload))
		}
		return &Error{Type: fe.Type, Message: fe.Message}
	}
	if err := json.Unmarshal(res.Payload, out); err != nil {
		return fmt.Errorf("read the answer of %s: %w", name, err)
	}
	return nil
}

// Start starts a run through the launcher's direct invoke.
func (c *Client) Start(ctx context.Context, req api.RunRequest) (api.RunResponse, error) {
	var out api.RunResponse
	err := c.invoke(ctx, "launcher", req, &out)
	return out, err
}

// Get reads a run.
func (c *Client) Get(ctx context.Context, id string) (api.Run, error) {
	var out api.Run
	err := c.invoke(ctx, "api", handler.APIRequest{Op: handler.OpGet, ID: id}, &out)
	return out, err
}

// List reads a page of runs, newest first.
func (c *Client) List(ctx context.Context, o api.ListOptions) (api.RunList, error) {
	req := handler.APIRequest{Op: handler.OpList, Job: o.Job, Limit: o.Limit, Cursor: o.Cursor}
	for _, s := range o.Status {
		req.Status = append(req.Status, run.Status(s))
	}
	var out api.RunList
	err := c.invoke(ctx, "api", req, &out)
	return out, err
}

// Stop stops a run.
func (c *Client) Stop(ctx context.Context, id string) (api.Run, error) {
	var out api.Run
	err := c.invoke(ctx, "api", handler.APIRequest{Op: handler.OpStop, ID: id}, &out)
	return out, err
}

// Logs reads the run's container output from CloudWatch Logs from token on.
func (c *Client) Logs(ctx context.Context, id, token string) (handler.LogsPage, error) {
	var out handler.LogsPage
	err := c.invoke(ctx, "api", handler.APIRequest{Op: handler.OpLogs, ID: id, Token: token}, &out)
	return out, err
}

// Catalog reads the job catalog the deployment runs, as shipped to its
// functions, and loads it as they do.
func (c *Client) Catalog(ctx context.Context) (*job.Catalog, error) {
	var out handler.CatalogPage
	if err := c.invoke(ctx, "api", handler.APIRequest{Op: handler.OpCatalog}, &out); err != nil {
		return nil, err
	}
	fsys := fstest.MapFS{}
	for name, body := range out.Files {
		fsys[name] = &fstest.MapFile{Data: []byte(body), Mode: 0o644}
	}
	cat, err := job.Load(fsys, "deployed catalog", job.Options{SkipFiles: true})
	if err != nil {
		return nil, fmt.Errorf("load the deployed job catalog: %w", err)
	}
	return cat, nil
}

// Pause pauses a job: its triggers are recorded as runs that did not start
// and its schedules are disabled within a minute.
func (c *Client) Pause(ctx context.Context, jobName, reason string) (api.PauseResponse, error) {
	var out api.PauseResponse
	err := c.invoke(ctx, "api", handler.APIRequest{Op: handler.OpPause, Job: jobName, Reason: reason}, &out)
	return out, err
}

// Resume resumes a paused job.
func (c *Client) Resume(ctx context.Context, jobName string) (api.PauseResponse, error) {
	var out api.PauseResponse
	err := c.invoke(ctx, "api", handler.APIRequest{Op: handler.OpResume, Job: jobName}, &out)
	return out, err
}

// Pauses reads every job's pause state.
func (c *Client) Pauses(ctx context.Context) ([]api.PauseResponse, error) {
	var out handler.PausesPage
	err := c.invoke(ctx, "api", handler.APIRequest{Op: handler.OpPauses}, &out)
	return out.Jobs, err
}
