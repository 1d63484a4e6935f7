package main

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

// notifyRules are the alt deployment's rules for job, by logical id.
func (d *deployment) notifyRules(job string) map[string]map[string]any {
	out := map[string]map[string]any{}
	for id, r := range d.resources("AWS::Events::Rule") {
		props := r["Properties"].(map[string]any)
		pattern, _ := props["EventPattern"].(map[string]any)
		detail, _ := pattern["detail"].(map[string]any)
		if jobs := strs(detail["job"]); len(jobs) == 1 && jobs[0] == job {
			out[id] = props
		}
	}
	return out
}

func TestEveryNotifyEntryIsARuleOnTheResultsBusWithADeadLetteredTarget(t *testing.T) {
	alt := deployments(t).alt
	rules := alt.notifyRules("notified")
	dlq := alt.logicalID(alt.stack.Longshore.Notifications.DeadLetters)
	bus := alt.logicalID(alt.stack.Longshore.Results.Bus)
	var patterns, kinds []string
	for _, props := range rules {
		if flatten(props["EventBusName"]) != "${"+bus+"}" {
			t.Errorf("rule on bus %s, want the results bus", flatten(props["EventBusName"]))
		}
		p := props["EventPattern"].(map[string]any)
		b, _ := json.Marshal(p["detail"])
		patterns = append(patterns, string(b))
		if strs(p["source"])[0] != "longshore" && len(strs(p["detail-type"])) != 1 {
			t.Errorf("pattern %v does not match result events only", p)
		}
		targets := props["Targets"].([]any)
		if len(targets) != 1 {
			t.Fatalf("rule has %d targets, want 1", len(targets))
		}
		tg := targets[0].(map[string]any)
		if got := flatten(tg["DeadLetterConfig"].(map[string]any)["Arn"]); got != "${"+dlq+".Arn}" {
			t.Errorf("dead letters go to %s, want the notify dead-letter queue", got)
		}
		retry := tg["RetryPolicy"].(map[string]any)
		if retry["MaximumRetryAttempts"] != 185.0 || retry["MaximumEventAgeInSeconds"] != 86400.0 {
			t.Errorf("retry policy = %v", retry)
		}
		tmpl, _ := tg["InputTransformer"].(map[string]any)
		if !strings.Contains(flatten(tmpl["InputTemplate"]), "Job <detail-job> ended <detail-status>") {
			t.Errorf("message template = %s", flatten(tmpl["InputTemplate"]))
		}
		switch a := flatten(tg["Arn"]); {
		case strings.Contains(a, "oncall-pages"):
			kinds = append(kinds, "sns")
		case strings.Contains(a, "Email"):
			kinds = append(kinds, "email")
		case strings.Contains(a, "Webhook"):
			kinds = append(kinds, "webhook")
			if tg["RoleArn"] == nil {
				t.Error("the webhook target has no role to invoke its API destination")
			}
		default:
			kinds = append(kinds, a)
		}
	}
	want := map[string]bool{
		`{"job":["notified"],"status":["failed","timed_out"]}`:                                          true,
		`{"cause":[{"anything-but":["start"]}],"job":["notified"],"status":["failed"]}`:                 true,
		`{"$or":[{"status":["succeeded"]},{"cause":["start"],"status":["failed"]}],"job":["notified"]}`: true,
	}
	if len(patterns) != 3 {
		t.Fatalf("rules of job notified: %v, want 3", patterns)
	}
	for _, p := range patterns {
		if !want[p] {
			t.Errorf("unexpected pattern %s", p)
		}
	}
	if strings.Join(slices.Sorted(slices.Values(kinds)), ",") != "email,sns,webhook" {
		t.Errorf("targets = %v", kinds)
	}
}

func TestAnEmailTopicIsEncryptedTLSOnlyAndSubscribed(t *testing.T) {
	alt := deployments(t).alt
	alt.hasResource(t, "AWS::SNS::Subscription", map[string]any{"Protocol": "email", "Endpoint": "ops@example.com"})
	topics := alt.resources("AWS::SNS::Topic")
	if len(topics) != 1 {
		t.Fatalf("topics = %d, want the one email topic", len(topics))
	}
	for _, topic := range topics {
		if topic["Properties"].(map[string]any)["KmsMasterKeyId"] == nil {
			t.Error("the email topic is not encrypted")
		}
	}
	policies := flatten(alt.resources("AWS::SNS::TopicPolicy"))
	if !strings.Contains(policies, "aws:SecureTransport") || !strings.Contains(policies, "events.amazonaws.com") {
		t.Errorf("topic policy = %s", policies)
	}
	alt.hasResource(t, "AWS::Events::ApiDestination", map[string]any{
		"InvocationEndpoint": "https://hooks.example.com/longshore", "HttpMethod": "POST",
	})
}

func TestUndeliveredNotificationsRaiseAnAlarm(t *testing.T) {
	f := deployments(t)
	f.alt.hasResource(t, "AWS::SQS::Queue", map[string]any{"QueueName": "alt_notify-dlq"})
	f.alt.hasResource(t, "AWS::CloudWatch::Alarm", map[string]any{"AlarmName": "alt-notify-dead-letters"})
	if f.main.stack.Longshore.Notifications != nil {
		t.Error("a catalog without notifications got notification resources")
	}
}
