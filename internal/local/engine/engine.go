// Package engine is `longshore local`: the job catalog, the run lifecycle
// and every trigger on one machine — a SQLite store, a process runner and a
// container runner (on Docker or Podman, when one answers), a scheduler
// loop, S3 and SQS endpoints and the runs API — wired to the same dispatch
// services the Lambdas use on AWS.
package engine

import (
	"context"
	crand "crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/longshore/longshore/internal/api"
	"github.com/longshore/longshore/internal/cost"
	"github.com/longshore/longshore/internal/dashboard"
	"github.com/longshore/longshore/internal/deploy"
	"github.com/longshore/longshore/internal/dispatch"
	"github.com/longshore/longshore/internal/job"
	"github.com/longshore/longshore/internal/local/container"
	"github.com/longshore/longshore/internal/local/endpoint/s3"
	"github.com/longshore/longshore/internal/local/endpoint/sqs"
	"github.com/longshore/longshore/internal/local/process"
	"github.com/longshore/longshore/internal/local/scheduler"
	"github.com/longshore/longshore/internal/local/secret"
	"github.com/longshore/longshore/internal/local/store"
	"github.com/longshore/longshore/internal/local/task"
	"github.com/longshore/longshore/internal/run"
)

// Defaults of `longshore local`.
const (
	DefaultAddr    = "127.0.0.1:8750"
	DefaultS3Addr  = "127.0.0.1:8751"
	DefaultSQSAddr = "127.0.0.1:8752"
	DefaultData    = ".longshore"
	DefaultGrace   = 10 * time.Second
	// reconcileEvery is how often timeouts, due retries and quiet runs are looked at.
	reconcileEvery = time.Second
	// waitPoll is how often a request waiting for its run's end looks at
	// it besides when the store says the run was written: a back-up only.
	waitPoll = time.Second
	// quietAfter is how long a started run may go without news before the runner is asked.
	quietAfter = 30 * time.Second
)

// Config is what `longshore local` is told.
type Config struct {
	JobsDir string
	DataDir string
	Addr    string
	S3Addr  string
	SQSAddr string
	// Token, when set, must come with every request; it is required when
	// any address is not a loopback one.
	Token string
	// SecretsFile holds local secret values (default DATA/secrets.env).
	SecretsFile string
	// StartingDeadline: how late a missed schedule may still start.
	StartingDeadline time.Duration
	// Grace between SIGTERM and SIGKILL when a run is stopped.
	Grace time.Duration
	// Runner is RunnerAuto (when empty), RunnerProcess or RunnerContainer.
	Runner string
	// Network is the containers' network: container.NetworkHost (when
	// empty), so that jobs reach this engine's endpoints on 127.0.0.1, or
	// container.NetworkNone.
	Network string
	// Region prices the runs: each finished run records what its task
	// would have cost on Fargate at the Region's list prices (package
	// cost; cost.DefaultRegion's when empty or not in the table).
	Region string
	// MaxRunning bounds the runs active at once (0: no bound): runs past
	// it wait, queued, until one ends.
	MaxRunning int
	// HistoryKeep is how long finished runs are kept when their job's
	// history.keep does not say (deploy.DefaultHistoryKeep when zero).
	HistoryKeep time.Duration
	// TimeScale > 1 runs the engine's clock faster than the wall clock.
	TimeScale float64
	// Out receives the start-up banner; Log the engine's log.
	Out io.Writer
	Log *slog.Logger
	// Ready, when set, is called once every endpoint listens.
	Ready func(Addrs)
}

// Addrs are where the engine listens.
type Addrs struct {
	API, S3, SQS string
}

