// Command reconciler is the reconciler function: every minute it
// stops timed-out tasks, repairs runs whose events were missed, starts due
// runs and reports what is unreported (internal/aws/handler.Reconciler).
package main

import (
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/longshore/longshore/internal/aws/config"
	"github.com/longshore/longshore/internal/aws/handler"
	"github.com/longshore/longshore/internal/aws/host"
)

func main() {
	cfg, err := config.Load(config.Reconciler, os.Getenv)
	if err != nil {
		host.Exit(config.Reconciler, err)
	}
	h, err := host.New(cfg, os.Getenv)
	if err != nil {
		host.Exit(config.Reconciler, err)
	}
	reconciler := handler.NewReconciler(h.Service, handler.DefaultQuiet, h.Log)
	lambda.Start(reconciler.Handle)
}
