package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/longshore/longshore/internal/aws/dynamo"
	"github.com/longshore/longshore/internal/aws/dynamo/dynamotest"
	"github.com/longshore/longshore/internal/aws/ecs"
	"github.com/longshore/longshore/internal/deploy"
)

// costRuns is how many successful runs the cost measurement makes: the
// first is the one metered (a new function instance, which reads the job's
// pause state); the CPU time per invocation is the median of the others.
// costActive runs are then left going for the reconciler and the api.
const (
	costRuns   = 30
	costActive = 50
	costJob    = "hello"
)

// Calls measures what one successful run costs the deployment beyond its
// task, from the deployment itself: the CDK app is synthesized and the
// functions' memory, architecture and environment and the runs table's
// indexes are read from its template; the launcher's and the tracker's real
// bootstraps run under a fake Lambda Runtime API with that environment, the
// table (as the template makes it) in dynalite behind a meter (ddbMeter)
// and ECS and EventBridge faked (fakeAWS). One run is a direct invoke of
// the launcher, then its task's STOPPED event to the tracker (the one task
// event the deployed rule delivers). Each DynamoDB request is metered from
// the items it wrote or read, each function's CPU time is measured, its log
// lines counted, and all is priced (awsPrices). The reconciler's minute and
// an api listing are metered the same way, with runs going.
func Calls(ctx context.Context) ([]Row, error) {
	dir, err := os.MkdirTemp("", "longshore-bench-cost-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	d, err := synthesize(ctx, dir)
	if err != nil {
		return nil, err
	}
	if diff := d.table.sameIndexes(dynamo.TableSchema("runs")); diff != "" {
		return nil, fmt.Errorf("the store's tests would not run on the deployed table: %s", diff)
	}
	srv, err := dynamotest.Run()
	if err != nil {
		return nil, err
	}
	defer srv.Stop()
	const table = "longshore-bench-runs"
	if err := dynamotest.Create(ctx, dynamotest.Client(srv.URL), d.table.createInput(table)); err != nil {
		return nil, err
	}
	meter := newDDBMeter(srv.URL, d.table)
	meterURL, stopMeter, err := serve(meter)
	if err != nil {
		return nil, err
	}
	defer stopMeter()
	fake := newFakeAWS()
	fakeURL, stopFake, err := serve(fake)
	if err != nil {
		return nil, err
	}
	defer stopFake()

	procs := map[string]*lambdaProc{}
	defer func() {
		for _, p := range procs {
			p.stop()
		}
	}()
	for _, name := range lambdas {
		bin := filepath.Join(dir, name)
		build := exec.CommandContext(ctx, "go", "build", "-tags", "lambda.norpc", "-o", bin, "./functions/"+name)
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := build.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("build %s: %v: %s", name, err, out)
		}
		env, err := d.env(name, table, meterURL, fakeURL)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		p, err := startLambda(ctx, bin, env)
		if err != nil {
			return nil, err
		}
		procs[name] = p
	}
	launcher, tracker := procs[deploy.FunctionLauncher], procs[deploy.FunctionTracker]
	stoppedTmpl, err := os.ReadFile(filepath.Join("internal", "aws", "handler", "testdata", "ecs-task-stopped-exit-0.json"))
	if err != nil {
		return nil, err
	}
	logStart := map[string]int{deploy.FunctionLauncher: len(launcher.stderr.String()), deploy.FunctionTracker: len(tracker.stderr.String())}

	var first runCost
	var cpus = map[string][]time.Duration{}
	for i := range costRuns {
		rc, err := oneRun(launcher, tracker, meter, fake, stoppedTmpl)
		if err != nil {
			return nil, fmt.Errorf("run %d: %w", i+1, err)
		}
		if i == 0 {
			first = rc
			continue
		}
		for fn, c := range rc.cpu {
			cpus[fn] = append(cpus[fn], c)
		}
	}
	time.Sleep(100 * time.Millisecond) // the last log lines reach the pipe
	logs := map[string]logVolume{}
	for fn, p := range map[string]*lambdaProc{deploy.FunctionLauncher: launcher, deploy.FunctionTracker: tracker} {
		out := p.stderr.String()[logStart[fn]:]
		lines := strings.Count(out, "\n")
		logs[fn] = logVolume{bytes: float64(len(out)) / costRuns, events: float64(lines) / costRuns}
	}

	// Runs left going, then the reconciler's minute and an api listing.
	meter.setPhase("launcher")
	fake.setPhase("launcher")
	for i := range costActive {
		if _, _, err := launcher.invoke([]byte(`{"job": "` + costJob + `"}`)); err != nil {
			return nil, fmt.Errorf("active run %d: %w", i+1, err)
		}
	}
	meter.take()
	fake.take()
	meter.setPhase("reconciler")
	if _, _, err := procs[deploy.FunctionReconciler].invoke([]byte(`{}`)); err != nil {
		return nil, fmt.Errorf("reconciler: %w", err)
	}
	reconcilerOps, errs := meter.take()
	meter.setPhase("api")
	if _, _, err := procs[deploy.FunctionAPI].invoke([]byte(`{"op": "list", "job": "` + costJob + `", "limit": 50}`)); err != nil {
		return nil, fmt.Errorf("api list: %w", err)
	}
	listOps, errs2 := meter.take()
	peaks := map[string]int64{}
	for fn, p := range procs {
		peaks[fn] = p.peakKiB()
	}
	if errs = append(errs, errs2...); len(errs) > 0 {
		return nil, fmt.Errorf("metering: %s", strings.Join(errs, "; "))
	}
	return costRows(d, first, cpus, logs, peaks, reconcilerOps, listOps), nil
}

