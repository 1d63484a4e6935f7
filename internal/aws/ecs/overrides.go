package ecs

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/longshore/longshore/internal/deploy"
	"github.com/longshore/longshore/internal/dispatch"
)

// MaxOverrides is ECS's limit on a RunTask's overrides, counted as the
// characters of their JSON.
const MaxOverrides = 8192

// wireOverride is a container override as ECS counts it: the JSON of the
// request's overrides.
type wireOverrides struct {
	ContainerOverrides []wireOverride `json:"containerOverrides"`
}

type wireOverride struct {
	Name        string    `json:"name"`
	Command     []string  `json:"command,omitempty"`
	Environment []wireEnv `json:"environment,omitempty"`
}

type wireEnv struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// overrides builds the task's container overrides. What does not fit ECS's
// 8 KiB is never cut nor sent elsewhere: the task is not started (run
// requests are refused before that, dispatch.MaxOverrideBytes, and trigger
// bodies are kept apart, run.MaxInlineBody, so this is a last guard).
func (r *Runner) overrides(t dispatch.Task) (*ecstypes.TaskOverride, error) {
	env := map[string]string{}
	for k, v := range t.Env {
		if _, secret := t.Job.Secrets[k]; secret {
			continue // never in plain text; the task definition references it
		}
		if jv, ok := t.Job.Environment[k]; ok && jv == v {
			continue // the task definition holds it
		}
		env[k] = v
	}
	w := wireOverride{Name: deploy.EssentialContainer, Command: t.Command, Environment: wireVars(env)}
	if size := overridesSize(w); size > MaxOverrides {
		return nil, &dispatch.StartError{Reason: fmt.Sprintf(
			"start task of run %s: its environment and command take %d bytes of overrides, and ECS allows %d: nothing was started",
			t.Run.ID, size, MaxOverrides)}
	}
	o := ecstypes.ContainerOverride{Name: aws.String(w.Name), Command: w.Command}
	for _, e := range w.Environment {
		o.Environment = append(o.Environment, ecstypes.KeyValuePair{Name: aws.String(e.Name), Value: aws.String(e.Value)})
	}
	return &ecstypes.TaskOverride{ContainerOverrides: []ecstypes.ContainerOverride{o}}, nil
}

func wireVars(env map[string]string) []wireEnv {
	out := make([]wireEnv, 0, len(env))
	for _, k := range slices.Sorted(maps.Keys(env)) {
		out = append(out, wireEnv{Name: k, Value: env[k]})
	}
	return out
}

// overridesSize is the length of the overrides' JSON. Go escapes more than
// ECS counts (<, >, &), so this errs on the safe side.
func overridesSize(w wireOverride) int {
	b, _ := json.Marshal(wireOverrides{ContainerOverrides: []wireOverride{w}})
	return len(b)
}
