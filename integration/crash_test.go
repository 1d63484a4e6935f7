package integration

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	_ "modernc.org/sqlite"

	"github.com/longshore/longshore/internal/api"
)

// The crash test's knobs, from the environment. `make test` runs the
// defaults; `make reliability` runs more rounds with bigger bursts. A
// failure prints the seed that repeats its choices: when to kill, which
// phase, how long each run naps (the processes' own timing still varies).
const (
	crashSeedVar   = "LONGSHORE_CRASH_SEED"   // default: the clock
	crashRoundsVar = "LONGSHORE_CRASH_ROUNDS" // default 6: engines killed with kill -9
	crashBurstVar  = "LONGSHORE_CRASH_BURST"  // default 8: `run` calls and SQS sends per round, each
)

func envInt(t *testing.T, name string, def int64) int64 {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		t.Fatalf("%s=%q: want a number", name, v)
	}
	return n
}

// crashJobs writes the job of the crash test: started by invoke and by the
// queue crash, it naps (NAP, or the message body) in a child process, and
// writes both pids to pids/<run id> first; an interrupted attempt is tried
// again, three in all. A long nap outlives the test unless the engine
// kills it: at its timeout, or, after a kill -9, when the next engine
// kills what is left of the dead one's runs.
func crashJobs(t *testing.T) string {
	dir := t.TempDir()
	write(t, dir, "crash/job.yaml", `local:
  command: [sh, -c, 'mkdir -p pids; sleep "${NAP:-$LONGSHORE_SQS_BODY}" & echo "$$ $!" > "pids/$LONGSHORE_RUN_ID"; wait']
triggers:
  - invoke
  - sqs: {queue: crash}
retries: {attempts: 3, backoff: 0s}
timeout: 4s
`)
	return dir
}

// trigger is one `run` call or one SQS send, and what acknowledged it.
type trigger struct {
	name string // the --key and TRIGGER of a run call; "" for a message
	nap  string
	// acked is the run id a run call printed, or the message id a send returned.
	acked string
	round int
}

// crashRound starts the burst of one round against e and kills e with
// kill -9, during the burst or once it is over and its runs nap.
type crashRound struct {
	t      *testing.T
	e      *engine
	rng    *rand.Rand
	round  int
	burst  int
	mu     sync.Mutex
	calls  []*trigger
	sends  []*trigger
	during bool
}

// nap is how long a run sleeps: mostly 0.1 to 1.5 s; one in five, 300 s,
// past its timeout and past anything the test waits for.
func (c *crashRound) nap() string {
	if c.rng.IntN(5) == 0 {
		return "300"
	}
	return fmt.Sprintf("%.2f", 0.1+c.rng.Float64()*1.4)
}

// play sends the burst side by side, kills the engine at the chosen moment
// and returns when every call has returned.
func (c *crashRound) play() time.Duration {
	ctx := context.Background()
	client := sqs.NewFromConfig(awsConfig(), func(o *sqs.Options) {
		o.BaseEndpoint = aws.String(c.e.sqs)
		o.RetryMaxAttempts = 1 // a send that fails is not acknowledged; the test does not resend
	})
	queue, err := client.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String("crash")})
	if err != nil {
		c.t.Fatalf("GetQueueUrl: %v", err)
	}
	for i := range c.burst {
		c.calls = append(c.calls, &trigger{name: fmt.Sprintf("r%d-run%d", c.round, i), nap: c.nap(), round: c.round})
		c.sends = append(c.sends, &trigger{nap: c.nap(), round: c.round})
	}
	var delay time.Duration
	if c.during {
		delay = time.Duration(c.rng.Int64N(int64(400 * time.Millisecond)))
	} else {
		delay = time.Duration(c.rng.Int64N(int64(time.Second)))
	}
	var wg sync.WaitGroup
	for _, tr := range c.calls {
		wg.Go(func() {
			got := cliIn(c.t, "", []string{"LONGSHORE_ENDPOINT=" + c.e.api},
				"run", "crash", "--key", tr.name, "--env", "TRIGGER="+tr.name, "--env", "NAP="+tr.nap)
			if id, _, _ := strings.Cut(got.stdout, "\n"); got.code == 0 && strings.HasPrefix(id, "r-") {
				c.mu.Lock()
				tr.acked = id
				c.mu.Unlock()
			}
		})
	}
	for _, tr := range c.sends {
		wg.Go(func() {
			out, err := client.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: queue.QueueUrl, MessageBody: aws.String(tr.nap)})
			if err == nil && out.MessageId != nil {
				c.mu.Lock()
				tr.acked = *out.MessageId
				c.mu.Unlock()
			}
		})
	}
	if !c.during {
		wg.Wait()
	}
	time.Sleep(delay) // a random moment of the engine's work, not a wait for time to pass
	c.e.stop(syscall.SIGKILL)
	wg.Wait()
	return delay
}

