package job

import (
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/longshore/longshore/internal/schedule"
)

// Limits checked by validation.
const (
	MinTimeout  = time.Second
	MaxTimeout  = 30 * 24 * time.Hour
	MaxAttempts = 10
	MaxBackoff  = time.Hour
)

var (
	nameRe    = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?$`)
	envNameRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	queueRe   = regexp.MustCompile(`^[A-Za-z0-9_-]{1,80}$`)
	imageRe   = regexp.MustCompile(`^[a-z0-9]+([._-][a-z0-9]+)*(\.[a-z0-9-]+)*(:[0-9]+)?(/[a-z0-9]+([._-][a-z0-9]+)*)*(:[A-Za-z0-9_][A-Za-z0-9._-]{0,127})?(@sha256:[a-f0-9]{64})?$`)
	// secretLike matches environment names that usually hold a secret.
	secretLike = regexp.MustCompile(`(^|_)(PASSWORD|PASSWD|SECRET|TOKEN|API_KEY|PRIVATE_KEY)$`)
)

// ReservedEnvPrefix starts the names of the variables Longshore gives every task.
const ReservedEnvPrefix = "LONGSHORE_"

// validate checks a spec after defaults; given reports whether the file
// set a field (see applyDefaults).
func validate(s *Spec, fsys fs.FS, opts Options, given func(path string) bool, ps *problems) {
	if !nameRe.MatchString(s.Name) {
		field := "name"
		if s.Name == s.Dir {
			field = "name (from the folder name)"
		}
		ps.add(field, "%q is not a job name: use 1-40 lowercase letters, digits and hyphens, starting and ending with a letter or digit", s.Name)
	}
	validateImage(s, fsys, opts, ps)
	validateSize(s, ps)
	validateArchitecture(s, ps)
	validateStorage(s, given, ps)
	validateEnvironment(s, ps)
	validateDurations(s, ps)
	validateRetries(s, ps)
	validateConcurrency(s, given, ps)
	if given("history.keep") && (s.History.Keep.D() < MinHistoryKeep || s.History.Keep.D() > MaxHistoryKeep) {
		ps.add("history.keep", "%s is out of range: keep a job's runs from 1h to 3650d (leave it out for the deployment's default)", FormatDays(s.History.Keep.D()))
	}
	if !slices.Contains([]Capacity{CapacityOnDemand, CapacitySpot, CapacitySpotThenOnDemand}, s.Capacity) {
		ps.add("capacity", "%q is not a capacity: write on-demand, spot or spot-then-on-demand", s.Capacity)
	}
	validatePermissions(s, ps)
	validateNetwork(s, ps)
	validateTags(s, ps)
	validateTriggers(s, opts, ps)
	validateLocal(s, fsys, opts, ps)
	validateNotify(s, ps)
	if s.Image.IsZero() && len(s.Local.Command) == 0 {
		ps.add("", "the job has no way to run: give it an image (image.build or image.uri) or a local.command")
	}
}

func validateImage(s *Spec, fsys fs.FS, opts Options, ps *problems) {
	img := s.Image
	if img.Build != "" && img.URI != "" {
		ps.add("image", "set either image.build or image.uri, not both")
		return
	}
	if img.URI != "" && !imageRe.MatchString(img.URI) {
		ps.add("image.uri", "%q is not an image reference: write it like registry.example.com/team/app:1.2 or app@sha256:<digest>", img.URI)
	}
	if img.Build == "" {
		return
	}
	dir, ok := inside(s.Dir, img.Build)
	if !ok {
		ps.add("image.build", "%q leaves the job's folder: give a folder inside it, such as \".\"", img.Build)
		return
	}
	if opts.SkipFiles || fsys == nil {
		return
	}
	if st, err := fs.Stat(fsys, dir); err != nil || !st.IsDir() {
		ps.add("image.build", "folder %q does not exist beside job.yaml", img.Build)
		return
	}
	for _, f := range []string{"Containerfile", "Dockerfile"} {
		if _, err := fs.Stat(fsys, path.Join(dir, f)); err == nil {
			return
		}
	}
	ps.add("image.build", "folder %q has no Containerfile or Dockerfile", img.Build)
}

// inside joins rel to dir and reports whether the result stays inside dir.
func inside(dir, rel string) (string, bool) {
	if path.IsAbs(rel) || strings.Contains(rel, "\\") {
		return "", false
	}
	p := path.Join(dir, rel)
	return p, p == dir || strings.HasPrefix(p, dir+"/")
}

func validateSize(s *Spec, ps *problems) {
	mem, ok := fargateMemory[s.CPU]
	switch {
	case s.CPU == 0:
		// Only a memory given alone leaves the cpu unset: no cpu allows it.
		ps.add("memory", "no Fargate CPU size allows %d MiB: see the sizes in docs/job-spec.md", s.Memory)
	case !ok:
		ps.add("cpu", "%d is not a Fargate CPU size: use one of %s (1024 = 1 vCPU)", s.CPU, describeCPUs())
	case !slices.Contains(mem, s.Memory):
		ps.add("memory", "%d MiB is not allowed with cpu %d: use %s", s.Memory, s.CPU, describeMemory(s.CPU))
	}
}

func validateEnvironment(s *Spec, ps *problems) {
	for _, name := range sortedKeys(s.Environment) {
		field := join("environment", name)
		switch {
		case !envNameRe.MatchString(name):
			ps.add(field, "%q is not a variable name: use letters, digits and _, not starting with a digit", name)
		case strings.HasPrefix(name, ReservedEnvPrefix):
			ps.add(field, "names starting with %s are set by Longshore: choose another name", ReservedEnvPrefix)
		case SecretLike(name) && s.Environment[name] != "":
			ps.add(field, "looks like a secret written in plain text: move it to secrets as an ssm: or secretsmanager: reference")
		}
		if _, dup := s.Secrets[name]; dup {
			ps.add(field, "%s is both an environment variable and a secret: keep one", name)
		}
	}
	for _, name := range sortedKeys(s.Secrets) {
		field := join("secrets", name)
		switch {
		case !envNameRe.MatchString(name):
			ps.add(field, "%q is not a variable name: use letters, digits and _, not starting with a digit", name)
		case strings.HasPrefix(name, ReservedEnvPrefix):
			ps.add(field, "names starting with %s are set by Longshore: choose another name", ReservedEnvPrefix)
		}
		if _, err := ParseSecretRef(s.Secrets[name]); err != nil {
			ps.add(field, "%v", err)
		}
	}
}

func validateDurations(s *Spec, ps *problems) {
	if t := s.Timeout.D(); t < MinTimeout || t > MaxTimeout {
		ps.add("timeout", "%s is out of range: use %s to %s", t, MinTimeout, fmtDays(MaxTimeout))
	}
	if b := s.Retries.Backoff.D(); b < 0 || b > MaxBackoff {
		ps.add("retries.backoff", "%s is out of range: use 0s to %s", b, MaxBackoff)
	}
}

func fmtDays(d time.Duration) string {
	return fmt.Sprintf("%dh (%d days)", int(d.Hours()), int(d.Hours())/24)
}

func validateRetries(s *Spec, ps *problems) {
	r := s.Retries
	if r.Attempts < 1 || r.Attempts > MaxAttempts {
		ps.add("retries.attempts", "%d is out of range: use 1 (no retry) to %d", r.Attempts, MaxAttempts)
	}
	seen := map[int]bool{}
	for i, c := range r.ExitCodes {
		field := fmt.Sprintf("retries.exitCodes[%d]", i)
		switch {
		case c < 1 || c > 255:
			ps.add(field, "%d is not a failing exit code: use 1 to 255", c)
		case seen[c]:
			ps.add(field, "%d is listed twice", c)
		}
		seen[c] = true
	}
	if len(r.ExitCodes) > 0 && r.Attempts == 1 {
		ps.add("retries.exitCodes", "has no effect with attempts 1: set retries.attempts to 2 or more")
	}
}

func validateTriggers(s *Spec, opts Options, ps *problems) {
	schedules := map[string]int{}
	var sqs, invoke []int
	s3s := map[S3Trigger]int{}
	afters := map[string]int{}
	for i, t := range s.Triggers {
		field := fmt.Sprintf("triggers[%d]", i)
		kinds := 0
		for _, set := range []bool{t.Schedule != "", t.S3 != nil, t.SQS != nil, t.Invoke != nil, t.After != nil} {
			if set {
				kinds++
			}
		}
		if kinds != 1 {
			ps.add(field, "set exactly one of schedule, s3, sqs, invoke or after (found %d)", kinds)
			continue
		}
		switch {
		case t.Schedule != "":
			validateSchedule(t, field, opts, ps)
			key := t.Schedule + " " + t.Timezone
			if j, dup := schedules[key]; dup {
				ps.add(field, "repeats triggers[%d]: remove one", j)
			}
			schedules[key] = i
		case t.Timezone != "":
			ps.add(field+".timezone", "applies only to a schedule trigger")
		}
		if t.S3 != nil {
			if strings.HasPrefix(t.S3.Prefix, "/") {
				ps.add(field+".s3.prefix", "%q starts with /, which S3 keys do not: write %q", t.S3.Prefix, strings.TrimLeft(t.S3.Prefix, "/"))
			}
			if j, dup := s3s[*t.S3]; dup {
				ps.add(field, "repeats triggers[%d]: remove one", j)
			}
			s3s[*t.S3] = i
		}
		if t.SQS != nil {
			if !queueRe.MatchString(t.SQS.Queue) {
				ps.add(field+".sqs.queue", "%q is not a queue name: use 1-80 letters, digits, - and _", t.SQS.Queue)
			}
			sqs = append(sqs, i)
		}
		if t.Invoke != nil {
			invoke = append(invoke, i)
		}
		if t.After != nil {
			validateAfter(*t.After, field+".after", ps)
			if j, dup := afters[t.After.Job]; dup {
				ps.add(field, "repeats triggers[%d], after job %s: list every status in one trigger", j, t.After.Job)
			}
			afters[t.After.Job] = i
		}
	}
	if len(sqs) > 1 {
		ps.add(fmt.Sprintf("triggers[%d]", sqs[1]), "a job has one queue: declare the sqs trigger once")
	}
	if len(invoke) > 1 {
		ps.add(fmt.Sprintf("triggers[%d]", invoke[1]), "invoke is declared twice: remove one")
	}
}

func validateAfter(a AfterTrigger, field string, ps *problems) {
	if a.Job == "" {
		ps.add(field+".job", "names no job: write the upstream job's name, as in after: {job: extract}")
	}
	if len(a.Status) == 0 {
		ps.add(field+".status", "lists no status: list some of %s, or leave it out for [%s]", strings.Join(AfterStatuses, ", "), DefaultAfterStatus)
	}
	seen := map[string]bool{}
	for i, st := range a.Status {
		f := fmt.Sprintf("%s.status[%d]", field, i)
		switch {
		case !slices.Contains(AfterStatuses, st):
			ps.add(f, "%q is not a final status: use %s", st, strings.Join(AfterStatuses, ", "))
		case seen[st]:
			ps.add(f, "%s is listed twice", st)
		}
		seen[st] = true
	}
}

func validateSchedule(t Trigger, field string, opts Options, ps *problems) {
	sched, err := schedule.Parse(t.Schedule)
	if err != nil {
		ps.add(field+".schedule", "%v", err)
		return
	}
	loc, err := schedule.LoadLocation(t.Timezone)
	if err != nil {
		ps.add(field+".timezone", "%v", err)
		return
	}
	if t.Timezone != "" && sched.Kind() == schedule.KindRate {
		ps.add(field+".timezone", "has no effect on %s: a rate runs every interval whatever the zone; remove it", t.Schedule)
	}
	if sched.Kind() == schedule.KindCron {
		if _, ok := sched.Next(time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC), loc); !ok {
			ps.add(field+".schedule", "%s never fires: no date matches it", t.Schedule)
		}
	}
	// A one-time schedule that has passed never fires. Checked only when
	// the loader is told the time (see Options.Now).
	if sched.Kind() == schedule.KindAt && opts.Now != nil {
		now := opts.Now()
		if _, ok := sched.Next(now, loc); !ok {
			zone := t.Timezone
			if zone == "" {
				zone = "UTC"
			}
			ps.add(field+".schedule", "%s is in the past (now is %s %s): it would never fire; remove the trigger or give a later time",
				t.Schedule, now.In(loc).Format("2006-01-02T15:04:05"), zone)
		}
	}
}

func validateLocal(s *Spec, fsys fs.FS, opts Options, ps *problems) {
	for i, a := range s.Local.Command {
		if a == "" && i == 0 {
			ps.add("local.command[0]", "the program to run is empty")
		}
	}
	if s.Local.Dir == "" {
		return
	}
	if len(s.Local.Command) == 0 {
		ps.add("local.dir", "has no effect without local.command")
	}
	dir, ok := inside(s.Dir, s.Local.Dir)
	if !ok {
		ps.add("local.dir", "%q leaves the job's folder: give a folder inside it", s.Local.Dir)
		return
	}
	if opts.SkipFiles || fsys == nil {
		return
	}
	if st, err := fs.Stat(fsys, dir); err != nil || !st.IsDir() {
		ps.add("local.dir", "folder %q does not exist beside job.yaml", s.Local.Dir)
	}
}

// checkCatalog finds problems between jobs: two jobs with one name, two
// jobs reading one queue, a job after a job that does not exist, and jobs
// after each other in a cycle. broken names the folders whose job file has
// problems of its own: a job after one of them is not said to name no job.
func checkCatalog(specs []*Spec, broken map[string]bool) []Problem {
	var out []Problem
	names := map[string]*Spec{}
	queues := map[string]*Spec{}
	for _, s := range specs {
		if other, dup := names[s.Name]; dup {
			out = append(out, Problem{Path: s.Path, Field: "name",
				Message: fmt.Sprintf("%q is also the name of %s: job names are unique", s.Name, other.Path)})
		}
		names[s.Name] = s
		for i, t := range s.Triggers {
			if t.SQS == nil {
				continue
			}
			if other, dup := queues[t.SQS.Queue]; dup {
				out = append(out, Problem{Path: s.Path, Field: fmt.Sprintf("triggers[%d].sqs.queue", i),
					Message: fmt.Sprintf("queue %q is also read by job %s: each message would start only one of them; give each job its own queue", t.SQS.Queue, other.Name)})
			}
			queues[t.SQS.Queue] = s
		}
	}
	return append(out, checkChains(specs, names, broken)...)
}

// checkChains finds after triggers naming no job of the catalog, and
// cycles of them (a job after itself, a after b after a): a cycle would
// start runs for ever. Each cycle is reported once, on the trigger of its
// first job by name that closes it.
func checkChains(specs []*Spec, names map[string]*Spec, broken map[string]bool) []Problem {
	var out []Problem
	for _, s := range specs {
		for i, t := range s.Triggers {
			if t.After == nil || t.After.Job == "" {
				continue
			}
			if _, ok := names[t.After.Job]; !ok && !broken[t.After.Job] {
				msg := fmt.Sprintf("no job is named %q", t.After.Job)
				var known []string
				for n := range names {
					known = append(known, n)
				}
				if c := closest(t.After.Job, known); c != "" {
					msg += fmt.Sprintf("; did you mean %q?", c)
				}
				out = append(out, Problem{Path: s.Path, Field: fmt.Sprintf("triggers[%d].after.job", i), Message: msg})
			}
		}
	}
	// upstreams[b] lists the jobs b runs after.
	upstreams := map[string][]string{}
	for _, s := range specs {
		for _, t := range s.Triggers {
			if t.After != nil && names[t.After.Job] != nil && !slices.Contains(upstreams[s.Name], t.After.Job) {
				upstreams[s.Name] = append(upstreams[s.Name], t.After.Job)
			}
		}
	}
	reported := map[string]bool{} // jobs already named in a reported cycle
	sorted := slices.Clone(specs)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })
	for _, s := range sorted {
		if reported[s.Name] {
			continue
		}
		path := cycleFrom(s.Name, upstreams)
		if path == nil {
			continue
		}
		for _, n := range path {
			reported[n] = true
		}
		// path is s, the job s runs after, ..., back to s.
		field := "triggers"
		for i, t := range s.Triggers {
			if t.After != nil && t.After.Job == path[1] {
				field = fmt.Sprintf("triggers[%d].after.job", i)
				break
			}
		}
		msg := fmt.Sprintf("job %s runs after itself: a run would start the next for ever; remove this trigger", s.Name)
		if len(path) > 2 {
			var files []string
			for _, n := range path[1 : len(path)-1] {
				files = append(files, names[n].Path)
			}
			msg = fmt.Sprintf("the jobs run after each other in a cycle, %s: each run would start the next for ever; remove one of these after triggers (the others are in %s)",
				strings.Join(path, " after "), strings.Join(files, ", "))
		}
		out = append(out, Problem{Path: s.Path, Field: field, Message: msg})
	}
	return out
}

// cycleFrom returns a path start, u1, ..., start along upstreams (each
// job followed by one it runs after), or nil when start is on no cycle.
func cycleFrom(start string, upstreams map[string][]string) []string {
	seen := map[string]bool{}
	var walk func(n string, path []string) []string
	walk = func(n string, path []string) []string {
		for _, u := range upstreams[n] {
			if u == start {
				return append(slices.Clone(path), u)
			}
			if seen[u] {
				continue
			}
			seen[u] = true
			if p := walk(u, append(path, u)); p != nil {
				return p
			}
		}
		return nil
	}
	return walk(start, []string{start})
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func validateConcurrency(s *Spec, given func(string) bool, ps *problems) {
	c := s.Concurrency
	if given("concurrency.max") && (c.Max < 1 || c.Max > MaxConcurrency) {
		ps.add("concurrency.max", "%d is out of range: at most 1 to %d runs of a job can be active at once (leave concurrency out for no bound)", c.Max, MaxConcurrency)
	}
	if c.Overflow == "" {
		return
	}
	if !slices.Contains([]Overflow{OverflowQueue, OverflowSkip, OverflowReplace}, c.Overflow) {
		ps.add("concurrency.overflow", "%q is not an overflow: write queue, skip or replace", c.Overflow)
	} else if c.Max == 0 && !given("concurrency.max") {
		ps.add("concurrency.overflow", "an overflow needs the bound it applies past: write concurrency: {max: N, overflow: %s}", c.Overflow)
	}
}
