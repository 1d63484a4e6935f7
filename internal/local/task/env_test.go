package task

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/longshore/longshore/internal/dispatch"
	"github.com/longshore/longshore/internal/job"
	"github.com/longshore/longshore/internal/run"
)

type mapSecrets map[string]string

func (m mapSecrets) Resolve(envName, ref string) (string, error) {
	if v, ok := m[ref]; ok {
		return v, nil
	}
	return "", fmt.Errorf("no value for %s (%s)", envName, ref)
}

func TestEnvironment(t *testing.T) {
	const password = "s3cr3t-Value-1b2c"
	tests := []struct {
		name    string
		base    []string
		env     map[string]string
		secrets map[string]string // job variable -> reference
		source  Secrets
		want    []string
		err     string
	}{
		{"the task's variables come in the order of their names", nil, map[string]string{"B": "2", "A": "1"}, nil, nil,
			[]string{"A=1", "B=2"}, ""},
		{"base comes first, and a task's variable replaces it in its place",
			[]string{"PATH=/bin", "HOME=/h", "broken", "=x"}, map[string]string{"HOME": "/task", "Z": "z"}, nil, nil,
			[]string{"PATH=/bin", "HOME=/task", "Z=z"}, ""},
		{"a secret replaces a variable of the same name", nil, map[string]string{"DB_PASSWORD": "placeholder", "A": "1"},
			map[string]string{"DB_PASSWORD": "ssm:/db"}, mapSecrets{"ssm:/db": password},
			[]string{"A=1", "DB_PASSWORD=" + password}, ""},
		{"a secret without a source is refused, naming it", nil, nil, map[string]string{"API_TOKEN": "ssm:/api"}, nil,
			nil, "job hello: secret API_TOKEN (ssm:/api): no secrets source is configured"},
		{"a secret without a value is refused, naming it", nil, nil, map[string]string{"API_TOKEN": "ssm:/api"}, mapSecrets{},
			nil, "job hello cannot read secret API_TOKEN: no value for API_TOKEN (ssm:/api)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tk := dispatch.Task{Run: run.Run{ID: "r-1"}, Job: &job.Spec{Name: "hello", Secrets: tt.secrets}, Env: tt.env}
			got, err := Environment(tt.base, tk, tt.source)
			if tt.err != "" {
				var se *dispatch.StartError
				if !errors.As(err, &se) || se.Transient || err.Error() != tt.err {
					t.Fatalf("Environment = %q, %v; want the non-transient StartError %q", got, err, tt.err)
				}
				return
			}
			if err != nil || !slices.Equal(got, tt.want) {
				t.Errorf("Environment = %q, %v; want %q", got, err, tt.want)
			}
			if err == nil && strings.Contains(strings.Join(tt.base, " "), password) {
				t.Error("the base holds the password")
			}
		})
	}
}