// runCost is what one successful run did.
type runCost struct {
	ops   []ddbOp
	calls []awsCall
	cpu   map[string]time.Duration // by function
}

type logVolume struct {
	bytes, events float64 // per invocation
}

// oneRun makes one successful run: a direct invoke of the launcher, then its
// task's STOPPED event to the tracker.
func oneRun(launcher, tracker *lambdaProc, meter *ddbMeter, fake *fakeAWS, stoppedTmpl []byte) (runCost, error) {
	rc := runCost{cpu: map[string]time.Duration{}}
	meter.setPhase(deploy.FunctionLauncher)
	fake.setPhase(deploy.FunctionLauncher)
	out, cpu, err := launcher.invoke([]byte(`{"job": "` + costJob + `"}`))
	if err != nil {
		return rc, fmt.Errorf("launcher: %w", err)
	}
	rc.cpu[deploy.FunctionLauncher] = cpu
	var launched struct {
		ID     string `json:"id"`
		Status string `json:"status"`
	}
	if err := json.Unmarshal(out, &launched); err != nil || launched.ID == "" {
		return rc, fmt.Errorf("launcher answered %s", out)
	}
	task, ok := fake.task(ecs.StartedBy(launched.ID))
	if !ok {
		return rc, fmt.Errorf("run %s (%s): no task was started", launched.ID, launched.Status)
	}
	now := time.Now().UTC()
	ev := strings.NewReplacer(
		"arn:aws:ecs:us-east-1:111122223333:task/longshore/3f1d2e4c5b6a47889900aabbccddeeff", task.arn,
		"arn:aws:ecs:us-east-1:111122223333:cluster/longshore", task.cluster,
		"longshore:r-7f3a2c91", ecs.StartedBy(launched.ID),
		"family:longshore-hello", task.group,
		"2026-11-22T10:", now.Format("2006-01-02T15:"),
	).Replace(string(stoppedTmpl))
	meter.setPhase(deploy.FunctionTracker)
	fake.setPhase(deploy.FunctionTracker)
	out, cpu, err = tracker.invoke([]byte(ev))
	if err != nil {
		return rc, fmt.Errorf("tracker: %w", err)
	}
	rc.cpu[deploy.FunctionTracker] = cpu
	var tracked struct {
		Applied bool   `json:"applied"`
		Status  string `json:"status"`
	}
	if err := json.Unmarshal(out, &tracked); err != nil || !tracked.Applied || tracked.Status != "succeeded" {
		return rc, fmt.Errorf("tracker answered %s", out)
	}
	var errs []string
	rc.ops, errs = meter.take()
	if len(errs) > 0 {
		return rc, fmt.Errorf("metering: %s", strings.Join(errs, "; "))
	}
	rc.calls = fake.take()
	for _, c := range rc.calls {
		if c.service != "ECS" && c.service != "EventBridge" {
			return rc, fmt.Errorf("%s called %s %s, which the bench does not fake", c.phase, c.service, c.op)
		}
	}
	return rc, nil
}

