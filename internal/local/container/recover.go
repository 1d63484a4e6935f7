package container

import (
	"context"
	"errors"
	"fmt"
	"io/fs"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"github.com/longshore/longshore/internal/dispatch"
	"github.com/longshore/longshore/internal/run"

	"github.com/longshore/longshore/internal/local/jsonfile"
)

// recover finds a task that this Runner does not follow in its run's
// folder and on the engine, and takes it over (see Describe).
func (r *Runner) recover(ctx context.Context, id taskID) (run.TaskState, error) {
	// Counted as a start: Shutdown waits for it, then stops what it took over.
	r.mu.Lock()
	closed := r.closed
	if !closed {
		r.starting.Add(1)
		defer r.starting.Done()
	}
	r.mu.Unlock()
	unlock := r.runs.Lock(id.runID)
	defer unlock()
	return r.recoverLocked(ctx, id, closed)
}

// recoverLocked is recover with the run's lock held, counted in
// r.starting unless closed: then it takes nothing over.
func (r *Runner) recoverLocked(ctx context.Context, id taskID, closed bool) (run.TaskState, error) {
	r.mu.Lock()
	tk := r.tasks[id.runID]
	var current run.TaskState
	if tk != nil {
		current = tk.state.Clone()
	}
	r.mu.Unlock()
	if tk != nil {
		if tk.ref != id.source {
			return run.TaskState{}, dispatch.ErrTaskNotFound
		}
		return current, nil
	}

	dir := r.RunDir(id.runID)
	var end exitRecord
	switch err := jsonfile.Read(dir, ExitFile, &end); {
	case err == nil:
		if end.Ref != id.source {
			return run.TaskState{}, dispatch.ErrTaskNotFound
		}
		return end.state(), nil
	case !errors.Is(err, fs.ErrNotExist):
		return run.TaskState{}, fmt.Errorf("describe task %s: %w", id.source, err)
	}
	var rec taskRecord
	switch err := jsonfile.Read(dir, TaskFile, &rec); {
	case errors.Is(err, fs.ErrNotExist):
		return run.TaskState{}, dispatch.ErrTaskNotFound
	case err != nil:
		return run.TaskState{}, fmt.Errorf("describe task %s: %w", id.source, err)
	case rec.Ref != id.source:
		return run.TaskState{}, dispatch.ErrTaskNotFound
	}

	icx, cancel := context.WithTimeout(ctx, callTimeout)
	res, err := r.api.ContainerInspect(icx, rec.ContainerID, client.ContainerInspectOptions{})
	cancel()
	started := rec.StartedAt
	switch {
	case cerrdefs.IsNotFound(err):
		end = exitRecord{Ref: rec.Ref, RunID: rec.RunID, StopCode: run.StopCodeHostRestarted,
			StoppedReason: hostRestartedReason + ", and its container was gone when the engine looked again",
			StartedAt:     &started, StoppedAt: r.o.Now()}
		if err := jsonfile.Write(dir, ExitFile, end); err != nil {
			return run.TaskState{}, fmt.Errorf("describe task %s: %w", id.source, err)
		}
		return end.state(), nil
	case err != nil:
		return run.TaskState{}, fmt.Errorf("describe task %s: inspect container %s: %w", id.source, rec.ContainerID, err)
	case res.Container.State == nil:
		return run.TaskState{}, fmt.Errorf("describe task %s: container %s has no state", id.source, rec.ContainerID)
	}
	st := res.Container.State
	current = run.TaskState{TaskRef: rec.Ref, RunID: rec.RunID, Version: versionRunning, Phase: run.PhaseRunning,
		Essential: run.DefaultEssential, StartedAt: &started}
	if st.Status == container.StateCreated {
		// The start that created it stopped before it started it.
		if closed {
			current.Phase = run.PhasePending
			return current, nil
		}
		scx, cancel := context.WithTimeout(ctx, callTimeout)
		_, err := r.api.ContainerStart(scx, rec.ContainerID, client.ContainerStartOptions{})
		cancel()
		if err != nil {
			return run.TaskState{}, fmt.Errorf("describe task %s: start container %s: %w", id.source, rec.ContainerID, err)
		}
	} else if closed && running(st) {
		return current, nil
	}

	// Take it over: resume its logs where the last engine stopped, and
	// follow it to its end.
	stdout, err := resumeLog(dir, StdoutFile, r.o.MaxLogBytes)
	if err != nil {
		return run.TaskState{}, fmt.Errorf("describe task %s: %w", id.source, err)
	}
	stderr, err := resumeLog(dir, StderrFile, r.o.MaxLogBytes)
	if err != nil {
		_ = stdout.Close()
		return run.TaskState{}, fmt.Errorf("describe task %s: %w", id.source, err)
	}
	tk = &task{ref: rec.Ref, runID: rec.RunID, containerID: rec.ContainerID, memoryMiB: rec.MemoryMiB, started: started,
		stdout: stdout, stderr: stderr, reports: make(chan run.TaskState, 2), state: current}
	if running(st) || st.Status == container.StateCreated {
		r.follow(tk, false)
		var stop stopRecord
		if jsonfile.Read(dir, StopFile, &stop) == nil && stop.StopCode != "" {
			r.stopTracked(id, stop.StopCode, stop.Reason)
		}
		return current.Clone(), nil
	}
	// It ended while no engine watched: record and report its end now.
	r.streamLogs(ctx, tk, false)
	_ = stdout.Close()
	_ = stderr.Close()
	var stop stopRecord
	_ = jsonfile.Read(dir, StopFile, &stop)
	end = r.endOf(tk, exit{state: st}, stop.StopCode, stop.Reason)
	if err := jsonfile.Write(dir, ExitFile, end); err != nil {
		return run.TaskState{}, fmt.Errorf("describe task %s: %w", id.source, err)
	}
	r.remove(rec.ContainerID)
	return end.state(), nil
}

