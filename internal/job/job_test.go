package job_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/longshore/longshore/internal/job"
)

const minimal = "image:\n  uri: busybox:1.36\n"

// load builds a catalog from files given as path: content.
func load(t *testing.T, files map[string]string) (*job.Catalog, []string) {
	t.Helper()
	fsys := fstest.MapFS{}
	for p, c := range files {
		fsys[p] = &fstest.MapFile{Data: []byte(c)}
	}
	cat, err := job.Load(fsys, "jobs", job.Options{})
	var pe *job.ProblemsError
	if errors.As(err, &pe) {
		var lines []string
		for _, p := range pe.Problems {
			lines = append(lines, p.String())
		}
		return nil, lines
	}
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	return cat, nil
}

func TestDefaultsAreAppliedInOnePlace(t *testing.T) {
	cat, problems := load(t, map[string]string{"hello/job.yaml": minimal})
	if problems != nil {
		t.Fatalf("problems: %v", problems)
	}
	s, ok := cat.Get("hello")
	if !ok {
		t.Fatal("job hello not found: the name should default to the folder")
	}
	if s.CPU != 256 || s.Memory != 512 {
		t.Errorf("size = %d/%d, want 256/512", s.CPU, s.Memory)
	}
	if s.Timeout.D() != time.Hour || s.Retries.Attempts != 1 || s.Retries.Backoff.D() != 30*time.Second {
		t.Errorf("timeout %s attempts %d backoff %s, want 1h 1 30s", s.Timeout.D(), s.Retries.Attempts, s.Retries.Backoff.D())
	}
	if s.Concurrency != job.ConcurrencyAllow || s.Capacity != job.CapacityOnDemand {
		t.Errorf("concurrency %q capacity %q", s.Concurrency, s.Capacity)
	}
	if s.Architecture != job.ArchitectureX86_64 || s.Storage != 0 {
		t.Errorf("architecture %q storage %d, want x86_64 and 0 (Fargate's default)", s.Architecture, s.Storage)
	}
	if s.Permissions != nil || s.ManagedPolicies != nil || s.TaskRole != "" || !s.Network.IsZero() || s.Tags != nil {
		t.Errorf("permissions %v policies %v role %q network %+v tags %v, want none", s.Permissions, s.ManagedPolicies, s.TaskRole, s.Network, s.Tags)
	}
	if w := cat.Warnings(); len(w) != 0 {
		t.Errorf("warnings = %v, want none", w)
	}
	if s.Path != "jobs/hello/job.yaml" {
		t.Errorf("path = %q", s.Path)
	}
}

func TestAZeroWrittenOutIsKeptNotDefaulted(t *testing.T) {
	cat, problems := load(t, map[string]string{"a/job.yaml": minimal + "retries: {attempts: 2, backoff: 0s}\n"})
	if problems != nil {
		t.Fatalf("problems: %v", problems)
	}
	if s, _ := cat.Get("a"); s.Retries.Backoff != 0 {
		t.Errorf("backoff = %s, want the 0s written", s.Retries.Backoff.D())
	}
	_, problems = load(t, map[string]string{"a/job.yaml": minimal + "timeout: 0s\nretries: {attempts: 0}\n"})
	want := "jobs/a/job.yaml: timeout: 0s is out of range: use 1s to 720h (30 days)\njobs/a/job.yaml: retries.attempts: 0 is out of range: use 1 (no retry) to 10"
	if strings.Join(problems, "\n") != want {
		t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(problems, "\n"), want)
	}
}

func TestSizesAreCompletedFromEitherHalf(t *testing.T) {
	tests := []struct {
		name     string
		yaml     string
		cpu, mem int
	}{
		{"a cpu alone gets the smallest memory Fargate allows for it", "cpu: 1024\n", 1024, 2048},
		{"a memory alone gets the smallest cpu that allows it", "memory: 8192\n", 1024, 8192},
		{"a large memory alone picks a large cpu", "memory: 30720\n", 4096, 30720},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cat, problems := load(t, map[string]string{"a/job.yaml": minimal + tt.yaml})
			if problems != nil {
				t.Fatalf("problems: %v", problems)
			}
			s, _ := cat.Get("a")
			if s.CPU != tt.cpu || s.Memory != tt.mem {
				t.Errorf("size = %d/%d, want %d/%d", s.CPU, s.Memory, tt.cpu, tt.mem)
			}
		})
	}
}

func TestTriggersAreReadInEveryForm(t *testing.T) {
	cat, problems := load(t, map[string]string{"a/job.yaml": minimal + `triggers:
  - invoke
  - sqs:
  - s3: {prefix: in/, suffix: .csv}
  - schedule: cron(0 9 ? * MON-FRI *)
    timezone: Europe/Berlin
`})
	if problems != nil {
		t.Fatalf("problems: %v", problems)
	}
	s, _ := cat.Get("a")
	tr := s.Triggers
	if len(tr) != 4 || tr[0].Invoke == nil || tr[1].SQS == nil || tr[2].S3 == nil || tr[3].Schedule == "" {
		t.Fatalf("triggers = %+v", tr)
	}
	if tr[1].SQS.Queue != "a" {
		t.Errorf("queue = %q, want the job's name", tr[1].SQS.Queue)
	}
	if tr[2].S3.Prefix != "in/" || tr[2].S3.Suffix != ".csv" || tr[3].Timezone != "Europe/Berlin" {
		t.Errorf("triggers = %+v %+v", tr[2].S3, tr[3])
	}
}

