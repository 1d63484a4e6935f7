package run

import (
	"slices"

	"github.com/longshore/longshore/internal/job"
)

// Chained is a run that a finished run starts through an after trigger:
// a run of Job, fired by Trigger.
type Chained struct {
	Job     string
	Trigger Trigger
}

// Downstream decides the runs a finished run starts: one for every job
// with an after trigger naming the run's job and the status it ended with,
// in the order of jobs. Only the final outcome of a run counts: a run that
// has not ended, or that is retried (NextRunID set), starts none; its last
// attempt decides. Each trigger carries the run's id, so the idempotency
// key of a downstream run ("<job>/after/<upstream run id>") makes it once
// per upstream run however often this is asked.
func Downstream(jobs []*job.Spec, r Run) []Chained {
	if !r.Status.Terminal() || r.NextRunID != "" {
		return nil
	}
	var out []Chained
	for _, j := range jobs {
		for _, t := range j.Triggers {
			if t.After == nil || t.After.Job != r.Job || !slices.Contains(t.After.Status, string(r.Status)) {
				continue
			}
			var code *int
			if r.ExitCode != nil {
				c := *r.ExitCode
				code = &c
			}
			out = append(out, Chained{Job: j.Name, Trigger: Trigger{Kind: TriggerAfter,
				UpstreamRunID: r.ID, UpstreamJob: r.Job, UpstreamStatus: r.Status, UpstreamExitCode: code}})
			break // one run per job, whatever its triggers
		}
	}
	return out
}
