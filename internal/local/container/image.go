package container

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/jsonstream"
	"github.com/moby/moby/client"

	"github.com/longshore/longshore/internal/dispatch"
	"github.com/longshore/longshore/internal/job"
)

// pullTimeout bounds the pull of an image that is not on this machine.
const pullTimeout = 10 * time.Minute

// buildLogLines is how many of the last lines of a failed build's log a
// run's reason quotes.
const buildLogLines = 15

// containerfiles are the names a build folder's recipe may have, in the
// order they are looked for.
var containerfiles = []string{"Containerfile", "Dockerfile"}

// image returns the image to run a job in: built from image.build (and
// cached by the content of the build folder), or image.uri as found on
// this machine, pulled when it is not. A *dispatch.StartError says why
// there is none.
func (b *backend) image(ctx context.Context, spec *job.Spec) (string, error) {
	switch {
	case spec.Image.Build != "":
		return b.build(ctx, spec)
	case spec.Image.URI != "":
		return b.pull(ctx, spec)
	}
	where := spec.Path
	if where == "" {
		where = "its job.yaml"
	}
	return "", &dispatch.StartError{Reason: fmt.Sprintf(
		"job %s has no image: add image.build or image.uri to %s to run it in a container", spec.Name, where)}
}

// BuildContext is the folder an image.build job's image is built from,
// and the name of its recipe (Containerfile or Dockerfile).
func BuildContext(jobsDir string, spec *job.Spec) (dir, recipe string, err error) {
	jobDir := filepath.Join(jobsDir, filepath.FromSlash(spec.Dir))
	dir = filepath.Join(jobDir, filepath.FromSlash(spec.Image.Build))
	if rel, err := filepath.Rel(jobDir, dir); err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", "", fmt.Errorf("job %s: image.build %q leaves the job's folder", spec.Name, spec.Image.Build)
	}
	for _, name := range containerfiles {
		if st, err := os.Stat(filepath.Join(dir, name)); err == nil && st.Mode().IsRegular() {
			return dir, name, nil
		}
	}
	return "", "", fmt.Errorf("job %s: build folder %s has no Containerfile or Dockerfile", spec.Name, dir)
}

// ImageTag is the tag of a job's image built from a context whose tar has
// the given sha256: longshore/<job>:<first 16 hex digits>.
func ImageTag(jobName string, contextSum []byte) string {
	return "longshore/" + jobName + ":" + hex.EncodeToString(contextSum)[:16]
}

// build builds a job's image from its build folder, unless an image built
// from the same content is there already.
func (b *backend) build(ctx context.Context, spec *job.Spec) (string, error) {
	dir, recipe, err := BuildContext(b.jobsDir, spec)
	if err != nil {
		return "", &dispatch.StartError{Reason: err.Error()}
	}
	h := sha256.New()
	if err := writeContext(h, dir); err != nil {
		return "", &dispatch.StartError{Reason: "job " + spec.Name + ": read the build folder", Err: err}
	}
	tag := ImageTag(spec.Name, h.Sum(nil))

	unlock := b.images.Lock(tag)
	defer unlock()
	switch found, err := present(ctx, b.api, tag); {
	case err != nil:
		return "", engineFailure("look for image "+tag, err)
	case found:
		return tag, nil
	}

	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(writeContext(pw, dir)) }()
	res, err := b.api.ImageBuild(ctx, pr, client.ImageBuildOptions{
		Tags: []string{tag}, Dockerfile: recipe, Remove: true, ForceRemove: true,
		Labels: map[string]string{labelJob: spec.Name},
	})
	if err != nil {
		_ = pr.CloseWithError(err)
		return "", buildFailure(ctx, spec, dir, err, nil)
	}
	defer res.Body.Close()
	tail, err := readStream(res.Body, buildLogLines)
	_ = pr.Close()
	if err != nil {
		return "", buildFailure(ctx, spec, dir, err, tail)
	}
	// Some engines end a failed build without an error message: check.
	if found, err := present(ctx, b.api, tag); err != nil || !found {
		if err == nil {
			err = errors.New("the engine did not tag the image")
		}
		return "", buildFailure(ctx, spec, dir, err, tail)
	}
	return tag, nil
}

