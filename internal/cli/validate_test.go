package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// catalogFolder writes job files given as folder: content and returns the jobs folder.
func catalogFolder(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		if err := os.MkdirAll(filepath.Join(dir, name), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name, "job.yaml"), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

const jobOnEveryResource = "image: {uri: busybox}\npermissions: [{actions: [s3:GetObject], resources: ['*']}]\n"

func TestValidatePrintsWarningsOnStderrAndStillExits0(t *testing.T) {
	dir := catalogFolder(t, map[string]string{"wide": jobOnEveryResource})
	got := longshore(t, "", "validate", "--jobs", dir)
	wantErr := "warning: " + dir + `/wide/job.yaml: permissions[0].resources[0]: resource "*" grants s3:GetObject on every resource of the account: name the ARNs if you can` + "\n"
	if got.code != 0 || got.stdout != dir+": 1 job(s) valid\n" || got.stderr != wantErr {
		t.Errorf("validate = %s\nwant stderr:\n%s", got, wantErr)
	}
}

func TestValidatePrintsWarningsBesideProblems(t *testing.T) {
	dir := catalogFolder(t, map[string]string{"wide": jobOnEveryResource, "x": "image: {uri: busybox}\nstorage: 10\n"})
	got := longshore(t, "", "validate", "--jobs", dir)
	wantOut := dir + "/x/job.yaml: storage: 10 GiB is out of range: use 21 to 200, or leave storage out for Fargate's default of 20 GiB\n"
	wantErr := "warning: " + dir + `/wide/job.yaml: permissions[0].resources[0]: resource "*" grants s3:GetObject on every resource of the account: name the ARNs if you can` + "\n" +
		"1 problem(s) in " + dir + "\n"
	if got.code != 1 || got.stdout != wantOut || got.stderr != wantErr {
		t.Errorf("validate = %s\nwant stdout:\n%s\nwant stderr:\n%s", got, wantOut, wantErr)
	}
}

func TestValidateJSONListsWarnings(t *testing.T) {
	tests := []struct {
		name     string
		files    map[string]string
		code     int
		problems int
		warnings int
	}{
		{"a valid catalog has an empty list of warnings", map[string]string{"ok": "image: {uri: busybox}\n"}, 0, 0, 0},
		{"a valid catalog with a warning lists it", map[string]string{"wide": jobOnEveryResource}, 0, 0, 1},
		{"a catalog with problems lists its warnings too", map[string]string{"wide": jobOnEveryResource, "x": "image: {uri: busybox}\nstorage: 10\n"}, 1, 1, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := longshore(t, "", "validate", "--jobs", catalogFolder(t, tt.files), "--json")
			var raw map[string]json.RawMessage
			var v validation
			if got.code != tt.code || json.Unmarshal([]byte(got.stdout), &raw) != nil || json.Unmarshal([]byte(got.stdout), &v) != nil {
				t.Fatalf("validate --json = %s", got)
			}
			if string(raw["warnings"]) == "null" || len(v.Problems) != tt.problems || len(v.Warnings) != tt.warnings || got.stderr != "" {
				t.Errorf("validate --json = %s", got)
			}
			if tt.warnings > 0 && (v.Warnings[0].Field != "permissions[0].resources[0]" || v.Warnings[0].Path != filepath.Join(filepath.Dir(v.Warnings[0].Path), "job.yaml")) {
				t.Errorf("warning = %+v", v.Warnings[0])
			}
		})
	}
}

// The CLI's clock (App.Now, 2026-11-23T19:00Z in tests) decides what is past.
func TestValidateRefusesAOneTimeScheduleThatHasPassed(t *testing.T) {
	dir := catalogFolder(t, map[string]string{
		"past":   "image: {uri: busybox}\ntriggers: [{schedule: 'at(2026-11-23T18:59:59)'}]\n",
		"future": "image: {uri: busybox}\ntriggers: [{schedule: 'at(2026-11-23T19:00:01)'}]\n",
	})
	got := longshore(t, "", "validate", "--jobs", dir)
	want := dir + "/past/job.yaml: triggers[0].schedule: at(2026-11-23T18:59:59) is in the past (now is 2026-11-23T19:00:00 UTC): it would never fire; remove the trigger or give a later time\n"
	if got.code != 1 || got.stdout != want {
		t.Errorf("validate = %s\nwant stdout:\n%s", got, want)
	}
}
