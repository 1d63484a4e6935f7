package secret

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// canary stands for a secret value: no error may ever show it.
const canary = "c4n4ry-V4LUE-never-shown"

// FuzzLoad reads any secrets file. Load never panics; a refusal is one
// line that names the file (and the line, when one is at fault); and no
// error shows a value. For the last, every line of the form
// REFERENCE=VALUE (not quoted, not a comment) has its value replaced by a
// canary and the file is read again: the canary is in no error, and when
// the file is taken each of those references resolves to it.
func FuzzLoad(f *testing.F) {
	for _, s := range []string{
		"# database\n\nssm:/prod/db/password=hunter2\n",
		"  ssm:/prod/spaced = some value  \r\n",
		smARN + ":token=abc=def==\n",
		`"secretsmanager:arn:aws:secretsmanager:us-east-1:111122223333:secret:a=b-AbCdEf"=quoted` + "\n",
		"ssm:/a=x\n# again\nssm:/a=hunter2\n",
		"password=hunter2\n",
		`"ssm:/a=hunter2` + "\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		path := write(t, string(data), 0o600)
		if _, err := Load(path, nil); err != nil {
			clearLoadError(t, path, data, err)
		}

		masked, refs := withCanaries(data)
		path = write(t, string(masked), 0o600)
		s, err := Load(path, nil)
		if err != nil {
			clearLoadError(t, path, masked, err)
			if strings.Contains(err.Error(), canary) {
				t.Fatalf("%q: error %q shows a value", masked, err)
			}
			return
		}
		for _, ref := range refs {
			if v, err := s.Resolve("FUZZ", ref); err != nil || v != canary {
				t.Fatalf("%q: reference %q resolves to %q, %v; want its value", masked, ref, v, err)
			}
		}
	})
}

// clearLoadError: one line, naming the file, saying what is wrong, and
// never wrapping ErrMissing (that is Resolve's).
func clearLoadError(t *testing.T, path string, data []byte, err error) {
	t.Helper()
	msg := err.Error()
	if !strings.Contains(msg, path) || strings.ContainsAny(msg, "\r\n") || len(msg) <= len(path)+4 || errors.Is(err, ErrMissing) {
		t.Fatalf("%q: error %q is not one line naming %s", data, msg, path)
	}
}

// withCanaries replaces the value of every unquoted REFERENCE=VALUE line
// with the canary, and returns the file and those references (the text
// before the first '=', without the spaces around it).
func withCanaries(data []byte) ([]byte, []string) {
	lines := bytes.Split(data, []byte("\n"))
	var refs []string
	for i, line := range lines {
		trimmed := strings.TrimSpace(string(bytes.TrimSuffix(line, []byte("\r"))))
		if trimmed == "" || trimmed[0] == '#' || trimmed[0] == '"' {
			continue
		}
		eq := bytes.IndexByte(line, '=')
		ref, _, ok := strings.Cut(trimmed, "=")
		if eq < 0 || !ok {
			continue
		}
		lines[i] = append(append([]byte{}, line[:eq+1]...), canary...)
		if ref = strings.TrimRight(ref, " \t"); ref != "" {
			refs = append(refs, ref)
		}
	}
	return bytes.Join(lines, []byte("\n")), refs
}