// Run runs the engine until ctx is done, then shuts down: it stops taking
// triggers, stops every run still going (SIGTERM, then SIGKILL after the
// grace) and records their end, and leaves no process behind.
func Run(ctx context.Context, cfg Config) error {
	cfg = withDefaults(cfg)
	log := cfg.Log
	if err := checkRunner(cfg); err != nil {
		return err
	}
	jobsDir, err := filepath.Abs(cfg.JobsDir)
	if err != nil {
		return fmt.Errorf("jobs folder %s: %w", cfg.JobsDir, err)
	}
	catalog, err := job.Load(os.DirFS(jobsDir), cfg.JobsDir, job.Options{})
	if err != nil {
		return fmt.Errorf("load the job catalog:\n%w", err)
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("create data folder: %w", err)
	}
	unlock, err := lockData(cfg.DataDir)
	if err != nil {
		return err
	}
	defer unlock()

	var clock Clock = realClock{}
	if cfg.TimeScale > 1 {
		clock = newScaledClock(cfg.TimeScale)
	}
	st, err := store.Open(ctx, filepath.Join(cfg.DataDir, "longshore.db"))
	if err != nil {
		return err
	}
	defer st.Close()
	secretsFile := cfg.SecretsFile
	if secretsFile == "" {
		secretsFile = filepath.Join(cfg.DataDir, "secrets.env")
	}
	secrets, err := secret.Load(secretsFile, os.Getenv)
	if err != nil {
		return err
	}

	var svc *dispatch.Service
	observe := func(ctx context.Context, ts run.TaskState) {
		if _, err := svc.Observe(ctx, ts); err != nil {
			log.Error("record task state", "run", ts.RunID, "err", err)
		}
	}
	procs, err := process.New(process.Options{Config: task.Config{
		JobsDir: jobsDir, DataDir: cfg.DataDir, Secrets: secrets, Grace: cfg.Grace, Now: clock.Now, Observe: observe,
		Records: st,
	}})
	if err != nil {
		return err
	}
	runner := &runners{process: procs}
	// Even with --runner process, a container runner follows (or stops)
	// the containers of earlier runs when an engine answers.
	eng, engErr := container.Find(ctx, os.Getenv)
	if engErr != nil && cfg.Runner == RunnerContainer {
		return fmt.Errorf("--runner %s: %w", RunnerContainer, engErr)
	}
	if engErr != nil {
		log.Debug("no container engine", "err", engErr)
	}
	if eng != nil {
		defer eng.Close()
		runner.container, err = container.New(container.Options{Engine: eng, Network: cfg.Network, Config: task.Config{
			JobsDir: jobsDir, DataDir: cfg.DataDir, Secrets: secrets, Grace: cfg.Grace, Now: clock.Now, Observe: observe,
		}})
		if err != nil {
			return err
		}
	}
	runner.choices = chooseAll(ctx, catalog, cfg.Runner, eng, engErr)
	noticeCtx, stopNotices := context.WithCancel(context.WithoutCancel(ctx))
	defer stopNotices()
	notices := &notices{jobs: catalog, records: st, secrets: secrets, clock: clock, log: log, ctx: noticeCtx,
		client: &http.Client{Timeout: 10 * time.Second}}
	notes := &eventLog{path: filepath.Join(cfg.DataDir, "events.jsonl"), log: log, notices: notices}
	prices, priced := cost.For(cfg.Region)
	if !priced && cfg.Region != "" {
		log.Warn("no Fargate prices for this Region: runs are priced at "+prices.Region+"'s", "region", cfg.Region)
	}
	svc = dispatch.New(dispatch.Deps{
		Jobs: catalog, Store: st, Runner: runner, Now: clock.Now, Log: log,
		Notifier: notes,
		NewID:    func() (string, error) { return run.NewID(crand.Reader) },
		Bodies:   bodyFiles{dir: filepath.Join(cfg.DataDir, "bodies")},
		Pauses:   st,
		// The slots of bounded jobs and of --max-running are kept in the
		// database, so that runs waiting for one survive a restart.
		Slots:      st,
		MaxRunning: cfg.MaxRunning,
		// What each run would have cost on Fargate.
		Prices: prices, CostBasis: cost.BasisEstimate,
	})

	lis, err := listen(cfg)
	if err != nil {
		return err
	}
	addrs := Addrs{API: lis[0].Addr().String(), S3: lis[1].Addr().String(), SQS: lis[2].Addr().String()}
	notices.setDashboard("http://" + addrs.API)
	s3h, err := s3.New(s3.Options{Dir: filepath.Join(cfg.DataDir, "s3"), Jobs: catalog, Launch: svc, Log: log})
	if err != nil {
		closeAll(lis)
		return err
	}
	defer s3h.Close()
	// Visibility timeouts and long polls follow the wall clock, whatever
	// --time-scale: the clients of the queues wait in real time.
	sqsh := sqs.New(sqs.Options{BaseURL: "http://" + addrs.SQS, Jobs: catalog, Launch: svc, Log: log,
		Dir: filepath.Join(cfg.DataDir, "sqs")})
	notes.setReplies(sqsh)
	sched, err := scheduler.New(scheduler.Options{Jobs: catalog.Jobs(), Launch: svc, Marks: st, Clock: clock,
		StartingDeadline: cfg.StartingDeadline, Log: log})
	if err != nil {
		closeAll(lis)
		return err
	}
	apiH := api.NewHandler(api.Options{
		Launcher: callbackLauncher{Launcher: svc, replies: sqsh}, Runs: st, Logs: runLogs{dir: cfg.DataDir}, Log: log, UI: dashboard.Handler(),
		Poll: waitPoll, Changes: st,
		Jobs:          func() []api.Job { return jobViews(catalog, sched, clock.Now(), runner.choices) },
		Backfill:      backfiller(sched),
		Pauser:        svc,
		Notifications: notices.Notifications,
	})

	// Recover first: runs left in flight by a previous engine are looked at
	// now, and its containers taken over or stopped.
	if runner.container != nil {
		if err := runner.container.Recover(ctx, activeIn(ctx, st)); err != nil {
			log.Warn("take over the containers of the previous engine", "err", err)
		}
	}
	if _, err := svc.Reconcile(ctx, dispatch.ReconcileOptions{}); err != nil {
		log.Warn("recover runs of the previous engine", "err", err)
	}

	servers := []*http.Server{
		{Handler: withToken(cfg.Token, apiH), ReadHeaderTimeout: 10 * time.Second},
		{Handler: withToken(cfg.Token, s3h), ReadHeaderTimeout: 10 * time.Second},
		{Handler: withToken(cfg.Token, sqsh), ReadHeaderTimeout: 10 * time.Second},
	}
	var wg sync.WaitGroup
	for i, srv := range servers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := srv.Serve(lis[i]); err != nil && !errors.Is(err, http.ErrServerClosed) {
				log.Error("serve", "addr", lis[i].Addr().String(), "err", err)
			}
		}()
	}
	loops, stopLoops := context.WithCancel(ctx)
	defer stopLoops()
	hist := &history{runs: st, jobs: catalog.Jobs(), keep: cfg.HistoryKeep, dataDir: cfg.DataDir, clock: clock, log: log}
	wg.Add(3)
	go func() { defer wg.Done(); sched.Run(loops) }()
	go func() { defer wg.Done(); reconcileLoop(loops, svc, clock, log) }()
	go func() { defer wg.Done(); hist.loop(loops) }()

	banner(cfg.Out, cfg, addrs, catalog, sched, clock.Now(), runner.choices, eng, engErr)
	if cfg.Ready != nil {
		cfg.Ready(addrs)
	}

	<-ctx.Done()
	log.Info("shutting down: stopping runs still going")
	stopLoops()
	shutCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.Grace+10*time.Second)
	defer cancel()
	for _, srv := range servers {
		srv.Shutdown(shutCtx)
	}
	stopActive(shutCtx, svc, st, log)
	if err := runner.Shutdown(shutCtx); err != nil {
		log.Error("stop processes and containers", "err", err)
	}
	// Deliveries waiting for their next attempt give up (and say so).
	stopNotices()
	notices.wait()
	wg.Wait()
	return nil
}

