package slack

import (
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// Every string that comes from query data or from the hunt file goes through fit with one of the
// escapers below before it reaches a block. Slack reads &, < and > as the start of entities, links
// and mentions (<!channel>, <@U123>, <https://x|label>), so they are always written as entities;
// what else an escaper changes depends on where the text lands.

// ellipsis marks a cut string.
const ellipsis = "…"

// textLen measures text the way this package budgets it: in UTF-16 code units, never fewer than
// the characters Slack counts.
func textLen(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r) // ranging a string never yields a surrogate, so never -1
	}
	return n
}

// clean replaces invalid UTF-8 and the bidirectional controls that can make text read in another
// order than it runs (U+202A-U+202E, U+2066-U+2069) with U+FFFD, turns Unicode line and paragraph
// separators into \n, and drops every other control character but \n and \t.
func clean(s string) string {
	ok := true
	for _, r := range s {
		if r == utf8.RuneError || r == '\u2028' || r == '\u2029' || isBidi(r) || (unicode.IsControl(r) && r != '\n' && r != '\t') {
			ok = false
			break
		}
	}
	if ok {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case r == utf8.RuneError || isBidi(r):
			b.WriteRune(utf8.RuneError)
		case r == '\u2028' || r == '\u2029':
			b.WriteByte('\n')
		case unicode.IsControl(r) && r != '\n' && r != '\t':
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func isBidi(r rune) bool {
	return (r >= '\u202A' && r <= '\u202E') || (r >= '\u2066' && r <= '\u2069')
}

// escaper returns what to write for rune r, given the rune before it (-1 at the start).
type escaper func(prev, r rune) string

// fit cleans s and writes it through esc, keeping at most max units (see textLen). It reports
// whether all of s fit; a cut result ends with "…". Each rune's escape is kept whole or dropped,
// so a cut never lands inside an entity such as &amp; or inside a UTF-8 sequence.
func fit(s string, max int, esc escaper) (string, bool) {
	if max <= 0 {
		return "", s == ""
	}
	s = clean(s)
	var b strings.Builder
	n, cut := 0, 0 // units written; length of b at the last point where "…" still fits
	prev := rune(-1)
	for _, r := range s {
		p := esc(prev, r)
		pl := textLen(p)
		if n+pl > max {
			return b.String()[:cut] + ellipsis, false
		}
		b.WriteString(p)
		n += pl
		if n <= max-1 {
			cut = b.Len()
		}
		prev = r
	}
	return b.String(), true
}

// entity writes the three characters Slack reserves as entities.
func entity(r rune) (string, bool) {
	switch r {
	case '&':
		return "&amp;", true
	case '<':
		return "&lt;", true
	case '>':
		return "&gt;", true
	}
	return "", false
}

// plainText is for plain_text objects: Slack parses no markup there, but entities are still read.
// Line breaks become spaces when oneLine is set.
func plainText(oneLine bool) escaper {
	return func(_, r rune) string {
		if e, ok := entity(r); ok {
			return e
		}
		if oneLine && (r == '\n' || r == '\t') {
			return " "
		}
		return string(r)
	}
}

// mrkdwnText is for data inside mrkdwn outside code: Slack has no escape for its emphasis
// characters, so *, _, ~ and ` become look-alikes (∗ ˍ ∼ ˋ) and a > opening a line gets an
// invisible soft hyphen so it cannot start a quote.
func mrkdwnText(oneLine bool) escaper {
	return func(prev, r rune) string {
		switch r {
		case '*':
			return "∗"
		case '_':
			return "ˍ"
		case '~':
			return "∼"
		case '`':
			return "ˋ"
		case '>':
			if prev == -1 || prev == '\n' {
				return "\u00ad&gt;"
			}
			return "&gt;"
		case '\n', '\t':
			if oneLine {
				return " "
			}
		}
		if e, ok := entity(r); ok {
			return e
		}
		return string(r)
	}
}

// inlineCode is for a value inside `...`: mrkdwn is not applied there, but a backtick would end
// the span and a line break would break it, so those become ˋ and a space.
func inlineCode(_, r rune) string {
	switch r {
	case '`':
		return "ˋ"
	case '\n', '\t':
		return " "
	}
	if e, ok := entity(r); ok {
		return e
	}
	return string(r)
}

// codeBlock is for a line inside a ```...``` block: a backtick that follows another gets a zero
// width space before it, so data can never write the ``` that would close the block, and a line
// break is followed by indent so continuation lines stay under their item.
func codeBlock(indent string) escaper {
	return func(prev, r rune) string {
		switch r {
		case '`':
			if prev == '`' {
				return "\u200b`"
			}
		case '\n':
			return "\n" + indent
		}
		if e, ok := entity(r); ok {
			return e
		}
		return string(r)
	}
}

// code wraps a value in inline code, escaped and cut to max units of content.
func code(s string, max int) string {
	v, _ := fit(s, max, inlineCode)
	return "`" + v + "`"
}

// md escapes a value for mrkdwn outside code, on one line, cut to max units.
func md(s string, max int) string {
	v, _ := fit(s, max, mrkdwnText(true))
	return v
}

// plain escapes a value for a plain_text object, on one line, cut to max units.
func plain(s string, max int) string {
	v, _ := fit(s, max, plainText(true))
	return v
}
