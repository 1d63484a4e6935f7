// Command reconciler is the reconciler function: every minute it
// stops timed-out tasks, repairs runs whose events were missed, starts due
// runs and reports what is unreported (internal/aws/handler.Reconciler).
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/scheduler"

	"github.com/longshore/longshore/internal/aws/config"
	"github.com/longshore/longshore/internal/aws/handler"
	"github.com/longshore/longshore/internal/aws/host"
	"github.com/longshore/longshore/internal/aws/schedules"
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
	awsCfg, err := host.AWSConfig(cfg.Region, os.Getenv)
	if err != nil {
		host.Exit(config.Reconciler, err)
	}
	// Paused jobs have their schedules disabled, resumed ones enabled.
	client := scheduler.NewFromConfig(awsCfg, func(o *scheduler.Options) {
		if e := host.Endpoint(host.ServiceScheduler, os.Getenv); e != "" {
			o.BaseEndpoint = &e
		}
	})
	sync := &schedules.Sync{
		Switch: &schedules.Switch{API: client, Prefix: cfg.Prefix},
		Jobs:   h.Jobs.Jobs(),
		Paused: func(ctx context.Context, name string) (bool, error) {
			st, err := h.Service.PauseState(ctx, name)
			return st.Paused, err
		},
	}
	reconciler := handler.NewReconciler(h.Service, handler.DefaultQuiet, h.Log).WithSchedules(sync)
	lambda.Start(reconciler.Handle)
}
