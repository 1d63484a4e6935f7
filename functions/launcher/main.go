// Command launcher is the launcher function: schedules, S3 uploads, SQS
// batches and direct invokes become runs (internal/aws/handler.Launcher).
package main

import (
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/longshore/longshore/internal/aws/config"
	"github.com/longshore/longshore/internal/aws/handler"
	"github.com/longshore/longshore/internal/aws/host"
)

func main() {
	cfg, err := config.Load(config.Launcher, os.Getenv)
	if err != nil {
		host.Exit(config.Launcher, err)
	}
	h, err := host.New(cfg, os.Getenv)
	if err != nil {
		host.Exit(config.Launcher, err)
	}
	launcher := handler.NewLauncher(handler.LauncherOptions{
		Service: h.Service, Runs: h.Store, Jobs: h.Jobs, Prefix: cfg.Prefix, UploadsBucket: cfg.UploadsBucket, Log: h.Log,
		EventBus: cfg.EventBus, CallbackBuses: cfg.CallbackBuses,
	})
	lambda.Start(launcher.Handle)
}