func withDefaults(c Config) Config {
	if c.JobsDir == "" {
		c.JobsDir = "jobs"
	}
	if c.DataDir == "" {
		c.DataDir = DefaultData
	}
	if c.Addr == "" {
		c.Addr = DefaultAddr
	}
	if c.S3Addr == "" {
		c.S3Addr = DefaultS3Addr
	}
	if c.SQSAddr == "" {
		c.SQSAddr = DefaultSQSAddr
	}
	if c.Grace <= 0 {
		c.Grace = DefaultGrace
	}
	if c.HistoryKeep <= 0 {
		c.HistoryKeep = deploy.DefaultHistoryKeep
	}
	if c.Runner == "" {
		c.Runner = RunnerAuto
	}
	if c.Network == "" {
		c.Network = container.NetworkHost
	}
	if c.Out == nil {
		c.Out = io.Discard
	}
	if c.Log == nil {
		c.Log = slog.Default()
	}
	return c
}

// lockData makes sure one engine at a time uses a data folder.
func lockData(dir string) (func(), error) {
	path := filepath.Join(dir, "engine.lock")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock data folder: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("data folder %s is in use by another longshore local: stop it, or give this one its own --data", dir)
	}
	return func() { syscall.Flock(int(f.Fd()), syscall.LOCK_UN); f.Close() }, nil
}

func listen(cfg Config) ([]net.Listener, error) {
	if err := checkToken(cfg); err != nil {
		return nil, err
	}
	var out []net.Listener
	for _, a := range []struct{ flag, addr string }{{"--addr", cfg.Addr}, {"--s3-addr", cfg.S3Addr}, {"--sqs-addr", cfg.SQSAddr}} {
		l, err := net.Listen("tcp", a.addr)
		if err != nil {
			closeAll(out)
			return nil, fmt.Errorf("listen on %s: %w (choose another address with %s)", a.addr, err, a.flag)
		}
		out = append(out, l)
	}
	return out, nil
}

func closeAll(ls []net.Listener) {
	for _, l := range ls {
		l.Close()
	}
}

