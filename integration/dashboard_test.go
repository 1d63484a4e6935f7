package integration

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/longshore/longshore/internal/dashboard"
)

// dashboardOrigin is where the engine's dashboard is served: the engine's
// own address once it mounts the dashboard (api.Options.UI), and until then
// a server that serves the dashboard beside a proxy to the engine's API,
// the way the engine will.
func dashboardOrigin(t *testing.T, e *engine) string {
	t.Helper()
	resp, err := http.Get(e.api + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode == 200 && strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		return e.api
	}
	t.Logf("the engine at %s serves no dashboard yet: serving it beside a proxy to its API", e.api)
	u, _ := url.Parse(e.api)
	proxy := httputil.NewSingleHostReverseProxy(u)
	ui := dashboard.Handler()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/v1/") || r.URL.Path == "/healthz" {
			proxy.ServeHTTP(w, r)
			return
		}
		ui.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// seed gives the example catalog a history: runs on request, an upload, a
// message, a run that never starts (its secret is missing), and a long run
// still going, whose id it returns.
func seed(t *testing.T, e *engine) string {
	t.Helper()
	for _, code := range []int{0, 0, 1, 0, 0, 0, 2, 0, 0, 0} {
		if got := e.cli("run", "hello", "--env", "EXIT_CODE="+strconv.Itoa(code), "--wait"); got.code != code {
			t.Fatalf("run hello --wait = %d, want %d: %s", got.code, code, got.stderr)
		}
	}
	if got := e.cli("run", "nightly-report", "--wait"); got.code != 125 {
		t.Fatalf("run nightly-report without its secret = %d, want 125 (never started): %s", got.code, got.stderr)
	}
	ctx := context.Background()
	s3c := s3.NewFromConfig(awsConfig(), func(o *s3.Options) { o.BaseEndpoint = aws.String(e.s3); o.UsePathStyle = true })
	if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("uploads"), Key: aws.String("incoming/harbour.jpg"), Body: strings.NewReader("jpeg")}); err != nil {
		t.Fatalf("PutObject: %v", err)
	}
	sqsc := sqs.NewFromConfig(awsConfig(), func(o *sqs.Options) { o.BaseEndpoint = aws.String(e.sqs) })
	q, err := sqsc.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String("orders")})
	if err != nil {
		t.Fatalf("GetQueueUrl: %v", err)
	}
	if _, err := sqsc.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: q.QueueUrl, MessageBody: aws.String(`{"order": 1042}`)}); err != nil {
		t.Fatalf("SendMessage: %v", err)
	}
	eventually(t, "the upload and the message have finished runs", func() bool {
		return len(filter(e.list("--job", "thumbnail"), func(r runJSON) bool { return r.Status == "succeeded" })) == 1 &&
			len(filter(e.list("--job", "orders"), func(r runJSON) bool { return r.Status == "succeeded" })) == 1
	})
	soak := strings.TrimSpace(e.cli("run", "soak").stdout)
	eventually(t, "soak runs", func() bool { return e.get(soak).Status == "running" })
	return soak
}

