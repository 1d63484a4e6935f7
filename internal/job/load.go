package job

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/goccy/go-yaml/parser"
	"go.yaml.in/yaml/v3"
)

// FileName is the name of a job file inside its folder.
const FileName = "job.yaml"

// MaxFileSize bounds a job file; anything larger is refused unread.
const MaxFileSize = 256 << 10

// Catalog is every job of a jobs folder, validated and with defaults applied.
type Catalog struct {
	jobs     []*Spec
	byName   map[string]*Spec
	warnings []Problem
}

// Jobs returns the jobs sorted by name.
func (c *Catalog) Jobs() []*Spec { return c.jobs }

// Get returns the job with that name.
func (c *Catalog) Get(name string) (*Spec, bool) {
	s, ok := c.byName[name]
	return s, ok
}

// Warnings returns what is allowed but probably unwise, such as a
// permission on every resource ("*"), in file order: the same file, field
// and message as a Problem. They do not stop the catalog loading.
func (c *Catalog) Warnings() []Problem { return c.warnings }

// Options change how a catalog is loaded.
type Options struct {
	// SkipFiles skips the checks of files beside job.yaml (the image build
	// context, the local working directory): for catalogs embedded in a
	// binary, which carry the job files only.
	SkipFiles bool
	// Now, when set, is the current time: a one-time schedule at(...) at or
	// before it is a problem, since it would never fire. Leave it nil where
	// a catalog is read long after it was checked (the functions load the
	// deployed catalog at cold start), so that time passing cannot make it
	// fail.
	Now func() time.Time
}

// Load reads every jobs/<name>/job.yaml below root in fsys. Paths in
// problems are shown joined to display (the folder as the user named it).
// It returns a *ProblemsError listing every problem when the catalog does
// not validate.
func Load(fsys fs.FS, display string, opts Options) (*Catalog, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("read jobs folder %s: %w", display, err)
	}
	var all, warnings []Problem
	var specs []*Spec
	broken := map[string]bool{} // folders whose job file has problems
	for _, e := range entries {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		folder := e.Name()
		file := path.Join(folder, FileName)
		shown := path.Join(display, file)
		if _, err := fs.Stat(fsys, file); errors.Is(err, fs.ErrNotExist) {
			if _, err := fs.Stat(fsys, path.Join(folder, "job.yml")); err == nil {
				all = append(all, Problem{Path: path.Join(display, folder, "job.yml"),
					Message: "job files are named job.yaml: rename it"})
			}
			continue
		}
		spec, ps, ws := loadFile(fsys, folder, shown, opts)
		all = append(all, ps...)
		warnings = append(warnings, ws...)
		if spec != nil {
			specs = append(specs, spec)
		} else {
			broken[folder] = true
		}
	}
	all = append(all, checkCatalog(specs, broken)...)
	if len(all) > 0 {
		return nil, &ProblemsError{Problems: all, Warnings: warnings}
	}
	c := &Catalog{byName: make(map[string]*Spec, len(specs)), warnings: warnings}
	for _, s := range specs {
		c.byName[s.Name] = s
		c.jobs = append(c.jobs, s)
	}
	sort.Slice(c.jobs, func(i, j int) bool { return c.jobs[i].Name < c.jobs[j].Name })
	return c, nil
}

// Parse reads one job file's content as if it were jobs/<folder>/job.yaml,
// applies the defaults and validates it alone. Files beside it are not checked.
func Parse(data []byte, folder, shown string) (*Spec, error) {
	spec, ps, _ := parse(data, nil, folder, shown, Options{SkipFiles: true})
	if len(ps) > 0 {
		return nil, &ProblemsError{Problems: ps}
	}
	return spec, nil
}

// loadFile reads and checks one job file: the spec when it is valid, its
// problems otherwise, and its warnings either way.
func loadFile(fsys fs.FS, folder, shown string, opts Options) (*Spec, []Problem, []Problem) {
	f, err := fsys.Open(path.Join(folder, FileName))
	if err != nil {
		return nil, []Problem{{Path: shown, Message: fmt.Sprintf("cannot read: %v", err)}}, nil
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, []Problem{{Path: shown, Message: fmt.Sprintf("cannot read: %v", err)}}, nil
	}
	if len(data) > MaxFileSize {
		return nil, []Problem{{Path: shown, Message: fmt.Sprintf("file is larger than %d KiB: a job file should be a page or two", MaxFileSize>>10)}}, nil
	}
	return parse(data, fsys, folder, shown, opts)
}

// parse reads one job file: the spec when it is valid, its problems
// otherwise, and its warnings either way.
func parse(data []byte, fsys fs.FS, folder, shown string, opts Options) (*Spec, []Problem, []Problem) {
	spec, ps := parseFile(data, fsys, folder, shown, opts)
	return spec, ps.list, ps.warnings
}

