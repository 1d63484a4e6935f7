package run

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
)

// seeded is a deterministic source of bytes for tests.
type seeded struct{ r *rand.ChaCha8 }

func newSeeded(seed byte) *seeded { return &seeded{rand.NewChaCha8([32]byte{seed})} }

func (s *seeded) Read(p []byte) (int, error) { return s.r.Read(p) }

func TestNewID(t *testing.T) {
	t.Run("an id is r- and 16 lowercase base32hex characters", func(t *testing.T) {
		id, err := NewID(newSeeded(1))
		if err != nil {
			t.Fatal(err)
		}
		if len(id) != 18 || !strings.HasPrefix(id, "r-") || !ValidID(id) {
			t.Errorf("id = %q", id)
		}
	})
	t.Run("the same seed gives the same id", func(t *testing.T) {
		a, _ := NewID(newSeeded(7))
		b, _ := NewID(newSeeded(7))
		if a != b {
			t.Errorf("ids %q and %q differ", a, b)
		}
	})
	t.Run("ids follow the random bytes", func(t *testing.T) {
		id, _ := NewID(bytes.NewReader(make([]byte, 10)))
		if id != "r-0000000000000000" {
			t.Errorf("id = %q, want r-0000000000000000", id)
		}
		id, _ = NewID(bytes.NewReader(bytes.Repeat([]byte{0xff}, 10)))
		if id != "r-vvvvvvvvvvvvvvvv" {
			t.Errorf("id = %q, want r-vvvvvvvvvvvvvvvv", id)
		}
	})
	t.Run("ten thousand ids from one reader are distinct", func(t *testing.T) {
		src := newSeeded(3)
		seen := map[string]bool{}
		for range 10000 {
			id, err := NewID(src)
			if err != nil || seen[id] {
				t.Fatalf("id %q (err %v) repeated", id, err)
			}
			seen[id] = true
		}
	})
	t.Run("a reader that runs dry is an error", func(t *testing.T) {
		_, err := NewID(bytes.NewReader([]byte{1, 2, 3}))
		if err == nil || !strings.HasPrefix(err.Error(), "read randomness for a run id") {
			t.Errorf("error = %v", err)
		}
		_, err = NewID(failing{})
		if !errors.Is(err, errBroken) {
			t.Errorf("error = %v, want it to wrap the reader's error", err)
		}
	})
}

var errBroken = errors.New("broken")

type failing struct{}

func (failing) Read([]byte) (int, error) { return 0, errBroken }

func TestValidID(t *testing.T) {
	tests := []struct {
		name string
		id   string
		want bool
	}{
		{"a new id", "r-0123456789abcdef", true},
		{"a shorter id of an older record", "r-7f3a2c91", true},
		{"an empty string", "", false},
		{"no prefix", "0123456789abcdef", false},
		{"a path traversal", "r-../../etc/passwd", false},
		{"a slash", "r-01234567/89abcdef", false},
		{"upper case", "r-0123456789ABCDEF", false},
		{"letters past v", "r-0123456789abcdez", false},
		{"a space", "r-01234567 89abcdef", false},
		{"a quote for injection", "r-01234567'89abcdef", false},
		{"a newline at the end", "r-0123456789abcdef\n", false},
		{"too short", "r-0123", false},
		{"too long", "r-" + strings.Repeat("a", 33), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ValidID(tt.id); got != tt.want {
				t.Errorf("ValidID(%q) = %v, want %v", tt.id, got, tt.want)
			}
		})
	}
}

func TestKeyID(t *testing.T) {
	a, b := KeyID("hello/sqs/m-1"), KeyID("hello/sqs/m-1")
	if a != b {
		t.Errorf("the same key gave %s and %s", a, b)
	}
	if !ValidID(a) || len(a) != len(IDPrefix)+16 {
		t.Errorf("KeyID = %q, want a run id of NewID's shape", a)
	}
	if c := KeyID("hello/sqs/m-2"); c == a {
		t.Errorf("two keys gave the same id %s", c)
	}
}
