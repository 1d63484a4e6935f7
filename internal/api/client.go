package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/longshore/longshore/internal/run"
)

// DefaultEndpoint is where `longshore local` serves the API unless told otherwise.
const DefaultEndpoint = "http://127.0.0.1:8750"

// Client calls the API of an engine.
type Client struct {
	Base string
	HTTP *http.Client
	// Token, when set, is sent with every request (an engine listening
	// beyond this machine requires one).
	Token string
}

// NewClient returns a client of the engine at base ("" for DefaultEndpoint).
func NewClient(base string) (*Client, error) {
	if base == "" {
		base = DefaultEndpoint
	}
	if !strings.Contains(base, "://") {
		base = "http://" + base
	}
	u, err := url.Parse(base)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("endpoint %q is not an http(s) URL such as %s", base, DefaultEndpoint)
	}
	return &Client{Base: strings.TrimRight(base, "/"), HTTP: &http.Client{Transport: newTransport()}}, nil
}

// maxIdlePerEngine is how many idle connections a Client keeps to its
// engine: net/http keeps 2, so a program calling from many goroutines at
// once would dial anew for most calls.
const maxIdlePerEngine = 64

func newTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = maxIdlePerEngine
	return t
}

// StatusError is an error answer of the API.
type StatusError struct {
	Status  int
	Message string
}

func (e *StatusError) Error() string { return e.Message }

// Unreachable: no engine answered at the endpoint.
type Unreachable struct {
	Endpoint string
	Err      error
}

func (e *Unreachable) Error() string {
	return fmt.Sprintf("no Longshore engine answers at %s: start one with `longshore local` (or `make run`), or point --endpoint / LONGSHORE_ENDPOINT at it", e.Endpoint)
}

func (e *Unreachable) Unwrap() error { return e.Err }

func (c *Client) do(ctx context.Context, method, path string, body any, out any) (http.Header, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.Base+path, rd)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		var op *net.OpError
		if errors.As(err, &op) && ctx.Err() == nil {
			return nil, &Unreachable{Endpoint: c.Base, Err: err}
		}
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		var e Error
		data, _ := io.ReadAll(io.LimitReader(resp.Body, MaxBodyBytes))
		if json.Unmarshal(data, &e) != nil || e.Message == "" {
			e.Message = fmt.Sprintf("%s %s: HTTP %d: %s", method, path, resp.StatusCode, strings.TrimSpace(string(data)))
		}
		return resp.Header, &StatusError{Status: resp.StatusCode, Message: e.Message}
	}
	if w, ok := out.(io.Writer); ok {
		_, err = io.Copy(w, resp.Body)
		return resp.Header, err
	}
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			return resp.Header, fmt.Errorf("read answer of %s %s: %w", method, path, err)
		}
	}
	return resp.Header, nil
}

// Start starts a run.
func (c *Client) Start(ctx context.Context, req RunRequest) (RunResponse, error) {
	var out RunResponse
	_, err := c.do(ctx, http.MethodPost, "/v1/runs", req, &out)
	return out, err
}

// Get reads one run.
func (c *Client) Get(ctx context.Context, id string) (Run, error) {
	var out Run
	_, err := c.do(ctx, http.MethodGet, "/v1/runs/"+url.PathEscape(id), nil, &out)
	return out, err
}

// GetChanged reads one run once it is no longer in status (or has a next
// attempt), or after wait (at most MaxChangeWait seconds): a follower asks
// again at once rather than every so often.
func (c *Client) GetChanged(ctx context.Context, id string, status run.Status, wait time.Duration) (Run, error) {
	q := url.Values{"waitSeconds": {strconv.Itoa(int(min(wait, MaxChangeWait*time.Second) / time.Second))}, "status": {string(status)}}
	var out Run
	_, err := c.do(ctx, http.MethodGet, "/v1/runs/"+url.PathEscape(id)+"?"+q.Encode(), nil, &out)
	return out, err
}

// ListOptions filter List.
type ListOptions struct {
	Job    string
	Status []string
	Limit  int
	Cursor string
}

// List reads a page of runs, newest first.
func (c *Client) List(ctx context.Context, o ListOptions) (RunList, error) {
	q := url.Values{}
	if o.Job != "" {
		q.Set("job", o.Job)
	}
	if len(o.Status) > 0 {
		q.Set("status", strings.Join(o.Status, ","))
	}
	if o.Limit > 0 {
		q.Set("limit", strconv.Itoa(o.Limit))
	}
	if o.Cursor != "" {
		q.Set("cursor", o.Cursor)
	}
	var out RunList
	_, err := c.do(ctx, http.MethodGet, "/v1/runs?"+q.Encode(), nil, &out)
	return out, err
}

// Stop stops a run.
func (c *Client) Stop(ctx context.Context, id string) (Run, error) {
	var out Run
	_, err := c.do(ctx, http.MethodPost, "/v1/runs/"+url.PathEscape(id)+"/stop", nil, &out)
	return out, err
}

// Jobs lists the catalog.
func (c *Client) Jobs(ctx context.Context) ([]Job, error) {
	var out struct {
		Jobs []Job `json:"jobs"`
	}
	_, err := c.do(ctx, http.MethodGet, "/v1/jobs", nil, &out)
	return out.Jobs, err
}

// Logs writes a run's output of one stream from offset to w and returns
// the next offset and whether the run has finished (no more will come).
func (c *Client) Logs(ctx context.Context, id, stream string, offset int64, w io.Writer) (int64, bool, error) {
	q := url.Values{"stream": {stream}, "offset": {strconv.FormatInt(offset, 10)}}
	h, err := c.do(ctx, http.MethodGet, "/v1/runs/"+url.PathEscape(id)+"/logs?"+q.Encode(), nil, w)
	if err != nil {
		return offset, false, err
	}
	next, err := strconv.ParseInt(h.Get(HeaderLogOffset), 10, 64)
	if err != nil {
		return offset, false, fmt.Errorf("read logs of %s: the answer has no %s", id, HeaderLogOffset)
	}
	return next, h.Get(HeaderRunDone) == "true", nil
}

// ErrNoDashboard: the engine answers, but serves no dashboard at its root.
var ErrNoDashboard = errors.New("the engine answers but serves no dashboard")

// DashboardURL returns the address of the dashboard the engine serves, after
// checking that an engine answers there and that it serves one.
func (c *Client) DashboardURL(ctx context.Context) (string, error) {
	if _, err := c.do(ctx, http.MethodGet, "/healthz", nil, nil); err != nil {
		return "", err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.Base+"/", nil)
	if err != nil {
		return "", err
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	req.Header.Set("Accept", "text/html")
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return "", &Unreachable{Endpoint: c.Base, Err: err}
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		return "", ErrNoDashboard
	}
	if c.Token != "" {
		// The engine turns this into a cookie and takes it out of the address.
		return c.Base + "/?token=" + url.QueryEscape(c.Token), nil
	}
	return c.Base + "/", nil
}