func TestTheDashboardShowsJobsAndRunsAndStartsAndStopsRuns(t *testing.T) {
	chromium(t) // skip before starting anything when there is no browser
	e := startEngine(t, "jobs", t.TempDir())
	soak := seed(t, e)
	b := startBrowser(t, dashboardOrigin(t, e))

	// Jobs: every job of the example catalog, the nightly report's next run in Berlin time.
	b.navigate("/")
	b.waitFor("the five example jobs are listed", `document.querySelectorAll('.job-row[data-job]').length === 5`)
	b.waitFor("each job shows its last run", `document.querySelectorAll('.job-row[data-job] [data-last-run]').length === 5`)
	var report string
	b.value(`document.querySelector('.job-row[data-job="nightly-report"]').innerText`, &report)
	if !regexp.MustCompile(`CES?T`).MatchString(report) || !strings.Contains(report, "Europe/Berlin") || !strings.Contains(report, "never started") {
		t.Errorf("the nightly report's row does not show its next run in its zone and its last outcome:\n%s", report)
	}
	jobsShot := b.screenshot("jobs")

	// A run started from the page: the Run button of hello, with an exit code.
	b.click(`.job-row[data-job="hello"] [data-action="run"]`)
	b.waitFor("the run dialog is open", `document.getElementById('run-dialog').open`)
	b.typeText("#run-env", "EXIT_CODE=3")
	b.click("[data-dialog-submit]")
	b.waitFor("the page of the new run is shown", `/^\/runs\/r-[0-9a-v]{16}$/.test(location.pathname)`)
	var first string
	b.value(`location.pathname.split('/')[2]`, &first)
	b.waitFor("the run finishes with exit code 3", `document.querySelector('[data-exit-code="3"]') !== null && document.querySelector('.page-head [data-status="failed"]') !== null`)
	b.waitFor("its output's tail is shown", `document.querySelector('[data-log]').textContent.includes('hello: exiting with 3')`)
	b.waitFor("the outcome is said in words", `document.querySelector('[data-outcome-title]').textContent === 'Failed: the app exited with code 3'`)
	runShot := b.screenshot("run")
	if r := e.get(first); r.Status != "failed" || r.ExitCode == nil || *r.ExitCode != 3 || r.Trigger.Kind != "invoke" {
		t.Errorf("the run started from the page is %+v", r)
	}

	// Run again: a new run with the same environment.
	b.click(`[data-action="again"]`)
	b.waitFor("the page of another run is shown", `/^\/runs\/r-/.test(location.pathname) && location.pathname !== '/runs/`+first+`'`)
	var again string
	b.value(`location.pathname.split('/')[2]`, &again)
	b.waitFor("the second run finishes with exit code 3 too", `document.querySelector('[data-exit-code="3"]') !== null`)
	if r := e.finished(again); r.ExitCode == nil || *r.ExitCode != 3 {
		t.Errorf("run again made %+v", r)
	}

	// Runs: the live table has both, and the failed filter keeps only failures.
	b.click(`a[data-nav="runs"]`)
	b.waitFor("both runs are listed", `document.querySelector('tr[data-run="`+first+`"]') && document.querySelector('tr[data-run="`+again+`"]')`)
	b.click(`[data-filter="failed"]`)
	b.waitFor("only failed runs are listed", `location.search === '?status=failed' && [...document.querySelectorAll('tr[data-run]')].every(r => r.dataset.status === 'failed') && document.querySelector('tr[data-run="`+first+`"]')`)
	var failed int
	b.value(`document.querySelectorAll('tr[data-run]').length`, &failed)
	if want := len(e.list("--status", "failed")); failed != want {
		t.Errorf("the failed filter lists %d runs; the engine has %d", failed, want)
	}
	b.click(`[data-filter="all"]`)
	b.waitFor("every run is listed again", `document.querySelectorAll('tr[data-run]').length === `+strconv.Itoa(len(e.list())))
	b.screenshot("runs")

	// A job's chart: one mark per run.
	b.navigate("/jobs/hello")
	hello := len(e.list("--job", "hello"))
	b.waitFor("the chart draws every run of hello", `document.querySelectorAll('[data-chart] [data-run]').length === `+strconv.Itoa(hello))
	b.screenshot("job")

	// Stop: the long run stopped from its page ends cancelled.
	b.navigate("/runs/" + soak)
	b.waitFor("the run is shown running", `document.querySelector('.page-head [data-status="running"]') !== null`)
	b.click(`[data-action="stop"]`)
	b.waitFor("the run is shown cancelled", `document.querySelector('.page-head [data-status="cancelled"]') !== null`)
	if r := e.get(soak); r.Status != "cancelled" {
		t.Errorf("after Stop the run is %s: %s", r.Status, r.Reason)
	}

	// The page's own words, checked in the browser that runs them.
	var words []string
	b.value(`import('/assets/lib/format.js').then(f => [
		f.formatDuration(340), f.formatDuration(4200), f.formatDuration(245000), f.formatDuration(8040000),
		f.outcome({status: 'failed', cause: 'start', reason: 'never started: the execution role cannot read secret db-password'}, new Date()).title,
		f.outcome({status: 'failed', cause: 'start', reason: 'never started: the execution role cannot read secret db-password'}, new Date()).detail,
		f.outcome({status: 'timed_out', reason: 'timed out after 30m'}, new Date()).detail,
		f.parseEnv('A=1\n\nB = two=2').error || JSON.stringify(f.parseEnv('A=1\n\nB = two=2').env),
		f.parseEnv('not a pair').error,
		f.inZone('2027-01-15T02:00:00Z', 'Europe/Berlin'), f.inZone('2027-07-15T05:00:00Z', 'America/New_York', {weekday: false}),
		f.zoneName('2027-01-15T02:00:00Z', 'Asia/Tokyo'), f.zoneName('2027-01-15T02:00:00Z', 'UTC'),
	])`, &words)
	want := []string{"340 ms", "4.2 s", "4m 05s", "2h 14m", "Never started", "The execution role cannot read secret db-password.",
		"Timed out after 30m.", `{"A":"1","B":" two=2"}`, `Line 1: write NAME=value (a name of letters, digits and _), not "not a pair".`,
		"Fri 15 Jan, 03:00 CET", "15 Jul, 01:00 EDT", "GMT+9", "UTC"}
	if strings.Join(words, "|") != strings.Join(want, "|") {
		t.Errorf("the page's words:\n%q\nwant\n%q", words, want)
	}

	// Dark: the same page for prefers-color-scheme: dark.
	b.colorScheme("dark")
	b.navigate("/")
	b.waitFor("the jobs are listed", `document.querySelectorAll('.job-row[data-job] [data-last-run]').length >= 4`)
	b.screenshot("jobs-dark")

	for _, p := range b.Problems() {
		t.Errorf("the page %s", p)
	}
	t.Logf("screenshots: %s", filepath.Dir(runShot))
	// LONGSHORE_UPDATE_SCREENSHOTS=1 makes the README's picture from this run.
	if os.Getenv("LONGSHORE_UPDATE_SCREENSHOTS") == "1" {
		data, err := os.ReadFile(jobsShot)
		if err == nil {
			err = os.WriteFile(filepath.Join("..", "docs", "images", "dashboard.png"), data, 0o644)
		}
		if err != nil {
			t.Errorf("update docs/images/dashboard.png: %v", err)
		}
	}
}
