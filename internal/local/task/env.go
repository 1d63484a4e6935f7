package task

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/longshore/longshore/internal/dispatch"
)

// Secrets resolves a job's secret references; *secret.Source is one.
type Secrets interface {
	// Resolve returns the value for the job's variable envName whose
	// reference is ref. Its error must not hold a value.
	Resolve(envName, ref string) (string, error)
}

// Environment is base ("NAME=value"), then the task's variables, then the
// job's secrets resolved through secrets, each "NAME=value": a later value
// replaces an earlier one of the same name in its place; the task's
// variables and the secrets come in the order of their names. A
// *dispatch.StartError names a secret that cannot be read, never its value.
func Environment(base []string, t dispatch.Task, secrets Secrets) ([]string, error) {
	var names []string
	values := map[string]string{}
	set := func(name, value string) {
		if _, ok := values[name]; !ok {
			names = append(names, name)
		}
		values[name] = value
	}
	for _, kv := range base {
		if name, value, ok := strings.Cut(kv, "="); ok && name != "" {
			set(name, value)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(t.Env)) {
		set(name, t.Env[name])
	}
	for _, name := range slices.Sorted(maps.Keys(t.Job.Secrets)) {
		ref := t.Job.Secrets[name]
		if secrets == nil {
			return nil, &dispatch.StartError{Reason: fmt.Sprintf("job %s: secret %s (%s): no secrets source is configured", t.Job.Name, name, ref)}
		}
		v, err := secrets.Resolve(name, ref)
		if err != nil {
			return nil, &dispatch.StartError{Reason: fmt.Sprintf("job %s cannot read secret %s", t.Job.Name, name), Err: err}
		}
		set(name, v)
	}
	env := make([]string, len(names))
	for i, name := range names {
		env[i] = name + "=" + values[name]
	}
	return env, nil
}
