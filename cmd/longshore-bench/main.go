// Command longshore-bench measures Longshore against baselines in one run
// and prints one table of ratios (make bench); with -write it also keeps
// the table, dated, in docs/benchmarks.md.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"

	"github.com/longshore/longshore/internal/bench"
)

func main() {
	bin := flag.String("bin", "bin/longshore", "the longshore binary to measure")
	write := flag.String("write", "", "also write the results to this Markdown file")
	quick := flag.Bool("quick", false, "smaller samples, for trying the harness")
	only := flag.String("only", "", "run only the measurements whose name contains this")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	rows, err := bench.All(ctx, bench.Options{Bin: *bin, Quick: *quick, Only: *only, Log: os.Stderr})
	bench.Table(os.Stdout, rows)
	// What was measured is kept even when a measurement failed; the doc
	// says which.
	if *write != "" && len(rows) > 0 {
		if err := bench.WriteDoc(*write, rows, err); err != nil {
			fmt.Fprintln(os.Stderr, "longshore-bench:", err)
			os.Exit(1)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "longshore-bench:", err)
		os.Exit(1)
	}
}