// env is a function's environment as Lambda gives it: the template's
// variables (resources resolved to the bench's), the layers' folders for
// /opt, and the Lambda runtime's own; AWS calls go to the meter (DynamoDB)
// and the fake (the rest).
func (d *deployment) env(name, table, dynamoURL, awsURL string) ([]string, error) {
	f := d.functions[name]
	var env []string
	keys := make([]string, 0, len(f.env))
	for k := range f.env {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		v, err := d.resolve(f.env[k], table)
		if err != nil {
			return nil, fmt.Errorf("variable %s: %w", k, err)
		}
		if rest, ok := strings.CutPrefix(v, "/opt/"); ok {
			found := false
			for _, l := range f.layers {
				if _, err := os.Stat(filepath.Join(l, rest)); err == nil {
					v, found = filepath.Join(l, rest), true
					break
				}
			}
			if !found {
				return nil, fmt.Errorf("variable %s: %s is in none of the function's layers", k, v)
			}
		}
		env = append(env, k+"="+v)
	}
	env = append(env,
		"AWS_REGION="+benchRegion, "AWS_ACCESS_KEY_ID=AKIDTEST", "AWS_SECRET_ACCESS_KEY=secret", "AWS_SESSION_TOKEN=bench",
		"AWS_LAMBDA_FUNCTION_NAME="+f.name, fmt.Sprintf("AWS_LAMBDA_FUNCTION_MEMORY_SIZE=%d", f.memoryMB),
		"AWS_ENDPOINT_URL="+awsURL, "AWS_ENDPOINT_URL_DYNAMODB="+dynamoURL,
	)
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "PATH=") || strings.HasPrefix(kv, "HOME=") {
			env = append(env, kv)
		}
	}
	return env, nil
}

// serve serves h on a free loopback port.
func serve(h http.Handler) (string, func(), error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	s := &http.Server{Handler: h}
	go s.Serve(l)
	return "http://" + l.Addr().String(), func() { s.Close() }, nil
}

