package job_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/longshore/longshore/internal/job"
)

// FuzzParse feeds arbitrary bytes to the job file parser: it never panics,
// and every rejection is one or more single-line problems naming the file.
func FuzzParse(f *testing.F) {
	for _, dir := range []string{"../../jobs"} {
		files, _ := filepath.Glob(filepath.Join(dir, "*", "job.yaml"))
		for _, p := range files {
			if b, err := os.ReadFile(p); err == nil {
				f.Add(b)
			}
		}
	}
	for _, s := range []string{
		"", "image: {uri: busybox}\n", "cpu: [1, 2]\n", "triggers:\n  - schedule: cron(0 9 * * ? *)\n    timezone: Europe/Berlin\n",
		"secrets: {A: 'secretsmanager:arn:aws:secretsmanager:us-east-1:111122223333:secret:x-AbCdEf:key'}\n",
		"a: &x [*x]\n", "retries: {attempts: 99999999999999999999}\n", "timeout: 9999999999h\n", "- just\n- a list\n",
		"triggers: [invoke, sqs, s3, {s3: {prefix: a/}}]\nlocal: {command: [x], dir: ../..}\n", "\t\x00\xff",
		"image: {uri: busybox}\narchitecture: arm64\nstorage: 20\ncapacity: spot\n",
		"image: {uri: busybox}\npermissions: [{actions: ['s3:Get*', '*'], resources: ['*', 'arn:aws:s3:::b/*']}, {}]\n",
		"image: {uri: busybox}\nmanagedPolicies: ['arn:aws:iam::aws:policy/x']\ntaskRole: 'arn:aws:iam::111122223333:role/r'\n",
		"image: {uri: busybox}\nnetwork: {subnets: [subnet-0123abcd, subnet-0123abcd], securityGroups: [sg-1], assignPublicIp: yes}\n",
		"image: {uri: busybox}\ntags: {'aws:x': y, \"a\\nb\": c, '': '', longshore:job: x, team: \"v\\u2028\"}\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		spec, err := job.Parse(data, "fuzz", "jobs/fuzz/job.yaml")
		if err == nil {
			if spec == nil || spec.Name != "fuzz" || !job.ValidSize(spec.CPU, spec.Memory) ||
				spec.Architecture != job.ArchitectureX86_64 && spec.Architecture != job.ArchitectureARM64 ||
				spec.Storage != 0 && (spec.Storage < job.MinStorage || spec.Storage > job.MaxStorage) ||
				spec.TaskRole != "" && len(spec.Permissions)+len(spec.ManagedPolicies) > 0 {
				t.Fatalf("accepted spec %+v", spec)
			}
			return
		}
		var pe *job.ProblemsError
		if !errors.As(err, &pe) || len(pe.Problems) == 0 {
			t.Fatalf("rejection is not a list of problems: %v", err)
		}
		for _, p := range pe.Problems {
			if p.Path != "jobs/fuzz/job.yaml" || p.Message == "" || strings.ContainsAny(p.String(), "\n\r") {
				t.Fatalf("problem %q is not one line naming the file", p.String())
			}
		}
	})
}
