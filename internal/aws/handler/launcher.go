package handler

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/longshore/longshore/internal/api"
	"github.com/longshore/longshore/internal/deploy"
	"github.com/longshore/longshore/internal/dispatch"
	"github.com/longshore/longshore/internal/job"
	"github.com/longshore/longshore/internal/run"
)

// LaunchService turns triggers into runs (dispatch.Service).
type LaunchService interface {
	Launch(ctx context.Context, req dispatch.Request) (dispatch.Launched, error)
}

// LauncherOptions configure the launcher.
type LauncherOptions struct {
	Service LaunchService
	Runs    Runs
	Jobs    Catalog
	// Prefix names the deployment (its queues are deploy.QueueName(Prefix, queue)).
	Prefix string
	// UploadsBucket is the only bucket whose objects start runs.
	UploadsBucket string
	// EventBus is the deployment's results bus (a name or an ARN), and
	// CallbackBuses the other buses' ARNs the functions may put events on:
	// a callback of kind event naming any other bus is refused.
	EventBus      string
	CallbackBuses []string
	// Now and Sleep drive the wait of a direct invoke; tests give fakes.
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
	// Poll is how often a waiting invoke reads its run (default 2s).
	Poll time.Duration
	// Reserve is left of the invocation's deadline when a wait ends (default 1s).
	Reserve time.Duration
	// Parallel bounds the messages of a batch launched at once (default 10).
	Parallel int
	Log      *slog.Logger
}

// Launcher is the launcher function's handler.
type Launcher struct {
	o LauncherOptions
}

// NewLauncher returns the launcher's handler.
func NewLauncher(o LauncherOptions) *Launcher {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Sleep == nil {
		o.Sleep = sleep
	}
	if o.Poll <= 0 {
		o.Poll = 2 * time.Second
	}
	if o.Reserve <= 0 {
		o.Reserve = time.Second
	}
	if o.Parallel <= 0 {
		o.Parallel = 10
	}
	o.Log = logOr(o.Log)
	return &Launcher{o: o}
}

// LaunchResult answers a schedule or an S3 event: the runs it made (or found
// made by an earlier delivery of the same event).
type LaunchResult struct {
	Runs []LaunchedRun `json:"runs"`
	// Ignored says why the event started nothing, when it did not.
	Ignored string `json:"ignored,omitempty"`
}

// LaunchedRun is one run a trigger made.
type LaunchedRun struct {
	ID        string     `json:"id"`
	Job       string     `json:"job"`
	Status    run.Status `json:"status"`
	Duplicate bool       `json:"duplicate,omitempty"`
}

// envelope is what tells the launcher's event kinds apart.
type envelope struct {
	Records       json.RawMessage `json:"Records"`
	Source        string          `json:"source"`
	DetailType    string          `json:"detail-type"`
	Job           *string         `json:"job"`
	ScheduledTime *string         `json:"scheduledTime"`
	// EventSource is set on an SQS record ("aws:sqs"), which comes alone
	// only as an element of a batch from EventBridge Pipes.
	EventSource *string `json:"eventSource"`
}

