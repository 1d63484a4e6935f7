package handler_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/longshore/longshore/internal/api"
	"github.com/longshore/longshore/internal/aws/handler"
	"github.com/longshore/longshore/internal/dispatch"
	"github.com/longshore/longshore/internal/run"
)

func TestTheAPIGetsAndListsRuns(t *testing.T) {
	w := newWorld(t)
	var ids []string
	for range 5 {
		ids = append(ids, w.launch(t, `{"job": "hello"}`).ID)
		w.clock.Advance(time.Second)
	}
	out, err := w.api.Serve(ctx, handler.APIRequest{Op: handler.OpGet, ID: ids[0]})
	if err != nil {
		t.Fatal(err)
	}
	if got := out.(api.Run); got.ID != ids[0] || got.Job != "hello" || got.Status != run.StatusStarting {
		t.Errorf("get = %+v", got)
	}
	var listed []string
	req := handler.APIRequest{Op: handler.OpList, Job: "hello", Status: []run.Status{run.StatusStarting}, Limit: 2}
	for pages := 0; pages < 10; pages++ {
		out, err := w.api.Serve(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		page := out.(api.RunList)
		for _, r := range page.Runs {
			listed = append(listed, r.ID)
		}
		if page.Next == "" {
			break
		}
		req.Cursor = page.Next
	}
	if fmt.Sprint(listed) != fmt.Sprint([]string{ids[4], ids[3], ids[2], ids[1], ids[0]}) {
		t.Errorf("listed %v, want newest first %v", listed, ids)
	}
}

func TestTheAPIRefusesBadRequests(t *testing.T) {
	tests := []struct {
		name string
		req  handler.APIRequest
		typ  string
		want string
	}{
		{"an unknown op", handler.APIRequest{Op: "delete", ID: "r-0000000000000001"}, handler.ErrorRequest, `op "delete" is unknown`},
		{"an id that is no run id", handler.APIRequest{Op: handler.OpGet, ID: "../etc/passwd"}, handler.ErrorRequest, "not a run id"},
		{"a run that does not exist", handler.APIRequest{Op: handler.OpGet, ID: "r-ffffffffffffffff"}, handler.ErrorNotFound, "not found"},
		{"an unknown status", handler.APIRequest{Op: handler.OpList, Status: []run.Status{"done"}}, handler.ErrorRequest, `status "done" is unknown`},
		{"a limit out of range", handler.APIRequest{Op: handler.OpList, Limit: 5000}, handler.ErrorRequest, "limit"},
		{"stopping a run that does not exist", handler.APIRequest{Op: handler.OpStop, ID: "r-ffffffffffffffff"}, handler.ErrorNotFound, "not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			_, err := w.api.Serve(ctx, tt.req)
			if errorType(err) != tt.typ || !strings.Contains(errorMessage(err), tt.want) {
				t.Errorf("Handle = %v; want %s saying %s", err, tt.typ, tt.want)
			}
		})
	}
}

func TestTheAPIStopsRuns(t *testing.T) {
	t.Run("a started run's task is asked to stop", func(t *testing.T) {
		w := newWorld(t)
		r := w.launch(t, `{"job": "hello"}`)
		out, err := w.api.Serve(ctx, handler.APIRequest{Op: handler.OpStop, ID: r.ID})
		if err != nil {
			t.Fatal(err)
		}
		task, _ := w.runner.Task(r.ID)
		if out.(api.Run).ID != r.ID || task.Stopped == "" || w.get(r.ID).StopReq != run.StopCancel {
			t.Errorf("answer %+v, stop reason %q", out, task.Stopped)
		}
	})
	t.Run("a queued run is cancelled at once", func(t *testing.T) {
		w := newWorld(t)
		w.runner.StartErr = &dispatch.StartError{Transient: true, Reason: "RESOURCE:ENI"}
		r := w.launch(t, `{"job": "hello"}`)
		out, err := w.api.Serve(ctx, handler.APIRequest{Op: handler.OpStop, ID: r.ID})
		if err != nil {
			t.Fatal(err)
		}
		if got := out.(api.Run); got.Status != run.StatusCancelled {
			t.Errorf("answer %s, want cancelled", got.Status)
		}
	})
	t.Run("a cancel whose report fails is answered; the reconciler reports it", func(t *testing.T) {
		w := newWorld(t)
		w.runner.StartErr = &dispatch.StartError{Transient: true, Reason: "RESOURCE:ENI"}
		r := w.launch(t, `{"job": "hello"}`)
		w.notes.Err = fmt.Errorf("not allowed to put events")
		out, err := w.api.Serve(ctx, handler.APIRequest{Op: handler.OpStop, ID: r.ID})
		if err != nil {
			t.Fatalf("Handle = %v", err)
		}
		if got := out.(api.Run); got.Status != run.StatusCancelled || w.get(r.ID).Notified {
			t.Errorf("answer %s, notified %v", got.Status, w.get(r.ID).Notified)
		}
	})
}

func TestTheAPIReadsARunsLogs(t *testing.T) {
	w := newWorld(t)
	r := w.taskRun(taskExit3)
	out, err := w.api.Serve(ctx, handler.APIRequest{Op: handler.OpLogs, ID: r.ID})
	if err != nil {
		t.Fatal(err)
	}
	page := out.(handler.LogsPage)
	if page.LogGroup != "/longshore/jobs/hello" || page.LogStream != "run/app/"+taskExit3 || len(page.Events) != 2 || page.Next != "f/2" || page.Done {
		t.Errorf("page %+v", page)
	}
	if _, err := w.tracker.Handle(ctx, fixture(t, "ecs-task-stopped-exit-3.json")); err != nil {
		t.Fatal(err)
	}
	out, err = w.api.Serve(ctx, handler.APIRequest{Op: handler.OpLogs, ID: r.ID, Token: page.Next})
	if err != nil {
		t.Fatal(err)
	}
	if last := out.(handler.LogsPage); len(last.Events) != 0 || !last.Done || w.logs.token != "f/2" {
		t.Errorf("last page %+v (asked from %q)", last, w.logs.token)
	}
}

func TestTheLogsOfARunWithoutTaskAreOnlyItsPlace(t *testing.T) {
	w := newWorld(t)
	w.runner.StartErr = &dispatch.StartError{Transient: true, Reason: "RESOURCE:ENI"}
	r := w.launch(t, `{"job": "hello"}`)
	out, err := w.api.Serve(ctx, handler.APIRequest{Op: handler.OpLogs, ID: r.ID})
	if err != nil {
		t.Fatal(err)
	}
	if page := out.(handler.LogsPage); page.LogStream != "" || page.LogGroup != "/longshore/jobs/hello" || page.Done {
		t.Errorf("page %+v", page)
	}
}

func TestTheAPIRefusesAPayloadItCannotRead(t *testing.T) {
	w := newWorld(t)
	for _, payload := range []string{`{"op": "get", "runId": "r-0000000000000001"}`, `"get"`, `{"op": "get"} {"op": "list"}`} {
		_, err := w.api.Handle(ctx, []byte(payload))
		if errorType(err) != handler.ErrorRequest || !strings.Contains(errorMessage(err), "not an API request") {
			t.Errorf("%s: %v, want a request error", payload, err)
		}
	}
}
