package job

import (
	"fmt"
	"sort"
	"strings"
)

// SecretLike reports whether an environment variable's name is one that
// usually holds a secret (DB_PASSWORD, API_TOKEN, STRIPE_API_KEY, ...). A job
// file must give such a variable a value through secrets:, a reference read
// at run time, not in environment:.
func SecretLike(name string) bool {
	return secretLike.MatchString(strings.ToUpper(name))
}

// CheckOverrideEnv applies the job files' secret rule to the environment
// overrides of a run request (`longshore run --env`, the "env" of a run
// request to an engine or the launcher): a variable whose name looks like a
// secret and that has a value is refused, because overrides are stored with
// the run, shown with it and published in its result event. An empty value
// passes, as in a job file. The error names every such variable, in order,
// and says what to do instead.
func CheckOverrideEnv(env map[string]string) error {
	var names []string
	for name, value := range env {
		if value != "" && SecretLike(name) {
			names = append(names, name)
		}
	}
	if len(names) == 0 {
		return nil
	}
	sort.Strings(names)
	looks, it, is := "looks like a secret", "it", "it is"
	if len(names) > 1 {
		looks, it, is = "look like secrets", "them", "they are"
	}
	return fmt.Errorf("%s %s: do not pass secrets as --env or in a run request's env; "+
		"declare %s in the job's secrets: (ssm:/... or secretsmanager:...) so %s read at run time and never stored",
		strings.Join(names, ", "), looks, it, is)
}
