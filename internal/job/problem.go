package job

import (
	"fmt"
	"strings"
)

// Problem is one thing wrong with a job file: the file, the field (a dotted
// path such as "retries.attempts" or "triggers[1].schedule"; empty for the
// file as a whole) and what is wrong and what is allowed.
type Problem struct {
	Path    string
	Field   string
	Message string
}

func (p Problem) String() string {
	if p.Field == "" {
		return p.Path + ": " + p.Message
	}
	return p.Path + ": " + p.Field + ": " + p.Message
}

// ProblemsError is returned when a catalog does not validate. It lists every
// problem found, in file order, and the warnings found beside them (see
// Catalog.Warnings); Error shows the problems only.
type ProblemsError struct {
	Problems []Problem
	Warnings []Problem
}

func (e *ProblemsError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// problems collects the problems and the warnings of one file.
type problems struct {
	path     string
	list     []Problem
	warnings []Problem
}

func (ps *problems) add(field, format string, args ...any) {
	ps.list = append(ps.list, Problem{Path: ps.path, Field: field, Message: fmt.Sprintf(format, args...)})
}

// warn records something allowed but probably unwise.
func (ps *problems) warn(field, format string, args ...any) {
	ps.warnings = append(ps.warnings, Problem{Path: ps.path, Field: field, Message: fmt.Sprintf(format, args...)})
}
