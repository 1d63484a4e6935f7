// Package awsfake is one httptest server that speaks, for tests, the wire
// protocols of the AWS services Longshore calls besides DynamoDB (which
// tests run on dynalite): ECS, EventBridge, SQS and Step Functions over
// awsJson (X-Amz-Target), CloudWatch Logs' GetLogEvents, S3's PutObject,
// and EventBridge Scheduler's GetSchedule and UpdateSchedule (REST). It checks each request's target, content type and signature,
// records it, and answers from a script per operation or, by default, as
// the service would: RunTask starts one task per client token, ListTasks
// lists them by startedBy, DescribeTasks describes the tasks a test set, PutEvents and SendMessage accept.
//
// Point SDK clients at URL (BaseEndpoint, or AWS_ENDPOINT_URL for a
// binary under test) with the credentials AccessKeyID.
package awsfake

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
)

// AccessKeyID is the access key the fake expects requests signed with.
const AccessKeyID = "AKIDTEST"

// SecretAccessKey goes with AccessKeyID.
const SecretAccessKey = "secret"

// Target prefixes and content types of the awsJson services.
var services = map[string]struct{ name, contentType string }{
	"AmazonEC2ContainerServiceV20141113.": {"ECS", "application/x-amz-json-1.1"},
	"AWSEvents.":                          {"EventBridge", "application/x-amz-json-1.1"},
	"AmazonSQS.":                          {"SQS", "application/x-amz-json-1.0"},
	"AWSStepFunctions.":                   {"SFN", "application/x-amz-json-1.0"},
	"Logs_20140328.":                      {"CloudWatchLogs", "application/x-amz-json-1.1"},
}

// Call is one request the fake received.
type Call struct {
	Service, Op string
	// Body is the decoded JSON request (nil for S3).
	Body map[string]any
	// Path and Raw are the S3 object path and body.
	Path string
	Raw  []byte
}

// Answer is what the fake plays back for one call.
type Answer struct {
	Status int
	Body   any
	// Drop closes the connection after the request was read and acted
	// on: the caller never sees the answer.
	Drop bool
}

// OK answers 200 with body; a nil body answers as the service would.
func OK(body any) Answer { return Answer{Status: 200, Body: body} }

// Default answers as the service would (for RunTask: start the token's task).
func Default() Answer { return Answer{Status: 200} }

// Error answers an API error with the awsJson shape (__type, message).
func Error(status int, code, msg string) Answer {
	return Answer{Status: status, Body: map[string]string{"__type": code, "message": msg}}
}

// Lost acts on the request and drops the connection before answering.
func Lost() Answer { return Answer{Status: 200, Drop: true} }

// Server is the fake.
type Server struct {
	URL string
	t   testing.TB
	srv *httptest.Server

	mu     sync.Mutex
	calls  []Call
	script map[string][]Answer
	// tasks maps RunTask client tokens to task ARNs; described are the
	// DescribeTasks answers per task ARN.
	tasks     map[string]string
	startedBy map[string][]string // ARNs by RunTask startedBy
	described map[string]map[string]any
	objects   map[string][]byte
	// schedules are EventBridge Scheduler's, by group/name, as
	// GetSchedule answers them.
	schedules map[string]map[string]any
}

// New starts the fake for the test.
func New(t testing.TB) *Server {
	s := &Server{t: t, script: map[string][]Answer{}, tasks: map[string]string{},
		startedBy: map[string][]string{}, described: map[string]map[string]any{}, objects: map[string][]byte{},
		schedules: map[string]map[string]any{}}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL
	t.Cleanup(s.srv.Close)
	return s
}

// On scripts the answers of an operation ("RunTask", "PutEvents", ...):
// one per call, the last one repeating.
func (s *Server) On(op string, answers ...Answer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.script[op] = answers
}

// Calls returns the calls of an operation so far ("PutObject" for S3).
func (s *Server) Calls(op string) []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Call
	for _, c := range s.calls {
		if c.Op == op {
			out = append(out, c)
		}
	}
	return out
}

// Tasks returns how many distinct tasks RunTask started.
func (s *Server) Tasks() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.tasks)
}

// Task returns the ARN of the task RunTask started with a client token.
func (s *Server) Task(clientToken string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	arn, ok := s.tasks[clientToken]
	return arn, ok
}

// Describe sets what DescribeTasks answers for a task (a decoded ECS Task);
// a task never set is MISSING.
func (s *Server) Describe(arn string, task map[string]any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.described[arn] = task
}

