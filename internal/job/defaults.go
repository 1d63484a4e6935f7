package job

import "time"

// The defaults of a job spec, documented here and applied only by
// applyDefaults. docs/job-spec.md repeats them for users.
const (
	// DefaultCPU is the task's CPU in Fargate units (1024 = one vCPU).
	DefaultCPU = 256
	// DefaultTimeout stops a run that is still going after an hour.
	DefaultTimeout = time.Hour
	// DefaultAttempts is one attempt: no retry.
	DefaultAttempts = 1
	// DefaultBackoff is the wait before the second attempt (doubled after).
	DefaultBackoff = 30 * time.Second
	// DefaultOverflow is what a job with a concurrency.max and no overflow
	// does with the runs past it: queue them.
	DefaultOverflow = OverflowQueue
	// DefaultCapacity runs on Fargate on-demand capacity.
	DefaultCapacity = CapacityOnDemand
	// DefaultArchitecture builds images for and runs tasks on x86_64.
	DefaultArchitecture = ArchitectureX86_64
	// DefaultStorage is Fargate's ephemeral storage in GiB when a task sets
	// none. A job that writes it is stored with Storage 0 (unset): ECS
	// refuses an ephemeralStorage below MinStorage.
	DefaultStorage = 20
	// DefaultAfterStatus is the upstream status an after trigger waits for
	// when it names none.
	DefaultAfterStatus = "succeeded"
	// EssentialContainer is the name of the job's container in its task.
	EssentialContainer = "app"
)

// applyDefaults fills what the file left out; given(path) reports whether
// the file set a field (a dotted path such as "retries.backoff"), so that a
// value written as zero is kept (and validated) rather than replaced. The
// name defaults to the job's folder; memory defaults to the smallest size
// Fargate allows for the CPU, and a memory given alone picks the smallest
// CPU that allows it.
func applyDefaults(s *Spec, folder string, given func(path string) bool) {
	if s.Name == "" {
		s.Name = folder
	}
	switch {
	case s.CPU == 0 && s.Memory == 0:
		s.CPU = DefaultCPU
		s.Memory = fargateMemory[DefaultCPU][0]
	case s.CPU != 0 && s.Memory == 0:
		if sizes, ok := fargateMemory[s.CPU]; ok {
			s.Memory = sizes[0]
		}
	case s.CPU == 0 && s.Memory != 0:
		s.CPU = smallestCPUFor(s.Memory)
	}
	if !given("timeout") {
		s.Timeout = Duration(DefaultTimeout)
	}
	if !given("retries.attempts") {
		s.Retries.Attempts = DefaultAttempts
	}
	if !given("retries.backoff") {
		s.Retries.Backoff = Duration(DefaultBackoff)
	}
	if s.Concurrency.Max > 0 && s.Concurrency.Overflow == "" {
		s.Concurrency.Overflow = DefaultOverflow
	}
	if s.Capacity == "" {
		s.Capacity = DefaultCapacity
	}
	if s.Architecture == "" {
		s.Architecture = DefaultArchitecture
	}
	for i := range s.Triggers {
		if s.Triggers[i].SQS != nil && s.Triggers[i].SQS.Queue == "" {
			s.Triggers[i].SQS.Queue = s.Name
		}
		if a := s.Triggers[i].After; a != nil && a.Status == nil {
			a.Status = []string{DefaultAfterStatus}
		}
	}
}

// settleDefaults runs once the job is valid: a value that means the
// default is stored as unset, so that every host reads one form. A storage
// of DefaultStorage GiB becomes 0.
func settleDefaults(s *Spec) {
	if s.Storage == DefaultStorage {
		s.Storage = 0
	}
}
