// Command longshore runs containers as jobs, on AWS Fargate or on this machine.
package main

import (
	"os"
	"time"

	"github.com/longshore/longshore/internal/cli"
)

func main() {
	stopProfile := startCPUProfile(os.Getenv(cpuProfileEnv), os.Stderr)
	app := &cli.App{Stdout: os.Stdout, Stderr: os.Stderr, Now: time.Now, Getenv: os.Getenv}
	code := app.Main(os.Args[1:])
	stopProfile()
	os.Exit(code)
}
