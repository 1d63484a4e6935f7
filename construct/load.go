package construct

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"time"

	"github.com/longshore/longshore/internal/deploy"
	"github.com/longshore/longshore/internal/job"
)

// Catalog is a job catalog loaded from a folder (LoadCatalog).
type Catalog struct {
	dir  string
	jobs *job.Catalog
}

// LoadCatalog loads the jobs folder exactly as `longshore validate --jobs
// DIR` does. A catalog that does not validate is a *CatalogError listing
// every problem.
func LoadCatalog(dir string) (*Catalog, error) {
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return nil, fmt.Errorf("jobs folder %q not found: give the folder holding <name>/job.yaml files", dir)
	}
	cat, err := job.Load(os.DirFS(dir), dir, job.Options{Now: time.Now})
	var pe *job.ProblemsError
	if errors.As(err, &pe) {
		return nil, &CatalogError{Dir: dir, Problems: pe}
	}
	if err != nil {
		return nil, fmt.Errorf("load the job catalog: %w", err)
	}
	return &Catalog{dir: dir, jobs: cat}, nil
}

// Dir is the folder the catalog was loaded from.
func (c *Catalog) Dir() string { return c.dir }

// Jobs are the catalog's jobs, sorted by name.
func (c *Catalog) Jobs() []*job.Spec { return c.jobs.Jobs() }

// Files reads the catalog's job files as written, by path below its folder
// (<name>/job.yaml): what the deployment ships to the functions.
func (c *Catalog) Files() (map[string][]byte, error) {
	fsys := os.DirFS(c.dir)
	out := map[string][]byte{}
	for _, spec := range c.jobs.Jobs() {
		name := path.Join(spec.Dir, "job.yaml")
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("read job file %s: %w", filepath.Join(c.dir, filepath.FromSlash(name)), err)
		}
		out[name] = b
	}
	return out, nil
}

// CatalogError is a catalog that does not validate, with the folder it was
// read from; its Problems print as `longshore validate` prints them.
type CatalogError struct {
	Dir      string
	Problems *job.ProblemsError
}

func (e *CatalogError) Error() string { return e.Problems.Error() }
func (e *CatalogError) Unwrap() error { return e.Problems }

// prefixRe keeps every derived name within AWS limits (function names 64,
// queue names 80 characters) and valid for S3, SQS and CloudFormation exports.
var prefixRe = regexp.MustCompile(`^[a-z][a-z0-9-]{0,19}$`)

// CheckPrefix tells whether prefix may name a deployment.
func CheckPrefix(prefix string) error {
	if !prefixRe.MatchString(prefix) {
		return fmt.Errorf("%q is not a prefix: use 1-20 lowercase letters, digits and hyphens, starting with a letter", prefix)
	}
	return nil
}

// FunctionNames are the four functions, by their short names: each is
// <FunctionsDir>/<name>/bootstrap.
var FunctionNames = []string{deploy.FunctionLauncher, deploy.FunctionTracker, deploy.FunctionReconciler, deploy.FunctionAPI}

// checkFunctions makes sure every function's bootstrap is where it will be
// read from, so that a missing build is one clear line.
func checkFunctions(dir string) error {
	if dir == "" {
		return errors.New("no functions: give LongshoreProps.FunctionsDir, the folder holding <name>/bootstrap of each function (a release's lambda/ folder)")
	}
	for _, name := range FunctionNames {
		p := filepath.Join(dir, name, "bootstrap")
		if st, err := os.Stat(p); err != nil || st.IsDir() {
			return fmt.Errorf("read function %s: %s not found: give the folder holding <name>/bootstrap of each function (a release's lambda/ folder, or bin/lambda after `make build`)", name, p)
		}
	}
	return nil
}