func parseFile(data []byte, fsys fs.FS, folder, shown string, opts Options) (*Spec, *problems) {
	ps := &problems{path: shown}
	// goccy's parser places syntax errors (and repeated keys) exactly;
	// yaml.v3 then reads the document into the types.
	if _, err := parser.ParseBytes(data, 0); err != nil {
		ps.add("", "YAML syntax error: %s", syntaxMessage(err))
		return nil, ps
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		ps.add("", "YAML syntax error: %s", strings.TrimPrefix(err.Error(), "yaml: "))
		return nil, ps
	}
	if len(doc.Content) == 0 {
		ps.add("", "file is empty: a job needs at least an image or a local.command")
		return nil, ps
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		ps.add("", "line %d: a job file is a mapping of fields such as name, image and triggers", root.Line)
		return nil, ps
	}
	checkShape(root, reflect.TypeFor[Spec](), "", ps)
	var spec Spec
	if err := root.Decode(&spec); err != nil {
		if len(ps.list) == 0 {
			var te *yaml.TypeError
			if errors.As(err, &te) {
				for _, e := range te.Errors {
					ps.add("", "%s", strings.TrimSpace(e))
				}
			} else {
				ps.add("", "%s", strings.ReplaceAll(strings.TrimPrefix(err.Error(), "yaml: "), "\n", " "))
			}
		}
		return nil, ps
	}
	// Unknown fields alone do not stop the file being read: its other
	// problems are reported too.
	spec.Dir = folder
	spec.Path = shown
	isGiven := func(path string) bool { return given(root, strings.Split(path, ".")) }
	applyDefaults(&spec, folder, isGiven)
	validate(&spec, fsys, opts, isGiven, ps)
	if len(ps.list) > 0 {
		return nil, ps
	}
	settleDefaults(&spec)
	return &spec, ps
}

// syntaxMessage turns "[4:1] message\n<source excerpt>" into
// "line 4, column 1: message".
func syntaxMessage(err error) string {
	first, _, _ := strings.Cut(err.Error(), "\n")
	if m := positionRe.FindStringSubmatch(first); m != nil {
		return fmt.Sprintf("line %s, column %s: %s", m[1], m[2], m[3])
	}
	return first
}

var positionRe = regexp.MustCompile(`^\[(\d+):(\d+)\]\s*(.*)$`)

// given reports whether the mapping n sets the field at path to a value.
func given(n *yaml.Node, path []string) bool {
	if len(path) == 0 {
		return n.Tag != "!!null"
	}
	if n.Kind != yaml.MappingNode {
		return false
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == path[0] {
			return given(n.Content[i+1], path[1:])
		}
	}
	return false
}

var durationType = reflect.TypeFor[Duration]()
var triggerType = reflect.TypeFor[Trigger]()
var concurrencyType = reflect.TypeFor[Concurrency]()

