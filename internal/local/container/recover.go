package container

import (
	"context"
	"fmt"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"github.com/longshore/longshore/internal/local/task"
	"github.com/longshore/longshore/internal/run"
)

// Find asks the engine about the container a start record names: gone, it
// is lost; created and never started, running, or exited, it is found as
// such.
func (b *backend) Find(ctx context.Context, rec task.Started) (task.Found, error) {
	var own ctrRecord
	if err := rec.Decode(&own); err != nil {
		return task.Found{}, err
	}
	ictx, cancel := context.WithTimeout(ctx, callTimeout)
	res, err := b.api.ContainerInspect(ictx, own.ContainerID, client.ContainerInspectOptions{})
	cancel()
	switch {
	case cerrdefs.IsNotFound(err):
		return task.Found{State: task.Lost, Detail: ", and its container was gone when the engine looked again"}, nil
	case err != nil:
		return task.Found{}, fmt.Errorf("inspect container %s: %w", own.ContainerID, err)
	case res.Container.State == nil:
		return task.Found{}, fmt.Errorf("container %s has no state", own.ContainerID)
	}
	h := &ctr{b: b, id: own.ContainerID, ref: rec.Ref, runID: rec.RunID, name: own.Name, image: own.Image, memoryMiB: own.MemoryMiB}
	st := res.Container.State
	switch {
	case st.Status == container.StateCreated:
		return task.Found{State: task.Created, Handle: h}, nil
	case running(st):
		return task.Found{State: task.Running, Handle: h}, nil
	}
	return task.Found{State: task.Exited, Handle: h}, nil
}

// Leftovers lists the containers of runners over the same data folder
// (their longshore.owner label), running or not.
func (b *backend) Leftovers(ctx context.Context) ([]task.Handle, error) {
	res, err := b.api.ContainerList(ctx, client.ContainerListOptions{
		All: true, Filters: make(client.Filters).Add("label", labelOwner+"="+b.owner),
	})
	if err != nil {
		return nil, err
	}
	var out []task.Handle
	for _, c := range res.Items {
		runID := c.Labels[labelRun]
		if !run.ValidID(runID) || !validContainerID(c.ID) {
			continue
		}
		out = append(out, &ctr{b: b, id: c.ID, ref: formatRef(c.ID, runID), runID: runID})
	}
	return out, nil
}
