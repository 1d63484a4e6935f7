package remoteapi

import (
	"time"

	"github.com/longshore/longshore/internal/api"
	"github.com/longshore/longshore/internal/deploy"
	"github.com/longshore/longshore/internal/job"
	"github.com/longshore/longshore/internal/schedule"
)

// CatalogJobs lists a job catalog as the deployment named by prefix runs
// it, for Options.Jobs: each job's triggers (its queue by its name on AWS),
// its capacity, and its schedules' next fire times in their zones as
// EventBridge Scheduler reads them. A rate(...) schedule has none: AWS
// counts it from when the schedule was created, which the catalog does not
// know.
//
// The catalog is the deployment's own (remote.Client.Catalog), as shipped
// to its functions.
func CatalogJobs(cat *job.Catalog, prefix string) func(now time.Time) []api.Job {
	if prefix == "" {
		prefix = deploy.DefaultPrefix
	}
	return func(now time.Time) []api.Job {
		var out []api.Job
		for _, s := range cat.Jobs() {
			v := api.Job{Name: s.Name, Description: s.Description, Triggers: s.TriggerWords(func(q string) string { return deploy.QueueName(prefix, q) }), Runner: runnerWords(s.Capacity),
				Concurrency: concurrencyWords(s.Concurrency)}
			for _, t := range s.Triggers {
				if t.Schedule == "" {
					continue
				}
				sch := api.Schedule{Expression: t.Schedule, Timezone: t.Timezone}
				if sch.Timezone == "" {
					sch.Timezone = "UTC"
				}
				if at, ok := nextFire(t, now); ok {
					sch.NextFire = &at
					if v.NextFire == nil || at.Before(*v.NextFire) {
						v.NextFire = &at
					}
				}
				v.Schedules = append(v.Schedules, sch)
			}
			out = append(out, v)
		}
		return out
	}
}

// nextFire is a schedule trigger's next fire time after now, in UTC.
func nextFire(t job.Trigger, now time.Time) (time.Time, bool) {
	sch, err := schedule.Parse(t.Schedule)
	if err != nil || sch.Kind() == schedule.KindRate {
		return time.Time{}, false
	}
	loc, err := schedule.LoadLocation(t.Timezone)
	if err != nil {
		return time.Time{}, false
	}
	at, ok := sch.Next(now, loc)
	return at.UTC(), ok
}

func runnerWords(c job.Capacity) string {
	switch c {
	case job.CapacitySpot:
		return "Fargate Spot"
	case job.CapacitySpotThenOnDemand:
		return "Fargate Spot, then Fargate on demand"
	}
	return "Fargate"
}

// concurrencyWords is a job's concurrency policy as api.Job shows it.
func concurrencyWords(c job.Concurrency) string {
	if !c.Limited() {
		return ""
	}
	return c.String()
}