// buildFailure is a build that failed: a run that never started, quoting
// the end of the build's log; or, when the engine went away or the start
// was called off (ctx), a start to try again.
func buildFailure(ctx context.Context, spec *job.Spec, dir string, err error, tail []string) error {
	if client.IsErrConnectionFailed(err) || ctx.Err() != nil {
		return engineFailure("build the image of job "+spec.Name, err)
	}
	reason := fmt.Sprintf("job %s: the image build from %s failed: %s", spec.Name, dir, strings.TrimSpace(err.Error()))
	if len(tail) > 0 {
		reason += "\nlast lines of the build log:\n" + strings.Join(tail, "\n")
	}
	return &dispatch.StartError{Reason: reason}
}

// pull finds image.uri on this machine, or pulls it.
func (b *backend) pull(ctx context.Context, spec *job.Spec) (string, error) {
	uri := spec.Image.URI
	unlock := b.images.Lock(uri)
	defer unlock()
	switch found, err := present(ctx, b.api, uri); {
	case err != nil:
		return "", engineFailure("look for image "+uri, err)
	case found:
		return uri, nil
	}
	ctx, cancel := context.WithTimeout(ctx, pullTimeout)
	defer cancel()
	res, err := b.api.ImagePull(ctx, uri, client.ImagePullOptions{})
	if err == nil {
		_, err = readStream(res, 0)
		_ = res.Close()
	}
	if err == nil {
		return uri, nil
	}
	if client.IsErrConnectionFailed(err) || ctx.Err() != nil {
		return "", engineFailure("pull image "+uri, err)
	}
	// The words ECS uses, so that the run reads "image could not be pulled".
	return "", &dispatch.StartError{Reason: fmt.Sprintf("CannotPullContainerError: job %s: image %s is not on this machine and could not be pulled: %s",
		spec.Name, uri, strings.TrimSpace(err.Error()))}
}

// present reports whether the engine behind a has the image.
func present(ctx context.Context, a api, ref string) (bool, error) {
	_, err := a.ImageInspect(ctx, ref)
	switch {
	case err == nil:
		return true, nil
	case cerrdefs.IsNotFound(err):
		return false, nil
	}
	return false, err
}

// readStream reads a build's or a pull's stream of JSON messages to its
// end. It returns the last lines of its text (at most keep) and the error
// the stream reports, if any.
func readStream(r io.Reader, keep int) ([]string, error) {
	var tail []string
	add := func(text string) {
		if keep <= 0 {
			return
		}
		for _, line := range strings.Split(strings.TrimRight(text, "\n"), "\n") {
			tail = append(tail, line)
			if len(tail) > keep {
				tail = tail[1:]
			}
		}
	}
	dec := json.NewDecoder(r)
	for {
		var m jsonstream.Message
		if err := dec.Decode(&m); errors.Is(err, io.EOF) {
			return tail, nil
		} else if err != nil {
			return tail, fmt.Errorf("read the engine's answer: %w", err)
		}
		if m.Error != nil && m.Error.Message != "" {
			return tail, errors.New(strings.TrimSpace(m.Error.Message))
		}
		if m.Stream != "" {
			add(m.Stream)
		}
	}
}

// engineFailure is a start that failed because the engine did not answer
// as expected: transient, it may answer later.
func engineFailure(what string, err error) error {
	return &dispatch.StartError{Transient: true, Reason: what, Err: err}
}

// writeContext writes dir as a tar stream with only what decides the
// build: paths (sorted), modes, link targets and contents; no times and no
// owners, so the same content always makes the same bytes, and its hash
// names the image. Files other than regular files, folders and symbolic
// links (sockets, devices) are left out.
func writeContext(w io.Writer, dir string) error {
	tw := tar.NewWriter(w)
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil || rel == "." {
			return err
		}
		name := filepath.ToSlash(rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		hdr := &tar.Header{Name: name, Mode: int64(info.Mode().Perm())}
		switch {
		case info.IsDir():
			hdr.Typeflag, hdr.Name = tar.TypeDir, name+"/"
			return tw.WriteHeader(hdr)
		case info.Mode()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			hdr.Typeflag, hdr.Linkname = tar.TypeSymlink, target
			return tw.WriteHeader(hdr)
		case !info.Mode().IsRegular():
			return nil
		}
		hdr.Typeflag, hdr.Size = tar.TypeReg, info.Size()
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if _, err := io.CopyN(tw, f, info.Size()); err != nil {
			return fmt.Errorf("read %s: %w", p, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return tw.Close()
}
