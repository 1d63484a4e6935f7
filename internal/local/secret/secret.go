// Package secret resolves a job's secret references on one machine, for the
// local engine: from environment variables named LONGSHORE_SECRET_<NAME>,
// then from a secrets file. It never prints a value: errors name the
// reference and where it was looked for, and a malformed line is named by
// its number only.
//
// The secrets file has one secret a line, REFERENCE=VALUE, where REFERENCE
// is written exactly as in job.yaml:
//
//	# database
//	ssm:/prod/db/password=hunter2
//	secretsmanager:arn:aws:secretsmanager:us-east-1:111122223333:secret:api-AbCdEf:token=abc=
//
// The reference ends at the first '='; a reference that itself contains '='
// (Secrets Manager names may) is written in double quotes:
// "secretsmanager:arn:...:secret:a=b-AbCdEf"=value. The value is the rest of
// the line with surrounding spaces and tabs removed; it may contain '='.
// Blank lines and lines starting with '#' are skipped. The file must be
// readable by its owner only (chmod 600).
package secret

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"unicode"

	"github.com/longshore/longshore/internal/job"
)

// EnvPrefix starts the name of the environment variable that gives the
// value of a job's secret: LONGSHORE_SECRET_DB_PASSWORD for the job's
// variable DB_PASSWORD. It is read before the file.
const EnvPrefix = "LONGSHORE_SECRET_"

// MaxFileSize bounds the secrets file.
const MaxFileSize = 1 << 20

// ErrMissing is wrapped by Resolve's error when no value is found.
var ErrMissing = errors.New("not found")

// Source gives the values of secret references.
type Source struct {
	path   string // "" when no file was given
	exists bool
	values map[string]string // reference -> value
	getenv func(string) string
}

// Load reads the secrets file at path (none when path is empty; a file that
// does not exist is an empty source) and returns a Source that consults
// getenv first (nil: no environment). A file readable or writable by group
// or others is refused.
func Load(path string, getenv func(string) string) (*Source, error) {
	s := &Source{path: path, values: map[string]string{}, getenv: getenv}
	if path == "" {
		return s, nil
	}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return nil, fmt.Errorf("open secrets file %s: %w", path, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("stat secrets file %s: %w", path, err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("secrets file %s is not a regular file", path)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("secrets file %s is open to other users (mode %04o): run chmod 600 %s", path, st.Mode().Perm(), path)
	}
	if st.Size() > MaxFileSize {
		return nil, fmt.Errorf("secrets file %s is larger than %d KiB", path, MaxFileSize>>10)
	}
	s.exists = true
	if err := s.parse(f); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Source) parse(f *os.File) error {
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), MaxFileSize)
	seen := map[string]int{}
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(string(bytes.TrimSuffix(sc.Bytes(), []byte("\r"))))
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		ref, value, err := splitLine(line)
		if err != nil {
			return fmt.Errorf("%s:%d: %w", s.path, n, err)
		}
		if _, err := job.ParseSecretRef(ref); err != nil {
			if !strings.HasPrefix(ref, string(job.SecretSSM)+":") && !strings.HasPrefix(ref, string(job.SecretSecretsManager)+":") {
				// What precedes '=' may be part of a value: do not show it.
				return fmt.Errorf("%s:%d: the line does not start with a secret reference (not shown): write REFERENCE=VALUE with the reference as in job.yaml, such as ssm:/prod/db/password=...", s.path, n)
			}
			return fmt.Errorf("%s:%d: %s: %w", s.path, n, showRef(ref), err)
		}
		if first, dup := seen[ref]; dup {
			return fmt.Errorf("%s:%d: %s is also given on line %d", s.path, n, showRef(ref), first)
		}
		seen[ref] = n
		s.values[ref] = value
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read secrets file %s: %w", s.path, err)
	}
	return nil
}

// showRef is a reference as an error shows it: quoted when it holds a
// character that cannot be printed (a quoted reference may hold a line
// break), so that an error stays on one line.
func showRef(ref string) string {
	if strings.IndexFunc(ref, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0 {
		return strconv.Quote(ref)
	}
	return ref
}

// splitLine cuts REFERENCE=VALUE. Its errors never quote the line, which
// may hold a value.
func splitLine(line string) (ref, value string, err error) {
	const want = "want REFERENCE=VALUE (the value is not shown)"
	if strings.HasPrefix(line, `"`) {
		q, err := strconv.QuotedPrefix(line)
		if err != nil {
			return "", "", errors.New("unterminated quoted reference: " + want)
		}
		ref, _ = strconv.Unquote(q)
		rest, ok := strings.CutPrefix(strings.TrimLeft(line[len(q):], " \t"), "=")
		if !ok {
			return "", "", errors.New("no '=' after the quoted reference: " + want)
		}
		return ref, strings.Trim(rest, " \t"), nil
	}
	ref, value, ok := strings.Cut(line, "=")
	if !ok {
		return "", "", errors.New("no '=' on this line: " + want)
	}
	ref = strings.TrimRight(ref, " \t")
	if ref == "" {
		return "", "", errors.New("nothing before '=': " + want)
	}
	return ref, strings.Trim(value, " \t"), nil
}

// Resolve returns the value of the job's secret envName, whose reference is
// ref: the environment variable LONGSHORE_SECRET_<envName> when it is set
// and not empty, else the file's line for ref. Its error wraps ErrMissing,
// names the reference and where it was looked for, and never holds a value.
// A nil Source is an empty one.
func (s *Source) Resolve(envName, ref string) (string, error) {
	if s == nil {
		s = &Source{}
	}
	envVar := EnvPrefix + envName
	if s.getenv != nil {
		if v := s.getenv(envVar); v != "" {
			return v, nil
		}
	}
	if v, ok := s.values[ref]; ok {
		return v, nil
	}
	var looked []string
	if s.getenv != nil {
		looked = append(looked, "environment variable "+envVar+" is not set")
	}
	switch {
	case s.path == "":
		looked = append(looked, "no secrets file was given")
	case s.exists:
		looked = append(looked, "not in "+s.path)
	default:
		looked = append(looked, s.path+" does not exist")
	}
	return "", fmt.Errorf("secret %s (%s) %w: %s", envName, ref, ErrMissing, strings.Join(looked, "; "))
}