// Handle is the launcher's entry point: it tells the event kinds apart by
// a few top-level fields and hands each to its handler:
//
//	{"Records": [...SQS messages...]}                    Messages (answers batchItemFailures)
//	{"source": "aws.s3", "detail-type": "Object Created"} ObjectCreated
//	{"source": "aws.events", "detail-type": "Scheduled Event"} RuleSchedule
//	{"job": ..., "scheduledTime": ...}                   Schedule (deploy.SchedulePayload)
//	{"job": ..., "env": ..., ...}                        Invoke (api.RunRequest, answers api.RunResponse)
//	[...]                                                Batch (EventBridge Pipes, answers BatchResult)
//
// Anything else is an error saying what was received.
func (l *Launcher) Handle(ctx context.Context, payload json.RawMessage) (any, error) {
	trimmed := bytes.TrimSpace(payload)
	if len(trimmed) > 0 && trimmed[0] == '[' {
		var elems []json.RawMessage
		if err := json.Unmarshal(trimmed, &elems); err != nil {
			return nil, invokeError(badRequest("launcher: decode the batch (a JSON array of events): " + err.Error()))
		}
		res, err := l.Batch(ctx, elems)
		if err != nil {
			return nil, invokeError(err)
		}
		return res, nil
	}
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return nil, invokeError(badRequest("launcher: the event is not a JSON object (nor a JSON array of them, as EventBridge Pipes sends)"))
	}
	var env envelope
	if err := json.Unmarshal(trimmed, &env); err != nil {
		return nil, invokeError(badRequest("launcher: decode the event: " + err.Error()))
	}
	if env.Records != nil {
		var ev events.SQSEvent
		if err := json.Unmarshal(trimmed, &ev); err != nil {
			return nil, invokeError(badRequest("launcher: decode the SQS batch: " + err.Error()))
		}
		return l.Messages(ctx, ev)
	}
	handle, err := l.decode(trimmed, env)
	if err != nil {
		return nil, invokeError(badRequest("launcher: " + err.Error()))
	}
	res, err := handle(ctx)
	return res, invokeError(err)
}

// handleFunc handles one decoded event and answers it.
type handleFunc func(ctx context.Context) (any, error)

// decode tells one event (not an SQS batch) apart and decodes it; the
// error says why it is none the launcher takes.
func (l *Launcher) decode(raw []byte, env envelope) (handleFunc, error) {
	switch {
	case env.Source == "aws.s3" && env.DetailType == "Object Created":
		var ev ObjectCreatedEvent
		if err := json.Unmarshal(raw, &ev); err != nil {
			return nil, errors.New("decode the S3 Object Created event: " + err.Error())
		}
		return func(ctx context.Context) (any, error) { return l.ObjectCreated(ctx, ev) }, nil
	case env.Source == "aws.events" && env.DetailType == "Scheduled Event":
		var ev events.CloudWatchEvent
		if err := json.Unmarshal(raw, &ev); err != nil {
			return nil, errors.New("decode the scheduled event: " + err.Error())
		}
		return func(ctx context.Context) (any, error) { return l.RuleSchedule(ctx, ev) }, nil
	case env.Source != "" || env.DetailType != "":
		return nil, fmt.Errorf("an event from %q (%q) is not a trigger of the launcher", env.Source, env.DetailType)
	case env.ScheduledTime != nil:
		var p deploy.SchedulePayload
		if err := strict(raw, &p); err != nil {
			return nil, errors.New("decode the schedule payload: " + err.Error())
		}
		return func(ctx context.Context) (any, error) { return l.Schedule(ctx, p) }, nil
	case env.Job != nil:
		var req api.RunRequest
		if err := strict(raw, &req); err != nil {
			return nil, fmt.Errorf("the payload is not a run request: %v; send {\"job\": NAME, \"env\": {...}, \"command\": [...], \"key\": KEY, \"callback\": {...}, \"waitSeconds\": N}", err)
		}
		return func(ctx context.Context) (any, error) { return l.Invoke(ctx, req) }, nil
	}
	return nil, errors.New("the event is none of: an SQS batch, an S3 Object Created event, a schedule payload, a run request (it has no Records, source, scheduledTime or job)")
}

// BatchResult answers a batch (a JSON array of events, as EventBridge Pipes
// delivers them to a Lambda target, even one at a time).
type BatchResult struct {
	// BatchItemFailures are the SQS records whose run could not be stored,
	// by message id: Pipes' partial batch failure answer, by which it
	// delivers those again (and only those, when nothing else failed).
	BatchItemFailures []events.SQSBatchItemFailure `json:"batchItemFailures"`
	// Items answer the elements, in their order.
	Items []BatchItem `json:"items"`
}

