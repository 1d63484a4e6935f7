package engine

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strings"
	"sync"

	"github.com/longshore/longshore/internal/dispatch"
	"github.com/longshore/longshore/internal/job"
	"github.com/longshore/longshore/internal/local/container"
	"github.com/longshore/longshore/internal/local/process"
	"github.com/longshore/longshore/internal/run"
)

// How `longshore local --runner` runs jobs.
const (
	// RunnerAuto runs a job in a container when a container engine answers
	// and the job has an image it can have (built, on this machine, or
	// pulled when the job has no local.command), and as a process with its
	// local.command otherwise.
	RunnerAuto = "auto"
	// RunnerProcess runs every job as a process with its local.command.
	RunnerProcess = "process"
	// RunnerContainer runs every job in a container; the engine must answer.
	RunnerContainer = "container"
)

// Runner kinds a job gets.
const (
	kindProcess   = "process"
	kindContainer = "container"
)

// choice is how one job runs here, or why it cannot.
type choice struct {
	// kind is kindProcess, kindContainer, or "" when the job cannot run here.
	kind string
	// words describe the choice for the banner and the jobs API.
	words string
	// refusal says why the job cannot run, when kind is "": the reason of
	// its runs, which never start.
	refusal string
}

// machine is what a choice depends on besides the job: the container
// engine, if one answers, and the images it has.
type machine struct {
	engine    bool
	engineErr error
	// hasImage reports whether the engine has an image on this machine.
	hasImage func(ref string) (bool, error)
}

// choose decides how a job runs under mode (see RunnerAuto).
func choose(spec *job.Spec, mode string, m machine) choice {
	where := spec.Path
	if where == "" {
		where = "its job.yaml"
	}
	hasCommand := len(spec.Local.Command) > 0 && spec.Local.Command[0] != ""
	asProcess := func(note string) choice {
		w := "process: " + strings.Join(spec.Local.Command, " ")
		if note != "" {
			w += " (" + note + ")"
		}
		return choice{kind: kindProcess, words: w}
	}
	asContainer := func(note string) choice {
		w := "container: "
		if spec.Image.Build != "" {
			w += "image built from " + path.Join(path.Dir(spec.Path), spec.Image.Build)
		} else {
			w += spec.Image.URI
		}
		if note != "" {
			w += " (" + note + ")"
		}
		return choice{kind: kindContainer, words: w}
	}
	refuse := func(why string) choice {
		return choice{words: "none: " + why, refusal: "job " + spec.Name + " cannot run here: " + why}
	}

	switch mode {
	case RunnerProcess:
		if hasCommand {
			return asProcess("")
		}
		return refuse(fmt.Sprintf("it has no local.command, and --runner %s runs every job as a process: add one to %s", RunnerProcess, where))
	case RunnerContainer:
		switch {
		case spec.Image.IsZero():
			return refuse(fmt.Sprintf("it has no image, and --runner %s runs every job in a container: add image.build or image.uri to %s", RunnerContainer, where))
		case spec.Image.URI != "":
			if ok, err := m.hasImage(spec.Image.URI); err == nil && !ok {
				return asContainer("not on this machine: pulled when a run starts")
			}
		}
		return asContainer("")
	}

	switch {
	case m.engine && spec.Image.Build != "":
		return asContainer("")
	case m.engine && spec.Image.URI != "":
		ok, err := m.hasImage(spec.Image.URI)
		switch {
		case ok:
			return asContainer("")
		case hasCommand && err != nil:
			return asProcess("the container engine could not say whether it has the image: " + err.Error())
		case hasCommand:
			return asProcess("its image is not on this machine; --runner container would pull it")
		}
		return asContainer("not on this machine: pulled when a run starts")
	case hasCommand:
		return asProcess("")
	case !spec.Image.IsZero():
		why := "no container engine answers"
		if m.engineErr != nil {
			why = m.engineErr.Error()
		}
		return refuse(fmt.Sprintf("it has an image but %s, and no local.command to run it as a process: start Docker or Podman (or set DOCKER_HOST), or add local.command to %s", why, where))
	}
	return refuse(fmt.Sprintf("it has neither an image nor a local.command: add image.build or image.uri (to run it in a container) or local.command (to run it as a process) to %s", where))
}