// Object returns what PutObject stored at /bucket/key.
func (s *Server) Object(path string) ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.objects[path]
	return b, ok
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	auth := r.Header.Get("Authorization")
	if !strings.HasPrefix(auth, "AWS4-HMAC-SHA256 Credential="+AccessKeyID+"/") {
		s.t.Errorf("%s %s is not signed with %s: %q", r.Method, r.URL.Path, AccessKeyID, auth)
	}
	raw, _ := io.ReadAll(r.Body)
	target := r.Header.Get("X-Amz-Target")
	if target == "" && strings.HasPrefix(r.URL.Path, "/schedules/") {
		s.serveScheduler(w, r, raw)
		return
	}
	if target == "" {
		s.serveS3(w, r, raw)
		return
	}
	var svc, op string
	for prefix, sv := range services {
		if rest, ok := strings.CutPrefix(target, prefix); ok {
			svc, op = sv.name, rest
			if ct := r.Header.Get("Content-Type"); ct != sv.contentType {
				s.t.Errorf("%s.%s sent with content type %q, want %q", svc, op, ct, sv.contentType)
			}
		}
	}
	if svc == "" || r.Method != http.MethodPost {
		s.t.Errorf("unknown call %s %s target %q", r.Method, r.URL.Path, target)
		writeJSON(w, 400, "application/x-amz-json-1.1", map[string]string{"__type": "UnknownOperationException"})
		return
	}
	var body map[string]any
	if err := json.Unmarshal(raw, &body); err != nil {
		s.t.Errorf("%s.%s body is not JSON: %v", svc, op, err)
	}
	s.mu.Lock()
	s.calls = append(s.calls, Call{Service: svc, Op: op, Body: body, Raw: raw})
	a := s.next(op)
	if a.Status == 200 && a.Body == nil {
		a.Body = s.natural(op, body)
	}
	s.mu.Unlock()
	if a.Drop {
		if conn, _, err := w.(http.Hijacker).Hijack(); err == nil {
			conn.Close()
		}
		return
	}
	ct := services[target[:strings.IndexByte(target, '.')+1]].contentType
	if e, isErr := a.Body.(map[string]string); isErr && e["__type"] != "" {
		w.Header().Set("X-Amzn-Errortype", e["__type"])
	}
	writeJSON(w, a.Status, ct, a.Body)
}

func writeJSON(w http.ResponseWriter, status int, ct string, body any) {
	w.Header().Set("Content-Type", ct)
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(body)
}

// next takes the scripted answer of op (the zero Answer means natural).
func (s *Server) next(op string) Answer {
	answers := s.script[op]
	if len(answers) == 0 {
		return Default()
	}
	a := answers[0]
	if len(answers) > 1 {
		s.script[op] = answers[1:]
	}
	return a
}

// natural is the service's own answer to a call.
func (s *Server) natural(op string, body map[string]any) any {
	switch op {
	case "RunTask":
		token, _ := body["clientToken"].(string)
		arn, seen := s.tasks[token]
		if !seen {
			cluster := "longshore"
			if c, _ := body["cluster"].(string); c != "" {
				cluster = c[strings.LastIndexByte(c, '/')+1:]
			}
			arn = fmt.Sprintf("arn:aws:ecs:us-east-1:111122223333:task/%s/%032x", cluster, len(s.tasks)+1)
			s.tasks[token] = arn
		}
		if by, _ := body["startedBy"].(string); by != "" && !seen {
			s.startedBy[by] = append(s.startedBy[by], arn)
		}
		return map[string]any{"tasks": []any{map[string]any{"taskArn": arn, "lastStatus": "PROVISIONING"}}, "failures": []any{}}
	case "ListTasks":
		// Tasks started by the given startedBy (any, when absent), with the
		// desired status asked (RUNNING when absent): those described as
		// STOPPED are stopped. One page.
		by, _ := body["startedBy"].(string)
		want, _ := body["desiredStatus"].(string)
		if want == "" {
			want = "RUNNING"
		}
		candidates := s.startedBy[by]
		if by == "" {
			for _, list := range s.startedBy {
				candidates = append(candidates, list...)
			}
			slices.Sort(candidates)
		}
		arns := []any{}
		for _, arn := range candidates {
			stopped := false
			if t, ok := s.described[arn]; ok {
				stopped = t["lastStatus"] == "STOPPED"
			}
			if stopped == (want == "STOPPED") {
				arns = append(arns, arn)
			}
		}
		return map[string]any{"taskArns": arns}
	case "DescribeTasks":
		var tasks, failures []any
		for _, a := range body["tasks"].([]any) {
			arn := a.(string)
			if t, ok := s.described[arn]; ok {
				tasks = append(tasks, t)
			} else {
				failures = append(failures, map[string]any{"arn": arn, "reason": "MISSING"})
			}
		}
		return map[string]any{"tasks": tasks, "failures": failures}
	case "PutEvents":
		entries := body["Entries"].([]any)
		out := make([]any, len(entries))
		for i := range entries {
			out[i] = map[string]any{"EventId": fmt.Sprintf("event-%d", len(s.calls))}
		}
		return map[string]any{"FailedEntryCount": 0, "Entries": out}
	case "SendMessage":
		msg, _ := body["MessageBody"].(string)
		sum := md5.Sum([]byte(msg))
		return map[string]any{"MessageId": fmt.Sprintf("m-%d", len(s.calls)), "MD5OfMessageBody": hex.EncodeToString(sum[:])}
	case "GetLogEvents":
		return map[string]any{"events": []any{}, "nextForwardToken": "f/0", "nextBackwardToken": "b/0"}
	}
	return map[string]any{}
}

