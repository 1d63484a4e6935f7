// Command orders is Longshore's SQS example: one run per message, told
// which by LONGSHORE_SQS_MESSAGE_ID and LONGSHORE_SQS_BODY. A body of
// "retry" exits 75, which the job's retry policy tries again.
package main

import (
	"fmt"
	"os"
)

func main() {
	id, body := os.Getenv("LONGSHORE_SQS_MESSAGE_ID"), os.Getenv("LONGSHORE_SQS_BODY")
	fmt.Printf("order message %s: %s\n", id, body)
	if body == "retry" {
		fmt.Fprintln(os.Stderr, "orders: asked to try again later")
		os.Exit(75)
	}
}