// checkShape walks the YAML tree beside the Go type it must decode into and
// reports unknown fields (with the closest known one) and values of the
// wrong kind, each with its line, so that decoding cannot fail afterwards.
func checkShape(n *yaml.Node, t reflect.Type, field string, ps *problems) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n.Tag == "!!null" {
		return
	}
	switch {
	case t == durationType:
		if n.Kind != yaml.ScalarNode {
			ps.add(field, "line %d: must be a duration such as 90s, 15m or 2h", n.Line)
			return
		}
		var d Duration
		if err := d.UnmarshalYAML(n); err != nil {
			ps.add(field, "line %d: %v", n.Line, err)
		}
	case t == concurrencyType && n.Kind == yaml.ScalarNode:
		if _, ok := concurrencyShorthands[n.Value]; !ok {
			ps.add(field, "line %d: %q is not a policy: write allow, forbid, replace or {max: N, overflow: queue|skip|replace}", n.Line, n.Value)
		}
	case t == triggerType && n.Kind == yaml.ScalarNode:
		switch {
		case n.Value == "after":
			ps.add(field, "line %d: after needs the job it follows: write after: {job: NAME}", n.Line)
		case !slices.Contains(bareTriggers, n.Value):
			ps.add(field, "line %d: %q is not a trigger: write one of schedule, s3, sqs, invoke or after", n.Line, n.Value)
		}
	case t.Kind() == reflect.Struct:
		if n.Kind != yaml.MappingNode {
			ps.add(field, "line %d: must be a mapping with fields %s", n.Line, strings.Join(yamlFields(t), ", "))
			return
		}
		known := yamlFieldTypes(t)
		if repeatedKeys(n, field, ps) {
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			ft, ok := known[k.Value]
			if !ok {
				msg := fmt.Sprintf("line %d: unknown field", k.Line)
				if s := closest(k.Value, yamlFields(t)); s != "" {
					msg += fmt.Sprintf("; did you mean %q?", s)
				}
				ps.add(join(field, k.Value), "%s (allowed: %s)", msg, strings.Join(yamlFields(t), ", "))
				continue
			}
			checkShape(v, ft, join(field, k.Value), ps)
		}
	case t.Kind() == reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			ps.add(field, "line %d: must be a list", n.Line)
			return
		}
		for i, e := range n.Content {
			checkShape(e, t.Elem(), fmt.Sprintf("%s[%d]", field, i), ps)
		}
	case t.Kind() == reflect.Map:
		if n.Kind != yaml.MappingNode {
			ps.add(field, "line %d: must be a mapping of NAME: value", n.Line)
			return
		}
		if repeatedKeys(n, field, ps) {
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			checkShape(n.Content[i+1], t.Elem(), join(field, n.Content[i].Value), ps)
		}
	case t.Kind() == reflect.Int:
		if n.Kind != yaml.ScalarNode || n.Tag != "!!int" {
			ps.add(field, "line %d: must be a whole number, not %q", n.Line, n.Value)
			return
		}
		if _, err := strconv.Atoi(n.Value); err != nil {
			ps.add(field, "line %d: must be a whole number, not %q", n.Line, n.Value)
		}
	case t.Kind() == reflect.Bool:
		switch {
		case n.Kind != yaml.ScalarNode:
			ps.add(field, "line %d: must be true or false, not a list or mapping", n.Line)
		case n.Tag != "!!bool":
			ps.add(field, "line %d: must be true or false, not %q", n.Line, n.Value)
		}
	case t.Kind() == reflect.String:
		if n.Kind != yaml.ScalarNode {
			ps.add(field, "line %d: must be text, not a list or mapping", n.Line)
		}
	}
}

// repeatedKeys reports (and records) keys a mapping gives twice.
func repeatedKeys(n *yaml.Node, field string, ps *problems) bool {
	seen := map[string]int{}
	found := false
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		if line, dup := seen[k.Value]; dup {
			ps.add(join(field, k.Value), "line %d: given twice (first on line %d): keep one", k.Line, line)
			found = true
			continue
		}
		seen[k.Value] = k.Line
	}
	return found
}

// UnmarshalYAML reads a concurrency policy written as a shorthand (allow,
// forbid, replace) or as a mapping of max and overflow.
func (c *Concurrency) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		p, ok := concurrencyShorthands[n.Value]
		if !ok {
			return fmt.Errorf("line %d: %q is not a concurrency policy", n.Line, n.Value)
		}
		*c = p
		return nil
	}
	type plain Concurrency
	return n.Decode((*plain)(c))
}

// bareTriggers may be written as a plain word in the triggers list.
var bareTriggers = []string{"invoke", "sqs", "s3"}

// UnmarshalYAML lets a trigger be a bare word ("- invoke") and treats a key
// with no value ("- sqs:") as that trigger with its defaults.
func (t *Trigger) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		switch n.Value {
		case "invoke":
			t.Invoke = &InvokeTrigger{}
		case "sqs":
			t.SQS = &SQSTrigger{}
		case "s3":
			t.S3 = &S3Trigger{}
		default:
			return fmt.Errorf("line %d: %q is not a trigger", n.Line, n.Value)
		}
		return nil
	}
	type plain Trigger
	if err := n.Decode((*plain)(t)); err != nil {
		return err
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i+1].Tag != "!!null" {
			continue
		}
		switch n.Content[i].Value {
		case "invoke":
			t.Invoke = &InvokeTrigger{}
		case "sqs":
			t.SQS = &SQSTrigger{}
		case "s3":
			t.S3 = &S3Trigger{}
		}
	}
	return nil
}

// join names the field name of the mapping at field ("retries.backoff").
// A name that cannot be shown as it is (empty, or with characters that do
// not print, such as a line break) is quoted.
func join(field, name string) string {
	if name == "" || strings.IndexFunc(name, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0 {
		name = strconv.Quote(name)
	}
	if field == "" {
		return name
	}
	return field + "." + name
}

func yamlFieldTypes(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "" || name == "-" {
			continue
		}
		out[name] = f.Type
	}
	return out
}

func yamlFields(t reflect.Type) []string {
	var names []string
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		if name != "" && name != "-" {
			names = append(names, name)
		}
	}
	return names
}

// closest returns the candidate within two edits of s, if any.
func closest(s string, candidates []string) string {
	best, bestD := "", 3
	for _, c := range candidates {
		if d := editDistance(strings.ToLower(s), strings.ToLower(c)); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
