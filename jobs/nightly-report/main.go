// Command nightly-report is Longshore's scheduled example: it reports on
// the day before its scheduled time, and needs the reporting database's
// password, which it gets as a secret (never printed).
package main

import (
	"fmt"
	"os"
)

func main() {
	at := os.Getenv("LONGSHORE_SCHEDULED_TIME")
	if at == "" {
		at = "now (started by hand)"
	}
	if os.Getenv("DB_PASSWORD") == "" {
		fmt.Fprintln(os.Stderr, "nightly-report: DB_PASSWORD is not set: the job's secret did not reach it")
		os.Exit(78)
	}
	fmt.Printf("report for %s into bucket %s\n", at, os.Getenv("REPORT_BUCKET"))
}
