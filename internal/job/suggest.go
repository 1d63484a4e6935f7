package job

// Closest returns the candidate within two edits of name (ignoring case),
// or "": what a "did you mean" names.
func Closest(name string, candidates []string) string {
	return closest(name, candidates)
}