// BatchItem answers one element of a batch: what the launcher answers that
// event alone (a LaunchResult, or an api.RunResponse for a run request),
// or why it failed.
type BatchItem struct {
	Result any    `json:"result,omitempty"`
	Error  string `json:"error,omitempty"`
}

// Batch handles each element of a batch as the launcher handles that kind
// of event alone: an SQS record (the shape of a record of Messages, which
// is how Pipes passes on an SQS source's messages), an S3 Object Created
// event, a rule's Scheduled Event, a schedule payload or a run request.
// Every element is decoded first: one the launcher does not take refuses
// the whole batch, naming its index, and starts nothing. The elements are
// then launched side by side, at most Parallel at once, and answered in
// order.
//
// A failed SQS record fails alone, listed in BatchItemFailures, as in
// Messages. Any other failed element fails the invocation once every
// element has been tried, naming each failure by index: Pipes then
// delivers the whole batch again, and the idempotency keys make the
// elements already stored no second run — the message id of a record,
// the scheduled minute of a schedule, the sequencer of an upload, and the
// key of a run request, which a batch therefore requires (and, with one
// deadline for the whole batch, a run request in one cannot wait).
func (l *Launcher) Batch(ctx context.Context, elems []json.RawMessage) (BatchResult, error) {
	handlers := make([]handleFunc, len(elems))
	ids := make([]string, len(elems)) // the message id of each SQS record, "" for the others
	for i, raw := range elems {
		h, id, err := l.decodeElement(raw)
		if err != nil {
			return BatchResult{}, badRequest(fmt.Sprintf("launcher: element %d of the batch: %v; nothing of the batch was started", i, err))
		}
		handlers[i], ids[i] = h, id
	}
	out := BatchResult{BatchItemFailures: []events.SQSBatchItemFailure{}, Items: make([]BatchItem, len(elems))}
	errs := make([]error, len(elems))
	sem := make(chan struct{}, l.o.Parallel)
	var wg sync.WaitGroup
	for i, h := range handlers {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			res, err := h(ctx)
			if err != nil {
				errs[i] = err
				out.Items[i].Error = err.Error()
				return
			}
			out.Items[i].Result = res
		}()
	}
	wg.Wait()
	var failed []string
	permanent := true
	for i, err := range errs {
		switch {
		case err == nil:
		case ids[i] != "":
			l.o.Log.Warn("batch: message not taken: it will be delivered again", "element", i, "message", ids[i], "err", err)
			out.BatchItemFailures = append(out.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: ids[i]})
		default:
			failed = append(failed, fmt.Sprintf("element %d: %v", i, err))
			var re *dispatch.RequestError
			permanent = permanent && errors.As(err, &re)
		}
	}
	if len(failed) == 0 {
		return out, nil
	}
	msg := fmt.Sprintf("launcher: %d of the %d elements of the batch failed; the others are stored, and the batch delivered again makes them no second run: %s",
		len(failed), len(elems), strings.Join(failed, "; "))
	if permanent {
		return out, badRequest(msg)
	}
	return out, errors.New(msg)
}

// decodeElement decodes one element of a batch, and returns the message
// id when it is an SQS record.
func (l *Launcher) decodeElement(raw json.RawMessage) (handleFunc, string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		return nil, "", errors.New("it is not a JSON object")
	}
	var env envelope
	if err := json.Unmarshal(raw, &env); err != nil {
		return nil, "", errors.New("decode it: " + err.Error())
	}
	switch {
	case env.Records != nil:
		return nil, "", errors.New("it is an SQS event (Records): a batch holds the records themselves")
	case env.EventSource != nil:
		var m events.SQSMessage
		if err := json.Unmarshal(raw, &m); err != nil {
			return nil, "", errors.New("decode the SQS record: " + err.Error())
		}
		if m.EventSource != "aws:sqs" {
			return nil, "", fmt.Errorf("a record from %q is not an SQS message", m.EventSource)
		}
		if m.MessageId == "" {
			return nil, "", errors.New("the SQS record has no messageId")
		}
		return func(ctx context.Context) (any, error) {
			got, err := l.message(ctx, m)
			if err != nil {
				return nil, err
			}
			return l.result(got), nil
		}, m.MessageId, nil
	}
	h, err := l.decode(raw, env)
	if err != nil {
		return nil, "", err
	}
	if env.Job != nil && env.ScheduledTime == nil {
		var req api.RunRequest
		_ = json.Unmarshal(raw, &req) // decode checked it
		switch {
		case req.Key == "":
			return nil, "", errors.New(`a run request in a batch needs "key": Pipes delivers a batch again after a failure, and the key makes that one run`)
		case req.WaitSeconds != 0:
			return nil, "", errors.New(`a run request in a batch cannot wait ("waitSeconds"): the batch has one deadline for every element`)
		}
	}
	return h, "", nil
}

