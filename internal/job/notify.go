package job

import (
	"net"
	"net/mail"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Notify is one notification of a job: when a run ends with one of On, a
// message saying what happened goes to exactly one of SNS (a topic ARN),
// Email (an address; through SNS on AWS) or Webhook (an HTTPS POST).
// Written `notify: [{on: [failed, timed_out], sns: arn:aws:sns:...}]`.
type Notify struct {
	// On lists the outcomes that send the message: succeeded, failed,
	// timed_out, cancelled and never_started (a run that failed with cause
	// start); DefaultNotifyOn when not given. Only the last attempt of a
	// run counts: a failure that is retried sends nothing.
	On      []string       `yaml:"on,omitempty" json:"on,omitempty"`
	SNS     string         `yaml:"sns,omitempty" json:"sns,omitempty"`
	Email   string         `yaml:"email,omitempty" json:"email,omitempty"`
	Webhook *NotifyWebhook `yaml:"webhook,omitempty" json:"webhook,omitempty"`
}

// NotifyWebhook POSTs the message as JSON to URL. With Secret (a secret
// reference, as in secrets) the body is signed: the header
// X-Longshore-Signature carries sha256=<hex HMAC-SHA256 of the body>.
type NotifyWebhook struct {
	URL    string `yaml:"url" json:"url"`
	Secret string `yaml:"secret,omitempty" json:"secret,omitempty"`
}

// Outcomes a notification may be sent on.
const (
	OutcomeSucceeded    = "succeeded"
	OutcomeFailed       = "failed"
	OutcomeTimedOut     = "timed_out"
	OutcomeCancelled    = "cancelled"
	OutcomeNeverStarted = "never_started"
)

// NotifyOutcomes are the values `on` accepts.
var NotifyOutcomes = []string{OutcomeSucceeded, OutcomeFailed, OutcomeTimedOut, OutcomeCancelled, OutcomeNeverStarted}

// DefaultNotifyOn is `on` when a notification does not give it.
var DefaultNotifyOn = []string{OutcomeFailed, OutcomeTimedOut, OutcomeNeverStarted}

// Outcomes returns On, or DefaultNotifyOn when it is empty.
func (n Notify) Outcomes() []string {
	if len(n.On) == 0 {
		return DefaultNotifyOn
	}
	return n.On
}

// Target names where the notification goes, in a few words
// ("sns arn:aws:sns:...", "email ops@example.com", "webhook https://...").
func (n Notify) Target() string {
	switch {
	case n.SNS != "":
		return "sns " + n.SNS
	case n.Email != "":
		return "email " + n.Email
	case n.Webhook != nil:
		return "webhook " + n.Webhook.URL
	}
	return ""
}

// Matches reports whether a run that ended with status and cause (as the
// run JSON writes them: "failed" and "start") is one the notification is
// sent on. A failure with cause start is never_started, and not failed.
func (n Notify) Matches(status, cause string) bool {
	outcome := status
	if status == OutcomeFailed && cause == "start" {
		outcome = OutcomeNeverStarted
	}
	return slices.Contains(n.Outcomes(), outcome)
}

var snsARNRe = regexp.MustCompile(`^arn:aws(-[a-z]+)*:sns:[a-z]{2}(-[a-z]+)+-\d:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$`)

// validateNotify checks the job's notify entries, one problem per bad value.
func validateNotify(s *Spec, ps *problems) {
	for i, n := range s.Notify {
		field := "notify[" + strconv.Itoa(i) + "]"
		seen := map[string]bool{}
		for j, o := range n.On {
			f := field + ".on[" + strconv.Itoa(j) + "]"
			switch {
			case !slices.Contains(NotifyOutcomes, o):
				ps.add(f, "%q is not an outcome: write succeeded, failed, timed_out, cancelled or never_started", o)
			case seen[o]:
				ps.add(f, "%s is given twice: keep one", o)
			}
			seen[o] = true
		}
		count := 0
		for _, set := range []bool{n.SNS != "", n.Email != "", n.Webhook != nil} {
			if set {
				count++
			}
		}
		if count != 1 {
			ps.add(field, "give exactly one of sns (a topic ARN), email (an address) or webhook (a url), not %d", count)
			continue
		}
		switch {
		case n.SNS != "":
			if !snsARNRe.MatchString(n.SNS) {
				ps.add(field+".sns", "%q is not an SNS topic ARN: write arn:aws:sns:REGION:ACCOUNT:NAME, such as arn:aws:sns:us-east-1:123456789012:alerts", n.SNS)
			}
		case n.Email != "":
			if !validEmail(n.Email) {
				ps.add(field+".email", "%q is not an email address: write one address, such as ops@example.com", n.Email)
			}
		case n.Webhook != nil:
			validateWebhook(n.Webhook, field+".webhook", ps)
		}
	}
}

func validEmail(s string) bool {
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" {
		return false
	}
	_, domain, _ := strings.Cut(s, "@")
	return strings.Contains(domain, ".") || domain == "localhost"
}

func validateWebhook(w *NotifyWebhook, field string, ps *problems) {
	u, err := url.Parse(w.URL)
	switch {
	case w.URL == "":
		ps.add(field+".url", "missing: write the https URL to POST to")
	case err != nil || u.Host == "" || u.User != nil:
		ps.add(field+".url", "%q is not a URL: write https://host/path", w.URL)
	case u.Scheme == "http" && !localHost(u.Hostname()):
		ps.add(field+".url", "%q is plain http: use https (http is allowed for localhost only)", w.URL)
	case u.Scheme != "https" && u.Scheme != "http":
		ps.add(field+".url", "%q is not an https URL: write https://host/path", w.URL)
	}
	if w.Secret != "" {
		if _, err := ParseSecretRef(w.Secret); err != nil {
			ps.add(field+".secret", "%v", err)
		}
	}
}

// localHost reports a host name that is this machine.
func localHost(h string) bool {
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}
