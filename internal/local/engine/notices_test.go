package engine

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/longshore/longshore/internal/api"
	"github.com/longshore/longshore/internal/dispatch"
	"github.com/longshore/longshore/internal/job"
	"github.com/longshore/longshore/internal/notice"
	"github.com/longshore/longshore/internal/run"
)

// stepClock is a clock whose waits end at once, moving its time on by
// each wait; it keeps the waits asked for.
type stepClock struct {
	mu    sync.Mutex
	now   time.Time
	waits []time.Duration
}

func (c *stepClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *stepClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	c.waits = append(c.waits, d)
	ch := make(chan time.Time, 1)
	ch <- c.now
	return ch
}

// memRecords is the store's records in memory.
type memRecords struct {
	mu sync.Mutex
	m  map[string][]byte
}

func (m *memRecords) Record(_ context.Context, id, name string) ([]byte, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.m[id+"/"+name]
	return b, ok, nil
}

func (m *memRecords) SetRecord(_ context.Context, id, name string, body []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.m[id+"/"+name] = body
	return nil
}

type oneJob struct{ spec *job.Spec }

func (o oneJob) Get(name string) (*job.Spec, bool) { return o.spec, name == o.spec.Name }

type secretMap map[string]string

func (s secretMap) Resolve(_, ref string) (string, error) {
	if v, ok := s[ref]; ok {
		return v, nil
	}
	return "", errors.New("secret " + ref + " is missing")
}