// strict decodes one JSON object refusing unknown fields.
func strict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("more than one JSON value")
	}
	return nil
}

func (l *Launcher) result(runs ...dispatch.Launched) LaunchResult {
	out := LaunchResult{Runs: []LaunchedRun{}}
	for _, r := range runs {
		out.Runs = append(out.Runs, LaunchedRun{ID: r.Run.ID, Job: r.Run.Job, Status: r.Run.Status, Duplicate: r.Duplicate})
	}
	return out
}

// Schedule launches the run of a schedule that fired. Its idempotency key
// is the job and the scheduled minute, so Scheduler's retries and a
// duplicate delivery make one run. An error that is not a request error
// hands the firing back to Scheduler's retry policy.
func (l *Launcher) Schedule(ctx context.Context, p deploy.SchedulePayload) (LaunchResult, error) {
	if p.Job == "" {
		return LaunchResult{}, badRequest("schedule payload has no job")
	}
	if strings.HasPrefix(p.ScheduledTime, "<aws.scheduler.") {
		return LaunchResult{}, badRequest(fmt.Sprintf("schedule payload of %s: scheduledTime is the placeholder %s: the target is not an EventBridge Scheduler schedule", p.Job, p.ScheduledTime))
	}
	at, err := time.Parse(time.RFC3339, p.ScheduledTime)
	if err != nil {
		return LaunchResult{}, badRequest(fmt.Sprintf("schedule payload of %s: scheduledTime %q is not an RFC 3339 time", p.Job, p.ScheduledTime))
	}
	return l.scheduled(ctx, p.Job, p.ScheduleArn, at, "execution", p.ExecutionID)
}

func (l *Launcher) scheduled(ctx context.Context, jobName, schedule string, at time.Time, logAttrs ...any) (LaunchResult, error) {
	at = at.UTC()
	got, err := l.o.Service.Launch(ctx, dispatch.Request{Job: jobName, Trigger: run.Trigger{
		Kind: run.TriggerSchedule, Schedule: schedule, ScheduledTime: &at,
	}})
	if !dispatch.Stored(got, err) {
		return LaunchResult{}, fmt.Errorf("launch %s scheduled at %s: %w", jobName, at.Format(time.RFC3339), err)
	}
	if got.Paused {
		l.o.Log.Info("schedule dropped: job paused", append([]any{"job", jobName, "at", at}, logAttrs...)...)
		return LaunchResult{Runs: []LaunchedRun{}, Ignored: "job " + jobName + " is paused: its schedules start nothing"}, nil
	}
	l.o.Log.Info("schedule fired", append([]any{"job", jobName, "at", at, "run", got.Run.ID, "status", got.Run.Status, "duplicate", got.Duplicate}, logAttrs...)...)
	return l.result(got), nil
}

