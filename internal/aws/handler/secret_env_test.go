package handler_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/longshore/longshore/internal/aws/handler"
)

func TestTheLauncherRefusesAnOverrideThatLooksLikeASecretAndStoresNothing(t *testing.T) {
	const refusal = "API_TOKEN looks like a secret: do not pass secrets as --env or in a run request's env; declare it in the job's secrets: (ssm:/... or secretsmanager:...)"
	tests := []struct {
		name, payload string
	}{
		{"a direct invoke, as `longshore run --aws` sends it",
			`{"job": "hello", "env": {"MODE": "fast", "API_TOKEN": "s3cr3t-value"}}`},
		{"a direct invoke that asks to wait",
			`{"job": "hello", "env": {"API_TOKEN": "s3cr3t-value"}, "waitSeconds": 60}`},
		{"a run request in a batch from EventBridge Pipes",
			`[{"job": "hello", "key": "k1", "env": {"API_TOKEN": "s3cr3t-value"}}]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			_, err := w.launcher.Handle(ctx, json.RawMessage(tt.payload))
			if errorType(err) != handler.ErrorRequest || !strings.Contains(errorMessage(err), refusal) {
				t.Errorf("Handle = %v (type %q); want a %s saying %q", err, errorType(err), handler.ErrorRequest, refusal)
			}
			if strings.Contains(errorMessage(err), "s3cr3t-value") {
				t.Errorf("the error echoes the secret: %q", errorMessage(err))
			}
			if n := len(w.runs()); n != 0 || w.runner.Count() != 0 {
				t.Errorf("%d runs stored, %d tasks started; want none", n, w.runner.Count())
			}
		})
	}
}

func TestTheLauncherStartsARunWhoseOverridesHoldNoSecret(t *testing.T) {
	w := newWorld(t)
	r := w.launch(t, `{"job": "hello", "env": {"EXIT_CODE": "3", "TOKENIZER": "bpe"}}`)
	if r.Env["EXIT_CODE"] != "3" || r.Env["TOKENIZER"] != "bpe" || w.runner.Count() != 1 {
		t.Errorf("run env %v, %d tasks; want the overrides kept and one task", r.Env, w.runner.Count())
	}
}
