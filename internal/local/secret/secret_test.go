package secret

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const smARN = "secretsmanager:arn:aws:secretsmanager:us-east-1:111122223333:secret:api-AbCdEf"

// write writes a secrets file with the given mode and returns its path.
func write(t *testing.T, content string, mode os.FileMode) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "secrets.env")
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil { // WriteFile's mode is masked by the umask
		t.Fatal(err)
	}
	return path
}

func env(vars map[string]string) func(string) string {
	return func(name string) string { return vars[name] }
}

func TestResolve(t *testing.T) {
	file := "# database\n\nssm:/prod/db/password=hunter2\n" +
		"  ssm:/prod/spaced = some value  \r\n" +
		smARN + ":token=abc=def==\n" +
		`"secretsmanager:arn:aws:secretsmanager:us-east-1:111122223333:secret:a=b-AbCdEf"=quoted` + "\n"
	path := write(t, file, 0o600)
	tests := []struct {
		name    string
		getenv  func(string) string
		envName string
		ref     string
		want    string
	}{
		{"a reference in the file gives its value", nil, "DB_PASSWORD", "ssm:/prod/db/password", "hunter2"},
		{"spaces around the reference and the value are dropped", nil, "SPACED", "ssm:/prod/spaced", "some value"},
		{"a value keeps its '=' signs and a reference its colons", nil, "TOKEN", smARN + ":token", "abc=def=="},
		{"a quoted reference may contain '='", nil, "A", "secretsmanager:arn:aws:secretsmanager:us-east-1:111122223333:secret:a=b-AbCdEf", "quoted"},
		{"the environment variable comes before the file", env(map[string]string{"LONGSHORE_SECRET_DB_PASSWORD": "from-env"}),
			"DB_PASSWORD", "ssm:/prod/db/password", "from-env"},
		{"an empty environment variable counts as unset", env(map[string]string{"LONGSHORE_SECRET_DB_PASSWORD": ""}),
			"DB_PASSWORD", "ssm:/prod/db/password", "hunter2"},
		{"the environment variable is named after the job's variable, not the reference", env(map[string]string{"LONGSHORE_SECRET_OTHER": "x"}),
			"DB_PASSWORD", "ssm:/prod/db/password", "hunter2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Load(path, tt.getenv)
			if err != nil {
				t.Fatal(err)
			}
			got, err := s.Resolve(tt.envName, tt.ref)
			if err != nil || got != tt.want {
				t.Errorf("Resolve(%s, %s) = %q, %v; want %q", tt.envName, tt.ref, got, err, tt.want)
			}
		})
	}
}

func TestResolveOfAMissingSecretSaysWhereItLooked(t *testing.T) {
	present := write(t, "ssm:/prod/db/password=hunter2\n", 0o600)
	missing := filepath.Join(t.TempDir(), "nope.env")
	tests := []struct {
		name   string
		path   string
		getenv func(string) string
		want   []string
	}{
		{"a reference absent from the file", present, env(nil),
			[]string{"secret API_TOKEN (ssm:/prod/api/token) not found", "LONGSHORE_SECRET_API_TOKEN is not set", "not in " + present}},
		{"a secrets file that does not exist", missing, env(nil),
			[]string{"LONGSHORE_SECRET_API_TOKEN is not set", missing + " does not exist"}},
		{"no secrets file and no environment", "", nil,
			[]string{"secret API_TOKEN (ssm:/prod/api/token) not found: no secrets file was given"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Load(tt.path, tt.getenv)
			if err != nil {
				t.Fatal(err)
			}
			v, err := s.Resolve("API_TOKEN", "ssm:/prod/api/token")
			if err == nil || v != "" {
				t.Fatalf("Resolve = %q, %v; want an error", v, err)
			}
			if !errors.Is(err, ErrMissing) {
				t.Errorf("error %v does not wrap ErrMissing", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error %q shows a value", err)
			}
		})
	}
}

func TestLoadRefuses(t *testing.T) {
	tests := []struct {
		name    string
		content string
		mode    os.FileMode
		want    string
	}{
		{"a file readable by others", "ssm:/a=hunter2\n", 0o644, "run chmod 600 "},
		{"a file readable by its group", "ssm:/a=hunter2\n", 0o640, "run chmod 600 "},
		{"a line without '='", "ssm:/a=x\nhunter2\n", 0o600, ":2: no '=' on this line"},
		{"a line that is not a reference", "password=hunter2\n", 0o600, ":1: the line does not start with a secret reference (not shown)"},
		{"a malformed SSM reference", "ssm:/prod db=hunter2\n", 0o600, `:1: ssm:/prod db: "/prod db" is not an SSM parameter name`},
		{"a reference given twice", "ssm:/a=x\n# again\nssm:/a=hunter2\n", 0o600, ":3: ssm:/a is also given on line 1"},
		{"an unterminated quoted reference", `"ssm:/a=hunter2` + "\n", 0o600, ":1: unterminated quoted reference"},
		{"nothing before '='", "=hunter2\n", 0o600, ":1: nothing before '='"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := write(t, tt.content, tt.mode)
			_, err := Load(path, nil)
			if err == nil {
				t.Fatal("Load succeeded; want an error")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not say %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error %q shows a value", err)
			}
			if tt.mode&0o077 != 0 && !strings.Contains(err.Error(), path) {
				t.Errorf("error %q does not name the file", err)
			}
		})
	}
}

func TestANilSourceResolvesNothing(t *testing.T) {
	var s *Source
	if v, err := s.Resolve("A", "ssm:/a"); !errors.Is(err, ErrMissing) || v != "" {
		t.Errorf("Resolve = %q, %v; want ErrMissing", v, err)
	}
}

func TestLoadOfAFolderIsRefused(t *testing.T) {
	dir := t.TempDir()
	if _, err := Load(dir, nil); err == nil {
		t.Error("Load of a folder succeeded; want an error")
	}
}
