package cli

import (
	"strings"
	"testing"
)

func TestRunRefusesAnEnvThatLooksLikeASecretWithAUsageErrorAndStartsNothing(t *testing.T) {
	const refusal = "longshore: API_TOKEN looks like a secret: do not pass secrets as --env or in a run request's env; " +
		"declare it in the job's secrets: (ssm:/... or secretsmanager:...) so it is read at run time and never stored\n"
	tests := []struct {
		name string
		args []string
		aws  bool
	}{
		{"against a local engine", []string{"run", "hello", "--env", "MODE=fast", "--env", "API_TOKEN=s3cr3t-value"}, false},
		{"against a deployment on AWS", []string{"run", "hello", "--env", "API_TOKEN=s3cr3t-value"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got result
			var e *fakeEngine
			var l *lambdas
			if tt.aws {
				e, l = newDeployment(t)
				got = longshoreAWS(t, l, tt.args...)
			} else {
				e = newEngine(t, false)
				got = longshore(t, e.srv.URL, tt.args...)
			}
			if got.code != ExitUsage || got.stderr != refusal || got.stdout != "" {
				t.Errorf("got %s\nwant exit %d and stderr %q", got, ExitUsage, refusal)
			}
			if n := len(e.store.Runs()); n != 0 || e.runner.Count() != 0 {
				t.Errorf("%d runs stored, %d tasks started; want none", n, e.runner.Count())
			}
			if l != nil && len(l.calls) != 0 {
				t.Errorf("the deployment was called (%v): the value left this machine", l.calls)
			}
		})
	}
}

func TestRunPassesAnEnvThatHoldsNoSecret(t *testing.T) {
	e := newEngine(t, false)
	got := longshore(t, e.srv.URL, "run", "hello", "--env", "EXIT_CODE=3", "--env", "TOKENIZER=bpe", "--env", "API_TOKEN=")
	if got.code != ExitOK || !strings.HasPrefix(got.stdout, "r-") {
		t.Fatalf("got %s; want the run's id", got)
	}
	runs := e.store.Runs()
	if len(runs) != 1 || runs[0].Env["EXIT_CODE"] != "3" || runs[0].Env["TOKENIZER"] != "bpe" {
		t.Errorf("stored %+v; want one run with the overrides", runs)
	}
}
