package bench

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/longshore/longshore/internal/local/container"
)

// scratchImage is the image the container rows run: a static program that
// exits 0, FROM scratch.
const scratchImage = "localhost/longshore-bench-scratch"

// Containers measures runs of a FROM scratch image on the container
// engine (DOCKER_HOST, or Docker's or Podman's usual socket): one
// `longshore run --wait` against one `podman run --rm` (or `docker run
// --rm`) with the same limits and network, in alternating rounds; and 20
// of each, 5 at a time. Without an engine and its command line it says so
// instead of measuring.
func Containers(ctx context.Context, bin string, rounds int) ([]Row, error) {
	names := []string{"container: one run --wait of a FROM scratch image", "container: 20 runs --wait of it, 5 at a time"}
	eng, err := container.Find(ctx, os.Getenv)
	if err != nil {
		return notMeasured(names, "no container engine answers (set DOCKER_HOST)"), nil
	}
	host := eng.Host()
	eng.Close()
	cli := ""
	for _, c := range []string{"podman", "docker"} {
		if _, err := exec.LookPath(c); err == nil {
			cli = c
			break
		}
	}
	if cli == "" {
		return notMeasured(names, "neither podman nor docker is installed to compare with"), nil
	}
	if err := buildScratch(ctx, cli); err != nil {
		return nil, err
	}
	jobs, err := writeJobs(map[string]string{"scratch": "image: {uri: " + scratchImage + "}\ncpu: 256\nmemory: 512\ntriggers: [invoke]\n"})
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(jobs)
	os.Setenv("DOCKER_HOST", host)
	e, err := launchEngineIn(bin, jobs, "", "--runner", "container", "--network", "host")
	if err != nil {
		return nil, err
	}
	defer e.stop()
	ours := func() error {
		cmd := exec.CommandContext(ctx, bin, "run", "scratch", "--wait", "--progress", "plain")
		cmd.Env = append(os.Environ(), "LONGSHORE_ENDPOINT="+e.api)
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("longshore run scratch --wait: %v: %s", err, out)
		}
		return nil
	}
	theirs := func() error {
		cmd := exec.CommandContext(ctx, cli, "run", "--rm", "--cpus", "0.25", "--memory", "512m", "--memory-swap", "512m", "--network", "host", scratchImage)
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("%s run: %v: %s", cli, err, out)
		}
		return nil
	}
	if err := ours(); err != nil { // warm up both
		return nil, err
	}
	if err := theirs(); err != nil {
		return nil, err
	}
	var rows []Row
	for i, n := range []int{1, 20} {
		conc := min(n, 5)
		var pairs [][2]time.Duration
		for range max(rounds, 1) * map[int]int{1: 2, 20: 1}[n] {
			a, err := timed(n, conc, ours)
			if err != nil {
				return rows, err
			}
			b, err := timed(n, conc, theirs)
			if err != nil {
				return rows, err
			}
			pairs = append(pairs, [2]time.Duration{a, b})
		}
		slices.SortFunc(pairs, func(x, y [2]time.Duration) int { return cmp.Compare(ratio(x[0], x[1]), ratio(y[0], y[1])) })
		med := pairs[len(pairs)/2]
		r := ratio(med[0], med[1])
		rows = append(rows, Row{
			Name:     fmt.Sprintf("%s (median of %d alternating rounds)", names[i], len(pairs)),
			Value:    med[0].Round(time.Millisecond).String(),
			Baseline: fmt.Sprintf("%s run --rm, same limits: %s", cli, med[1].Round(time.Millisecond)),
			Ratio:    r, Target: "<= 1.2x", Met: r <= 1.2,
		})
	}
	return rows, nil
}

// timed runs f n times, conc at a time, and times them all.
func timed(n, conc int, f func() error) (time.Duration, error) {
	start := time.Now()
	var wg sync.WaitGroup
	work := make(chan struct{})
	errs := make(chan error, n)
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range work {
				if err := f(); err != nil {
					errs <- err
				}
			}
		}()
	}
	for range n {
		work <- struct{}{}
	}
	close(work)
	wg.Wait()
	took := time.Since(start)
	close(errs)
	return took, <-errs
}

// buildScratch builds scratchImage: a static Go program that exits 0.
func buildScratch(ctx context.Context, cli string) error {
	dir, err := os.MkdirTemp("", "longshore-bench-image-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	files := map[string]string{
		"go.mod":        "module scratch\n\ngo 1.22\n",
		"main.go":       "package main\n\nfunc main() {}\n",
		"Containerfile": "FROM scratch\nCOPY app /app\nENTRYPOINT [\"/app\"]\n",
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			return err
		}
	}
	build := exec.CommandContext(ctx, "go", "build", "-ldflags=-s -w", "-o", "app", ".")
	build.Dir, build.Env = dir, append(os.Environ(), "CGO_ENABLED=0", "GOWORK=off")
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("build the scratch program: %v: %s", err, out)
	}
	img := exec.CommandContext(ctx, cli, "build", "-q", "-t", scratchImage, "-f", "Containerfile", ".")
	img.Dir = dir
	if out, err := img.CombinedOutput(); err != nil {
		return fmt.Errorf("%s build the scratch image: %v: %s", cli, err, out)
	}
	return nil
}

// notMeasured are rows that say why they were not measured.
func notMeasured(names []string, why string) []Row {
	rows := make([]Row, len(names))
	for i, n := range names {
		rows[i] = Row{Name: n, Value: "not measured: " + why, Target: "<= 1.2x"}
	}
	return rows
}
