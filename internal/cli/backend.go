package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/spf13/cobra"

	"github.com/longshore/longshore/internal/api"
	"github.com/longshore/longshore/internal/aws/handler"
	"github.com/longshore/longshore/internal/aws/remote"
)

// backend is where runs live: a local engine's API, or a deployment on
// AWS (--aws). The run commands speak only to this.
type backend interface {
	Start(ctx context.Context, req api.RunRequest) (api.RunResponse, error)
	Get(ctx context.Context, id string) (api.Run, error)
	List(ctx context.Context, o api.ListOptions) (api.RunList, error)
	Stop(ctx context.Context, id string) (api.Run, error)
	// Logs copies a run's output from cur on — what it wrote to stdout to
	// out, to stderr to errw (a deployment keeps both in one log stream,
	// written to out) — and returns where to go on from and whether the run
	// has finished and its output has been read to the end.
	Logs(ctx context.Context, id string, cur logCursor, out, errw io.Writer) (logCursor, bool, error)
}

// logCursor is how far a run's output has been read.
type logCursor struct {
	stdout, stderr int64  // local engine: byte offsets
	token          string // AWS: the log stream's token
}

// runs returns the backend the command is pointed at.
func (a *App) runs(cmd *cobra.Command) (backend, error) {
	if onAWS, _ := cmd.Flags().GetBool("aws"); onAWS {
		if a.AWS != nil {
			return awsBackend{a.AWS}, nil
		}
		cfg, err := config.LoadDefaultConfig(cmd.Context())
		if err != nil {
			return nil, &exitError{code: ExitFailure, err: fmt.Errorf("load AWS credentials and region: %w", err)}
		}
		if cfg.Region == "" {
			return nil, usageError("--aws needs a region: set AWS_REGION or a profile's region")
		}
		prefix, _ := cmd.Flags().GetString("prefix")
		if prefix == "" {
			prefix = a.Getenv("LONGSHORE_PREFIX")
		}
		return awsBackend{remote.New(lambda.NewFromConfig(cfg), prefix)}, nil
	}
	c, err := a.client(cmd)
	if err != nil {
		return nil, err
	}
	return localBackend{c}, nil
}

// localBackend is a local engine's runs API.
type localBackend struct{ *api.Client }

func (b localBackend) Logs(ctx context.Context, id string, cur logCursor, out, errw io.Writer) (logCursor, bool, error) {
	done := true
	for _, s := range []struct {
		stream string
		off    *int64
		w      io.Writer
	}{{"stdout", &cur.stdout, out}, {"stderr", &cur.stderr, errw}} {
		for {
			next, finished, err := b.Client.Logs(ctx, id, s.stream, *s.off, s.w)
			if err != nil {
				return cur, false, err
			}
			moved := next != *s.off
			*s.off = next
			if !finished {
				done = false
			}
			if !moved || finished {
				break
			}
		}
	}
	return cur, done, nil
}

// awsBackend is a deployment, through its launcher and api functions.
type awsBackend struct{ c *remote.Client }

func (b awsBackend) Start(ctx context.Context, req api.RunRequest) (api.RunResponse, error) {
	out, err := b.c.Start(ctx, req)
	return out, statusOf(err)
}

func (b awsBackend) Get(ctx context.Context, id string) (api.Run, error) {
	out, err := b.c.Get(ctx, id)
	return out, statusOf(err)
}

func (b awsBackend) List(ctx context.Context, o api.ListOptions) (api.RunList, error) {
	out, err := b.c.List(ctx, o)
	return out, statusOf(err)
}

func (b awsBackend) Stop(ctx context.Context, id string) (api.Run, error) {
	out, err := b.c.Stop(ctx, id)
	return out, statusOf(err)
}

func (b awsBackend) Pause(ctx context.Context, jobName, reason string) (api.PauseResponse, error) {
	out, err := b.c.Pause(ctx, jobName, reason)
	return out, statusOf(err)
}

func (b awsBackend) Resume(ctx context.Context, jobName string) (api.PauseResponse, error) {
	out, err := b.c.Resume(ctx, jobName)
	return out, statusOf(err)
}

func (b awsBackend) Logs(ctx context.Context, id string, cur logCursor, out, _ io.Writer) (logCursor, bool, error) {
	for {
		page, err := b.c.Logs(ctx, id, cur.token)
		if err != nil {
			return cur, false, statusOf(err)
		}
		for _, e := range page.Events {
			fmt.Fprintln(out, e.Message)
		}
		moved := page.Next != "" && page.Next != cur.token
		if page.Next != "" {
			cur.token = page.Next
		}
		if page.Done || !moved || len(page.Events) == 0 {
			return cur, page.Done, nil
		}
	}
}

// statusOf speaks of a deployment's errors as the local API does, so both
// backends' errors read and exit alike.
func statusOf(err error) error {
	var re *remote.Error
	if !errors.As(err, &re) {
		return err
	}
	status := http.StatusInternalServerError
	switch re.Type {
	case handler.ErrorRequest:
		status = http.StatusBadRequest
	case handler.ErrorNotFound:
		status = http.StatusNotFound
	}
	return &api.StatusError{Status: status, Message: re.Message}
}