// costRows prices the run and says where each dollar goes.
func costRows(d *deployment, rc runCost, cpus map[string][]time.Duration, logs map[string]logVolume, peaks map[string]int64,
	reconcilerOps, listOps []ddbOp) []Row {
	p := awsPrices
	var wru, rru float64
	var calls, units []string
	var dynamoCalls, events int
	var eventUnits float64
	var resultEvent int
	waits := map[string]float64{} // ms by function
	var final item                // the run's item as the run leaves it
	for _, o := range rc.ops {
		wru += o.totalWRU()
		rru += o.rru
		dynamoCalls++
		waits[o.phase] += awsLatency["DynamoDB"]
		calls = append(calls, o.phase+" "+o.op+" "+o.what)
		units = append(units, o.phase+" "+o.describe())
		if o.what == "run" && o.after != nil {
			final = o.after
		}
	}
	for _, c := range rc.calls {
		waits[c.phase] += awsLatency[c.service]
		if c.service != "EventBridge" {
			calls = append(calls, fmt.Sprintf("%s %s %s (not billed)", c.phase, c.service, c.op))
			continue
		}
		events++
		for _, size := range c.events {
			eventUnits += math.Ceil(float64(size) / (64 << 10))
			resultEvent = max(resultEvent, size)
		}
		calls = append(calls, fmt.Sprintf("%s PutEvents of %d entry", c.phase, len(c.events)))
	}
	dynamoUSD := wru*p.WriteUnit + rru*p.ReadUnit
	eventsUSD := eventUnits * p.Event

	var lambdaUSD, logBytes float64
	var fnNotes, logNotes []string
	platform := 0
	for _, r := range platformRecords {
		platform += len(r) + 1 + logEventOverhead
	}
	for _, fn := range []string{deploy.FunctionLauncher, deploy.FunctionTracker} {
		f := d.functions[fn]
		cpu := percentile(cpus[fn], 50)
		// Lambda gives a function CPU in proportion to its memory.
		cpuMS := float64(cpu) / 1e6 * lambdaVCPUMB / float64(f.memoryMB)
		ms := math.Ceil(cpuMS + waits[fn])
		lambdaUSD += p.LambdaRequest + float64(f.memoryMB)/1024*ms/1000*p.GBSecond[f.arch]
		fnNotes = append(fnNotes, fmt.Sprintf("%s %d MB %s: %.2f ms of CPU here, %.1f ms at its share of a vCPU, + %.0f ms waiting on AWS = %.0f ms billed",
			fn, f.memoryMB, f.arch, float64(cpu)/1e6, cpuMS, waits[fn], ms))
		lv := logs[fn]
		b := lv.bytes + lv.events*logEventOverhead + float64(platform)
		logBytes += b
		logNotes = append(logNotes, fmt.Sprintf("%s %.0f B (%.1f lines of its own, %d of Lambda's)", fn, b, lv.events, len(platformRecords)))
	}
	if d.resultsLogged() && resultEvent > 0 {
		// The results bus's rule copies each result event, in EventBridge's
		// envelope, into the results log group.
		b := float64(resultEvent+envelopeBytes) + logEventOverhead
		logBytes += b
		logNotes = append(logNotes, fmt.Sprintf("the result event %.0f B", b))
	}
	logsUSD := logBytes / (1 << 30) * p.LogGB
	callsUSD := dynamoUSD + eventsUSD + lambdaUSD
	sfn := 3 * p.Transition * 1e6

	// The run's item is kept, in the table and in the indexes that hold
	// it, until its history.keep has passed.
	keep := d.historyKeep()
	months := keep.Hours() / 730
	stored := float64(itemSize(final) + storageItemOverhead)
	tableBytes := stored
	for _, ix := range d.table.indexes {
		if hasKeys(final, ix) {
			stored += float64(itemSize(project(final, d.table.key, ix)) + storageItemOverhead)
		}
	}
	storageUSD := stored / (1 << 30) * months * p.StorageGBMonth
	if d.pitr() {
		storageUSD += tableBytes / (1 << 30) * months * p.PITRGBMonth
	}
	allUSD := callsUSD + logsUSD + storageUSD

	var indexes []string
	for _, ix := range d.table.indexes {
		indexes = append(indexes, ix.String())
	}
	var peakNotes []string
	peakMet := true
	for _, fn := range lambdas {
		f := d.functions[fn]
		mib := float64(peaks[fn]) / 1024
		peakMet = peakMet && mib < float64(f.memoryMB)/2
		peakNotes = append(peakNotes, fmt.Sprintf("%s %.1f MiB of %d MB", fn, mib, f.memoryMB))
	}
	var recRRU, listRRU float64
	for _, o := range reconcilerOps {
		recRRU += o.rru
	}
	for _, o := range listOps {
		listRRU += o.rru
	}
	return []Row{{
		Name: "AWS API calls per successful run, beyond RunTask",
		Value: fmt.Sprintf("%d (%d DynamoDB, %d PutEvents), made in 2 Lambda invocations (priced below): %s",
			dynamoCalls+events, dynamoCalls, events, strings.Join(calls, "; ")),
		// Two writes and a read of the run, its result, and the job's pause
		// state (read once per function instance every host.PauseCacheTTL).
		Target: "<= 5", Met: dynamoCalls+events <= 5,
	}, {
		Name:  "DynamoDB per successful run, metered from its items; indexes as the template declares them: " + strings.Join(indexes, "; "),
		Value: fmt.Sprintf("%g WRU, %g RRU: %s", wru, rru, strings.Join(units, "; ")),
	}, {
		Name:  "Lambda per successful run: memory and architecture from the template, CPU measured, AWS's answers assumed (" + latencies() + ")",
		Value: strings.Join(fnNotes, "; "),
	}, {
		Name:  "Lambda peak memory (VmHWM) after the runs, the reconciler's minute and an api list, beside the template's memory",
		Value: strings.Join(peakNotes, ", "), Target: "< half the memory", Met: peakMet,
	}, {
		Name: "control-plane cost per million runs: the calls (prices of " + pricesAsOf + ")",
		Value: fmt.Sprintf("$%.2f: DynamoDB $%.2f, EventBridge $%.2f, Lambda $%.2f",
			callsUSD*1e6, dynamoUSD*1e6, eventsUSD*1e6, lambdaUSD*1e6),
		Baseline: fmt.Sprintf("Step Functions runTask.sync: $%.2f", sfn),
		Ratio:    callsUSD * 1e6 / sfn, Target: "<= 0.1x (10x cheaper)", Met: callsUSD*1e6/sfn <= 0.1,
	}, {
		Name: fmt.Sprintf("beyond the calls, per million runs: logs ingested, and the run kept %s (history.keep) in the table and its indexes", days(keep)),
		Value: fmt.Sprintf("logs $%.2f (%.1f KB: %s); storage $%.2f (%.1f KB for %.1f months%s); with the calls $%.2f",
			logsUSD*1e6, logBytes/1000, strings.Join(logNotes, ", "), storageUSD*1e6, stored/1000, months, pitrNote(d.pitr()), allUSD*1e6),
		Baseline: fmt.Sprintf("Step Functions runTask.sync: $%.2f", sfn), Ratio: allUSD * 1e6 / sfn,
	}, {
		Name:  "each index projecting only its keys instead, for this run (writes) and for a run listed through it (reads)",
		Value: whatIf(d.table, rc.ops, final),
	}, {
		Name:  fmt.Sprintf("reads of the reconciler's minute with %d runs going, and of an api list of a job's runs (a page of 50)", costActive),
		Value: fmt.Sprintf("reconciler %g RRU (%s); list %g RRU (%s)", recRRU, describeOps(reconcilerOps), listRRU, describeOps(listOps)),
	}}
}