// TestKill9AtRandomMomentsLosesAndDoublesNoTrigger kills the engine with
// kill -9 again and again on the same data folder, during a burst of `run`
// calls and SQS sends or while their runs nap, restarting it each time.
// After the last restart settles: every acknowledged trigger has exactly
// one chain of attempts (a `run` call the engine never answered, sent
// again with its key, too), no run is left queued, starting or running, no
// process of a run is alive, and the database passes integrity_check.
func TestKill9AtRandomMomentsLosesAndDoublesNoTrigger(t *testing.T) {
	seed := envInt(t, crashSeedVar, time.Now().UnixNano()%1e9)
	rounds := int(envInt(t, crashRoundsVar, 6))
	burst := int(envInt(t, crashBurstVar, 8))
	t.Logf("seed %d, %d rounds of %d run calls and %d SQS sends (%s=%d repeats it)", seed, rounds, burst, burst, crashSeedVar, seed)
	rng := rand.New(rand.NewPCG(uint64(seed), 0x10c5))
	jobs, data := crashJobs(t), t.TempDir()
	began := time.Now()

	var calls, sends []*trigger
	kills := map[bool]int{}
	orphans := 0
	for round := range rounds {
		c := &crashRound{t: t, e: startEngine(t, jobs, data), rng: rng, round: round, burst: burst, during: round%2 == 0}
		delay := c.play()
		kills[c.during]++
		// What the dead engine leaves: the children of its runs die with
		// it, their children live on until the next engine kills them.
		orphans += alivePids(runPids(t, jobs))
		calls, sends = append(calls, c.calls...), append(sends, c.sends...)
		t.Logf("round %d: kill -9 %s after %s", round, map[bool]string{true: "during the burst", false: "while runs nap"}[c.during], delay.Round(time.Millisecond))
	}

	e := startEngine(t, jobs, data)
	// A caller whose `run` got no answer asks again with the same key: the
	// run the dead engine stored, if any, is the answer.
	resent, stored := 0, 0
	for _, tr := range calls {
		if tr.acked != "" {
			continue
		}
		got := e.cli("run", "crash", "--key", tr.name, "--env", "TRIGGER="+tr.name, "--env", "NAP="+tr.nap)
		id, _, _ := strings.Cut(got.stdout, "\n")
		if got.code != 0 || !strings.HasPrefix(id, "r-") {
			t.Fatalf("run %s again = %d %q %q", tr.name, got.code, got.stdout, got.stderr)
		}
		tr.acked, resent = id, resent+1
		if strings.Contains(got.stderr, "had already started this run") {
			stored++
		}
	}

	var runs []api.Run
	eventually(t, "every run has ended and no retry is pending", func() bool {
		runs = allRuns(t, e)
		for _, r := range runs {
			if !isTerminal(string(r.Status)) || (r.NextRunID != "" && !hasRun(runs, r.NextRunID)) {
				return false
			}
		}
		return true
	})
	chains := checkChains(t, runs)

	// Lost: an acknowledged trigger without a run. Doubled: a trigger
	// with more than one chain of attempts.
	lost, doubled, ackedSends := 0, 0, 0
	for _, tr := range calls {
		switch heads := chains.byTrigger["invoke "+tr.name]; {
		case len(heads) == 0:
			lost++
			t.Errorf("run call %s (round %d, acknowledged as %s) has no run", tr.name, tr.round, tr.acked)
		case len(heads) != 1 || heads[0] != tr.acked:
			t.Errorf("run call %s (round %d, acknowledged as %s) has first attempts %v, want exactly that one", tr.name, tr.round, tr.acked, heads)
		}
	}
	for _, tr := range sends {
		if tr.acked == "" {
			continue
		}
		ackedSends++
		if heads := chains.byTrigger["sqs "+tr.acked]; len(heads) == 0 {
			lost++
			t.Errorf("message %s (round %d, acknowledged) has no run", tr.acked, tr.round)
		}
	}
	for trig, heads := range chains.byTrigger {
		if len(heads) > 1 {
			doubled++
			t.Errorf("trigger %s has %d chains: %v", trig, len(heads), heads)
		}
	}

	checked := checkNoProcessLeft(t, jobs)
	e.stop(syscall.SIGKILL)
	checkIntegrity(t, filepath.Join(data, "longshore.db"))

	t.Logf("%d kill -9 (%d during a burst, %d while runs napped) in %s; %d run calls (%d sent again, %d of them answered with the run a dead engine had stored) and %d of %d SQS sends acknowledged; "+
		"%d runs in %d chains checked, %d interrupted; %d processes left by dead engines, %d pids checked, none alive; lost %d, doubled %d",
		rounds, kills[true], kills[false], time.Since(began).Round(100*time.Millisecond), len(calls), resent, stored, ackedSends, len(sends),
		len(runs), len(chains.heads), chains.interrupted, orphans, checked, lost, doubled)
}