// SetSchedule makes a schedule EventBridge Scheduler knows, as GetSchedule
// answers it (Name, GroupName, State, ScheduleExpression, Target...).
func (s *Server) SetSchedule(schedule map[string]any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.schedules[fmt.Sprint(schedule["GroupName"])+"/"+fmt.Sprint(schedule["Name"])] = schedule
}

// Schedule returns a schedule as it is now.
func (s *Server) Schedule(group, name string) (map[string]any, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	got, ok := s.schedules[group+"/"+name]
	return got, ok
}

// serveScheduler answers EventBridge Scheduler's GetSchedule and
// UpdateSchedule (REST and JSON: GET and PUT /schedules/NAME?groupName=G).
func (s *Server) serveScheduler(w http.ResponseWriter, r *http.Request, raw []byte) {
	name := strings.TrimPrefix(r.URL.Path, "/schedules/")
	group := r.URL.Query().Get("groupName")
	op := map[string]string{http.MethodGet: "GetSchedule", http.MethodPut: "UpdateSchedule"}[r.Method]
	var body map[string]any
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &body); err != nil {
			s.t.Errorf("Scheduler.%s: %v", op, err)
		}
	}
	s.mu.Lock()
	s.calls = append(s.calls, Call{Service: "Scheduler", Op: op, Body: body, Path: r.URL.Path})
	key := group + "/" + name
	if group == "" {
		key = "default/" + name
	}
	cur, found := s.schedules[key]
	if found && op == "UpdateSchedule" {
		body["Name"], body["GroupName"] = name, group
		s.schedules[key] = body
	}
	s.mu.Unlock()
	switch {
	case op == "":
		s.t.Errorf("unknown Scheduler call %s %s", r.Method, r.URL.Path)
		w.WriteHeader(http.StatusNotImplemented)
	case !found:
		w.Header().Set("X-Amzn-Errortype", "ResourceNotFoundException")
		writeJSON(w, http.StatusNotFound, "application/json", map[string]string{"Message": "Schedule " + name + " does not exist."})
	case op == "GetSchedule":
		writeJSON(w, http.StatusOK, "application/json", cur)
	default:
		writeJSON(w, http.StatusOK, "application/json", map[string]string{"ScheduleArn": "arn:aws:scheduler:us-east-1:111122223333:schedule/" + key})
	}
}

func (s *Server) serveS3(w http.ResponseWriter, r *http.Request, raw []byte) {
	if r.Method != http.MethodPut {
		s.t.Errorf("unknown S3 call %s %s", r.Method, r.URL.Path)
		w.WriteHeader(http.StatusNotImplemented)
		return
	}
	s.mu.Lock()
	s.calls = append(s.calls, Call{Service: "S3", Op: "PutObject", Path: r.URL.Path, Raw: raw})
	a := s.next("PutObject")
	if a.Status == 200 {
		s.objects[r.URL.Path] = raw
	}
	s.mu.Unlock()
	if a.Status != 200 {
		w.WriteHeader(a.Status)
		fmt.Fprintf(w, "<Error><Code>%v</Code></Error>", a.Body)
		return
	}
	w.Header().Set("ETag", `"etag"`)
	w.WriteHeader(http.StatusOK)
}

// Dig reads a nested field of a decoded JSON body: Dig(b, "overrides",
// "containerOverrides", 0, "name").
func Dig(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[k]
		case int:
			sl, _ := v.([]any)
			if k < 0 || k >= len(sl) {
				return nil
			}
			v = sl[k]
		}
	}
	return v
}
