package main

import (
	"encoding/json"
	"sort"
	"strings"
	"testing"
)

func TestSecretsAreEcsSecretsAndNeverEnvironment(t *testing.T) {
	d := deployments(t).alt
	var vault map[string]any
	for _, r := range d.resources("AWS::ECS::TaskDefinition") {
		props := r["Properties"].(map[string]any)
		if props["Family"] == "alt-vault" {
			vault = props["ContainerDefinitions"].([]any)[0].(map[string]any)
		}
	}
	if vault == nil {
		t.Fatal("no task definition alt-vault")
	}

	t.Run("each secret is declared with valueFrom", func(t *testing.T) {
		got := map[string]string{}
		for _, s := range vault["Secrets"].([]any) {
			m := s.(map[string]any)
			got[m["Name"].(string)] = flatten(m["ValueFrom"])
		}
		want := map[string]string{
			"DB_PASSWORD": arn("ssm", "parameter/team/db/password"),
			"SIGNING_KEY": "arn:aws:ssm:eu-west-1:123456789012:parameter/team/signing",
			"API_TOKEN":   "arn:aws:secretsmanager:eu-west-1:123456789012:secret:team/api-AbCdEf:token::",
			"LICENSE":     "arn:aws:secretsmanager:eu-west-1:123456789012:secret:team/license",
		}
		if len(got) != len(want) {
			t.Fatalf("secrets %v, want %v", got, want)
		}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("%s valueFrom = %q, want %q", k, got[k], v)
			}
		}
	})

	t.Run("the environment holds only the job's plain settings", func(t *testing.T) {
		var names []string
		for _, e := range vault["Environment"].([]any) {
			names = append(names, e.(map[string]any)["Name"].(string))
		}
		sort.Strings(names)
		if strings.Join(names, ",") != "MODE" {
			t.Errorf("environment names %v, want [MODE]", names)
		}
	})

	t.Run("no secret name or reference appears in any task's environment", func(t *testing.T) {
		for id, r := range d.resources("AWS::ECS::TaskDefinition") {
			for _, c := range r["Properties"].(map[string]any)["ContainerDefinitions"].([]any) {
				env, _ := json.Marshal(c.(map[string]any)["Environment"])
				for _, needle := range []string{"DB_PASSWORD", "SIGNING_KEY", "API_TOKEN", "LICENSE", "ssm:", "secretsmanager:", "team/"} {
					if strings.Contains(string(env), needle) {
						t.Errorf("%s: environment %s contains %q", id, env, needle)
					}
				}
			}
		}
	})

	t.Run("no secret reference appears in the functions' environment", func(t *testing.T) {
		for id, r := range d.resources("AWS::Lambda::Function") {
			env, _ := json.Marshal(r["Properties"].(map[string]any)["Environment"])
			if strings.Contains(string(env), "secretsmanager") || strings.Contains(string(env), "parameter/") {
				t.Errorf("%s: environment %s", id, env)
			}
		}
	})
}
