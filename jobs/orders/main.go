// Command orders is Longshore's SQS example: one run per message, told
// which by LONGSHORE_SQS_MESSAGE_ID and its body by LONGSHORE_SQS_BODY, or,
// for a body too large for a task's environment (over 4 KiB), by
// LONGSHORE_SQS_BODY_URI: a file:// URI on one machine, an s3:// URI on
// AWS, which the job's task role may read. A body of "retry" exits 75,
// which the job's retry policy tries again.
package main

import (
	"fmt"
	"net/url"
	"os"
)

func main() {
	id := os.Getenv("LONGSHORE_SQS_MESSAGE_ID")
	body, err := messageBody()
	if err != nil {
		fmt.Fprintln(os.Stderr, "orders:", err)
		os.Exit(1)
	}
	fmt.Printf("order message %s: %s\n", id, body)
	if body == "retry" {
		fmt.Fprintln(os.Stderr, "orders: asked to try again later")
		os.Exit(75)
	}
}

// messageBody is the message's body, read from where Longshore put it.
func messageBody() (string, error) {
	uri := os.Getenv("LONGSHORE_SQS_BODY_URI")
	if uri == "" {
		return os.Getenv("LONGSHORE_SQS_BODY"), nil
	}
	u, err := url.Parse(uri)
	if err != nil {
		return "", fmt.Errorf("read the message body: %w", err)
	}
	switch u.Scheme {
	case "file":
		b, err := os.ReadFile(u.Path)
		if err != nil {
			return "", fmt.Errorf("read the message body: %w", err)
		}
		return string(b), nil
	case "s3":
		// A real job reads it with the AWS SDK (s3 GetObject of bucket
		// u.Host, key u.Path[1:]); this example keeps its image small.
		return "(the body is kept at " + uri + ")", nil
	}
	return "", fmt.Errorf("read the message body: %s is not a file:// or s3:// URI", uri)
}
