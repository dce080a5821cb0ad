package kql

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// The lexer turns query text into tokens, each with its position: names (with
// the hyphenated operator names such as project-away and the negated string
// operators such as !has as one token), the string literal forms, numbers,
// timespan literals (1d, 30m, 100ms) and the unquoted text of datetime(...),
// guid(...) and the other typed literals.

func errorf(p Pos, format string, args ...any) *Error {
	return &Error{Pos: p, Msg: fmt.Sprintf(format, args...)}
}

type tokKind int

const (
	tEOF      tokKind = iota
	tIdent            // names and keywords, including project-away and !has
	tString           // any string literal form, already unescaped
	tLong             // integer literal
	tReal             // real literal
	tTimespan         // 1d, 30m, 100ms...
	tRaw              // unquoted text of datetime(...), guid(...), int(...)...
	tPunct            // operators and punctuation
)

type token struct {
	kind tokKind
	text string // identifier, punctuation, raw text, or the decoded string
	val  any    // int64, float64 or time.Duration for literals
	pos  Pos
	// glued is true when no space separates this token from the previous one
	// (used for wildcards like Col* in project-away).
	glued bool
}

// hyphenated operator names are lexed as one identifier.
var hyphenated = map[string]bool{
	"project-away": true, "project-rename": true, "project-keep": true, "project-reorder": true,
	"mv-expand": true, "mv-apply": true, "make-series": true, "parse-where": true, "parse-kv": true,
	"top-nested": true, "top-hitters": true, "project-smart": true, "sample-distinct": true,
}

// negatable string operators accept a leading "!".
var negatable = map[string]bool{
	"has": true, "has_cs": true, "contains": true, "contains_cs": true, "startswith": true,
	"startswith_cs": true, "endswith": true, "endswith_cs": true, "in": true, "between": true,
	"hasprefix": true, "hasprefix_cs": true, "hassuffix": true, "hassuffix_cs": true,
}

// rawLiteralTypes take their argument as unquoted text: datetime(2024-01-01 10:00).
var rawLiteralTypes = map[string]bool{
	"datetime": true, "date": true, "timespan": true, "time": true, "guid": true, "int": true,
	"long": true, "real": true, "double": true, "decimal": true, "bool": true, "boolean": true,
}

var puncts2 = []string{"==", "!=", "<>", "<=", ">=", "=~", "!~", "..", "=>"}

type lexer struct {
	src   string
	off   int
	line  int
	col   int
	toks  []token
	space bool
}

func lex(src string) ([]token, error) {
	lx := &lexer{src: src, line: 1, col: 1}
	for {
		lx.skipSpace()
		if lx.off >= len(lx.src) {
			lx.toks = append(lx.toks, token{kind: tEOF, pos: lx.pos()})
			return lx.toks, nil
		}
		if err := lx.next(); err != nil {
			return nil, err
		}
	}
}

func (lx *lexer) pos() Pos { return Pos{lx.line, lx.col} }

func (lx *lexer) peekByte(n int) byte {
	if lx.off+n < len(lx.src) {
		return lx.src[lx.off+n]
	}
	return 0
}

// advance moves over n bytes, keeping line and column current.
func (lx *lexer) advance(n int) {
	end := lx.off + n
	for lx.off < end {
		r, size := utf8.DecodeRuneInString(lx.src[lx.off:])
		lx.off += size
		if r == '\n' {
			lx.line++
			lx.col = 1
		} else {
			lx.col++
		}
	}
}

func (lx *lexer) skipSpace() {
	lx.space = false
	for lx.off < len(lx.src) {
		c := lx.src[lx.off]
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f':
			lx.advance(1)
		case c >= utf8.RuneSelf && isUnicodeSpace(lx.src[lx.off:]):
			_, size := utf8.DecodeRuneInString(lx.src[lx.off:])
			lx.advance(size)
		case c == '/' && lx.peekByte(1) == '/':
			for lx.off < len(lx.src) && lx.src[lx.off] != '\n' {
				lx.advance(1)
			}
		default:
			return
		}
		lx.space = true
	}
}

// isUnicodeSpace reports whether s starts with a character that Kusto skips
// like a space although it is not ASCII: the space separators (no-break
// space, narrow no-break space, em space, ideographic space...), the zero-width
// space and the byte-order mark. Text pasted from web pages and documents
// carries them. (Kusto.Language rejects the zero-width non-joiner, vertical
// tab and line separator, and so does this lexer.)
func isUnicodeSpace(s string) bool {
	r, _ := utf8.DecodeRuneInString(s)
	return unicode.Is(unicode.Zs, r) || r == '\u200b' || r == '\ufeff'
}

func (lx *lexer) emit(kind tokKind, text string, val any, p Pos) {
	glued := !lx.space && len(lx.toks) > 0
	lx.toks = append(lx.toks, token{kind: kind, text: text, val: val, pos: p, glued: glued})
}

func isIdentStart(r rune) bool { return r == '_' || r == '$' || unicode.IsLetter(r) }
func isIdentPart(r rune) bool  { return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) }

