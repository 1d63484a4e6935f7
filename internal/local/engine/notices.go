package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/longshore/longshore/internal/api"
	"github.com/longshore/longshore/internal/job"
	"github.com/longshore/longshore/internal/notice"
	"github.com/longshore/longshore/internal/run"
)

// Delivery states of a notification attempt, as a run shows them.
const (
	noticeDelivered  = "delivered"
	noticeRetrying   = "retrying"
	noticeGaveUp     = "gave up"
	noticeNotLocally = "not delivered locally"
)

// noticeRecord is the name of the store record holding a run's
// notification attempts (a JSON list of api.Notification).
const noticeRecord = "notifications"

// noticeBackoff are the waits between the attempts of a webhook delivery:
// 5 attempts in all, over about 2 minutes.
var noticeBackoff = []time.Duration{5 * time.Second, 15 * time.Second, 30 * time.Second, time.Minute}

// noticeRecords keeps a run's records (the store).
type noticeRecords interface {
	Record(ctx context.Context, runID, name string) ([]byte, bool, error)
	SetRecord(ctx context.Context, runID, name string, body []byte) error
}

// secretValues resolves secret references (the local secret source).
type secretValues interface {
	Resolve(envName, ref string) (string, error)
}

// notices delivers a job's notifications (job.Notify) when one of its runs
// ends: webhooks are POSTed, signed when they have a secret, and tried
// again with backoff; SNS and email cannot be delivered on one machine and
// are recorded as such. Every attempt is recorded with the run.
type notices struct {
	jobs interface {
		Get(string) (*job.Spec, bool)
	}
	records noticeRecords
	secrets secretValues
	clock   Clock
	client  *http.Client
	log     *slog.Logger
	ctx     context.Context // ends the deliveries still waiting (shutdown)

	mu        sync.Mutex
	dashboard string
	wg        sync.WaitGroup
}

func (n *notices) setDashboard(url string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.dashboard = url
}

// send starts the deliveries of the finished run r's notifications and
// returns at once; wait waits for them.
func (n *notices) send(r run.Run) {
	spec, ok := n.jobs.Get(r.Job)
	if !ok {
		return
	}
	n.mu.Lock()
	msg := notice.Build(r, n.dashboard)
	n.mu.Unlock()
	for i, entry := range spec.Notify {
		if !entry.Matches(string(r.Status), string(r.Cause)) {
			continue
		}
		if entry.Webhook == nil {
			n.record(r.ID, api.Notification{Target: entry.Target(), At: n.clock.Now().UTC(), Status: noticeNotLocally, Error: "SNS is AWS only"})
			continue
		}
		n.wg.Add(1)
		go func() {
			defer n.wg.Done()
			n.deliver(r.ID, "NOTIFY_"+strconv.Itoa(i), entry, msg)
		}()
	}
}

func (n *notices) wait() { n.wg.Wait() }

// deliver POSTs msg to the entry's webhook until it answers 2xx, at most
// len(noticeBackoff)+1 times.
func (n *notices) deliver(runID, envName string, entry job.Notify, msg notice.Message) {
	target := entry.Target()
	body, err := json.Marshal(msg)
	if err != nil {
		n.record(runID, api.Notification{Target: target, At: n.clock.Now().UTC(), Status: noticeGaveUp, Error: err.Error()})
		return
	}
	var secret string
	if ref := entry.Webhook.Secret; ref != "" {
		if secret, err = n.secrets.Resolve(envName, ref); err != nil {
			n.record(runID, api.Notification{Target: target, At: n.clock.Now().UTC(), Status: noticeGaveUp, Error: err.Error()})
			return
		}
	}
	for attempt := 0; ; attempt++ {
		err := n.post(entry.Webhook.URL, body, secret)
		a := api.Notification{Target: target, At: n.clock.Now().UTC(), Status: noticeDelivered}
		if err == nil {
			n.record(runID, a)
			return
		}
		a.Error = err.Error()
		if attempt >= len(noticeBackoff) {
			a.Status = noticeGaveUp
			a.Error += fmt.Sprintf(" (after %d attempts)", attempt+1)
			n.record(runID, a)
			n.log.Warn("notification not delivered", "run", runID, "target", target, "err", err)
			return
		}
		a.Status = noticeRetrying
		n.record(runID, a)
		select {
		case <-n.clock.After(noticeBackoff[attempt]):
		case <-n.ctx.Done():
			n.record(runID, api.Notification{Target: target, At: n.clock.Now().UTC(), Status: noticeGaveUp, Error: "the engine shut down before the next attempt"})
			return
		}
	}
}

func (n *notices) post(url string, body []byte, secret string) error {
	ctx, cancel := context.WithTimeout(n.ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "longshore-local")
	if secret != "" {
		req.Header.Set(notice.SignatureHeader, notice.Sign(body, secret))
	}
	resp, err := n.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	return nil
}

// record appends one attempt to the run's record.
func (n *notices) record(runID string, a api.Notification) {
	n.mu.Lock()
	defer n.mu.Unlock()
	ctx := context.WithoutCancel(n.ctx)
	list, err := n.list(ctx, runID)
	if err == nil {
		var body []byte
		if body, err = json.Marshal(append(list, a)); err == nil {
			err = n.records.SetRecord(ctx, runID, noticeRecord, body)
		}
	}
	if err != nil {
		n.log.Error("record a notification", "run", runID, "target", a.Target, "status", a.Status, "err", err)
	}
}

// list gives the run's recorded attempts, oldest first.
func (n *notices) list(ctx context.Context, runID string) ([]api.Notification, error) {
	body, ok, err := n.records.Record(ctx, runID, noticeRecord)
	if err != nil || !ok {
		return nil, err
	}
	var out []api.Notification
	if err := json.Unmarshal(body, &out); err != nil {
		return nil, fmt.Errorf("read the notifications of run %s: %w", runID, err)
	}
	return out, nil
}

// Notifications serves api.Options.Notifications.
func (n *notices) Notifications(ctx context.Context, runID string) ([]api.Notification, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.list(ctx, runID)
}
