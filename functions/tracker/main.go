// Command tracker is the tracker function: ECS task state changes move
// runs on, and finished runs are retried or reported
// (internal/aws/handler.Tracker).
package main

import (
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/longshore/longshore/internal/aws/config"
	"github.com/longshore/longshore/internal/aws/handler"
	"github.com/longshore/longshore/internal/aws/host"
)

func main() {
	cfg, err := config.Load(config.Tracker, os.Getenv)
	if err != nil {
		host.Exit(config.Tracker, err)
	}
	h, err := host.New(cfg, os.Getenv)
	if err != nil {
		host.Exit(config.Tracker, err)
	}
	tracker := handler.NewTracker(handler.TrackerOptions{Service: h.Service, Cluster: cfg.Cluster, Log: h.Log})
	lambda.Start(tracker.Handle)
}
