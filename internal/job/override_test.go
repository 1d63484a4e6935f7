package job_test

import (
	"testing"

	"github.com/longshore/longshore/internal/job"
)

func TestCheckOverrideEnv(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want string // "" when the overrides pass
	}{
		{"no overrides pass", nil, ""},
		{"names that hold no secret pass", map[string]string{"EXIT_CODE": "3", "MODE": "fast", "TOKENIZER": "bpe", "SECRETARY": "ann"}, ""},
		{"a token is refused, naming it and saying to use secrets", map[string]string{"API_TOKEN": "abc", "MODE": "fast"},
			"API_TOKEN looks like a secret: do not pass secrets as --env or in a run request's env; " +
				"declare it in the job's secrets: (ssm:/... or secretsmanager:...) so it is read at run time and never stored"},
		{"a lower-case name is refused like the upper-case one", map[string]string{"db_password": "hunter2"},
			"db_password looks like a secret: do not pass secrets as --env or in a run request's env; " +
				"declare it in the job's secrets: (ssm:/... or secretsmanager:...) so it is read at run time and never stored"},
		{"every secret-looking name is named, in order", map[string]string{"STRIPE_API_KEY": "sk", "PASSWORD": "x", "SECRET": "y"},
			"PASSWORD, SECRET, STRIPE_API_KEY look like secrets: do not pass secrets as --env or in a run request's env; " +
				"declare them in the job's secrets: (ssm:/... or secretsmanager:...) so they are read at run time and never stored"},
		{"an empty value passes, as it does in a job file", map[string]string{"API_TOKEN": ""}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := job.CheckOverrideEnv(tt.env)
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("CheckOverrideEnv = %v, want nil", err)
			case tt.want != "" && (err == nil || err.Error() != tt.want):
				t.Errorf("CheckOverrideEnv = %v\nwant %s", err, tt.want)
			}
		})
	}
}

func TestAJobFileAndAnOverrideAgreeOnWhatLooksLikeASecret(t *testing.T) {
	for _, name := range []string{"API_TOKEN", "DB_PASSWORD", "PASSWD", "AWS_SECRET", "STRIPE_API_KEY", "SSH_PRIVATE_KEY", "MODE", "TOKENS", "SECRET_NAME"} {
		t.Run(name, func(t *testing.T) {
			_, problems := load(t, map[string]string{"a/job.yaml": minimal + "environment: {" + name + ": value}\n"})
			refusedInFile := len(problems) > 0
			refusedAsOverride := job.CheckOverrideEnv(map[string]string{name: "value"}) != nil
			if refusedInFile != refusedAsOverride || refusedInFile != job.SecretLike(name) {
				t.Errorf("refused in a job file %v (%v), as an override %v, SecretLike %v: want all the same",
					refusedInFile, problems, refusedAsOverride, job.SecretLike(name))
			}
		})
	}
}
