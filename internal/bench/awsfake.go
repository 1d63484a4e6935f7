package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
)

// fakeAWS answers the functions' calls to the AWS services other than
// DynamoDB, as the services would for a successful run: ECS RunTask starts
// a task (one per client token), EventBridge PutEvents takes the events.
// It records every call, by the function the bench was invoking; any other
// call is answered with an error and recorded, so that the bench sees it.
type fakeAWS struct {
	mu    sync.Mutex
	phase string
	calls []awsCall
	// tasks by startedBy (the run's): their ARN and the RunTask request.
	tasks  map[string]fakeTask
	tokens map[string]string
}

type fakeTask struct {
	arn, cluster, group string
}

// awsCall is one call the fake received.
type awsCall struct {
	phase, service, op string
	// events are the sizes of a PutEvents' entries, as EventBridge counts
	// them, and their details.
	events  []int
	details []string
}

func newFakeAWS() *fakeAWS {
	return &fakeAWS{tasks: map[string]fakeTask{}, tokens: map[string]string{}}
}

func (f *fakeAWS) setPhase(p string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.phase = p
}

func (f *fakeAWS) take() []awsCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.calls
	f.calls = nil
	return c
}

func (f *fakeAWS) task(startedBy string) (fakeTask, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	t, ok := f.tasks[startedBy]
	return t, ok
}

func (f *fakeAWS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	target := r.Header.Get("X-Amz-Target")
	service, op, _ := strings.Cut(target, ".")
	call := awsCall{service: service, op: op}
	var answer any
	status := http.StatusOK
	switch target {
	case "AmazonEC2ContainerServiceV20141113.RunTask":
		call.service = "ECS"
		var in struct {
			Cluster, TaskDefinition, StartedBy, ClientToken string
		}
		json.Unmarshal(body, &in)
		f.mu.Lock()
		arn, ok := f.tokens[in.ClientToken]
		if !ok {
			arn = fmt.Sprintf("arn:aws:ecs:%s:%s:task/longshore/%032x", benchRegion, benchAccount, time.Now().UnixNano())
			f.tokens[in.ClientToken] = arn
			f.tasks[in.StartedBy] = fakeTask{arn: arn, cluster: in.Cluster, group: "family:" + in.TaskDefinition}
		}
		f.mu.Unlock()
		answer = map[string]any{"tasks": []any{map[string]any{
			"taskArn": arn, "clusterArn": in.Cluster, "lastStatus": "PROVISIONING", "desiredStatus": "RUNNING",
			"startedBy": in.StartedBy, "launchType": "FARGATE", "group": "family:" + in.TaskDefinition,
			"taskDefinitionArn": fmt.Sprintf("arn:aws:ecs:%s:%s:task-definition/%s:1", benchRegion, benchAccount, in.TaskDefinition),
		}}, "failures": []any{}}
	case "AWSEvents.PutEvents":
		call.service = "EventBridge"
		var in struct {
			Entries []struct {
				Source, DetailType, Detail, EventBusName string
				Resources                                []string
				Time                                     *float64
			}
		}
		json.Unmarshal(body, &in)
		var entries []any
		for i, e := range in.Entries {
			// EventBridge's size of an entry: 14 bytes for the time, and
			// the UTF-8 bytes of source, detail type, detail and resources.
			size := 14 + len(e.Source) + len(e.DetailType) + len(e.Detail)
			for _, res := range e.Resources {
				size += len(res)
			}
			call.events = append(call.events, size)
			call.details = append(call.details, e.Detail)
			entries = append(entries, map[string]any{"EventId": fmt.Sprintf("bench-%d-%d", time.Now().UnixNano(), i)})
		}
		answer = map[string]any{"FailedEntryCount": 0, "Entries": entries}
	case "AmazonEC2ContainerServiceV20141113.DescribeTasks":
		call.service = "ECS"
		answer = map[string]any{"tasks": []any{}, "failures": []any{}}
	case "AmazonEC2ContainerServiceV20141113.ListTasks":
		call.service = "ECS"
		answer = map[string]any{"taskArns": []any{}}
	default:
		if target == "" && strings.HasPrefix(r.URL.Path, "/schedules/") {
			// Scheduler (the reconciler syncs the jobs' schedules): the
			// bench's deployment has none, which the reconciler skips.
			call.service, call.op = "Scheduler", r.Method+" "+r.URL.Path
			f.mu.Lock()
			call.phase = f.phase
			f.calls = append(f.calls, call)
			f.mu.Unlock()
			w.Header().Set("X-Amzn-ErrorType", "ResourceNotFoundException")
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusNotFound)
			w.Write([]byte(`{"Message": "no such schedule"}`))
			return
		}
		if target == "" {
			call.service, call.op = "S3?", r.Method+" "+r.URL.Path
		}
		status = http.StatusBadRequest
		answer = map[string]string{"__type": "UnknownOperationException", "message": "the bench's fake does not answer " + target}
	}
	f.mu.Lock()
	call.phase = f.phase
	f.calls = append(f.calls, call)
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(answer)
}
