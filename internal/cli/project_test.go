package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// inFolder runs the CLI in dir with the environment env.
func inFolder(t *testing.T, dir string, env map[string]string, args ...string) result {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chdir(dir); err != nil {
		t.Fatal(err)
	}
	defer os.Chdir(wd)
	var out, errb bytes.Buffer
	app := &App{Stdout: &out, Stderr: &errb, Now: func() time.Time { return now }, Getenv: func(k string) string { return env[k] }}
	code := app.Main(args)
	return result{out.String(), errb.String(), code}
}

func TestInitWritesACatalogThatValidatesAndNeverOverwrites(t *testing.T) {
	dir := t.TempDir()
	got := inFolder(t, dir, nil, "init", "team")
	if got.code != 0 || !strings.Contains(got.stdout, "cd team && longshore local") {
		t.Fatalf("init: %s", got)
	}
	if v := inFolder(t, filepath.Join(dir, "team"), nil, "validate"); v.code != 0 || v.stdout != "jobs: 1 job(s) valid\n" || v.stderr != "" {
		t.Errorf("validate of the example: %s", v)
	}
	if again := inFolder(t, dir, nil, "init", "team"); again.code != 1 || !strings.Contains(again.stderr, "already exists: init writes nothing over it") {
		t.Errorf("init again: %s", again)
	}
	if here := inFolder(t, filepath.Join(dir, "team", "jobs"), nil, "init"); here.code != 0 || !strings.Contains(here.stdout, "\n  longshore local ") {
		t.Errorf("init in the current folder: %s", here)
	}
}

func TestDeploymentCommandsRefuseWhatTheyCannotUseBeforeRunningAnything(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "jobs"), 0o755); err != nil {
		t.Fatal(err)
	}
	noRelease := map[string]string{EnvHome: t.TempDir()}
	tests := []struct {
		name string
		env  map[string]string
		args []string
		code int
		want string
	}{
		{"a context option that is not KEY=VALUE", noRelease, []string{"synth", "-c", "prefix"}, 2, `-c "prefix" is not KEY=VALUE`},
		{"a context option longshore sets itself", noRelease, []string{"deploy", "-c", "jobsDir=x"}, 2, "-c jobsDir is set by longshore: use --jobs"},
		{"a jobs folder that is not there", noRelease, []string{"synth", "--jobs", "nope"}, 2, `jobs folder "nope" not found`},
		{"no release beside longshore", noRelease, []string{"diff"}, 1, "longshore-cdk, lambda/launcher/bootstrap, lambda/tracker/bootstrap"},
		{"an argument that belongs to the toolkit without --", noRelease, []string{"deploy", "--profile"}, 2, "unknown flag: --profile"},
		{"a stray argument", noRelease, []string{"destroy", "now"}, 2, "destroy takes no arguments: give the CDK toolkit's own options after --"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := inFolder(t, dir, tt.env, tt.args...)
			if got.code != tt.code || !strings.Contains(got.stderr, tt.want) || strings.Count(got.stderr, "\n") != 1 {
				t.Errorf("%v: %s\nwant exit %d saying %q", tt.args, got, tt.code, tt.want)
			}
			if _, err := os.Stat(filepath.Join(dir, "cdk.out")); err == nil {
				t.Errorf("%v wrote cdk.out", tt.args)
			}
		})
	}
}

func TestTheToolkitIsThePinnedOne(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "package.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte(`"aws-cdk": "`+CDKToolkitVersion+`"`)) {
		t.Errorf("package.json pins another aws-cdk than CDKToolkitVersion %s:\n%s", CDKToolkitVersion, b)
	}
}

func TestTheToolkitIsInstalledOnceIntoTheCacheWithNpm(t *testing.T) {
	bin := t.TempDir()
	log := filepath.Join(t.TempDir(), "npm.log")
	// A stand-in for npm that installs a cdk the way npm would lay it out.
	npm := `#!/bin/sh
echo "$@" >> ` + log + `
while [ $# -gt 0 ]; do [ "$1" = --prefix ] && prefix=$2; shift; done
mkdir -p "$prefix/node_modules/aws-cdk/bin" && printf '#!/bin/sh\n' > "$prefix/node_modules/aws-cdk/bin/cdk"
`
	if err := os.WriteFile(filepath.Join(bin, "npm"), []byte(npm), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	cache := t.TempDir()
	var out, errb bytes.Buffer
	app := &App{Stdout: &out, Stderr: &errb, Now: func() time.Time { return now },
		Getenv: func(k string) string { return map[string]string{"XDG_CACHE_HOME": cache}[k] }}
	cmd := app.rootCommand()
	cmd.SetContext(t.Context())
	want := filepath.Join(cache, "longshore", "aws-cdk-"+CDKToolkitVersion, "node_modules", "aws-cdk", "bin", "cdk")
	for i := range 2 {
		got, err := app.toolkit(cmd)
		if err != nil || got != want {
			t.Fatalf("toolkit (%d) = %q, %v; want %q", i, got, err, want)
		}
	}
	b, _ := os.ReadFile(log)
	if calls := strings.Split(strings.TrimSpace(string(b)), "\n"); len(calls) != 1 || !strings.Contains(calls[0], "install --prefix") || !strings.HasSuffix(calls[0], "aws-cdk@"+CDKToolkitVersion) {
		t.Errorf("npm was called %q, want one install of aws-cdk@%s", calls, CDKToolkitVersion)
	}
	if !strings.Contains(errb.String(), "installing the CDK toolkit aws-cdk@"+CDKToolkitVersion) {
		t.Errorf("stderr = %q, want it to say what it installs", errb.String())
	}
}
