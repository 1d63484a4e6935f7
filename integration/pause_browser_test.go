package integration

import (
	"strings"
	"testing"
)

func TestTheDashboardPausesAndResumesAJob(t *testing.T) {
	chromium(t) // skip before starting anything when there is no browser
	jobs := t.TempDir()
	write(t, jobs, "tidy/job.yaml", "local:\n  command: [sh, -c, 'echo tidied']\ntriggers: [invoke]\n")
	e := startEngine(t, jobs, t.TempDir())
	b := startBrowser(t, dashboardOrigin(t, e))

	b.navigate("/")
	b.waitFor("the job's row has a Pause button", `document.querySelector('.job-row[data-job="tidy"] [data-action="pause"]') !== null`)
	b.click(`.job-row[data-job="tidy"] [data-action="pause"]`)
	b.waitFor("the pause dialog opens", `document.getElementById('pause-dialog').open`)
	b.typeText("#pause-reason", "disk full")
	b.click(`#pause-dialog [data-dialog-submit]`)
	b.waitFor("the row says the job is paused", `document.querySelector('.job-row[data-job="tidy"] [data-paused="tidy"]') !== null`)
	var note string
	b.value(`document.querySelector('[data-paused="tidy"]').innerText`, &note)
	if !strings.HasPrefix(note, "Paused") || !strings.HasSuffix(note, ": disk full") {
		t.Errorf("the paused note reads %q", note)
	}
	if got := e.cli("jobs", "tidy"); !strings.Contains(got.stdout, "paused since") || !strings.Contains(got.stdout, "(disk full)") {
		t.Errorf("longshore jobs tidy after the dashboard paused it:\n%s", got.stdout)
	}
	if got := e.cli("run", "tidy", "--wait"); got.code != 1 || !strings.Contains(got.stdout+got.stderr, "did not start: job paused (disk full)") {
		t.Errorf("run --wait of the paused job = %d: %s%s", got.code, got.stdout, got.stderr)
	}

	b.navigate("/jobs/tidy")
	b.waitFor("the job's page has a Resume button", `document.querySelector('[data-action="resume"][data-job="tidy"]') !== null`)
	b.click(`[data-action="resume"][data-job="tidy"]`)
	b.waitFor("the job's page says it is active again", `document.querySelector('[data-paused="tidy"]') === null && document.querySelector('[data-action="pause"][data-job="tidy"]') !== null`)
	if got := e.cli("run", "tidy", "--wait"); got.code != 0 {
		t.Errorf("run --wait after the dashboard resumed the job = %d: %s%s", got.code, got.stdout, got.stderr)
	}
	if p := b.Problems(); len(p) > 0 {
		t.Errorf("the browser reported problems: %v", p)
	}
}
