package run

import (
	"slices"
	"testing"

	"github.com/longshore/longshore/internal/job"
)

func TestAdmit(t *testing.T) {
	running := Run{ID: "r-aaaaaaaaaaaaaaaa", Status: StatusRunning}
	queued := Run{ID: "r-bbbbbbbbbbbbbbbb", Status: StatusQueued}
	cancelling := Run{ID: "r-cccccccccccccccc", Status: StatusRunning, StopReq: StopCancel}
	finished := Run{ID: "r-dddddddddddddddd", Status: StatusSucceeded}

	tests := []struct {
		name   string
		policy job.Concurrency
		active []Run
		want   Admission
	}{
		{"allow starts alongside active runs", job.ConcurrencyAllow, []Run{running, queued}, Admission{Start: true}},
		{"an empty policy means allow", "", []Run{running}, Admission{Start: true}},
		{"forbid starts when nothing is active", job.ConcurrencyForbid, nil, Admission{Start: true}},
		{"forbid skips while a run is active and names it", job.ConcurrencyForbid, []Run{running},
			Admission{Reason: "skipped: run r-aaaaaaaaaaaaaaaa is still active and concurrency is forbid"}},
		{"forbid names every active run", job.ConcurrencyForbid, []Run{running, queued},
			Admission{Reason: "skipped: runs r-aaaaaaaaaaaaaaaa, r-bbbbbbbbbbbbbbbb are still active and concurrency is forbid"}},
		{"forbid ignores finished runs passed by mistake", job.ConcurrencyForbid, []Run{finished}, Admission{Start: true}},
		{"replace stops the active runs and starts", job.ConcurrencyReplace, []Run{running, queued},
			Admission{Start: true, Stop: []string{running.ID, queued.ID}}},
		{"replace leaves runs already being stopped alone", job.ConcurrencyReplace, []Run{running, cancelling, finished},
			Admission{Start: true, Stop: []string{running.ID}}},
		{"replace with nothing active just starts", job.ConcurrencyReplace, nil, Admission{Start: true}},
		{"an unknown policy starts nothing and says why", "queue", []Run{},
			Admission{Reason: `skipped: unknown concurrency policy "queue"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Admit(tt.policy, tt.active)
			if got.Start != tt.want.Start || got.Reason != tt.want.Reason || !slices.Equal(got.Stop, tt.want.Stop) {
				t.Errorf("Admit = %+v\nwant    %+v", got, tt.want)
			}
		})
	}
}