// Recover takes over the containers an earlier engine over the same data
// folder left: those of runs still active (active reports it) are followed
// to their end and reported through Observe; those of runs already
// finished are stopped; those whose end is recorded, or that no start
// recorded (it was interrupted before), are removed. The engine calls it
// once at start-up.
func (r *Runner) Recover(ctx context.Context, active func(runID string) bool) error {
	res, err := r.api.ContainerList(ctx, client.ContainerListOptions{
		All: true, Filters: make(client.Filters).Add("label", labelOwner+"="+r.owner),
	})
	if err != nil {
		return fmt.Errorf("list the containers of earlier runs: %w", err)
	}
	var errs []error
	for _, c := range res.Items {
		runID := c.Labels[labelRun]
		if !run.ValidID(runID) || !validContainerID(c.ID) {
			continue
		}
		if err := r.recoverContainer(ctx, runID, c.ID, active); err != nil {
			errs = append(errs, fmt.Errorf("take over the container of run %s: %w", runID, err))
		}
	}
	return errors.Join(errs...)
}

// recoverContainer takes over, stops or removes one container of Recover,
// holding its run's lock so that no Start of the run is under way.
func (r *Runner) recoverContainer(ctx context.Context, runID, containerID string, active func(runID string) bool) error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil
	}
	r.starting.Add(1)
	defer r.starting.Done()
	r.mu.Unlock()
	unlock := r.runs.Lock(runID)
	defer unlock()

	r.mu.Lock()
	tk := r.tasks[runID]
	r.mu.Unlock()
	if tk != nil && tk.containerID == containerID {
		return nil // already followed
	}
	var rec taskRecord
	var end exitRecord
	dir := r.RunDir(runID)
	if jsonfile.Read(dir, ExitFile, &end) == nil || jsonfile.Read(dir, TaskFile, &rec) != nil || rec.ContainerID != containerID {
		// Its end is recorded, or no start recorded it: nothing to follow.
		r.remove(containerID)
		return nil
	}
	id := taskID{containerID: containerID, runID: runID, source: rec.Ref}
	if _, err := r.recoverLocked(ctx, id, false); err != nil {
		return err
	}
	if !active(runID) {
		r.stopTracked(id, run.StopCodeUserInitiated, "its run had already ended when the engine started again")
	}
	return nil
}
