// Command api is the api function, the CLI's AWS backend: get, list and
// stop runs and read their logs (internal/aws/handler.API).
package main

import (
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/longshore/longshore/internal/aws/config"
	"github.com/longshore/longshore/internal/aws/handler"
	"github.com/longshore/longshore/internal/aws/host"
	"github.com/longshore/longshore/internal/aws/logs"
)

func main() {
	cfg, err := config.Load(config.API, os.Getenv)
	if err != nil {
		host.Exit(config.API, err)
	}
	h, err := host.New(cfg, os.Getenv)
	if err != nil {
		host.Exit(config.API, err)
	}
	awsCfg, err := host.AWSConfig(cfg.Region, os.Getenv)
	if err != nil {
		host.Exit(config.API, err)
	}
	reader := logs.NewFromConfig(awsCfg, host.Endpoint(host.ServiceCloudWatchLogs, os.Getenv))
	apiHandler := handler.NewAPI(handler.APIOptions{Service: h.Service, Runs: h.Store, Tasks: h.Runner, Logs: reader, Prefix: cfg.Prefix, Log: h.Log,
		JobFiles: h.JobFiles, Jobs: h.Jobs, Pauses: h.Service,
	})
	lambda.Start(apiHandler.Handle)
}