func (lx *lexer) next() error {
	p := lx.pos()
	c := lx.src[lx.off]
	switch {
	case c == '`' && strings.HasPrefix(lx.src[lx.off:], "```"):
		end := strings.Index(lx.src[lx.off+3:], "```")
		if end < 0 {
			return errorf(p, "unterminated ``` string literal")
		}
		text := lx.src[lx.off+3 : lx.off+3+end]
		lx.advance(end + 6)
		lx.emit(tString, text, nil, p)
		return nil
	case c == '"' || c == '\'':
		return lx.quoted(p, false)
	case c == '@' && (lx.peekByte(1) == '"' || lx.peekByte(1) == '\''):
		lx.advance(1)
		return lx.quoted(p, true)
	case (c == 'h' || c == 'H') && (lx.peekByte(1) == '"' || lx.peekByte(1) == '\''):
		lx.advance(1) // obfuscated string literal: same value
		return lx.quoted(p, false)
	case (c == 'h' || c == 'H') && lx.peekByte(1) == '@' && (lx.peekByte(2) == '"' || lx.peekByte(2) == '\''):
		lx.advance(2)
		return lx.quoted(p, true)
	case c >= '0' && c <= '9' || c == '.' && lx.peekByte(1) >= '0' && lx.peekByte(1) <= '9':
		return lx.number(p)
	case c == '!' && isIdentStart(rune(lx.peekByte(1))):
		word := lx.wordAt(lx.off + 1)
		if negatable[word] {
			lx.advance(1 + len(word))
			lx.emit(tIdent, "!"+word+lx.tilde(word), nil, p)
			return nil
		}
	}
	r, _ := utf8.DecodeRuneInString(lx.src[lx.off:])
	if isIdentStart(r) {
		word := lx.wordAt(lx.off)
		lx.advance(len(word))
		// project-away, mv-expand...: glue "-name" when the pair is a known operator.
		if lx.peekByte(0) == '-' {
			if next := lx.wordAt(lx.off + 1); next != "" && hyphenated[word+"-"+next] {
				lx.advance(1 + len(next))
				word += "-" + next
			}
		}
		word += lx.tilde(word)
		lx.emit(tIdent, word, nil, p)
		if rawLiteralTypes[word] {
			lx.rawParen()
		}
		return nil
	}
	for _, op := range puncts2 {
		if strings.HasPrefix(lx.src[lx.off:], op) {
			lx.advance(2)
			lx.emit(tPunct, op, nil, p)
			return nil
		}
	}
	if strings.ContainsRune("|()[]{},;.=<>+-*/%:!$?~@", r) {
		lx.advance(1)
		lx.emit(tPunct, string(r), nil, p)
		return nil
	}
	return errorf(p, "unexpected character %q", r)
}

// tilde glues the "~" of in~ and !in~.
func (lx *lexer) tilde(word string) string {
	if word == "in" && lx.peekByte(0) == '~' {
		lx.advance(1)
		return "~"
	}
	return ""
}

func (lx *lexer) wordAt(off int) string {
	end := off
	for end < len(lx.src) {
		r, size := utf8.DecodeRuneInString(lx.src[end:])
		if end == off && !isIdentStart(r) || end > off && !isIdentPart(r) {
			break
		}
		end += size
	}
	return lx.src[off:end]
}

// rawParen turns datetime(2024-01-01 10:00) into ident + raw text; a quoted
// argument (datetime("2024-01-01")) is left to the parser.
func (lx *lexer) rawParen() {
	i := lx.off
	for i < len(lx.src) && (lx.src[i] == ' ' || lx.src[i] == '\t') {
		i++
	}
	if i >= len(lx.src) || lx.src[i] != '(' {
		return
	}
	end := strings.IndexByte(lx.src[i:], ')')
	if end < 0 {
		return
	}
	inner := lx.src[i+1 : i+end]
	trimmed := strings.TrimSpace(inner)
	if strings.ContainsAny(inner, "(\n") || strings.HasPrefix(trimmed, "\"") || strings.HasPrefix(trimmed, "'") || strings.HasPrefix(trimmed, "@") {
		return
	}
	lx.advance(i - lx.off)
	p := lx.pos()
	lx.advance(end + 1)
	lx.emit(tRaw, trimmed, nil, p)
}

func (lx *lexer) quoted(p Pos, verbatim bool) error {
	q := lx.src[lx.off]
	lx.advance(1)
	var b strings.Builder
	for {
		if lx.off >= len(lx.src) {
			return errorf(p, "unterminated string literal")
		}
		c := lx.src[lx.off]
		switch {
		case c == q && verbatim && lx.peekByte(1) == q:
			b.WriteByte(q)
			lx.advance(2)
		case c == q:
			lx.advance(1)
			lx.emit(tString, b.String(), nil, p)
			return nil
		case c == '\n' && !verbatim:
			return errorf(p, "unterminated string literal")
		case c == '\\' && !verbatim:
			ep := lx.pos()
			s, n, err := unescape(lx.src[lx.off:])
			if err != nil {
				return errorf(ep, "%v", err)
			}
			b.WriteString(s)
			lx.advance(n)
		default:
			_, size := utf8.DecodeRuneInString(lx.src[lx.off:])
			b.WriteString(lx.src[lx.off : lx.off+size])
			lx.advance(size)
		}
	}
}

