package handler_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/longshore/longshore/internal/api"
	"github.com/longshore/longshore/internal/aws/handler"
	"github.com/longshore/longshore/internal/run"
)

// The benchmarks of the functions' handlers: CPU time and allocations per
// event, for each event kind a deployment feeds them, through the entry
// points the functions' main packages give lambda.Start (Handle, with the
// event's JSON). Every operation does real work: each event has a trigger
// identity of its own (an SQS message id, an S3 sequencer, a scheduled
// time), so it makes new runs rather than finding duplicates; each STOPPED
// event ends a run of its own. Encoding the answer (the Lambda runtime's
// work) is not measured.
//
// A rig prepares its events — and the runs they need — a batch at a time,
// with the timer stopped, in a new world: the fake store scans all its runs
// to list a job's active ones (nightly-report's launch does), which a real
// table's query does not, so its history is kept from growing with b.N.

// benchBatch is how many operations a rig's world serves: at 500 the
// schedules' figures grow by half with the fake store's scans; below 50
// they are no lower.
const benchBatch = 50

// rig hands a benchmark's loop its events, a batch at a time.
type rig struct {
	b *testing.B
	// prepare makes the events of operations from, from+1, ... from+n-1 in w
	// (and whatever they need there).
	prepare func(w *world, from, n int) []json.RawMessage
	// runs, when set, is how many runs each operation must have made: each
	// batch's world is checked once it is used up.
	runs int

	w      *world
	events []json.RawMessage
	ops    int // operations served by all worlds
	used   int // operations served by w
}

// next returns the world and the event of the next operation, making a new
// world and its events, with the timer stopped, when the batch is used up.
func (r *rig) next() (*world, json.RawMessage) {
	if r.used == len(r.events) {
		r.b.StopTimer()
		r.check()
		r.w = newWorld(r.b)
		r.events, r.used = r.prepare(r.w, r.ops, benchBatch), 0
		r.b.StartTimer()
	}
	r.ops++
	r.used++
	return r.w, r.events[r.used-1]
}

// check fails the benchmark unless every operation of the world made its
// runs: none was refused or found a duplicate.
func (r *rig) check() {
	if r.w == nil || r.runs == 0 {
		return
	}
	if got, want := len(r.w.runs()), r.used*r.runs; got != want {
		r.b.Fatalf("%d operations made %d runs, want %d", r.used, got, want)
	}
}

// each makes n events from a template, replacing old with new(i) for
// operations from to from+n-1.
func each(from, n int, tmpl string, replace func(i int) []string) []json.RawMessage {
	out := make([]json.RawMessage, n)
	for k := range out {
		out[k] = json.RawMessage(strings.NewReplacer(replace(from + k)...).Replace(tmpl))
	}
	return out
}

func BenchmarkLauncher(b *testing.B) {
	sqs := string(fixture(b, "sqs-batch.json"))
	const messages = 3
	if n := strings.Count(sqs, `"messageId"`); n != messages {
		b.Fatalf("sqs-batch.json has %d messages, want %d", n, messages)
	}
	s3 := string(fixture(b, "s3-object-created-eventbridge.json"))
	rule := string(fixture(b, "eventbridge-scheduled-event.json"))
	firstNight := time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC)
	night := func(i int) string { return firstNight.AddDate(0, 0, i).Format(time.RFC3339) }

	b.Run("invoke", func(b *testing.B) {
		// Without a key from the caller, the launcher makes every invoke a
		// new run.
		invoke := json.RawMessage(`{"job": "hello"}`)
		r := &rig{b: b, runs: 1, prepare: func(_ *world, _, n int) []json.RawMessage {
			out := make([]json.RawMessage, n)
			for k := range out {
				out[k] = invoke
			}
			return out
		}}
		benchLaunch(b, r)
	})
	b.Run("s3-object-created", func(b *testing.B) {
		// The upload's key matches two jobs: ingest and archive.
		r := &rig{b: b, runs: 2, prepare: func(_ *world, from, n int) []json.RawMessage {
			return each(from, n, s3, func(i int) []string {
				return []string{`"00617F08299329D189"`, fmt.Sprintf(`"%018X"`, i)}
			})
		}}
		benchLaunch(b, r)
	})
	b.Run("sqs-batch", func(b *testing.B) {
		r := &rig{b: b, runs: messages, prepare: func(_ *world, from, n int) []json.RawMessage {
			return each(from, n, sqs, func(i int) []string {
				var ids []string
				for m := range messages {
					ids = append(ids, fmt.Sprintf(`"059f36b4-87a3-44ab-83d2-66197585128%d"`, m),
						fmt.Sprintf(`"%08x-0000-4000-8000-%012x"`, i, m))
				}
				return ids
			})
		}}
		benchLaunch(b, r)
		b.ReportMetric(messages, "msgs/op")
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*messages), "ns/msg")
	})
	// nightly-report forbids a second run: each firing comes, as it does
	// nightly, once the last night's run has finished.
	b.Run("scheduler", func(b *testing.B) {
		r := &rig{b: b, prepare: func(_ *world, from, n int) []json.RawMessage {
			out := make([]json.RawMessage, n)
			for k := range out {
				out[k] = schedulePayload("nightly-report", night(from+k))
			}
			return out
		}}
		benchSchedule(b, r)
	})
	b.Run("scheduled-event", func(b *testing.B) {
		r := &rig{b: b, prepare: func(_ *world, from, n int) []json.RawMessage {
			return each(from, n, rule, func(i int) []string {
				return []string{`"2026-11-22T03:00:00Z"`, `"` + night(i) + `"`}
			})
		}}
		benchSchedule(b, r)
	})
}

