package remoteapi_test

import (
	"reflect"
	"testing"
	"testing/fstest"
	"time"

	"github.com/longshore/longshore/internal/api"
	"github.com/longshore/longshore/internal/aws/remoteapi"
	"github.com/longshore/longshore/internal/job"
)

func TestTheCatalogIsListedAsTheDeploymentRunsIt(t *testing.T) {
	files := fstest.MapFS{
		"report/job.yaml": {Data: []byte(`image: {uri: busybox}
capacity: spot
triggers:
  - schedule: cron(0 3 * * ? *)
    timezone: Europe/Berlin
  - schedule: rate(5 minutes)
`)},
		"orders/job.yaml":  {Data: []byte("image: {uri: busybox}\ntriggers:\n  - sqs: {queue: orders}\n")},
		"intake/job.yaml":  {Data: []byte("image: {uri: busybox}\ntriggers:\n  - sqs: {}\n")},
		"thumbs/job.yaml":  {Data: []byte("image: {uri: busybox}\ntriggers:\n  - s3: {prefix: incoming/, suffix: .jpg}\n  - invoke: {}\n")},
		"once/job.yaml":    {Data: []byte("image: {uri: busybox}\ntriggers:\n  - schedule: at(2020-01-01T00:00:00)\n")},
		"hourly/job.yaml":  {Data: []byte("image: {uri: busybox}\ncapacity: spot-then-on-demand\ntriggers:\n  - schedule: cron(30 * * * ? *)\n")},
		"request/job.yaml": {Data: []byte("image: {uri: busybox}\n")},
	}
	cat, err := job.Load(files, "jobs", job.Options{SkipFiles: true})
	if err != nil {
		t.Fatal(err)
	}
	berlin := time.Date(2026, 11, 23, 2, 0, 0, 0, time.UTC) // 03:00 CET
	half := time.Date(2026, 11, 22, 19, 30, 0, 0, time.UTC)
	byName := map[string]api.Job{}
	for _, j := range remoteapi.CatalogJobs(cat, "staging")(now) {
		byName[j.Name] = j
	}
	tests := []struct {
		name string
		job  string
		want api.Job
	}{
		{"a cron schedule fires next in its zone; a rate has no time the catalog can know", "report", api.Job{Name: "report",
			Triggers: []string{"schedule cron(0 3 * * ? *) Europe/Berlin", "schedule rate(5 minutes)"}, Runner: "Fargate Spot", NextFire: &berlin,
			Schedules: []api.Schedule{{Expression: "cron(0 3 * * ? *)", Timezone: "Europe/Berlin", NextFire: &berlin}, {Expression: "rate(5 minutes)", Timezone: "UTC"}}}},
		{"a queue goes by its name on AWS", "orders", api.Job{Name: "orders", Triggers: []string{"sqs staging-orders"}, Runner: "Fargate"}},
		{"a queue without a name is the job's", "intake", api.Job{Name: "intake", Triggers: []string{"sqs staging-intake"}, Runner: "Fargate"}},
		{"uploads and requests are worded as locally", "thumbs", api.Job{Name: "thumbs", Triggers: []string{"s3 incoming/*.jpg", "invoke"}, Runner: "Fargate"}},
		{"a time that has passed fires no more", "once", api.Job{Name: "once", Triggers: []string{"schedule at(2020-01-01T00:00:00)"}, Runner: "Fargate",
			Schedules: []api.Schedule{{Expression: "at(2020-01-01T00:00:00)", Timezone: "UTC"}}}},
		{"a schedule without a zone is read in UTC", "hourly", api.Job{Name: "hourly", Triggers: []string{"schedule cron(30 * * * ? *)"},
			Runner: "Fargate Spot, then Fargate on demand", NextFire: &half, Schedules: []api.Schedule{{Expression: "cron(30 * * * ? *)", Timezone: "UTC", NextFire: &half}}}},
		{"a job without triggers is listed too", "request", api.Job{Name: "request", Runner: "Fargate"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := byName[tt.job]; !reflect.DeepEqual(got, tt.want) {
				t.Errorf("%s =\n%+v\nwant\n%+v", tt.job, got, tt.want)
			}
		})
	}
}
