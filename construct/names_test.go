package construct

import (
	"fmt"
	"testing"

	"github.com/longshore/longshore/internal/job"
)

func TestKeyFiltersMatchLikeTheTriggers(t *testing.T) {
	tests := []struct {
		name     string
		triggers []job.S3Trigger
		want     string
	}{
		{"a prefix alone", []job.S3Trigger{{Prefix: "in/"}}, `[map[prefix:in/]]`},
		{"a suffix alone", []job.S3Trigger{{Suffix: ".jpg"}}, `[map[suffix:.jpg]]`},
		{"both must hold, so a wildcard", []job.S3Trigger{{Prefix: "in/", Suffix: ".jpg"}}, `[map[wildcard:in/*.jpg]]`},
		{"wildcard characters in a key are escaped", []job.S3Trigger{{Prefix: `a*b\`, Suffix: "*"}}, `[map[wildcard:a\*b\\*\*]]`},
		{"several triggers are alternatives", []job.S3Trigger{{Prefix: "a/"}, {Suffix: ".b"}}, `[map[prefix:a/] map[suffix:.b]]`},
		{"a trigger without filters matches every key", []job.S3Trigger{{Prefix: "a/"}, {}}, `[]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := fmtValue(keyFilters(tt.triggers)); got != tt.want {
				t.Errorf("keyFilters = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestNamesBecomeConstructIDs(t *testing.T) {
	for in, want := range map[string]string{"nightly-report": "NightlyReport", "api": "Api", "a_b-c": "ABC"} {
		if got := pascal(in); got != want {
			t.Errorf("pascal(%q) = %q, want %q", in, got, want)
		}
	}
}

func fmtValue(v []map[string]string) string { return fmt.Sprint(v) }
