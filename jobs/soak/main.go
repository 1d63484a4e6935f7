// Command soak is Longshore's long-running example: it works for six hours
// (SOAK_SECONDS to change it), and stops cleanly on SIGTERM, as a Spot
// interruption or a stop sends it.
package main

import (
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"
)

func main() {
	seconds := 6 * 60 * 60
	if v := os.Getenv("SOAK_SECONDS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			fmt.Fprintf(os.Stderr, "soak: SOAK_SECONDS=%q is not a number of seconds\n", v)
			os.Exit(2)
		}
		seconds = n
	}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for i := 0; i < seconds; i++ {
		select {
		case sig := <-stop:
			fmt.Printf("soak: %s after %d s: stopping cleanly\n", sig, i)
			os.Exit(143)
		case <-tick.C:
		}
		if i%600 == 0 {
			fmt.Printf("soak: %d s\n", i)
		}
	}
	fmt.Println("soak: done")
}
