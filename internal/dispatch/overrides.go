package dispatch

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/longshore/longshore/internal/job"
)

var envNameRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// MaxOverrideEnv bounds the variables one request may add.
const MaxOverrideEnv = 100

// checkOverrides refuses overrides that would break a job's contract. Every
// path that takes a run request (the local engine's API and invoke, the
// launcher's direct invoke) comes through here before anything is stored.
func checkOverrides(spec *job.Spec, req Request) error {
	if len(req.Env) > MaxOverrideEnv {
		return &RequestError{Msg: fmt.Sprintf("%d environment overrides: at most %d are allowed", len(req.Env), MaxOverrideEnv)}
	}
	for name := range req.Env {
		switch {
		case !envNameRe.MatchString(name):
			return &RequestError{Msg: fmt.Sprintf("environment override %q is not a variable name: use letters, digits and _, not starting with a digit", name)}
		case strings.HasPrefix(name, job.ReservedEnvPrefix):
			return &RequestError{Msg: fmt.Sprintf("environment override %s: names starting with %s are set by Longshore", name, job.ReservedEnvPrefix)}
		}
		if _, secret := spec.Secrets[name]; secret {
			return &RequestError{Msg: fmt.Sprintf("environment override %s: %s is one of the job's secrets and cannot be overridden in plain text", name, name)}
		}
	}
	// A value under a name that looks like a secret would be stored with
	// the run and published in its result: the job files' rule applies.
	if err := job.CheckOverrideEnv(req.Env); err != nil {
		return &RequestError{Msg: err.Error()}
	}
	if cb := req.Callback; cb != nil && (len(cb.Target) > MaxCallbackTarget || len(cb.Token) > MaxCallbackToken) {
		return &RequestError{Msg: fmt.Sprintf("callback: a target takes at most %d characters (a queue URL, a bus name or ARN) and a token %d (Step Functions' task tokens are at most 1024)",
			MaxCallbackTarget, MaxCallbackToken)}
	}
	// A run gets exactly what was asked or nothing: what does not fit a
	// task's overrides is refused now, before anything is stored or started.
	if size := OverrideSize(req.Env, req.Command); size > MaxOverrideBytes {
		return &RequestError{Msg: fmt.Sprintf("the run's environment and command take %d bytes; a task takes at most %d "+
			"(ECS allows 8 KiB of overrides, and Longshore's own variables need the rest): pass large inputs by reference "+
			"(put them in S3 and pass the object's key) or declare fixed values in the job's environment", size, MaxOverrideBytes)}
	}
	return nil
}

// Bounds of a request's callback: no queue URL, bus ARN or task token is
// longer, and a run record stays small whatever a caller sends.
const (
	MaxCallbackTarget = 2048
	MaxCallbackToken  = 4096
)

// MaxOverrideBytes bounds a request's environment and command, counted as
// OverrideSize counts them. ECS takes 8 KiB of container overrides in all
// (ecs.MaxOverrides), and the variables Longshore adds (run id, job,
// attempt, trigger, an S3 key of up to 1 KiB, an SQS body of up to
// run.MaxInlineBody) need the rest.
const MaxOverrideBytes = 6 * 1024

// OverrideSize is the size of an environment and a command as ECS counts
// container overrides: the characters of their JSON.
func OverrideSize(env map[string]string, command []string) int {
	type kv struct {
		Name  string `json:"name"`
		Value string `json:"value"`
	}
	vars := make([]kv, 0, len(env))
	for k, v := range env {
		vars = append(vars, kv{k, v})
	}
	b, _ := json.Marshal(struct {
		Environment []kv     `json:"environment,omitempty"`
		Command     []string `json:"command,omitempty"`
	}{vars, command})
	return len(b)
}
