package bench

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// Row is one measured figure.
type Row struct {
	Name     string
	Value    string
	Baseline string
	Ratio    float64 // Value / Baseline; 0 when there is no baseline
	Target   string
	Met      bool
	Note     string
}

// Table writes the rows as an aligned text table.
func Table(w io.Writer, rows []Row) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "MEASURE\tLONGSHORE\tBASELINE\tRATIO\tTARGET\tMET")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.Name, r.Value, dash(r.Baseline), ratioText(r.Ratio), dash(r.Target), met(r))
	}
	tw.Flush()
}

// Markdown writes the rows as a Markdown table.
func Markdown(w io.Writer, rows []Row) {
	fmt.Fprintln(w, "| measure | Longshore | baseline | ratio | target | met |")
	fmt.Fprintln(w, "| --- | --- | --- | --- | --- | --- |")
	for _, r := range rows {
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s |\n", esc(r.Name), esc(r.Value), esc(dash(r.Baseline)), ratioText(r.Ratio), esc(dash(r.Target)), met(r))
	}
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func ratioText(r float64) string {
	if r == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2fx", r)
}

func met(r Row) string {
	switch {
	case r.Target == "":
		return "-"
	case r.Met:
		return "yes"
	}
	return "no"
}

func esc(s string) string { return strings.ReplaceAll(s, "|", "\\|") }
