package kql

import (
	"bufio"
	"io"
	"strings"
	"unicode/utf8"
)

// maxCellWidth bounds a column's width in Format; longer values end with "…".
const maxCellWidth = 48

// Format writes a table as aligned text for a terminal: a header, a rule, one
// line per row. Values print as tostring() would; long values are truncated.
func Format(w io.Writer, t *Table) error {
	cells := make([][]string, 0, len(t.Rows)+1)
	header := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		header[i] = cellText(c.Name)
	}
	cells = append(cells, header)
	for _, r := range t.Rows {
		line := make([]string, len(t.Columns))
		for i := range t.Columns {
			if i < len(r) {
				line[i] = cellText(toStr(r[i]))
			}
		}
		cells = append(cells, line)
	}
	widths := make([]int, len(t.Columns))
	for _, line := range cells {
		for i, c := range line {
			widths[i] = max(widths[i], utf8.RuneCountInString(c))
		}
	}
	bw := bufio.NewWriter(w)
	for n, line := range cells {
		writeLine(bw, line, widths)
		if n == 0 {
			rule := make([]string, len(widths))
			for i, wd := range widths {
				rule[i] = strings.Repeat("-", wd)
			}
			writeLine(bw, rule, widths)
		}
	}
	return bw.Flush()
}

func writeLine(w *bufio.Writer, line []string, widths []int) {
	for i, c := range line {
		if i > 0 {
			w.WriteString("  ")
		}
		w.WriteString(c)
		if i < len(line)-1 {
			w.WriteString(strings.Repeat(" ", widths[i]-utf8.RuneCountInString(c)))
		}
	}
	w.WriteByte('\n')
}

// cellText puts a value on one line and truncates it.
func cellText(s string) string {
	s = strings.NewReplacer("\r\n", "⏎", "\n", "⏎", "\r", "⏎", "\t", " ").Replace(s)
	if utf8.RuneCountInString(s) <= maxCellWidth {
		return s
	}
	r := []rune(s)
	return string(r[:maxCellWidth-1]) + "…"
}