// runners is the engine's dispatch.TaskRunner: it starts each job's tasks
// on the runner chosen for the job, and sends Describe and Stop to the
// runner whose prefix a ref carries ("ctr:" for containers, "proc:" for
// processes).
type runners struct {
	choices   map[string]choice // by job name
	process   *process.Runner
	container *container.Runner // nil without a container engine
}

var _ dispatch.TaskRunner = (*runners)(nil)

func (m *runners) Start(ctx context.Context, t dispatch.Task) (string, error) {
	if t.Job == nil {
		return "", &dispatch.StartError{Reason: "run " + t.Run.ID + " has no job"}
	}
	c, ok := m.choices[t.Job.Name]
	if !ok {
		return "", &dispatch.StartError{Reason: "job " + t.Job.Name + " is not in the catalog the engine started with"}
	}
	switch {
	case c.kind == kindProcess:
		return m.process.Start(ctx, t)
	case c.kind == kindContainer && m.container != nil:
		return m.container.Start(ctx, t)
	case c.kind == kindContainer:
		return "", &dispatch.StartError{Reason: "job " + t.Job.Name + " runs in a container, and no container engine answers"}
	}
	return "", &dispatch.StartError{Reason: c.refusal}
}

// Stop of a container's ref without a container engine does nothing: no
// runner here knows the task.
func (m *runners) Stop(ctx context.Context, ref, reason string) error {
	if container.IsRef(ref) {
		if m.container == nil {
			return nil
		}
		return m.container.Stop(ctx, ref, reason)
	}
	return m.process.Stop(ctx, ref, reason)
}

// Describe of a container's ref without a container engine is
// ErrTaskNotFound: its run is lost to this engine.
func (m *runners) Describe(ctx context.Context, ref string) (run.TaskState, error) {
	if container.IsRef(ref) {
		if m.container == nil {
			return run.TaskState{}, dispatch.ErrTaskNotFound
		}
		return m.container.Describe(ctx, ref)
	}
	return m.process.Describe(ctx, ref)
}

// Shutdown shuts both runners down at once.
func (m *runners) Shutdown(ctx context.Context) error {
	var wg sync.WaitGroup
	var cerr error
	if m.container != nil {
		wg.Add(1)
		go func() { defer wg.Done(); cerr = m.container.Shutdown(ctx) }()
	}
	perr := m.process.Shutdown(ctx)
	wg.Wait()
	return errors.Join(perr, cerr)
}

// checkRunner refuses a runner mode or a network that does not exist.
func checkRunner(cfg Config) error {
	switch cfg.Runner {
	case RunnerAuto, RunnerProcess, RunnerContainer:
	default:
		return fmt.Errorf("--runner %q: use %s, %s or %s", cfg.Runner, RunnerAuto, RunnerProcess, RunnerContainer)
	}
	switch cfg.Network {
	case container.NetworkHost, container.NetworkNone:
	default:
		return fmt.Errorf("--network %q: use %s or %s", cfg.Network, container.NetworkHost, container.NetworkNone)
	}
	return nil
}

// chooseAll chooses the runner of every job of the catalog.
func chooseAll(ctx context.Context, cat *job.Catalog, mode string, eng *container.Engine, engErr error) map[string]choice {
	m := machine{engine: eng != nil, engineErr: engErr, hasImage: func(string) (bool, error) { return false, nil }}
	if eng != nil {
		m.hasImage = func(ref string) (bool, error) { return eng.HasImage(ctx, ref) }
	}
	out := map[string]choice{}
	for _, s := range cat.Jobs() {
		out[s.Name] = choose(s, mode, m)
	}
	return out
}

// activeIn reports whether a run is still active in the store: the
// containers of other runs are stopped at start-up. A run the store cannot
// be asked about is taken as active, so that nothing is stopped by mistake.
func activeIn(ctx context.Context, st dispatch.RunStore) func(runID string) bool {
	return func(runID string) bool {
		r, err := st.Get(ctx, runID)
		if errors.Is(err, dispatch.ErrNotFound) {
			return false
		}
		return err != nil || !r.Status.Terminal()
	}
}
