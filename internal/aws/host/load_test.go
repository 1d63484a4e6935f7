package host_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awsecs "github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/smithy-go"

	"github.com/longshore/longshore/internal/aws/dynamo"
	"github.com/longshore/longshore/internal/aws/dynamo/dynamotest"
	"github.com/longshore/longshore/internal/aws/ecs"
	"github.com/longshore/longshore/internal/dispatch"
	"github.com/longshore/longshore/internal/dispatch/fake"
	"github.com/longshore/longshore/internal/job"
	"github.com/longshore/longshore/internal/run"
)

// burstECS is an ECS endpoint that answers RunTask like Fargate under a
// burst: it honours client tokens (a RunTask repeated with a token returns
// the task the first one started and starts none), throttles RunTask with a
// token bucket on the simulated clock, fails a share of the admitted calls
// for want of capacity, loses the answer of a share of the calls that
// started a task, and answers a share slowly (the simulated clock moves on).
type burstECS struct {
	clock       *fake.Clock
	rate, burst float64
	capacity    float64 // share of admitted RunTasks failing for capacity
	lost        float64 // share of started tasks whose answer is lost
	slow        float64 // share of answers taking slowBy

	mu                                                     sync.Mutex
	rng                                                    *rand.Rand
	tokens                                                 float64
	last                                                   time.Time
	filled                                                 bool
	tasks                                                  map[string]string // client token → task ARN
	started                                                map[string]int    // run id (startedBy) → tasks started for it
	byStarter                                              map[string]string // startedBy → the last task started for it
	calls, throttled, noCapacity, lostAnswers, slowAnswers int
}

const slowBy = 700 * time.Millisecond

const capacityReason = "Capacity is unavailable at this time. Please try again later or in a different availability zone"

func (f *burstECS) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	target := req.Header.Get("X-Amz-Target")
	if target == "AmazonEC2ContainerServiceV20141113.ListTasks" {
		// A resumed run's task is looked for by its startedBy first.
		var in struct {
			StartedBy     string `json:"startedBy"`
			DesiredStatus string `json:"desiredStatus"`
		}
		_ = json.NewDecoder(req.Body).Decode(&in)
		arns := []any{}
		f.mu.Lock()
		if arn, ok := f.byStarter[in.StartedBy]; ok && in.DesiredStatus != "STOPPED" {
			arns = append(arns, arn)
		}
		f.mu.Unlock()
		ecsAnswer(w, http.StatusOK, map[string]any{"taskArns": arns})
		return
	}
	if target != "AmazonEC2ContainerServiceV20141113.RunTask" {
		ecsAnswer(w, http.StatusBadRequest, map[string]any{"__type": "InvalidParameterException", "message": "unexpected call " + target})
		return
	}
	var in struct {
		ClientToken string `json:"clientToken"`
		StartedBy   string `json:"startedBy"`
	}
	if err := json.NewDecoder(req.Body).Decode(&in); err != nil || in.ClientToken == "" {
		ecsAnswer(w, http.StatusBadRequest, map[string]any{"__type": "InvalidParameterException", "message": fmt.Sprintf("bad RunTask: %v", err)})
		return
	}

	f.mu.Lock()
	f.calls++
	if f.rng.Float64() < f.slow {
		f.slowAnswers++
		f.clock.Advance(slowBy)
	}
	now := f.clock.Now()
	if !f.filled {
		f.tokens, f.last, f.filled = f.burst, now, true
	}
	f.tokens = min(f.burst, f.tokens+now.Sub(f.last).Seconds()*f.rate)
	f.last = now
	if f.tokens < 1 {
		f.throttled++
		f.mu.Unlock()
		ecsAnswer(w, http.StatusBadRequest, map[string]any{"__type": "ThrottlingException", "message": "Rate exceeded"})
		return
	}
	f.tokens--
	arn, known := f.tasks[in.ClientToken]
	if !known && f.rng.Float64() < f.capacity {
		f.noCapacity++
		f.mu.Unlock()
		ecsAnswer(w, http.StatusOK, map[string]any{"tasks": []any{}, "failures": []any{map[string]any{"reason": capacityReason}}})
		return
	}
	if !known {
		arn = fmt.Sprintf("arn:aws:ecs:us-east-1:111122223333:task/longshore/%032x", len(f.tasks)+1)
		f.tasks[in.ClientToken] = arn
		f.byStarter[in.StartedBy] = arn
		f.started[in.StartedBy]++
	}
	lose := f.rng.Float64() < f.lost
	drop := f.rng.IntN(2) == 0
	if lose {
		f.lostAnswers++
	}
	f.mu.Unlock()

	switch {
	case lose && drop: // the connection breaks before the answer
		if conn, _, err := w.(http.Hijacker).Hijack(); err == nil {
			conn.Close()
		}
	case lose:
		ecsAnswer(w, http.StatusInternalServerError, map[string]any{"__type": "ServerException", "message": "Service Unavailable. Please try again later."})
	default:
		ecsAnswer(w, http.StatusOK, map[string]any{
			"tasks":    []any{map[string]any{"taskArn": arn, "lastStatus": "PROVISIONING", "desiredStatus": "RUNNING"}},
			"failures": []any{},
		})
	}
}