// RuleSchedule launches the run of an EventBridge rule's "Scheduled Event"
// (rules with a schedule expression, the predecessor of Scheduler): the job
// is named by the rule, "<prefix>-<job>" or "<prefix>-<job>-<n>", and the
// event's time is the scheduled time.
func (l *Launcher) RuleSchedule(ctx context.Context, ev events.CloudWatchEvent) (LaunchResult, error) {
	if len(ev.Resources) == 0 {
		return LaunchResult{}, badRequest("scheduled event names no rule (no resources)")
	}
	rule := ev.Resources[0]
	name := rule[strings.LastIndexByte(rule, '/')+1:]
	jobName, ok := l.ruleJob(name)
	if !ok {
		return LaunchResult{}, badRequest(fmt.Sprintf("scheduled event of rule %s: the rule names no job of the catalog (want %s)", rule, deploy.TaskFamily(l.o.Prefix, "JOB")))
	}
	if ev.Time.IsZero() {
		return LaunchResult{}, badRequest("scheduled event of rule " + rule + " has no time")
	}
	return l.scheduled(ctx, jobName, rule, ev.Time, "rule", rule)
}

var scheduleSuffix = regexp.MustCompile(`-[0-9]+$`)

func (l *Launcher) ruleJob(name string) (string, bool) {
	rest, ok := strings.CutPrefix(name, l.o.Prefix+"-")
	if !ok {
		return "", false
	}
	if _, ok := l.o.Jobs.Get(rest); ok {
		return rest, true
	}
	rest = scheduleSuffix.ReplaceAllString(rest, "")
	_, ok = l.o.Jobs.Get(rest)
	return rest, ok
}

// ObjectCreatedEvent is an S3 "Object Created" event as EventBridge
// delivers it (the key as stored, not URL-encoded).
type ObjectCreatedEvent struct {
	Version    string              `json:"version"`
	ID         string              `json:"id"`
	DetailType string              `json:"detail-type"`
	Source     string              `json:"source"`
	Account    string              `json:"account"`
	Time       time.Time           `json:"time"`
	Region     string              `json:"region"`
	Resources  []string            `json:"resources"`
	Detail     ObjectCreatedDetail `json:"detail"`
}

// ObjectCreatedDetail is the detail of an Object Created event.
type ObjectCreatedDetail struct {
	Version string `json:"version"`
	Bucket  struct {
		Name string `json:"name"`
	} `json:"bucket"`
	Object struct {
		Key       string `json:"key"`
		Size      int64  `json:"size"`
		ETag      string `json:"etag"`
		VersionID string `json:"version-id"`
		Sequencer string `json:"sequencer"`
	} `json:"object"`
	RequestID string `json:"request-id"`
	Requester string `json:"requester"`
	Reason    string `json:"reason"`
}

// ObjectCreated launches a run of every job whose s3 trigger matches the
// new object's key (prefix and suffix). Its idempotency key is the bucket,
// the object key and the event's sequencer, so EventBridge's retries make
// one run per job. An object that no job wants is ignored.
func (l *Launcher) ObjectCreated(ctx context.Context, ev ObjectCreatedEvent) (LaunchResult, error) {
	d := ev.Detail
	switch {
	case d.Bucket.Name == "":
		return LaunchResult{}, badRequest("Object Created event names no bucket")
	case d.Bucket.Name != l.o.UploadsBucket:
		return LaunchResult{}, badRequest(fmt.Sprintf("Object Created in bucket %s: only the uploads bucket %s starts runs", d.Bucket.Name, l.o.UploadsBucket))
	case d.Object.Key == "":
		return LaunchResult{}, badRequest("Object Created event in " + d.Bucket.Name + " names no object key")
	case d.Object.Sequencer == "":
		return LaunchResult{}, badRequest(fmt.Sprintf("Object Created event of s3://%s/%s has no sequencer", d.Bucket.Name, d.Object.Key))
	}
	names := job.MatchS3(l.o.Jobs.Jobs(), d.Object.Key)
	if len(names) == 0 {
		l.o.Log.Info("upload ignored: no job's s3 trigger matches", "bucket", d.Bucket.Name, "key", d.Object.Key)
		return LaunchResult{Runs: []LaunchedRun{}, Ignored: fmt.Sprintf("no job's s3 trigger matches key %q", d.Object.Key)}, nil
	}
	var got []dispatch.Launched
	var errs []error
	for _, name := range names {
		l1, err := l.o.Service.Launch(ctx, dispatch.Request{Job: name, Trigger: run.Trigger{
			Kind: run.TriggerS3, Bucket: d.Bucket.Name, Key: d.Object.Key, Sequencer: d.Object.Sequencer,
		}})
		if !dispatch.Stored(l1, err) {
			errs = append(errs, fmt.Errorf("launch %s for s3://%s/%s: %w", name, d.Bucket.Name, d.Object.Key, err))
			continue
		}
		l.o.Log.Info("upload", "job", name, "key", d.Object.Key, "run", l1.Run.ID, "status", l1.Run.Status, "duplicate", l1.Duplicate)
		got = append(got, l1)
	}
	return l.result(got...), errors.Join(errs...)
}