func TestNotificationsAreDeliveredRetriedAndRecordedWithTheRun(t *testing.T) {
	start := time.Date(2026, 12, 4, 3, 0, 0, 0, time.UTC)
	stop := start.Add(90 * time.Second)
	code := 3
	failed := run.Run{ID: "r1", Job: "report", Status: run.StatusFailed, Cause: run.CauseExit, ExitCode: &code,
		Reason: "exited with code 3", Attempt: 1, StartedAt: &start, StoppedAt: &stop}
	tests := []struct {
		name      string
		notify    func(url string) []job.Notify
		run       run.Run
		answers   []int // the webhook's status codes, in turn (the last one repeats)
		wantPosts int
		want      []string // "status error" of each recorded attempt
		wantWaits []time.Duration
	}{
		{"a signed webhook is delivered at the first attempt",
			func(u string) []job.Notify {
				return []job.Notify{{Webhook: &job.NotifyWebhook{URL: u, Secret: "ssm:/hook"}}}
			},
			failed, []int{200}, 1, []string{"delivered "}, nil},
		{"a webhook answering 500 is tried again with backoff until it answers",
			func(u string) []job.Notify { return []job.Notify{{Webhook: &job.NotifyWebhook{URL: u}}} },
			failed, []int{500, 502, 204}, 3,
			[]string{"retrying HTTP 500", "retrying HTTP 502", "delivered "},
			[]time.Duration{5 * time.Second, 15 * time.Second}},
		{"a webhook that never answers 2xx is given up after five attempts, and that is recorded",
			func(u string) []job.Notify { return []job.Notify{{Webhook: &job.NotifyWebhook{URL: u}}} },
			failed, []int{500}, 5,
			[]string{"retrying HTTP 500", "retrying HTTP 500", "retrying HTTP 500", "retrying HTTP 500", "gave up HTTP 500 (after 5 attempts)"},
			[]time.Duration{5 * time.Second, 15 * time.Second, 30 * time.Second, time.Minute}},
		{"a webhook whose secret has no value is not sent, and that is recorded",
			func(u string) []job.Notify {
				return []job.Notify{{Webhook: &job.NotifyWebhook{URL: u, Secret: "ssm:/missing"}}}
			},
			failed, []int{200}, 0, []string{"gave up secret ssm:/missing is missing"}, nil},
		{"sns and email are recorded as not delivered locally",
			func(string) []job.Notify {
				return []job.Notify{{SNS: "arn:aws:sns:us-east-1:123456789012:alerts"}, {Email: "ops@example.com"}}
			},
			failed, nil, 0, []string{"not delivered locally SNS is AWS only", "not delivered locally SNS is AWS only"}, nil},
		{"an outcome the entry does not list sends nothing",
			func(u string) []job.Notify { return []job.Notify{{Webhook: &job.NotifyWebhook{URL: u}}} },
			run.Run{ID: "r2", Job: "report", Status: run.StatusSucceeded, Attempt: 1}, []int{200}, 0, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var mu sync.Mutex
			var posts int
			var bad []string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				body, _ := io.ReadAll(r.Body)
				mu.Lock()
				defer mu.Unlock()
				var m notice.Message
				if err := json.Unmarshal(body, &m); err != nil || m.RunID != tt.run.ID || !strings.Contains(m.Text, "Job report failed") ||
					m.URL != "http://127.0.0.1:8750/runs/"+tt.run.ID {
					bad = append(bad, "body "+string(body))
				}
				got := r.Header.Get(notice.SignatureHeader)
				if want := notice.Sign(body, "hook-key"); strings.Contains(tt.name, "signed") && got != want {
					bad = append(bad, "signature "+got+", want "+want)
				}
				w.WriteHeader(tt.answers[min(posts, len(tt.answers)-1)])
				posts++
			}))
			defer srv.Close()
			clock := &stepClock{now: stop}
			recs := &memRecords{m: map[string][]byte{}}
			n := &notices{jobs: oneJob{&job.Spec{Name: "report", Notify: tt.notify(srv.URL)}}, records: recs,
				secrets: secretMap{"ssm:/hook": "hook-key"}, clock: clock, client: srv.Client(), log: slog.New(slog.DiscardHandler),
				ctx: context.Background()}
			n.setDashboard("http://127.0.0.1:8750")
			n.send(tt.run)
			n.wait()
			if posts != tt.wantPosts || len(bad) > 0 {
				t.Errorf("posts = %d, want %d; bad requests: %v", posts, tt.wantPosts, bad)
			}
			list, err := n.Notifications(context.Background(), tt.run.ID)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, a := range list {
				got = append(got, a.Status+" "+a.Error)
				if a.Target == "" || a.At.IsZero() {
					t.Errorf("attempt without target or time: %+v", a)
				}
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("recorded:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
			if len(clock.waits) != len(tt.wantWaits) || (len(tt.wantWaits) > 0 && !equalWaits(clock.waits, tt.wantWaits)) {
				t.Errorf("waits = %v, want %v", clock.waits, tt.wantWaits)
			}
		})
	}
}

func equalWaits(a, b []time.Duration) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestARunShowsItsNotificationsThroughTheRunsAPI(t *testing.T) {
	recs := &memRecords{m: map[string][]byte{}}
	n := &notices{jobs: oneJob{&job.Spec{Name: "report", Notify: []job.Notify{{Email: "ops@example.com"}}}}, records: recs,
		clock: &stepClock{now: time.Date(2026, 12, 4, 3, 0, 0, 0, time.UTC)}, log: slog.New(slog.DiscardHandler), ctx: context.Background()}
	r := run.Run{ID: "r-0123456789abcdef", Job: "report", Status: run.StatusTimedOut, Attempt: 1}
	n.send(r)
	n.wait()
	srv := httptest.NewServer(api.NewHandler(api.Options{Runs: oneRun{r}, Notifications: n.Notifications}))
	defer srv.Close()
	c, err := api.NewClient(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.Get(context.Background(), r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Notifications) != 1 || got.Notifications[0].Target != "email ops@example.com" || got.Notifications[0].Status != "not delivered locally" {
		t.Errorf("notifications = %+v", got.Notifications)
	}
}

type oneRun struct{ r run.Run }

func (o oneRun) Get(_ context.Context, id string) (run.Run, error) { return o.r, nil }
func (o oneRun) List(context.Context, dispatch.Query) ([]run.Run, string, error) {
	return []run.Run{o.r}, "", nil
}