// ecsAnswer writes an awsJson1_1 answer; errors carry their __type.
func ecsAnswer(w http.ResponseWriter, status int, body map[string]any) {
	if t, ok := body["__type"].(string); ok {
		w.Header().Set("X-Amzn-Errortype", t)
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(body)
}

type jobs map[string]*job.Spec

func (c jobs) Get(name string) (*job.Spec, bool) { s, ok := c[name]; return s, ok }

// TestABurstThroughTheRealAdaptersIsOneRunAndOneTaskPerTrigger fires a
// burst of SQS triggers at the launch service wired to the real DynamoDB
// store (on dynalite) and the real ECS runner (its SDK client talking to an
// ECS endpoint that throttles at 20 RunTasks a second, burst 100, fails 5%
// for capacity, loses 2% of the answers and answers some slowly), on one
// simulated clock. Every trigger is stored at once, the queued runs drain
// at the throttle's pace, and each run has exactly one task. `make test`
// fires 200; LONGSHORE_BURST=10000 fires 10,000.
func TestABurstThroughTheRealAdaptersIsOneRunAndOneTaskPerTrigger(t *testing.T) {
	n := 200
	if v := os.Getenv("LONGSHORE_BURST"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1 {
			t.Fatalf("LONGSHORE_BURST=%q is not a positive number", v)
		}
	}
	wall := time.Now()
	db := dynamotest.Client(dynamotest.Start(t))
	table := dynamotest.CreateTable(t, db)
	store := dynamo.New(db, dynamo.Options{Table: table})

	clock := fake.NewClock(time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC))
	fe := &burstECS{clock: clock, rate: 20, burst: 100, capacity: 0.05, lost: 0.02, slow: 0.02,
		rng: rand.New(rand.NewPCG(11, 11)), tasks: map[string]string{}, started: map[string]int{}, byStarter: map[string]string{}}
	srv := httptest.NewServer(fe)
	t.Cleanup(srv.Close)
	client := awsecs.New(awsecs.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), Retryer: aws.NopRetryer{},
		Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""),
	})
	jitter := rand.New(rand.NewPCG(12, 12))
	// inline is the simulated time the runner spent backing off from
	// failures other than the throttle (capacity, lost answers): one
	// caller launching in sequence waits them out in line, where the many
	// concurrent invocations of the Lambdas would not.
	var inline time.Duration
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	runner := ecs.NewRunner(client, ecs.Options{
		Cluster: "arn:aws:ecs:us-east-1:111122223333:cluster/longshore", Prefix: "longshore",
		Subnets: []string{"subnet-0a1b2c3d4e5f60001"}, SecurityGroups: []string{"sg-0123456789abcdef0"},
		Now: clock.Now,
		Sleep: func(_ context.Context, d time.Duration) error {
			clock.Advance(d)
			return nil
		},
		// The SDK's full jitter (as the default), seeded so that the test
		// repeats.
		Backoff: func(attempt int, err error) time.Duration {
			ceiling := min(ecs.MaxBackoff, time.Second<<min(attempt, 10))
			d := time.Duration(jitter.Float64() * float64(ceiling))
			if ae := smithy.APIError(nil); !errors.As(err, &ae) || ae.ErrorCode() != "ThrottlingException" {
				inline += d
			}
			return d
		},
		Log: quiet,
	})
	spec, err := job.Parse([]byte("image: {uri: busybox}\n"), "work", "jobs/work/job.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ids := 0
	svc := dispatch.New(dispatch.Deps{Jobs: jobs{"work": spec}, Store: store, Runner: runner, Notifier: &fake.Notifier{},
		Now: clock.Now, NewID: func() (string, error) { ids++; return fmt.Sprintf("r-%016x", ids), nil }, Log: quiet})

	ctx := context.Background()
	start := clock.Now()
	for i := range n {
		req := dispatch.Request{Job: "work", Trigger: run.Trigger{Kind: run.TriggerSQS, MessageID: fmt.Sprintf("m-%d", i)}}
		if l, err := svc.Launch(ctx, req); !dispatch.Stored(l, err) {
			t.Fatalf("trigger %d was not stored: %v", i, err)
		}
	}
	launched := clock.Now().Sub(start)
	queued := func() int {
		t.Helper()
		runs := listAll(t, store, dispatch.Query{Status: []run.Status{run.StatusQueued}})
		return len(runs)
	}
	for left := queued(); left > 0; left = queued() {
		if clock.Now().Sub(start) > time.Duration(n)*time.Second {
			t.Fatalf("after %s of simulated time %d runs are still queued", clock.Now().Sub(start), left)
		}
		clock.Advance(time.Second)
		if _, err := svc.StartDue(ctx); err != nil {
			if se := (*dispatch.StartError)(nil); !errors.As(err, &se) || !se.Transient {
				t.Fatalf("StartDue: %v", err)
			}
		}
	}
	took := clock.Now().Sub(start)
	bound := time.Duration(float64(max(n-100, 0))/20*float64(time.Second)) + time.Second

	runs := listAll(t, store, dispatch.Query{})
	fe.mu.Lock()
	defer fe.mu.Unlock()
	t.Logf("%d triggers: %d runs, %d tasks in %s of simulated time (%s launching, %s of it backing off in line; the throttle's bound %s), %s of wall time; "+
		"%d RunTasks: %d throttled, %d without capacity, %d answers lost, %d slow",
		n, len(runs), len(fe.tasks), took, launched, inline, bound, time.Since(wall).Round(time.Millisecond),
		fe.calls, fe.throttled, fe.noCapacity, fe.lostAnswers, fe.slowAnswers)

	if len(runs) != n {
		t.Errorf("%d runs in the store for %d triggers", len(runs), n)
	}
	if len(fe.tasks) != n {
		t.Errorf("ECS started %d tasks for %d triggers", len(fe.tasks), n)
	}
	keys := map[string]int{}
	for _, r := range runs {
		keys[r.Key]++
		if r.Status != run.StatusStarting {
			t.Errorf("run %s is %s, want starting", r.ID, r.Status)
		}
		if got := fe.started[ecs.StartedBy(r.ID)]; got != 1 {
			t.Errorf("run %s has %d tasks, want 1", r.ID, got)
		}
		// A run started at its first try is not written again (its task's
		// first event records the task); a resumed one records its task.
		if started := fe.byStarter[ecs.StartedBy(r.ID)]; r.TaskRef != "" && started != r.TaskRef {
			t.Errorf("run %s records task %s, but ECS started %s for it", r.ID, r.TaskRef, started)
		}
	}
	for key, c := range keys {
		if c != 1 {
			t.Errorf("trigger %s made %d runs", key, c)
		}
	}
	// The drain's pace is not asserted here: this test launches one run
	// after another on one clock, so each run's own retries (capacity,
	// lost answers) wait in line for the others, unlike concurrent
	// Lambdas. The pace against the throttle is checked on the core by
	// TestABurstDrainsAtTheThrottleRate in internal/dispatch; the figures
	// are logged above.
}

// listAll reads every page of q.
func listAll(t *testing.T, s dispatch.RunStore, q dispatch.Query) []run.Run {
	t.Helper()
	var out []run.Run
	for {
		page, next, err := s.List(context.Background(), q)
		if err != nil {
			t.Fatalf("list runs: %v", err)
		}
		out = append(out, page...)
		if next == "" {
			return out
		}
		q.Cursor = next
	}
}