// Messages launches one run per SQS message, of the job whose sqs trigger
// reads the message's queue, and answers the messages to receive again:
// those whose run could not be stored. A message whose run is stored is
// done, even if its task must wait for capacity (the reconciler starts it);
// a message from a queue no job reads fails alone, and goes to the queue's
// dead-letter queue after its retries. The messages are launched side by
// side, at most Parallel at once.
func (l *Launcher) Messages(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	failed := make([]bool, len(ev.Records))
	sem := make(chan struct{}, l.o.Parallel)
	var wg sync.WaitGroup
	for i, m := range ev.Records {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			if _, err := l.message(ctx, m); err != nil {
				failed[i] = true
				l.o.Log.Warn("message not taken: it will be received again", "message", m.MessageId, "queue", m.EventSourceARN, "err", err)
			}
		}()
	}
	wg.Wait()
	resp := events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{}}
	for i, f := range failed {
		if f {
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: ev.Records[i].MessageId})
		}
	}
	return resp, nil
}

// message launches the run of one SQS message and returns it.
func (l *Launcher) message(ctx context.Context, m events.SQSMessage) (dispatch.Launched, error) {
	if m.EventSource != "aws:sqs" {
		return dispatch.Launched{}, fmt.Errorf("record from %q is not an SQS message", m.EventSource)
	}
	if m.MessageId == "" {
		return dispatch.Launched{}, errors.New("message has no id")
	}
	if ctx.Err() != nil {
		return dispatch.Launched{}, ctx.Err()
	}
	queue, ok := deploy.QueueFromName(l.o.Prefix, m.EventSourceARN)
	if !ok {
		return dispatch.Launched{}, fmt.Errorf("queue %s is not a trigger queue of deployment %s", m.EventSourceARN, l.o.Prefix)
	}
	jobName, ok := l.queueJob(queue)
	if !ok {
		return dispatch.Launched{}, fmt.Errorf("no job of the catalog reads queue %s", queue)
	}
	got, err := l.o.Service.Launch(ctx, dispatch.Request{Job: jobName, Trigger: run.Trigger{
		Kind: run.TriggerSQS, Queue: queue, MessageID: m.MessageId, Body: m.Body,
	}})
	if !dispatch.Stored(got, err) {
		return dispatch.Launched{}, fmt.Errorf("launch %s for message %s: %w", jobName, m.MessageId, err)
	}
	if err != nil {
		l.o.Log.Info("message taken, task waiting", "job", jobName, "message", m.MessageId, "run", got.Run.ID, "err", err)
	}
	return got, nil
}

// queueJob is the job whose sqs trigger reads queue (the trigger's queue,
// or the job's name when it names none).
func (l *Launcher) queueJob(queue string) (string, bool) {
	for _, j := range l.o.Jobs.Jobs() {
		for _, t := range j.Triggers {
			if t.SQS == nil {
				continue
			}
			q := t.SQS.Queue
			if q == "" {
				q = j.Name
			}
			if q == queue {
				return j.Name, true
			}
		}
	}
	return "", false
}
