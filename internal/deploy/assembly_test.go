package deploy

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestAssemblyMessagesAreReadFromTheManifestAndTheMetadataFiles(t *testing.T) {
	out := t.TempDir()
	files := map[string]string{
		"manifest.json": `{"version": "54.0.0", "artifacts": {
			"Old": {"type": "aws:cloudformation:stack", "metadata": {"/Old/Queue": [{"type": "aws:cdk:warning", "data": "a warning"}]}},
			"New": {"type": "aws:cloudformation:stack", "additionalMetadataFile": "New.metadata.json"}}}`,
		"New.metadata.json": `{"/New/Topic/Resource": [
			{"type": "aws:cdk:logicalId", "data": "Topic"},
			{"type": "aws:cdk:error", "data": "AwsSolutions-SNS3: The SNS Topic does not require publishers to use SSL.\n"}]}`,
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(out, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	errs, warns, err := AssemblyMessages(out)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"/New/Topic/Resource: AwsSolutions-SNS3: The SNS Topic does not require publishers to use SSL."}; !slices.Equal(errs, want) {
		t.Errorf("errors = %q, want %q", errs, want)
	}
	if want := []string{"/Old/Queue: a warning"}; !slices.Equal(warns, want) {
		t.Errorf("warnings = %q, want %q", warns, want)
	}
	if _, _, err := AssemblyMessages(t.TempDir()); err == nil {
		t.Errorf("a folder without an assembly gave no error")
	}
}
