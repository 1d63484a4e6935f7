package run

import (
	"crypto/sha256"
	"encoding/base32"
	"fmt"
	"io"
	"strings"
)

// IDPrefix starts every run id.
const IDPrefix = "r-"

// idEncoding is base32 with the "extended hex" alphabet (0-9, a-v),
// lower-cased: ids sort like their random bytes and need no escaping in
// paths, tags, URLs or ECS startedBy.
var idEncoding = base32.NewEncoding("0123456789abcdefghijklmnopqrstuv").WithPadding(base32.NoPadding)

// NewID returns a new run id: "r-" followed by 16 characters of base32 (hex
// alphabet, lower case) read from random, 80 bits. Pass crypto/rand.Reader
// in production and a seeded reader in tests.
func NewID(random io.Reader) (string, error) {
	var b [10]byte
	if _, err := io.ReadFull(random, b[:]); err != nil {
		return "", fmt.Errorf("read randomness for a run id: %w", err)
	}
	return IDPrefix + idEncoding.EncodeToString(b[:]), nil
}

// KeyID returns the id of the run made by the trigger with idempotency key
// key: "r-" and 16 characters of the key's SHA-256, the shape of NewID. The
// same trigger gives the same id, so a store can refuse a repeated trigger
// with one conditional write on the id instead of a separate claim of its key.
func KeyID(key string) string {
	sum := sha256.Sum256([]byte(key))
	return IDPrefix + idEncoding.EncodeToString(sum[:10])
}

// ValidID reports whether s has the shape of a run id: "r-" followed by 8 to
// 32 characters among 0-9 and a-v (NewID makes 16; shorter ones appear in
// older records and examples). Check ids received from users with it before
// they reach a path, a query or a command: it refuses "/", "..", spaces and
// every other character.
func ValidID(s string) bool {
	rest, ok := strings.CutPrefix(s, IDPrefix)
	if !ok || len(rest) < 8 || len(rest) > 32 {
		return false
	}
	for i := 0; i < len(rest); i++ {
		c := rest[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'v') {
			return false
		}
	}
	return true
}