// benchLaunch hands the launcher the rig's events, which are all taken.
func benchLaunch(b *testing.B, r *rig) {
	b.ReportAllocs()
	for b.Loop() {
		w, event := r.next()
		if _, err := w.launcher.Handle(ctx, event); err != nil {
			b.Fatal(err)
		}
	}
	r.check()
}

// benchSchedule hands the launcher the rig's schedule firings, finishing
// each run, with the timer stopped, before the next firing.
func benchSchedule(b *testing.B, r *rig) {
	b.ReportAllocs()
	for b.Loop() {
		w, event := r.next()
		out, err := w.launcher.Handle(ctx, event)
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		res := out.(handler.LaunchResult)
		if len(res.Runs) != 1 || res.Runs[0].Duplicate || res.Runs[0].Status != run.StatusStarting {
			b.Fatalf("firing %s: %+v, want a new run started", event, res)
		}
		// The run ends as the tracker would end it, freeing its job's slot
		// (nightly-report forbids a second run).
		code := 0
		ended := w.runner.SetState(res.Runs[0].ID, run.TaskState{Phase: run.PhaseStopped, StopCode: run.StopCodeEssentialExited,
			Containers: []run.Container{{Name: "app", ExitCode: &code}}})
		if _, err := w.svc.Observe(ctx, ended); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}

func BenchmarkTracker(b *testing.B) {
	b.Run("task-stopped-exit-0", func(b *testing.B) {
		// Each event is the end of a run launched beforehand (by a direct
		// invoke), its task's first event: the deployed rule delivers only
		// STOPPED events.
		stopped := string(fixture(b, "ecs-task-stopped-exit-0.json"))
		r := &rig{b: b, prepare: func(w *world, from, n int) []json.RawMessage {
			return each(from, n, stopped, func(i int) []string {
				id := w.launch(b, `{"job": "hello"}`).ID
				return []string{`"longshore:` + fixtureRun + `"`, `"longshore:` + id + `"`,
					fixtureTaskID, fmt.Sprintf("%032x", i)}
			})
		}}
		b.ReportAllocs()
		for b.Loop() {
			w, event := r.next()
			res, err := w.tracker.Handle(ctx, event)
			if err != nil {
				b.Fatal(err)
			}
			if !res.Applied || res.Status != run.StatusSucceeded {
				b.Fatalf("%+v, want the run succeeded", res)
			}
		}
	})
}

func BenchmarkAPI(b *testing.B) {
	// The runs API over a store of 100 runs: the CLI's get of one, and its
	// list of a job's newest (a page of 20).
	const stored = 100
	w := newWorld(b)
	ids := make([]string, stored)
	for i := range ids {
		ids[i] = w.launch(b, `{"job": "hello"}`).ID
		w.clock.Advance(time.Second)
	}
	b.Run("get", func(b *testing.B) {
		gets := make([]json.RawMessage, stored)
		for i, id := range ids {
			gets[i] = json.RawMessage(`{"op": "get", "id": "` + id + `"}`)
		}
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if _, err := w.api.Handle(ctx, gets[i%stored]); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.Run("list", func(b *testing.B) {
		list := json.RawMessage(`{"op": "list", "job": "hello", "limit": 20}`)
		b.ReportAllocs()
		for b.Loop() {
			out, err := w.api.Handle(ctx, list)
			if err != nil {
				b.Fatal(err)
			}
			if n := len(out.(api.RunList).Runs); n != 20 {
				b.Fatalf("listed %d runs, want 20", n)
			}
		}
	})
}