// whatIf says what the run's index writes, and the reads of a run listed
// through each index, would be if that index projected only its keys, the
// store then reading each listed run whole (0.5 RRU: an eventually
// consistent read of an item under 4 KB).
func whatIf(t tableDef, ops []ddbOp, final item) string {
	var out []string
	for i, ix := range t.indexes {
		alt := t
		alt.indexes = slices.Clone(t.indexes)
		alt.indexes[i].projection, alt.indexes[i].nonKey = "KEYS_ONLY", nil
		var now, then float64
		for _, o := range ops {
			for _, w := range o.index {
				if w.index == ix.name {
					now += w.wru
				}
			}
			if o.before == nil && o.after == nil {
				continue
			}
			for _, w := range indexWrites(alt, o.before, o.after) {
				if w.index == ix.name {
					then += w.wru
				}
			}
		}
		readNow := float64(itemSize(project(final, t.key, ix))) / 4096 / 2
		readThen := float64(itemSize(project(final, alt.key, alt.indexes[i])))/4096/2 + readUnits(itemSize(final), false)
		out = append(out, fmt.Sprintf("%s: %g WRU -> %g, %.3f RRU -> %.3f a run listed", ix.name, now, then, readNow, readThen))
	}
	return strings.Join(out, "; ")
}

func latencies() string {
	var s []string
	for _, k := range []string{"DynamoDB", "EventBridge", "ECS"} {
		s = append(s, fmt.Sprintf("%s %g ms", k, awsLatency[k]))
	}
	return strings.Join(s, ", ")
}

func days(d time.Duration) string { return fmt.Sprintf("%.0f days", d.Hours()/24) }

func pitrNote(on bool) string {
	if on {
		return ", point-in-time recovery of the table's copy included"
	}
	return ""
}

// historyKeep is how long the functions keep a finished run (their
// environment's deploy.EnvHistoryKeep), dynamo.DefaultRetention when unset.
func (d *deployment) historyKeep() time.Duration {
	v, _ := d.functions[deploy.FunctionTracker].env[deploy.EnvHistoryKeep].(string)
	if k, err := time.ParseDuration(v); err == nil && k > 0 {
		return k
	}
	return dynamo.DefaultRetention
}

// pitr says whether the runs table has point-in-time recovery.
func (d *deployment) pitr() bool { return d.table.pitr }

// envelopeBytes is what EventBridge's envelope adds to an event's detail
// (version, id, detail-type, source, account, time, region, resources).
const envelopeBytes = 250

// resultsLogged says whether the template copies the results bus's events
// into a log group (a rule on the bus with a log group target).
func (d *deployment) resultsLogged() bool {
	for _, r := range d.resources {
		if r.Type != "AWS::Events::Rule" {
			continue
		}
		b, _ := json.Marshal(r.Properties)
		if strings.Contains(string(b), deploy.EventBusName(deploy.DefaultPrefix)) && strings.Contains(string(b), "log-group") {
			return true
		}
	}
	return false
}

// describe says what a metered request cost.
func (o ddbOp) describe() string {
	s := o.op + " " + o.what
	if o.failed {
		s += " (condition failed)"
	}
	if o.rru > 0 {
		return fmt.Sprintf("%s %g RRU", s, o.rru)
	}
	s += fmt.Sprintf(" %g WRU (%d B)", o.wru, o.size)
	for _, ix := range o.index {
		s += fmt.Sprintf(" + %s %s %g", ix.index, ix.why, ix.wru)
	}
	return s
}

func describeOps(ops []ddbOp) string {
	counts := map[string]int{}
	var order []string
	for _, o := range ops {
		k := o.op + " " + o.what
		if counts[k] == 0 {
			order = append(order, k)
		}
		counts[k]++
	}
	var s []string
	for _, k := range order {
		s = append(s, fmt.Sprintf("%d %s", counts[k], k))
	}
	return strings.Join(s, ", ")
}
