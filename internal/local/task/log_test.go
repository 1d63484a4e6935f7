package task

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestALogIsCappedWithOneTruncationLine(t *testing.T) {
	tests := []struct {
		name   string
		writes []string
		want   string
	}{
		{"output at the cap is kept whole", []string{"abcdefghij"}, "abcdefghij"},
		{"output past the cap in the middle of a line", []string{"abcdefghijk"}, "abcdefghij\n[longshore: output truncated after 10 bytes]\n"},
		{"output past the cap after a newline", []string{"abcdefghi\nk"}, "abcdefghi\n[longshore: output truncated after 10 bytes]\n"},
		{"output that reaches the cap, then more", []string{"abcdefghij", "k", "lmn"}, "abcdefghij\n[longshore: output truncated after 10 bytes]\n"},
		{"output in small writes", []string{"abc", "def\n", "ghi"}, "abcdef\nghi"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "runs", "r-1")
			l := newLog(dir, StdoutFile, 10)
			for _, w := range tt.writes {
				if n, err := l.Write([]byte(w)); n != len(w) || err != nil {
					t.Fatalf("Write(%q) = %d, %v; want all of it taken", w, n, err)
				}
			}
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			if got := readFile(t, filepath.Join(dir, StdoutFile)); got != tt.want {
				t.Errorf("log = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestALogFileIsCreatedAtTheFirstByte(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "runs", "r-1")
	l := newLog(dir, StdoutFile, 10)
	if _, err := l.Write(nil); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a log without a byte made %s (%v)", dir, err)
	}
}

func TestALogThatCannotBeWrittenStillTakesEveryByte(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	l := newLog(filepath.Join(file, "under-a-file"), StdoutFile, 10)
	for range 3 {
		if n, err := l.Write([]byte("abcdef")); n != 6 || err != nil {
			t.Fatalf("Write = %d, %v; want the bytes taken", n, err)
		}
	}
}

func TestARewoundLogWritesEachByteOnce(t *testing.T) {
	dir := t.TempDir()
	l := newLog(dir, StdoutFile, 100)
	for _, pass := range []string{"one\n", "one\ntwo\n", "one\ntwo\nthree\n"} {
		l.Rewind()
		if _, err := l.Write([]byte(pass)); err != nil {
			t.Fatal(err)
		}
	}
	_ = l.Close()
	if got := readFile(t, filepath.Join(dir, StdoutFile)); got != "one\ntwo\nthree\n" {
		t.Errorf("log = %q, want each line once", got)
	}
}

func TestAResumedLogGoesOnAfterItsLastByte(t *testing.T) {
	tests := []struct {
		name    string
		limit   int64
		earlier string // what an earlier engine wrote; "-" for no file
		stream  string // the whole stream, read again from its start
		want    string
	}{
		{"the bytes written before are skipped", 100, "ready\n", "ready\ngot SIGUSR1\n", "ready\ngot SIGUSR1\n"},
		{"a log without a file starts at the stream's start", 100, "-", "ready\n", "ready\n"},
		{"a log cut in the middle of a line gets its truncation line there", 10, "abcdefghi", "abcdefghijkl",
			"abcdefghij\n[longshore: output truncated after 10 bytes]\n"},
		{"a truncated log takes nothing more", 10, "abcdefghij\n[longshore: output truncated after 10 bytes]\n", "abcdefghijklmnop",
			"abcdefghij\n[longshore: output truncated after 10 bytes]\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, StdoutFile)
			if tt.earlier != "-" {
				if err := os.WriteFile(path, []byte(tt.earlier), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			l, err := resumeLog(dir, StdoutFile, tt.limit)
			if err != nil {
				t.Fatal(err)
			}
			for _, chunk := range strings.SplitAfter(tt.stream, "\n") {
				_, _ = l.Write([]byte(chunk))
			}
			_ = l.Close()
			if got := readFile(t, path); got != tt.want {
				t.Errorf("log = %q, want %q", got, tt.want)
			}
		})
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
