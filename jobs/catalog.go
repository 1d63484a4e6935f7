// Package jobs embeds the job catalog (every */job.yaml in this folder) so
// that each binary — the Lambdas, the CDK app — reads the same jobs.
package jobs

import (
	"embed"

	"github.com/longshore/longshore/internal/job"
)

//go:embed */job.yaml
var files embed.FS

// Catalog loads the embedded catalog. Files beside the job files (build
// contexts) are not embedded and so not checked here: `longshore validate`
// checks them from the folder.
func Catalog() (*job.Catalog, error) {
	return job.Load(files, "jobs", job.Options{SkipFiles: true})
}