func TestSecretReferencesAreParsed(t *testing.T) {
	tests := []struct {
		name string
		ref  string
		want job.SecretRef
	}{
		{"an SSM parameter path", "ssm:/prod/db/password", job.SecretRef{Source: job.SecretSSM, Name: "/prod/db/password"}},
		{"an SSM parameter ARN", "ssm:arn:aws:ssm:eu-west-1:111122223333:parameter/prod/db", job.SecretRef{Source: job.SecretSSM, Name: "arn:aws:ssm:eu-west-1:111122223333:parameter/prod/db"}},
		{"a Secrets Manager ARN", "secretsmanager:arn:aws:secretsmanager:us-east-1:111122223333:secret:longshore/db-AbCdEf",
			job.SecretRef{Source: job.SecretSecretsManager, Name: "arn:aws:secretsmanager:us-east-1:111122223333:secret:longshore/db-AbCdEf"}},
		{"a Secrets Manager ARN with a JSON key", "secretsmanager:arn:aws:secretsmanager:us-east-1:111122223333:secret:longshore/db-AbCdEf:password",
			job.SecretRef{Source: job.SecretSecretsManager, Name: "arn:aws:secretsmanager:us-east-1:111122223333:secret:longshore/db-AbCdEf", JSONKey: "password"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := job.ParseSecretRef(tt.ref)
			if err != nil || got != tt.want {
				t.Errorf("ParseSecretRef(%q) = %+v, %v; want %+v", tt.ref, got, err, tt.want)
			}
		})
	}
}

