package job

import (
	"fmt"
	"regexp"
	"strings"
)

// SecretSource names where a secret's value is kept.
type SecretSource string

const (
	SecretSSM            SecretSource = "ssm"
	SecretSecretsManager SecretSource = "secretsmanager"
)

// SecretRef is a parsed secret reference from a job's secrets map.
type SecretRef struct {
	Source SecretSource
	// Name is the SSM parameter name (or ARN), or the Secrets Manager secret ARN.
	Name string
	// JSONKey picks one key of a JSON secret (Secrets Manager only).
	JSONKey string
}

var (
	ssmNameRe = regexp.MustCompile(`^(/?[A-Za-z0-9_.-]+)(/[A-Za-z0-9_.-]+)*$`)
	ssmARNRe  = regexp.MustCompile(`^arn:aws(-[a-z]+)*:ssm:[a-z0-9-]+:\d{12}:parameter/[A-Za-z0-9_./-]+$`)
	smARNRe   = regexp.MustCompile(`^(arn:aws(-[a-z]+)*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+)(:([^:]+))?$`)
)

// ParseSecretRef reads ssm:/param/name, ssm:<parameter ARN> or
// secretsmanager:<secret ARN>[:json-key].
func ParseSecretRef(ref string) (SecretRef, error) {
	const allowed = "write ssm:/param/name or secretsmanager:<secret ARN>[:json-key]"
	source, rest, ok := strings.Cut(ref, ":")
	if !ok || rest == "" {
		return SecretRef{}, fmt.Errorf("the value (not shown) is not a secret reference: %s; a value written here would be plain text", allowed)
	}
	switch SecretSource(source) {
	case SecretSSM:
		if ssmNameRe.MatchString(rest) || ssmARNRe.MatchString(rest) {
			return SecretRef{Source: SecretSSM, Name: rest}, nil
		}
		return SecretRef{}, fmt.Errorf("%q is not an SSM parameter name: use letters, digits, _ . - and /, such as ssm:/prod/db/password", rest)
	case SecretSecretsManager:
		m := smARNRe.FindStringSubmatch(rest)
		if m == nil {
			return SecretRef{}, fmt.Errorf("%q is not a Secrets Manager secret ARN: write secretsmanager:arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME[:json-key]", rest)
		}
		return SecretRef{Source: SecretSecretsManager, Name: m[1], JSONKey: m[4]}, nil
	}
	return SecretRef{}, fmt.Errorf("the value (not shown) is not a secret reference: %s", allowed)
}
