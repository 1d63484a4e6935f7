package integration

import (
	"os"
	"testing"

	"github.com/longshore/longshore/internal/job"
)

func TestTheExampleCatalogHoldsEveryExampleJob(t *testing.T) {
	cat, err := job.Load(os.DirFS("../jobs"), "jobs", job.Options{})
	if err != nil {
		t.Fatalf("Catalog: %v", err)
	}
	var names []string
	for _, j := range cat.Jobs() {
		names = append(names, j.Name)
	}
	want := []string{"hello", "nightly-report", "orders", "soak", "thumbnail"}
	if len(names) != len(want) {
		t.Fatalf("jobs = %v, want %v", names, want)
	}
	for i := range want {
		if names[i] != want[i] {
			t.Fatalf("jobs = %v, want %v", names, want)
		}
	}
	kinds := map[string]bool{}
	for _, j := range cat.Jobs() {
		for _, tr := range j.Triggers {
			switch {
			case tr.Schedule != "":
				kinds["schedule"] = true
			case tr.S3 != nil:
				kinds["s3"] = true
			case tr.SQS != nil:
				kinds["sqs"] = true
			case tr.Invoke != nil:
				kinds["invoke"] = true
			}
		}
	}
	if len(kinds) != 4 {
		t.Errorf("the examples use triggers %v, want all four kinds", kinds)
	}
}