// Each case is a catalog and the exact lines `longshore validate` prints.
func TestEveryValidationRuleSaysWhatIsWrongAndWhatIsAllowed(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  []string
	}{
		{
			"a misspelt field is unknown, with the field it most likely meant",
			map[string]string{"a/job.yaml": minimal + "comand: [x]\n"},
			[]string{`jobs/a/job.yaml: comand: line 3: unknown field; did you mean "command"? (allowed: name, description, image, command, cpu, memory, architecture, storage, environment, secrets, timeout, retries, concurrency, capacity, history, paused, permissions, managedPolicies, taskRole, network, tags, triggers, local, notify)`},
		},
		{
			"a field name that does not print is quoted in the path",
			map[string]string{"a/job.yaml": minimal + "\"x\\ny\": 1\nenvironment: {\"A\\tB\": x}\n"},
			[]string{
				`jobs/a/job.yaml: "x\ny": line 3: unknown field (allowed: name, description, image, command, cpu, memory, architecture, storage, environment, secrets, timeout, retries, concurrency, capacity, history, paused, permissions, managedPolicies, taskRole, network, tags, triggers, local, notify)`,
				`jobs/a/job.yaml: environment."A\tB": "A\tB" is not a variable name: use letters, digits and _, not starting with a digit`,
			},
		},
		{
			"an unknown field inside a nested mapping names its path",
			map[string]string{"a/job.yaml": minimal + "retries:\n  attempt: 3\n"},
			[]string{`jobs/a/job.yaml: retries.attempt: line 4: unknown field; did you mean "attempts"? (allowed: attempts, exitCodes, backoff)`},
		},
		{
			"a YAML syntax error reports its line",
			map[string]string{"a/job.yaml": "image:\n  uri: busybox\ncommand: [x, y\ntimeout: 5m\n"},
			[]string{`jobs/a/job.yaml: YAML syntax error: line 4, column 1: ',' or ']' must be specified`},
		},
		{
			"a field written twice is refused with both lines",
			map[string]string{"a/job.yaml": minimal + "cpu: 512\ncpu: 1024\n"},
			[]string{`jobs/a/job.yaml: YAML syntax error: line 4, column 1: mapping key "cpu" already defined at [3:1]`},
		},
		{
			"a name given twice in a mapping, once quoted, is refused",
			map[string]string{"a/job.yaml": minimal + "secrets: {A, 'A'}\n"},
			[]string{`jobs/a/job.yaml: secrets.A: line 3: given twice (first on line 3): keep one`},
		},
		{
			"an empty file says what a job needs",
			map[string]string{"a/job.yaml": ""},
			[]string{`jobs/a/job.yaml: file is empty: a job needs at least an image or a local.command`},
		},
		{
			"a value of the wrong kind says what kind is expected",
			map[string]string{"a/job.yaml": minimal + "cpu: lots\ncommand: run\n"},
			[]string{
				`jobs/a/job.yaml: cpu: line 3: must be a whole number, not "lots"`,
				`jobs/a/job.yaml: command: line 4: must be a list`,
			},
		},
		{
			"a name with capitals is refused with the rule",
			map[string]string{"a/job.yaml": minimal + "name: Nightly_Report\n"},
			[]string{`jobs/a/job.yaml: name: "Nightly_Report" is not a job name: use 1-40 lowercase letters, digits and hyphens, starting and ending with a letter or digit`},
		},
		{
			"a folder name that is not a job name is refused",
			map[string]string{"My Job/job.yaml": minimal},
			[]string{`jobs/My Job/job.yaml: name (from the folder name): "My Job" is not a job name: use 1-40 lowercase letters, digits and hyphens, starting and ending with a letter or digit`},
		},
		{
			"a cpu Fargate does not offer lists the sizes it does",
			map[string]string{"a/job.yaml": minimal + "cpu: 300\nmemory: 512\n"},
			[]string{`jobs/a/job.yaml: cpu: 300 is not a Fargate CPU size: use one of 256, 512, 1024, 2048, 4096, 8192, 16384 (1024 = 1 vCPU)`},
		},
		{
			"a memory the cpu does not allow lists the memory it does",
			map[string]string{"a/job.yaml": minimal + "cpu: 1024\nmemory: 512\n"},
			[]string{`jobs/a/job.yaml: memory: 512 MiB is not allowed with cpu 1024: use 2048-8192 in steps of 1024`},
		},
		{
			"a memory no cpu allows is refused",
			map[string]string{"a/job.yaml": minimal + "memory: 1000\n"},
			[]string{`jobs/a/job.yaml: memory: no Fargate CPU size allows 1000 MiB: see the sizes in docs/job-spec.md`},
		},
		{
			"the smallest cpu lists its three sizes",
			map[string]string{"a/job.yaml": minimal + "cpu: 256\nmemory: 4096\n"},
			[]string{`jobs/a/job.yaml: memory: 4096 MiB is not allowed with cpu 256: use 512, 1024, 2048`},
		},
		{
			"a bad cron expression names the field of the expression",
			map[string]string{"a/job.yaml": minimal + "triggers:\n  - schedule: cron(0 9 * * 8 *)\n"},
			[]string{`jobs/a/job.yaml: triggers[0].schedule: ` + scheduleError(t, "cron(0 9 * * 8 *)")},
		},
		{
			"a Unix cron line is refused",
			map[string]string{"a/job.yaml": minimal + "triggers:\n  - schedule: '*/5 * * * *'\n"},
			[]string{`jobs/a/job.yaml: triggers[0].schedule: ` + scheduleError(t, "*/5 * * * *")},
		},
		{
			"an unknown timezone is refused",
			map[string]string{"a/job.yaml": minimal + "triggers:\n  - schedule: cron(0 9 * * ? *)\n    timezone: Europe/Berln\n"},
			[]string{`jobs/a/job.yaml: triggers[0].timezone: ` + zoneError(t, "Europe/Berln")},
		},
		{
			"a cron that matches no date never fires",
			map[string]string{"a/job.yaml": minimal + "triggers:\n  - schedule: cron(0 0 30 2 ? *)\n"},
			[]string{`jobs/a/job.yaml: triggers[0].schedule: cron(0 0 30 2 ? *) never fires: no date matches it`},
		},
		{
			"a timezone on a rate has no effect",
			map[string]string{"a/job.yaml": minimal + "triggers:\n  - schedule: rate(5 minutes)\n    timezone: Europe/Berlin\n"},
			[]string{`jobs/a/job.yaml: triggers[0].timezone: has no effect on rate(5 minutes): a rate runs every interval whatever the zone; remove it`},
		},
		{
			"a timezone without a schedule is refused",
			map[string]string{"a/job.yaml": minimal + "triggers:\n  - invoke: {}\n    timezone: UTC\n"},
			[]string{`jobs/a/job.yaml: triggers[0].timezone: applies only to a schedule trigger`},
		},
		{
			"a trigger with two kinds is refused",
			map[string]string{"a/job.yaml": minimal + "triggers:\n  - schedule: rate(1 hour)\n    sqs: {}\n"},
			[]string{`jobs/a/job.yaml: triggers[0]: set exactly one of schedule, s3, sqs, invoke or after (found 2)`},
		},
		{
			"a trigger with no kind is refused",
			map[string]string{"a/job.yaml": minimal + "triggers:\n  - {}\n"},
			[]string{`jobs/a/job.yaml: triggers[0]: set exactly one of schedule, s3, sqs, invoke or after (found 0)`},
		},
		{
			"an unknown bare trigger is refused",
			map[string]string{"a/job.yaml": minimal + "triggers:\n  - webhook\n"},
			[]string{`jobs/a/job.yaml: triggers[0]: line 4: "webhook" is not a trigger: write one of schedule, s3, sqs, invoke or after`},
		},
		{
			"the same schedule twice is refused",
			map[string]string{"a/job.yaml": minimal + "triggers:\n  - schedule: rate(1 hour)\n  - schedule: rate(1 hour)\n"},
			[]string{`jobs/a/job.yaml: triggers[1]: repeats triggers[0]: remove one`},
		},
		{
			"two sqs triggers on one job are refused",
			map[string]string{"a/job.yaml": minimal + "triggers:\n  - sqs\n  - sqs: {queue: other}\n"},
			[]string{`jobs/a/job.yaml: triggers[1]: a job has one queue: declare the sqs trigger once`},
		},
		{
			"an s3 prefix with a leading slash is corrected",
			map[string]string{"a/job.yaml": minimal + "triggers:\n  - s3: {prefix: /in/}\n"},
			[]string{`jobs/a/job.yaml: triggers[0].s3.prefix: "/in/" starts with /, which S3 keys do not: write "in/"`},
		},
		{
			"a bad queue name is refused",
			map[string]string{"a/job.yaml": minimal + "triggers:\n  - sqs: {queue: 'my queue'}\n"},
			[]string{`jobs/a/job.yaml: triggers[0].sqs.queue: "my queue" is not a queue name: use 1-80 letters, digits, - and _`},
		},
		{
			"a secret that is not a reference is refused without echoing it",
			map[string]string{"a/job.yaml": minimal + "secrets:\n  DB_PASSWORD: hunter2hunter2\n"},
			[]string{`jobs/a/job.yaml: secrets.DB_PASSWORD: the value (not shown) is not a secret reference: write ssm:/param/name or secretsmanager:<secret ARN>[:json-key]; a value written here would be plain text`},
		},
		{
			"a Secrets Manager reference that is not an ARN is refused",
			map[string]string{"a/job.yaml": minimal + "secrets:\n  DB: secretsmanager:prod/db\n"},
			[]string{`jobs/a/job.yaml: secrets.DB: "prod/db" is not a Secrets Manager secret ARN: write secretsmanager:arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME[:json-key]`},
		},
		{
			"a bad SSM parameter name is refused",
			map[string]string{"a/job.yaml": minimal + "secrets:\n  DB: ssm:/prod/db password\n"},
			[]string{`jobs/a/job.yaml: secrets.DB: "/prod/db password" is not an SSM parameter name: use letters, digits, _ . - and /, such as ssm:/prod/db/password`},
		},
		{
			"a secret and a variable with one name are refused",
			map[string]string{"a/job.yaml": minimal + "environment:\n  DB: x\nsecrets:\n  DB: ssm:/db\n"},
			[]string{`jobs/a/job.yaml: environment.DB: DB is both an environment variable and a secret: keep one`},
		},
		{
			"a password written in the environment is sent to secrets",
			map[string]string{"a/job.yaml": minimal + "environment:\n  DB_PASSWORD: hunter2\n"},
			[]string{`jobs/a/job.yaml: environment.DB_PASSWORD: looks like a secret written in plain text: move it to secrets as an ssm: or secretsmanager: reference`},
		},
		{
			"variables of Longshore's own are reserved",
			map[string]string{"a/job.yaml": minimal + "environment:\n  LONGSHORE_JOB: x\n"},
			[]string{`jobs/a/job.yaml: environment.LONGSHORE_JOB: names starting with LONGSHORE_ are set by Longshore: choose another name`},
		},
		{
			"a variable name with a dash is refused",
			map[string]string{"a/job.yaml": minimal + "environment:\n  MY-VAR: x\n"},
			[]string{`jobs/a/job.yaml: environment.MY-VAR: "MY-VAR" is not a variable name: use letters, digits and _, not starting with a digit`},
		},
		{
			"a timeout that is not a duration is refused",
			map[string]string{"a/job.yaml": minimal + "timeout: 10 minutes\n"},
			[]string{`jobs/a/job.yaml: timeout: line 3: "10 minutes" is not a duration: write it like 90s, 15m, 2h or 30d`},
		},
		{
			"a timeout out of range gives the range",
			map[string]string{"a/job.yaml": minimal + "timeout: 900h\n"},
			[]string{`jobs/a/job.yaml: timeout: 900h0m0s is out of range: use 1s to 720h (30 days)`},
		},
		{
			"a negative backoff is out of range",
			map[string]string{"a/job.yaml": minimal + "retries: {attempts: 2, backoff: -5s}\n"},
			[]string{`jobs/a/job.yaml: retries.backoff: -5s is out of range: use 0s to 1h0m0s`},
		},
		{
			"too many attempts are refused",
			map[string]string{"a/job.yaml": minimal + "retries: {attempts: 50}\n"},
			[]string{`jobs/a/job.yaml: retries.attempts: 50 is out of range: use 1 (no retry) to 10`},
		},
		{
			"exit codes to retry must be failing codes, listed once",
			map[string]string{"a/job.yaml": minimal + "retries: {attempts: 2, exitCodes: [0, 3, 3, 300]}\n"},
			[]string{
				`jobs/a/job.yaml: retries.exitCodes[0]: 0 is not a failing exit code: use 1 to 255`,
				`jobs/a/job.yaml: retries.exitCodes[2]: 3 is listed twice`,
				`jobs/a/job.yaml: retries.exitCodes[3]: 300 is not a failing exit code: use 1 to 255`,
			},
		},
		{
			"exit codes to retry with a single attempt make no sense",
			map[string]string{"a/job.yaml": minimal + "retries: {exitCodes: [75]}\n"},
			[]string{`jobs/a/job.yaml: retries.exitCodes: has no effect with attempts 1: set retries.attempts to 2 or more`},
		},
		{
			"an unknown concurrency policy lists the policies",
			map[string]string{"a/job.yaml": minimal + "concurrency: queue\n"},
			[]string{`jobs/a/job.yaml: concurrency: line 3: "queue" is not a policy: write allow, forbid, replace or {max: N, overflow: queue|skip|replace}`},
		},
		{
			"a concurrency bound out of range says the range",
			map[string]string{"a/job.yaml": minimal + "concurrency: {max: 101}\n"},
			[]string{`jobs/a/job.yaml: concurrency.max: 101 is out of range: at most 1 to 100 runs of a job can be active at once (leave concurrency out for no bound)`},
		},
		{
			"a concurrency bound of zero is refused",
			map[string]string{"a/job.yaml": minimal + "concurrency: {max: 0, overflow: skip}\n"},
			[]string{`jobs/a/job.yaml: concurrency.max: 0 is out of range: at most 1 to 100 runs of a job can be active at once (leave concurrency out for no bound)`},
		},
		{
			"an unknown overflow lists the overflows",
			map[string]string{"a/job.yaml": minimal + "concurrency: {max: 2, overflow: wait}\n"},
			[]string{`jobs/a/job.yaml: concurrency.overflow: "wait" is not an overflow: write queue, skip or replace`},
		},
		{
			"an overflow without a bound is refused",
			map[string]string{"a/job.yaml": minimal + "concurrency: {overflow: queue}\n"},
			[]string{`jobs/a/job.yaml: concurrency.overflow: an overflow needs the bound it applies past: write concurrency: {max: N, overflow: queue}`},
		},
		{
			"an unknown concurrency field names the fields",
			map[string]string{"a/job.yaml": minimal + "concurrency: {max: 2, limit: 3}\n"},
			[]string{`jobs/a/job.yaml: concurrency.limit: line 3: unknown field (allowed: max, overflow)`},
		},
		{
			"an unknown capacity lists the capacities",
			map[string]string{"a/job.yaml": minimal + "capacity: cheap\n"},
			[]string{`jobs/a/job.yaml: capacity: "cheap" is not a capacity: write on-demand, spot or spot-then-on-demand`},
		},
		{
			"a job with no image and no local command cannot run",
			map[string]string{"a/job.yaml": "description: nothing to run\n"},
			[]string{`jobs/a/job.yaml: the job has no way to run: give it an image (image.build or image.uri) or a local.command`},
		},
		{
			"an image with both build and uri is refused",
			map[string]string{"a/job.yaml": "image: {build: ., uri: busybox}\n"},
			[]string{`jobs/a/job.yaml: image: set either image.build or image.uri, not both`},
		},
		{
			"an image uri that is not a reference is refused",
			map[string]string{"a/job.yaml": "image: {uri: 'Busy Box'}\n"},
			[]string{`jobs/a/job.yaml: image.uri: "Busy Box" is not an image reference: write it like registry.example.com/team/app:1.2 or app@sha256:<digest>`},
		},
		{
			"a build folder outside the job is refused",
			map[string]string{"a/job.yaml": "image: {build: ../b}\n"},
			[]string{`jobs/a/job.yaml: image.build: "../b" leaves the job's folder: give a folder inside it, such as "."`},
		},
		{
			"a build folder without a Containerfile is refused",
			map[string]string{"a/job.yaml": "image: {build: .}\n"},
			[]string{`jobs/a/job.yaml: image.build: folder "." has no Containerfile or Dockerfile`},
		},
		{
			"a missing build folder is refused",
			map[string]string{"a/job.yaml": "image: {build: src}\n"},
			[]string{`jobs/a/job.yaml: image.build: folder "src" does not exist beside job.yaml`},
		},
		{
			"a local folder outside the job is refused",
			map[string]string{"a/job.yaml": "local: {command: [true], dir: /tmp}\n"},
			[]string{`jobs/a/job.yaml: local.dir: "/tmp" leaves the job's folder: give a folder inside it`},
		},
		{
			"two jobs with one name are refused",
			map[string]string{"a/job.yaml": minimal + "name: same\n", "b/job.yaml": minimal + "name: same\n"},
			[]string{`jobs/b/job.yaml: name: "same" is also the name of jobs/a/job.yaml: job names are unique`},
		},
		{
			"two jobs reading one queue are refused",
			map[string]string{"a/job.yaml": minimal + "triggers: [{sqs: {queue: q}}]\n", "b/job.yaml": minimal + "triggers: [{sqs: {queue: q}}]\n"},
			[]string{`jobs/b/job.yaml: triggers[0].sqs.queue: queue "q" is also read by job a: each message would start only one of them; give each job its own queue`},
		},
		{
			"an unknown architecture names both",
			map[string]string{"a/job.yaml": minimal + "architecture: sparc\n"},
			[]string{`jobs/a/job.yaml: architecture: "sparc" is not an architecture: write x86_64 or arm64`},
		},
		{
			"another name of an architecture says how it is written",
			map[string]string{"a/job.yaml": minimal + "architecture: amd64\n"},
			[]string{`jobs/a/job.yaml: architecture: "amd64" is not an architecture: write x86_64 or arm64 (amd64 is written x86_64)`},
		},
		{
			"arm64 on Fargate Spot is refused",
			map[string]string{"a/job.yaml": minimal + "architecture: arm64\ncapacity: spot\n"},
			[]string{`jobs/a/job.yaml: architecture: arm64 cannot run on capacity spot: Fargate Spot runs x86_64 only: use capacity on-demand or architecture x86_64`},
		},
		{
			"arm64 on Spot with an on-demand fallback is refused too",
			map[string]string{"a/job.yaml": minimal + "architecture: arm64\ncapacity: spot-then-on-demand\n"},
			[]string{`jobs/a/job.yaml: architecture: arm64 cannot run on capacity spot-then-on-demand: Fargate Spot runs x86_64 only: use capacity on-demand or architecture x86_64`},
		},
		{
			"a storage below Fargate's range gives the range",
			map[string]string{"a/job.yaml": minimal + "storage: 10\n"},
			[]string{`jobs/a/job.yaml: storage: 10 GiB is out of range: use 21 to 200, or leave storage out for Fargate's default of 20 GiB`},
		},
		{
			"a storage above Fargate's range gives the range",
			map[string]string{"a/job.yaml": minimal + "storage: 201\n"},
			[]string{`jobs/a/job.yaml: storage: 201 GiB is out of range: use 21 to 200, or leave storage out for Fargate's default of 20 GiB`},
		},
		{
			"a storage of zero written out is refused, not read as the default",
			map[string]string{"a/job.yaml": minimal + "storage: 0\n"},
			[]string{`jobs/a/job.yaml: storage: 0 GiB is out of range: use 21 to 200, or leave storage out for Fargate's default of 20 GiB`},
		},
		{
			"a storage that is not a number says so",
			map[string]string{"a/job.yaml": minimal + "storage: 50GiB\n"},
			[]string{`jobs/a/job.yaml: storage: line 3: must be a whole number, not "50GiB"`},
		},
		{
			"a permission without actions or resources lists what it needs",
			map[string]string{"a/job.yaml": minimal + "permissions:\n  - {}\n"},
			[]string{
				`jobs/a/job.yaml: permissions[0].actions: is empty: list at least one action, such as s3:GetObject`,
				`jobs/a/job.yaml: permissions[0].resources: is empty: list at least one resource ARN, such as arn:aws:s3:::my-bucket/*, or "*"`,
			},
		},
		{
			"an action that is not service:Action is refused with the syntax",
			map[string]string{"a/job.yaml": minimal + "permissions:\n  - actions: [s3:GetObject, GetObject, 'S3:GetObject', 's3:Get-Object']\n    resources: ['arn:aws:s3:::b/*']\n"},
			[]string{
				`jobs/a/job.yaml: permissions[0].actions[1]: "GetObject" is not an IAM action: write service:Action, such as s3:GetObject, s3:Get* or dynamodb:*`,
				`jobs/a/job.yaml: permissions[0].actions[2]: "S3:GetObject" is not an IAM action: write service:Action, such as s3:GetObject, s3:Get* or dynamodb:*`,
				`jobs/a/job.yaml: permissions[0].actions[3]: "s3:Get-Object" is not an IAM action: write service:Action, such as s3:GetObject, s3:Get* or dynamodb:*`,
			},
		},
		{
			"an action of every service is refused",
			map[string]string{"a/job.yaml": minimal + "permissions:\n  - actions: ['*']\n    resources: ['arn:aws:s3:::b']\n"},
			[]string{`jobs/a/job.yaml: permissions[0].actions[0]: "*" would allow every action of every service: name the service, such as s3:* or s3:GetObject`},
		},
		{
			"a resource that is not an ARN is refused with the ARN's parts",
			map[string]string{"a/job.yaml": minimal + "permissions:\n  - actions: [s3:GetObject]\n    resources: [my-bucket, 'arn:aws:s3:::', 'arn:aws-eu:s3:::b', 'arn:aws:dynamodb:eu-west-1:1234:table/t']\n"},
			[]string{
				`jobs/a/job.yaml: permissions[0].resources[0]: "my-bucket" is not a resource: write "*" or an ARN arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE (PARTITION aws, aws-cn or aws-us-gov; REGION and ACCOUNT may be empty or *; ACCOUNT is 12 digits), such as arn:aws:s3:::my-bucket/*`,
				`jobs/a/job.yaml: permissions[0].resources[1]: "arn:aws:s3:::" is not a resource: write "*" or an ARN arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE (PARTITION aws, aws-cn or aws-us-gov; REGION and ACCOUNT may be empty or *; ACCOUNT is 12 digits), such as arn:aws:s3:::my-bucket/*`,
				`jobs/a/job.yaml: permissions[0].resources[2]: "arn:aws-eu:s3:::b" is not a resource: write "*" or an ARN arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE (PARTITION aws, aws-cn or aws-us-gov; REGION and ACCOUNT may be empty or *; ACCOUNT is 12 digits), such as arn:aws:s3:::my-bucket/*`,
				`jobs/a/job.yaml: permissions[0].resources[3]: "arn:aws:dynamodb:eu-west-1:1234:table/t" is not a resource: write "*" or an ARN arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE (PARTITION aws, aws-cn or aws-us-gov; REGION and ACCOUNT may be empty or *; ACCOUNT is 12 digits), such as arn:aws:s3:::my-bucket/*`,
			},
		},
		{
			"a misspelt field of a permission is unknown, with the one it meant",
			map[string]string{"a/job.yaml": minimal + "permissions:\n  - action: [s3:GetObject]\n    resources: ['arn:aws:s3:::b/*']\n"},
			[]string{
				`jobs/a/job.yaml: permissions[0].action: line 4: unknown field; did you mean "actions"? (allowed: actions, resources)`,
				`jobs/a/job.yaml: permissions[0].actions: is empty: list at least one action, such as s3:GetObject`,
			},
		},
		{
			"more permission statements than allowed are refused",
			map[string]string{"a/job.yaml": minimal + "permissions:\n" + strings.Repeat("  - {actions: [s3:GetObject], resources: ['arn:aws:s3:::b/*']}\n", 21)},
			[]string{`jobs/a/job.yaml: permissions: 21 statements are too many: use at most 20 (merge statements on the same resources, or attach managedPolicies)`},
		},
		{
			"a managed policy that is not a policy ARN is refused",
			map[string]string{"a/job.yaml": minimal + "managedPolicies: [AmazonS3ReadOnlyAccess, 'arn:aws:iam::aws:role/x', 'arn:aws:iam::12345:policy/x']\n"},
			[]string{
				`jobs/a/job.yaml: managedPolicies[0]: "AmazonS3ReadOnlyAccess" is not an IAM managed policy ARN: write arn:aws:iam::aws:policy/NAME (AWS managed) or arn:aws:iam::ACCOUNT:policy/NAME (ACCOUNT is 12 digits)`,
				`jobs/a/job.yaml: managedPolicies[1]: "arn:aws:iam::aws:role/x" is not an IAM managed policy ARN: write arn:aws:iam::aws:policy/NAME (AWS managed) or arn:aws:iam::ACCOUNT:policy/NAME (ACCOUNT is 12 digits)`,
				`jobs/a/job.yaml: managedPolicies[2]: "arn:aws:iam::12345:policy/x" is not an IAM managed policy ARN: write arn:aws:iam::aws:policy/NAME (AWS managed) or arn:aws:iam::ACCOUNT:policy/NAME (ACCOUNT is 12 digits)`,
			},
		},
		{
			"a managed policy listed twice is refused",
			map[string]string{"a/job.yaml": minimal + "managedPolicies: ['arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess', 'arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess']\n"},
			[]string{`jobs/a/job.yaml: managedPolicies[1]: "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess" repeats managedPolicies[0]: remove one`},
		},
		{
			"more managed policies than IAM attaches are refused",
			map[string]string{"a/job.yaml": minimal + "managedPolicies:\n" + policies(11)},
			[]string{`jobs/a/job.yaml: managedPolicies: 11 policies are too many: IAM attaches at most 10 managed policies to a role`},
		},
		{
			"a task role that is not a role ARN is refused",
			map[string]string{"a/job.yaml": minimal + "taskRole: report-role\n"},
			[]string{`jobs/a/job.yaml: taskRole: "report-role" is not an IAM role ARN: write arn:aws:iam::ACCOUNT:role/NAME or arn:aws:iam::ACCOUNT:role/PATH/NAME (ACCOUNT is 12 digits)`},
		},
		{
			"a task role of AWS's own account is refused",
			map[string]string{"a/job.yaml": minimal + "taskRole: 'arn:aws:iam::aws:role/x'\n"},
			[]string{`jobs/a/job.yaml: taskRole: "arn:aws:iam::aws:role/x" is not an IAM role ARN: write arn:aws:iam::ACCOUNT:role/NAME or arn:aws:iam::ACCOUNT:role/PATH/NAME (ACCOUNT is 12 digits)`},
		},
		{
			"a task role with permissions is refused once",
			map[string]string{"a/job.yaml": minimal + "taskRole: 'arn:aws:iam::111122223333:role/report'\npermissions: [{actions: [s3:GetObject], resources: ['arn:aws:s3:::b/*']}]\nmanagedPolicies: ['arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess']\n"},
			[]string{`jobs/a/job.yaml: taskRole: use taskRole for an existing role, or permissions/managedPolicies for a role Longshore creates, not both`},
		},
		{
			"a task role with managed policies is refused",
			map[string]string{"a/job.yaml": minimal + "taskRole: 'arn:aws:iam::111122223333:role/report'\nmanagedPolicies: ['arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess']\n"},
			[]string{`jobs/a/job.yaml: taskRole: use taskRole for an existing role, or permissions/managedPolicies for a role Longshore creates, not both`},
		},
		{
			"a subnet that is not a subnet ID is refused with the form",
			map[string]string{"a/job.yaml": minimal + "network:\n  subnets: [subnet-0123abcd, subnet-123, private-a, subnet-0123456789ABCDEF0]\n"},
			[]string{
				`jobs/a/job.yaml: network.subnets[1]: "subnet-123" is not a subnet ID: write subnet- and 8 or 17 hex digits, such as subnet-0123456789abcdef0`,
				`jobs/a/job.yaml: network.subnets[2]: "private-a" is not a subnet ID: write subnet- and 8 or 17 hex digits, such as subnet-0123456789abcdef0`,
				`jobs/a/job.yaml: network.subnets[3]: "subnet-0123456789ABCDEF0" is not a subnet ID: write subnet- and 8 or 17 hex digits, such as subnet-0123456789abcdef0`,
			},
		},
		{
			"a subnet listed twice is refused",
			map[string]string{"a/job.yaml": minimal + "network:\n  subnets: [subnet-0123abcd, subnet-0123abce, subnet-0123abcd]\n"},
			[]string{`jobs/a/job.yaml: network.subnets[2]: "subnet-0123abcd" repeats network.subnets[0]: remove one`},
		},
		{
			"more subnets than a task takes are refused",
			map[string]string{"a/job.yaml": minimal + "network:\n  subnets: [" + ids("subnet", 17) + "]\n"},
			[]string{`jobs/a/job.yaml: network.subnets: 17 subnets are too many: a Fargate task takes at most 16`},
		},
		{
			"a security group that is not a group ID is refused with the form",
			map[string]string{"a/job.yaml": minimal + "network:\n  securityGroups: [sg-0123456789abcdef0, default]\n"},
			[]string{`jobs/a/job.yaml: network.securityGroups[1]: "default" is not a security group ID: write sg- and 8 or 17 hex digits, such as sg-0123456789abcdef0`},
		},
		{
			"a security group listed twice is refused",
			map[string]string{"a/job.yaml": minimal + "network:\n  securityGroups: [sg-0123abcd, sg-0123abcd]\n"},
			[]string{`jobs/a/job.yaml: network.securityGroups[1]: "sg-0123abcd" repeats network.securityGroups[0]: remove one`},
		},
		{
			"more security groups than a task takes are refused",
			map[string]string{"a/job.yaml": minimal + "network:\n  securityGroups: [" + ids("sg", 6) + "]\n"},
			[]string{`jobs/a/job.yaml: network.securityGroups: 6 security groups are too many: a Fargate task takes at most 5`},
		},
		{
			"a public IP that is not true or false is refused",
			map[string]string{"a/job.yaml": minimal + "network:\n  assignPublicIp: yes\n"},
			[]string{`jobs/a/job.yaml: network.assignPublicIp: line 4: must be true or false, not "yes"`},
		},
		{
			"a misspelt network field is unknown, with the one it meant",
			map[string]string{"a/job.yaml": minimal + "network:\n  subnet: [subnet-0123abcd]\n"},
			[]string{`jobs/a/job.yaml: network.subnet: line 4: unknown field; did you mean "subnets"? (allowed: subnets, securityGroups, assignPublicIp)`},
		},
		{
			"a tag key AWS reserves is refused",
			map[string]string{"a/job.yaml": minimal + "tags:\n  aws:cloudformation:stack-name: x\n"},
			[]string{`jobs/a/job.yaml: tags.aws:cloudformation:stack-name: keys starting with aws: are reserved by AWS: choose another key`},
		},
		{
			"a tag key of Longshore's own is refused",
			map[string]string{"a/job.yaml": minimal + "tags:\n  longshore:job: other\n"},
			[]string{`jobs/a/job.yaml: tags.longshore:job: keys starting with longshore: are Longshore's own (it sets longshore:job, longshore:run and more): choose another key`},
		},
		{
			"a tag key with characters AWS refuses is quoted",
			map[string]string{"a/job.yaml": minimal + "tags:\n  team#1: x\n"},
			[]string{`jobs/a/job.yaml: tags: key "team#1" has characters AWS tags do not allow: use letters, digits, spaces and _ . : / = + - @`},
		},
		{
			"an empty tag key is refused",
			map[string]string{"a/job.yaml": minimal + "tags:\n  '': x\n"},
			[]string{`jobs/a/job.yaml: tags: a key is empty: use 1 to 128 characters`},
		},
		{
			"a tag key too long gives the limit",
			map[string]string{"a/job.yaml": minimal + "tags:\n  " + strings.Repeat("k", 129) + ": x\n"},
			[]string{`jobs/a/job.yaml: tags.` + strings.Repeat("k", 129) + `: the key is 129 characters long: use 1 to 128`},
		},
		{
			"a tag value with characters AWS refuses is quoted",
			map[string]string{"a/job.yaml": minimal + "tags:\n  team: 'data & reporting'\n"},
			[]string{`jobs/a/job.yaml: tags.team: the value "data & reporting" has characters AWS tags do not allow: use letters, digits, spaces and _ . : / = + - @`},
		},
		{
			"a tag value too long gives the limit",
			map[string]string{"a/job.yaml": minimal + "tags:\n  team: " + strings.Repeat("v", 257) + "\n"},
			[]string{`jobs/a/job.yaml: tags.team: the value is 257 characters long: use at most 256`},
		},
		{
			"more tags than leave room for Longshore's are refused",
			map[string]string{"a/job.yaml": minimal + "tags:\n" + tags(46)},
			[]string{`jobs/a/job.yaml: tags: 46 tags are too many: use at most 45 (ECS allows 50 a resource, and Longshore adds its own)`},
		},
		{
			"tags that are a list say they are a mapping",
			map[string]string{"a/job.yaml": minimal + "tags: [team]\n"},
			[]string{`jobs/a/job.yaml: tags: line 3: must be a mapping of NAME: value`},
		},
		{
			"a job file named job.yml is pointed out",
			map[string]string{"a/job.yml": minimal},
			[]string{`jobs/a/job.yml: job files are named job.yaml: rename it`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, got := load(t, tt.files)
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestValidBuildContextsPass(t *testing.T) {
	_, problems := load(t, map[string]string{
		"a/job.yaml":       "image: {build: .}\n",
		"a/Containerfile":  "FROM scratch\n",
		"b/job.yaml":       "image: {build: src}\nlocal: {command: [make], dir: src}\n",
		"b/src/Dockerfile": "FROM scratch\n",
	})
	if problems != nil {
		t.Fatalf("problems: %v", problems)
	}
}

func TestAnOversizedFileIsRefusedUnread(t *testing.T) {
	_, problems := load(t, map[string]string{"a/job.yaml": minimal + "# " + strings.Repeat("x", job.MaxFileSize) + "\n"})
	want := "jobs/a/job.yaml: file is larger than 256 KiB: a job file should be a page or two"
	if len(problems) != 1 || problems[0] != want {
		t.Errorf("problems = %v, want %q", problems, want)
	}
}

func TestParseChecksOneFileAlone(t *testing.T) {
	s, err := job.Parse([]byte(minimal), "hello", "jobs/hello/job.yaml")
	if err != nil || s.Name != "hello" {
		t.Fatalf("Parse = %+v, %v", s, err)
	}
	_, err = job.Parse([]byte("cpu: 1\n"), "hello", "jobs/hello/job.yaml")
	if err == nil || !strings.Contains(err.Error(), "cpu: 1 is not a Fargate CPU size") {
		t.Errorf("Parse error = %v", err)
	}
}

func TestTriggerWordsSayEachTriggerInAFewWords(t *testing.T) {
	s, err := job.Parse([]byte("image: {uri: busybox}\ntriggers:\n  - schedule: cron(0 3 * * ? *)\n    timezone: Europe/Berlin\n"+
		"  - s3: {prefix: in/, suffix: .csv}\n  - sqs: {}\n  - invoke\n"), "orders", "jobs/orders/job.yaml")
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(s.TriggerWords(func(q string) string { return "prod_" + q }), "; ")
	if want := "schedule cron(0 3 * * ? *) Europe/Berlin; s3 in/*.csv; sqs prod_orders; invoke"; got != want {
		t.Errorf("TriggerWords = %q, want %q", got, want)
	}
}

func TestMatchS3TakesTheJobsWhosePrefixAndSuffixBothMatch(t *testing.T) {
	var jobs []*job.Spec
	for name, trigger := range map[string]string{
		"ingest": "{prefix: incoming/, suffix: .csv}", "archive": "{prefix: incoming/}", "thumbnail": "{prefix: incoming/, suffix: .jpg}",
		"twice": "{prefix: incoming/}\n  - s3: {suffix: .csv}",
	} {
		s, err := job.Parse([]byte("image: {uri: busybox}\ntriggers:\n  - s3: "+trigger+"\n"), name, "jobs/"+name+"/job.yaml")
		if err != nil {
			t.Fatal(err)
		}
		jobs = append(jobs, s)
	}
	tests := []struct{ key, want string }{
		{"incoming/a.csv", "archive ingest twice"},
		{"incoming/a.jpg", "archive thumbnail twice"},
		{"incoming/", "archive twice"},
		{"outgoing/a.csv", "twice"},
		{"incoming/x/y.csv.gz", "archive twice"},
		{"", ""},
	}
	for _, tt := range tests {
		got := job.MatchS3(jobs, tt.key)
		slices.Sort(got)
		if strings.Join(got, " ") != tt.want {
			t.Errorf("key %q: %v, want %s", tt.key, got, tt.want)
		}
	}
}

// policies writes n managed policy ARNs as a YAML list.
func policies(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "  - arn:aws:iam::111122223333:policy/p%d\n", i)
	}
	return b.String()
}

// ids writes n distinct IDs such as subnet-00000000, comma-separated.
func ids(prefix string, n int) string {
	out := make([]string, n)
	for i := range n {
		out[i] = fmt.Sprintf("%s-%08x", prefix, i)
	}
	return strings.Join(out, ", ")
}

// tags writes n distinct tags as a YAML mapping.
func tags(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "  t%d: v\n", i)
	}
	return b.String()
}