// unescape decodes one backslash escape at the start of s.
func unescape(s string) (string, int, error) {
	if len(s) < 2 {
		return "", 0, fmt.Errorf("unterminated escape")
	}
	switch s[1] {
	case '\\', '\'', '"':
		return s[1:2], 2, nil
	case 'n':
		return "\n", 2, nil
	case 't':
		return "\t", 2, nil
	case 'r':
		return "\r", 2, nil
	case '0':
		return "\x00", 2, nil
	case 'a':
		return "\a", 2, nil
	case 'b':
		return "\b", 2, nil
	case 'f':
		return "\f", 2, nil
	case 'v':
		return "\v", 2, nil
	case 'x', 'u', 'U':
		digits := map[byte]int{'x': 2, 'u': 4, 'U': 8}[s[1]]
		if len(s) < 2+digits {
			return "", 0, fmt.Errorf("bad \\%c escape", s[1])
		}
		v, err := strconv.ParseUint(s[2:2+digits], 16, 32)
		if err != nil {
			return "", 0, fmt.Errorf("bad \\%c escape", s[1])
		}
		return string(rune(v)), 2 + digits, nil
	}
	return "", 0, fmt.Errorf("unknown escape sequence \\%c in string literal (use @\"...\" for verbatim strings)", s[1])
}

func (lx *lexer) number(p Pos) error {
	start := lx.off
	i := lx.off
	isReal := false
	if strings.HasPrefix(lx.src[i:], "0x") || strings.HasPrefix(lx.src[i:], "0X") {
		i += 2
		for i < len(lx.src) && strings.IndexByte("0123456789abcdefABCDEF", lx.src[i]) >= 0 {
			i++
		}
		v, err := strconv.ParseInt(lx.src[start+2:i], 16, 64)
		if err != nil {
			return errorf(p, "bad hex literal %q", lx.src[start:i])
		}
		lx.advance(i - start)
		lx.emit(tLong, lx.src[start:i], v, p)
		return nil
	}
	digits := func() {
		for i < len(lx.src) && lx.src[i] >= '0' && lx.src[i] <= '9' {
			i++
		}
	}
	digits()
	if i < len(lx.src) && lx.src[i] == '.' && i+1 < len(lx.src) && lx.src[i+1] >= '0' && lx.src[i+1] <= '9' {
		isReal = true
		i++
		digits()
	}
	if i < len(lx.src) && (lx.src[i] == 'e' || lx.src[i] == 'E') {
		j := i + 1
		if j < len(lx.src) && (lx.src[j] == '+' || lx.src[j] == '-') {
			j++
		}
		if j < len(lx.src) && lx.src[j] >= '0' && lx.src[j] <= '9' {
			isReal = true
			i = j
			digits()
		}
	}
	num := lx.src[start:i]
	unit := lx.wordAt(i)
	if unit != "" {
		d, ok := timespanUnits[strings.ToLower(unit)]
		if !ok {
			return errorf(p, "bad number or timespan literal %q", num+unit)
		}
		f, err := strconv.ParseFloat(num, 64)
		if err != nil {
			return errorf(p, "bad timespan literal %q", num+unit)
		}
		lx.advance(i + len(unit) - start)
		lx.emit(tTimespan, num+unit, time.Duration(f*float64(d)), p)
		return nil
	}
	lx.advance(i - start)
	if isReal {
		f, err := strconv.ParseFloat(num, 64)
		if err != nil {
			return errorf(p, "bad real literal %q", num)
		}
		lx.emit(tReal, num, f, p)
		return nil
	}
	v, err := strconv.ParseInt(num, 10, 64)
	if err != nil {
		f, ferr := strconv.ParseFloat(num, 64)
		if ferr != nil {
			return errorf(p, "bad number %q", num)
		}
		lx.emit(tReal, num, f, p)
		return nil
	}
	lx.emit(tLong, num, v, p)
	return nil
}

const tick = 100 * time.Nanosecond

var timespanUnits = map[string]time.Duration{
	"d": 24 * time.Hour, "day": 24 * time.Hour, "days": 24 * time.Hour,
	"h": time.Hour, "hr": time.Hour, "hrs": time.Hour, "hour": time.Hour, "hours": time.Hour,
	"m": time.Minute, "min": time.Minute, "minute": time.Minute, "minutes": time.Minute,
	"s": time.Second, "sec": time.Second, "second": time.Second, "seconds": time.Second,
	"ms": time.Millisecond, "milli": time.Millisecond, "millis": time.Millisecond,
	"millisecond": time.Millisecond, "milliseconds": time.Millisecond,
	"microsecond": time.Microsecond, "microseconds": time.Microsecond, "micro": time.Microsecond, "micros": time.Microsecond,
	"tick": tick, "ticks": tick,
}