// allRuns lists every run through the runs API, page after page.
func allRuns(t *testing.T, e *engine) []api.Run {
	t.Helper()
	c, err := api.NewClient(e.api)
	if err != nil {
		t.Fatal(err)
	}
	var runs []api.Run
	o := api.ListOptions{Limit: api.MaxListLimit}
	for {
		page, err := c.List(context.Background(), o)
		if err != nil {
			t.Fatalf("list runs: %v", err)
		}
		runs = append(runs, page.Runs...)
		if page.Next == "" {
			return runs
		}
		o.Cursor = page.Next
	}
}

func hasRun(runs []api.Run, id string) bool {
	for _, r := range runs {
		if r.ID == id {
			return true
		}
	}
	return false
}

// chains are the runs grouped into chains of attempts.
type chains struct {
	heads []string
	// byTrigger: the first attempts of each trigger ("invoke KEY", "sqs MESSAGE-ID").
	byTrigger   map[string][]string
	interrupted int
}

// checkChains follows each first attempt through its retries: every run is
// in exactly one chain, numbered 1, 2, ... and linked both ways, and only
// the last of a chain has no next attempt. Every run says why it ended.
func checkChains(t *testing.T, runs []api.Run) chains {
	t.Helper()
	byID := map[string]api.Run{}
	for _, r := range runs {
		byID[r.ID] = r
	}
	out := chains{byTrigger: map[string][]string{}}
	seen := map[string]bool{}
	for _, r := range runs {
		if r.Cause != nil && *r.Cause == "interrupted" {
			out.interrupted++
		}
		if r.Reason == "" || (r.Status == "failed" && r.Cause == nil) {
			t.Errorf("run %s ended %s without saying why: cause %v, reason %q", r.ID, r.Status, r.Cause, r.Reason)
		}
		if r.Attempt != 1 {
			continue
		}
		out.heads = append(out.heads, r.ID)
		trig := "sqs " + r.Trigger.MessageID
		if r.Trigger.Kind == "invoke" {
			trig = "invoke " + r.Env["TRIGGER"]
		}
		out.byTrigger[trig] = append(out.byTrigger[trig], r.ID)
		for cur := r; ; {
			if seen[cur.ID] {
				t.Fatalf("run %s is in two chains", cur.ID)
			}
			seen[cur.ID] = true
			if cur.NextRunID == "" {
				break
			}
			next, ok := byID[cur.NextRunID]
			if !ok || next.Attempt != cur.Attempt+1 || next.PreviousRunID != cur.ID {
				t.Fatalf("run %s (attempt %d) names next attempt %s: %+v", cur.ID, cur.Attempt, cur.NextRunID, next)
			}
			cur = next
		}
	}
	for _, r := range runs {
		if !seen[r.ID] {
			t.Errorf("run %s (attempt %d, previous %q) belongs to no chain", r.ID, r.Attempt, r.PreviousRunID)
		}
	}
	return out
}

// runPids reads the pids the runs wrote: pid to run id.
func runPids(t *testing.T, jobs string) map[int]string {
	t.Helper()
	dir := filepath.Join(jobs, "crash", "pids")
	files, err := os.ReadDir(dir)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	pids := map[int]string{}
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join(dir, f.Name()))
		if err != nil {
			t.Fatal(err)
		}
		for _, field := range strings.Fields(string(b)) {
			if pid, err := strconv.Atoi(field); err == nil {
				pids[pid] = f.Name()
			}
		}
	}
	return pids
}

// alivePids counts the processes of runs alive now.
func alivePids(pids map[int]string) int {
	n := 0
	for pid, id := range pids {
		if runsFor(pid, id) {
			n++
		}
	}
	return n
}

// checkNoProcessLeft waits, bounded, until no process whose pid a run
// wrote is alive, and returns how many pids it checked. A pid counts only
// while its environment still names the run, so that a pid the kernel
// gave to another process since is not taken for the run's.
func checkNoProcessLeft(t *testing.T, jobs string) int {
	t.Helper()
	pids := runPids(t, jobs)
	eventually(t, "no process of a run is alive", func() bool { return alivePids(pids) == 0 })
	return len(pids)
}

// runsFor tells whether pid is a live (not zombie) process of run id.
func runsFor(pid int, id string) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	if i := bytes.LastIndexByte(stat, ')'); i < 0 || i+2 >= len(stat) || stat[i+2] == 'Z' {
		return false
	}
	environ, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
	return err == nil && bytes.Contains(environ, []byte("LONGSHORE_RUN_ID="+id+"\x00"))
}

// checkIntegrity opens the database as the next engine would and runs
// PRAGMA integrity_check.
func checkIntegrity(t *testing.T, path string) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var got string
	if err := db.QueryRow("PRAGMA integrity_check").Scan(&got); err != nil || got != "ok" {
		t.Errorf("integrity_check of %s = %q, %v", path, got, err)
	}
}
