// Command longshore runs containers as jobs, on AWS Fargate or on this machine.
package main

import (
	"os"
	"time"

	"github.com/longshore/longshore/internal/cli"
)

func main() {
	app := &cli.App{Stdout: os.Stdout, Stderr: os.Stderr, Now: time.Now, Getenv: os.Getenv}
	os.Exit(app.Main(os.Args[1:]))
}
