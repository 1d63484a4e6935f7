package deploy

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// AssemblyMessages reads the errors and warnings the app recorded in the
// cloud assembly's manifest (cdk-nag's findings among them), each as
// "construct path: message", as the CDK toolkit would print them.
func AssemblyMessages(out string) (errs, warns []string, err error) {
	b, err := os.ReadFile(filepath.Join(out, "manifest.json"))
	if err != nil {
		return nil, nil, fmt.Errorf("read the cloud assembly: %w", err)
	}
	type entry struct {
		Type string `json:"type"`
		Data any    `json:"data"`
	}
	var m struct {
		Artifacts map[string]struct {
			Metadata map[string][]entry `json:"metadata"`
			// AdditionalMetadataFile holds the metadata of newer assemblies.
			AdditionalMetadataFile string `json:"additionalMetadataFile"`
		} `json:"artifacts"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, nil, fmt.Errorf("read the cloud assembly's manifest: %w", err)
	}
	for _, art := range m.Artifacts {
		metadata := art.Metadata
		if art.AdditionalMetadataFile != "" {
			b, err := os.ReadFile(filepath.Join(out, art.AdditionalMetadataFile))
			if err != nil {
				return nil, nil, fmt.Errorf("read the cloud assembly: %w", err)
			}
			var more map[string][]entry
			if err := json.Unmarshal(b, &more); err != nil {
				return nil, nil, fmt.Errorf("read the cloud assembly's %s: %w", art.AdditionalMetadataFile, err)
			}
			metadata = more
			for path, entries := range art.Metadata {
				metadata[path] = append(metadata[path], entries...)
			}
		}
		for path, entries := range metadata {
			for _, e := range entries {
				line := path + ": " + strings.TrimSpace(fmt.Sprint(e.Data))
				switch e.Type {
				case "aws:cdk:error":
					errs = append(errs, line)
				case "aws:cdk:warning":
					warns = append(warns, line)
				}
			}
		}
	}
	slices.Sort(errs)
	slices.Sort(warns)
	return errs, warns, nil
}
