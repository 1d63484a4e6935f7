package runnertest

import (
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
)

// programSource is the test program's source: its hash names the built
// binary, so that a changed program is built again.
//
//go:embed testjob/main.go
var programSource []byte

// ProgramPackage is the import path of the test program.
const ProgramPackage = "github.com/longshore/longshore/internal/dispatch/runnertest/testjob"

// ProgramName is the file name of the test program in the suite's job folder
// (and /ProgramName in its image).
const ProgramName = "testjob"

// Containerfile is the suite's image: the test program alone, as the
// entrypoint, so that a command override becomes its arguments.
const Containerfile = "FROM scratch\nCOPY " + ProgramName + " /" + ProgramName + "\nENTRYPOINT [\"/" + ProgramName + "\"]\n"

var (
	programOnce sync.Once
	programPath string
	programErr  error
)

// Program returns the path of the test program (testjob/main.go), a static
// binary (CGO_ENABLED=0) built once per source and Go version into
// $TMPDIR/longshore-runnertest/<hash>/ and reused from there by later test
// binaries, as the Go build cache would.
func Program(tb testing.TB) string {
	tb.Helper()
	programOnce.Do(func() { programPath, programErr = buildProgram() })
	if programErr != nil {
		tb.Fatalf("build the runner test program: %v", programErr)
	}
	return programPath
}

func buildProgram() (string, error) {
	sum := sha256.Sum256(append([]byte(runtime.Version()+"\n"+runtime.GOARCH+"\n"), programSource...))
	dir := filepath.Join(os.TempDir(), "longshore-runnertest", hex.EncodeToString(sum[:8]))
	path := filepath.Join(dir, ProgramName)
	if st, err := os.Stat(path); err == nil && st.Mode().IsRegular() {
		return path, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("create %s: %w", dir, err)
	}
	tmp, err := os.MkdirTemp(dir, ".build-")
	if err != nil {
		return "", fmt.Errorf("create a build folder: %w", err)
	}
	defer os.RemoveAll(tmp)
	out := filepath.Join(tmp, ProgramName)
	cmd := exec.Command("go", "build", "-trimpath", "-o", out, ProgramPackage)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build %s: %w\n%s", ProgramPackage, err, b)
	}
	// Renamed into place whole: another test binary may be building it too.
	if err := os.Rename(out, path); err != nil {
		return "", fmt.Errorf("move the program into %s: %w", dir, err)
	}
	return path, nil
}

// WriteJob writes the suite's job folder, dir/<ProgramName>: the program
// and a Containerfile that copies it into a FROM scratch image.
func WriteJob(tb testing.TB, dir string) {
	tb.Helper()
	jobDir := filepath.Join(dir, ProgramName)
	if err := os.MkdirAll(jobDir, 0o755); err != nil {
		tb.Fatal(err)
	}
	bin, err := os.ReadFile(Program(tb))
	if err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(jobDir, ProgramName), bin, 0o755); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(jobDir, "Containerfile"), []byte(Containerfile), 0o644); err != nil {
		tb.Fatal(err)
	}
}
