package kql

import (
	"bufio"
	"strings"
	"unicode/utf8"
)

// How Format (api.go) lays out a table: one line per row, each cell on one
// line and truncated.

// maxCellWidth bounds a column's width in Format; longer values end with "…".
const maxCellWidth = 48

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