func reconcileLoop(ctx context.Context, svc *dispatch.Service, clock Clock, log *slog.Logger) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-clock.After(reconcileEvery):
		}
		got, err := svc.Reconcile(ctx, dispatch.ReconcileOptions{Quiet: quietAfter})
		if err != nil && ctx.Err() == nil {
			log.Warn("reconcile", "err", err)
		}
		if got != (dispatch.Reconciled{}) {
			log.Debug("reconciled", "started", got.Started, "timedOut", got.TimedOut, "repaired", got.Repaired, "lost", got.Lost, "settled", got.Settled)
		}
	}
}

// stopActive stops every run that has not finished, for a shutdown.
func stopActive(ctx context.Context, svc *dispatch.Service, st dispatch.RunStore, log *slog.Logger) {
	q := dispatch.Query{Status: []run.Status{run.StatusQueued, run.StatusStarting, run.StatusRunning}}
	for {
		page, next, err := st.List(ctx, q)
		if err != nil {
			log.Error("list runs to stop", "err", err)
			return
		}
		for _, r := range page {
			if _, err := svc.Stop(ctx, r.ID, run.StopShutdown); err != nil {
				log.Error("stop run", "run", r.ID, "err", err)
			}
		}
		if next == "" {
			return
		}
		q.Cursor = next
	}
}

// runLogs opens the output files the process runner writes.
type runLogs struct{ dir string }

func (l runLogs) Open(runID, stream string) (io.ReadSeekCloser, error) {
	if !run.ValidID(runID) || (stream != "stdout" && stream != "stderr") {
		return nil, fs.ErrNotExist
	}
	return os.Open(filepath.Join(l.dir, "runs", runID, stream+".log"))
}

// jobViews describes the catalog for the API and the banner.
func jobViews(cat *job.Catalog, sched *scheduler.Scheduler, now time.Time, choices map[string]choice) []api.Job {
	next := map[string]time.Time{}
	schedules := map[string][]api.Schedule{}
	for _, f := range sched.Upcoming(now) {
		if t, ok := next[f.Job]; !ok || f.At.Before(t) {
			next[f.Job] = f.At
		}
		at := f.At
		schedules[f.Job] = append(schedules[f.Job], api.Schedule{Expression: f.Schedule, Timezone: f.Timezone, NextFire: &at})
	}
	var out []api.Job
	for _, s := range cat.Jobs() {
		v := api.Job{Name: s.Name, Description: s.Description, Triggers: s.TriggerWords(func(q string) string { return q }), Runner: choices[s.Name].words, Schedules: schedules[s.Name]}
		if s.Concurrency.Limited() {
			v.Concurrency = s.Concurrency.String()
		}
		if t, ok := next[s.Name]; ok {
			v.NextFire = &t
		}
		out = append(out, v)
	}
	return out
}

func banner(w io.Writer, cfg Config, a Addrs, cat *job.Catalog, sched *scheduler.Scheduler, now time.Time,
	choices map[string]choice, eng *container.Engine, engErr error) {
	fmt.Fprintf(w, "longshore local: %d job(s) from %s, data in %s\n", len(cat.Jobs()), cfg.JobsDir, cfg.DataDir)
	switch {
	case cfg.Runner == RunnerProcess:
	case eng != nil:
		fmt.Fprintf(w, "container engine: %s (API %s), network %s\n", eng.Host(), eng.APIVersion(), cfg.Network)
	case cfg.Runner == RunnerAuto && errors.Is(engErr, container.ErrNoEngine):
		// The full error, with each socket's own, is in the log.
		fmt.Fprintln(w, "container engine: none answers (set DOCKER_HOST, or start Docker or `podman system service`); jobs run as processes")
	case cfg.Runner == RunnerAuto:
		fmt.Fprintf(w, "container engine: none, jobs run as processes (%v)\n", engErr)
	}
	for _, v := range jobViews(cat, sched, now, choices) {
		line := fmt.Sprintf("  %-16s %s", v.Name, v.Runner)
		if v.NextFire != nil {
			line += "; next " + v.NextFire.Format(time.RFC3339)
		}
		fmt.Fprintln(w, line)
	}
	fmt.Fprintf(w, "runs API and Lambda invoke: http://%s   (LONGSHORE_ENDPOINT)\n", a.API)
	fmt.Fprintf(w, "S3 endpoint:                http://%s   (AWS_ENDPOINT_URL_S3; bucket \"uploads\")\n", a.S3)
	fmt.Fprintf(w, "SQS endpoint:               http://%s   (AWS_ENDPOINT_URL_SQS)\n", a.SQS)
	fmt.Fprintf(w, "dashboard:                  http://%s/\n", a.API)
	fmt.Fprintln(w, "try: longshore run hello --env EXIT_CODE=3 --wait")
}
