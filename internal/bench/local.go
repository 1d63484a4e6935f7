package bench

import (
	"cmp"
	"context"
	"fmt"
	"os/exec"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/longshore/longshore/internal/api"
)

// Throughput runs n trivial runs through the engine, concurrency at a time,
// each from submit to its exit code recorded, against the same n commands
// started and reaped by a Go program with os/exec, concurrency at a time
// (the fork/exec floor: faster than `xargs -P` on these machines), in
// turns: rounds pairs, of which the median ratio is reported (one round of
// 1,000 runs on a shared 2-core machine moves by a tenth either way).
func Throughput(ctx context.Context, bin string, n, concurrency, rounds int) (Row, error) {
	e, c, err := startEngine(bin, map[string]string{"trivial": "local: {command: [true]}\n"})
	if err != nil {
		return Row{}, err
	}
	defer e.stop()
	// Warm up: the first run pays for lazy set-up.
	if _, err := c.Start(ctx, api.RunRequest{Job: "trivial", WaitSeconds: 60}); err != nil {
		return Row{}, err
	}
	type pair struct{ took, floor time.Duration }
	var pairs []pair
	for range max(rounds, 1) {
		took, err := throughputRound(ctx, c, n, concurrency)
		if err != nil {
			return Row{}, err
		}
		floor, err := execFloor(ctx, "true", n, concurrency)
		if err != nil {
			return Row{}, err
		}
		pairs = append(pairs, pair{took, floor})
	}
	slices.SortFunc(pairs, func(a, b pair) int { return cmp.Compare(ratio(a.took, a.floor), ratio(b.took, b.floor)) })
	med := pairs[len(pairs)/2]
	r := ratio(med.took, med.floor)
	name := fmt.Sprintf("local throughput: %d runs of `true`, %d at a time", n, concurrency)
	if len(pairs) > 1 {
		name += fmt.Sprintf(" (median of %d rounds; ratios %.2fx to %.2fx)", len(pairs),
			ratio(pairs[0].took, pairs[0].floor), ratio(pairs[len(pairs)-1].took, pairs[len(pairs)-1].floor))
	}
	return Row{
		Name:     name,
		Value:    med.took.Round(time.Millisecond).String(),
		Baseline: fmt.Sprintf("os/exec, %d at a time: %s", concurrency, med.floor.Round(time.Millisecond)),
		Ratio:    r, Target: "<= 1.15x", Met: r <= 1.15,
	}, nil
}

// execFloor starts and reaps n processes of command with os/exec,
// concurrency at a time, and times them: what any Go program must pay.
func execFloor(ctx context.Context, command string, n, concurrency int) (time.Duration, error) {
	path, err := exec.LookPath(command)
	if err != nil {
		return 0, err
	}
	return timed(n, concurrency, func() error {
		if err := exec.CommandContext(ctx, path).Run(); err != nil {
			return fmt.Errorf("%s: %w", command, err)
		}
		return nil
	})
}

// throughputRound runs n runs, concurrency at a time, and times them.
func throughputRound(ctx context.Context, c *api.Client, n, concurrency int) (time.Duration, error) {
	return timed(n, concurrency, func() error {
		r, err := c.Start(ctx, api.RunRequest{Job: "trivial", WaitSeconds: 60})
		if err == nil && (!r.Status.Terminal() || r.ExitCode == nil || *r.ExitCode != 0) {
			err = fmt.Errorf("run %s ended %s", r.ID, r.Status)
		}
		return err
	})
}

// Latency measures, with many jobs in the catalog, the time from a trigger
// (an invoke, an S3 PUT, an SQS send) to its run's process started, p50 and p99.
func Latency(ctx context.Context, bin string, jobsInCatalog, samples int) ([]Row, error) {
	files := map[string]string{
		"target": "local: {command: [true]}\ntriggers:\n  - invoke\n  - s3: {prefix: bench/}\n  - sqs: {queue: bench}\n",
	}
	for i := range jobsInCatalog - 1 {
		files[fmt.Sprintf("job-%04d", i)] = fmt.Sprintf("local: {command: [true]}\ntriggers:\n  - s3: {prefix: other-%04d/}\n  - sqs: {queue: q-%04d}\n  - schedule: cron(%d %d * * ? *)\n", i, i, i%60, i%24)
	}
	e, c, err := startEngine(bin, files)
	if err != nil {
		return nil, err
	}
	defer e.stop()
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("bench", "bench", "")}
	s3c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.BaseEndpoint = aws.String(e.s3); o.UsePathStyle = true })
	sqsc := sqs.NewFromConfig(cfg, func(o *sqs.Options) { o.BaseEndpoint = aws.String(e.sqs) })
	queue, err := sqsc.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String("bench")})
	if err != nil {
		return nil, err
	}
	triggers := []struct {
		name string
		fire func(i int) error
	}{
		{"invoke", func(int) error {
			_, err := c.Start(ctx, api.RunRequest{Job: "target"})
			return err
		}},
		{"S3 PUT", func(i int) error {
			_, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("uploads"), Key: aws.String(fmt.Sprintf("bench/%d", i)), Body: strings.NewReader("x")})
			return err
		}},
		{"SQS send", func(i int) error {
			_, err := sqsc.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: queue.QueueUrl, MessageBody: aws.String(fmt.Sprint(i))})
			return err
		}},
	}
	var rows []Row
	for _, tr := range triggers {
		var lat []time.Duration
		for i := range samples {
			before := newestID(ctx, c)
			t0 := time.Now()
			if err := tr.fire(i); err != nil {
				return nil, fmt.Errorf("%s: %w", tr.name, err)
			}
			r, err := waitStarted(ctx, c, before)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", tr.name, err)
			}
			lat = append(lat, r.StartedAt.Sub(t0))
		}
		p50, p99 := percentile(lat, 50), percentile(lat, 99)
		rows = append(rows, Row{
			Name:   fmt.Sprintf("trigger to start, %s (%d jobs in the catalog, %d samples)", tr.name, jobsInCatalog, samples),
			Value:  fmt.Sprintf("p50 %s, p99 %s", p50.Round(10*time.Microsecond), p99.Round(10*time.Microsecond)),
			Target: "p99 <= 10ms", Met: p99 <= 10*time.Millisecond,
		})
	}
	return rows, nil
}

func newestID(ctx context.Context, c *api.Client) string {
	l, err := c.List(ctx, api.ListOptions{Job: "target", Limit: 1})
	if err != nil || len(l.Runs) == 0 {
		return ""
	}
	return l.Runs[0].ID
}

// waitStarted waits for the run newer than before to have started.
func waitStarted(ctx context.Context, c *api.Client, before string) (api.Run, error) {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		l, err := c.List(ctx, api.ListOptions{Job: "target", Limit: 1})
		if err != nil {
			return api.Run{}, err
		}
		if len(l.Runs) == 1 && l.Runs[0].ID != before && l.Runs[0].StartedAt != nil {
			return l.Runs[0], nil
		}
		time.Sleep(2 * time.Millisecond)
	}
	return api.Run{}, fmt.Errorf("no run started within 30s")
}

func percentile(d []time.Duration, p int) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	i := (len(s)*p + 99) / 100
	return s[min(max(i-1, 0), len(s)-1)]
}

func ratio(a, b time.Duration) float64 {
	if b <= 0 {
		return 0
	}
	return float64(a) / float64(b)
}
