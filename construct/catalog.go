package construct

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/longshore/longshore/internal/deploy"
)

// CatalogLayerProps is the catalog to ship.
type CatalogLayerProps struct {
	Catalog *Catalog
}

// CatalogLayer ships the job catalog to the functions as data: a Lambda
// layer holding each job's job.yaml as written, below
// deploy.CatalogLayerPath, which Lambda extracts to deploy.CatalogDir. The
// functions load it at cold start as `longshore validate` loads a folder,
// so one build of the functions serves every catalog: two catalogs give
// two layers and the same function code.
type CatalogLayer struct {
	constructs.Construct
	Layer awslambda.LayerVersion
}

// NewCatalogLayer stages the catalog's job files (nothing else of the jobs
// folder: no sources, no build contexts) and makes the layer of them.
func NewCatalogLayer(scope constructs.Construct, id string, props *CatalogLayerProps) (*CatalogLayer, error) {
	c := constructs.NewConstruct(scope, &id)
	dir, err := stageCatalog(awscdk.Stage_Of(c).AssetOutdir(), props.Catalog)
	if err != nil {
		return nil, err
	}
	layer := awslambda.NewLayerVersion(c, jsii.String("Layer"), &awslambda.LayerVersionProps{
		Code:                    awslambda.Code_FromAsset(jsii.String(dir), nil),
		CompatibleArchitectures: &[]awslambda.Architecture{awslambda.Architecture_ARM_64()},
		CompatibleRuntimes:      &[]awslambda.Runtime{awslambda.Runtime_PROVIDED_AL2023()},
		Description:             jsii.String(fmt.Sprintf("Longshore job catalog: %d job(s)", len(props.Catalog.Jobs()))),
		RemovalPolicy:           awscdk.RemovalPolicy_DESTROY,
	})
	return &CatalogLayer{Construct: c, Layer: layer}, nil
}

// stageCatalog copies the catalog's job files into a folder of their own
// below outdir, laid out as the layer holds them, and returns the folder.
// The folder is named by the files' hash, so staging the same catalog
// twice writes the same folder.
func stageCatalog(outdir *string, cat *Catalog) (string, error) {
	files, err := cat.Files()
	if err != nil {
		return "", err
	}
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	h := sha256.New()
	for _, name := range names {
		fmt.Fprintf(h, "%s\x00%d\x00", name, len(files[name]))
		h.Write(files[name])
	}
	base := os.TempDir()
	if outdir != nil && *outdir != "" {
		base = *outdir
	}
	dir := filepath.Join(base, "longshore-catalog-"+hex.EncodeToString(h.Sum(nil))[:16])
	for _, name := range names {
		dst := filepath.Join(dir, filepath.FromSlash(deploy.CatalogLayerPath), filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return "", fmt.Errorf("stage the job catalog: %w", err)
		}
		if err := os.WriteFile(dst, files[name], 0o644); err != nil {
			return "", fmt.Errorf("stage the job catalog: %w", err)
		}
	}
	return dir, nil
}
