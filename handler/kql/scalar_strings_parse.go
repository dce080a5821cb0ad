package kql

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/csv"
	"encoding/hex"
	"net/url"
	"sort"
	"strings"
	"unicode/utf8"
)

// String functions that parse (URLs, command lines, CSV records) or reshape
// text, and the base64, GUID and code-point conversions.

func init() {
	register(map[string]*fnDef{
		"parse_url":                      {minArgs: 1, maxArgs: 1, ret: "dynamic", eval: parseURL},
		"parseurl":                       {minArgs: 1, maxArgs: 1, ret: "dynamic", eval: parseURL},
		"parse_urlquery":                 {minArgs: 1, maxArgs: 1, ret: "dynamic", eval: parseURLQuery},
		"parseurlquery":                  {minArgs: 1, maxArgs: 1, ret: "dynamic", eval: parseURLQuery},
		"parse_command_line":             {minArgs: 2, maxArgs: 2, ret: "dynamic", eval: parseCommandLine},
		"parse_csv":                      {minArgs: 1, maxArgs: 1, ret: "dynamic", eval: parseCSV},
		"strrep":                         {minArgs: 2, maxArgs: 3, ret: "string", eval: strrep},
		"strcmp":                         {minArgs: 2, maxArgs: 2, ret: "int", eval: func(a []any) any { return int64(strings.Compare(text(a[0]), text(a[1]))) }},
		"translate":                      {minArgs: 3, maxArgs: 3, ret: "string", eval: translate},
		"replace_strings":                {minArgs: 3, maxArgs: 3, ret: "string", eval: replaceStrings},
		"has_any_index":                  {minArgs: 2, maxArgs: 2, ret: "long", eval: hasAnyIndex},
		"indexof":                        {minArgs: 2, maxArgs: 5, ret: "long", eval: indexOfFn},
		"make_string":                    {minArgs: 1, maxArgs: 64, ret: "string", eval: makeString},
		"unicode_codepoints_to_string":   {minArgs: 1, maxArgs: 64, ret: "string", eval: makeString},
		"unicode_codepoints_from_string": {minArgs: 1, maxArgs: 1, ret: "dynamic", eval: codepointsFromString},
		"isutf8":                         {minArgs: 1, maxArgs: 1, ret: "bool", eval: func(a []any) any { return utf8.ValidString(text(a[0])) }},
		"base64_decode_toarray":          {minArgs: 1, maxArgs: 1, ret: "dynamic", eval: base64ToArray},
		"base64_encode_fromarray":        {minArgs: 1, maxArgs: 1, ret: "string", eval: base64FromArray},
		"base64_decode_toguid":           {minArgs: 1, maxArgs: 1, ret: "guid", eval: base64ToGUID},
		"base64_encode_fromguid":         {minArgs: 1, maxArgs: 1, ret: "string", eval: base64FromGUID},
		"new_guid":                       {minArgs: 0, maxArgs: 0, build: buildNewGUID},
	})
}

// parseURL splits an absolute URL into Scheme, Host, Port, Path, Username,
// Password, Query Parameters and Fragment; parts that are absent are empty
// (https://learn.microsoft.com/kusto/query/parse-url-function). The docs'
// example shows the path without its leading slash; the engine keeps the
// path as the URL has it (/this/is/a/path), which is what a path is.
func parseURL(a []any) any {
	s := strings.TrimSpace(text(a[0]))
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" {
		return map[string]any{}
	}
	out := map[string]any{
		"Scheme": u.Scheme, "Host": u.Hostname(), "Port": u.Port(), "Path": u.EscapedPath(),
		"Username": "", "Password": "", "Query Parameters": queryBag(u.RawQuery), "Fragment": u.Fragment,
	}
	if u.User != nil {
		out["Username"] = u.User.Username()
		p, _ := u.User.Password()
		out["Password"] = p
	}
	if u.Opaque != "" {
		out["Path"] = u.Opaque
	}
	return out
}

// queryBag reads k1=v1&k2=v2 into a bag of strings (the last value of a repeated key wins).
func queryBag(q string) map[string]any {
	out := map[string]any{}
	for _, part := range strings.Split(q, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		if uk, err := url.QueryUnescape(k); err == nil {
			k = uk
		}
		if uv, err := url.QueryUnescape(v); err == nil {
			v = uv
		}
		out[k] = v
	}
	return out
}

// parseURLQuery is {"Query Parameters": {...}}
// (https://learn.microsoft.com/kusto/query/parse-url-query-function).
func parseURLQuery(a []any) any {
	q := strings.TrimPrefix(strings.TrimSpace(text(a[0])), "?")
	return map[string]any{"Query Parameters": queryBag(q)}
}

// parseCommandLine splits a command line as CommandLineToArgvW does (the
// "windows" parser, the only one Kusto supports).
func parseCommandLine(a []any) any {
	if !strings.EqualFold(strings.TrimSpace(text(a[1])), "windows") {
		return nil
	}
	return windowsArgv(text(a[0]))
}

// windowsArgv follows CommandLineToArgvW: the program name ends at the next
// space (or, when quoted, at the closing quote); in the other arguments 2n
// backslashes before a quote give n backslashes and the quote toggles quoting,
// 2n+1 give n backslashes and a literal quote, and "" inside quotes is a quote.
func windowsArgv(s string) []any {
	out := []any{}
	i := 0
	isSpace := func(c byte) bool { return c == ' ' || c == '\t' }
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	if i >= len(s) {
		return out
	}
	var b strings.Builder
	if s[i] == '"' {
		i++
		for i < len(s) && s[i] != '"' {
			b.WriteByte(s[i])
			i++
		}
		i++
	} else {
		for i < len(s) && !isSpace(s[i]) {
			b.WriteByte(s[i])
			i++
		}
	}
	out = append(out, b.String())
	b.Reset()
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	if i >= len(s) {
		return out
	}
	inArg := false
	qcount, bcount := 0, 0
	for i < len(s) {
		c := s[i]
		switch {
		case isSpace(c) && qcount == 0:
			out = append(out, b.String())
			b.Reset()
			inArg = false
			bcount = 0
			for i < len(s) && isSpace(s[i]) {
				i++
			}
			continue
		case c == '\\':
			b.WriteByte(c)
			bcount++
			i++
		case c == '"':
			str := b.String()
			if bcount%2 == 0 {
				str = str[:len(str)-bcount/2]
				qcount++
			} else {
				str = str[:len(str)-bcount/2-1] + `"`
			}
			b.Reset()
			b.WriteString(str)
			i++
			bcount = 0
			for i < len(s) && s[i] == '"' {
				qcount++
				if qcount == 3 {
					b.WriteByte('"')
					qcount = 0
				}
				i++
			}
			if qcount == 2 {
				qcount = 0
			}
		default:
			b.WriteByte(c)
			bcount = 0
			i++
		}
		inArg = true
	}
	if inArg || b.Len() > 0 {
		out = append(out, b.String())
	}
	return out
}

// parseCSV splits one CSV record; only the first record is read
// (https://learn.microsoft.com/kusto/query/parse-csv-function).
func parseCSV(a []any) any {
	r := csv.NewReader(strings.NewReader(text(a[0])))
	r.FieldsPerRecord = -1
	r.LazyQuotes = true
	rec, err := r.Read()
	if err != nil {
		return []any{}
	}
	out := make([]any, len(rec))
	for i, f := range rec {
		out[i] = f
	}
	return out
}

// strrep(value, multiplier [, delimiter]); the multiplier is capped at 1024
// (https://learn.microsoft.com/kusto/query/strrep-function).
func strrep(a []any) any {
	n, ok := toLong(a[1])
	if !ok || n < 1 {
		return nil
	}
	delim := ""
	if len(a) > 2 {
		delim = text(a[2])
	}
	parts := make([]string, min(n, 1024))
	for i := range parts {
		parts[i] = text(a[0])
	}
	return strings.Join(parts, delim)
}

// translate(searchList, replacementList, source): characters of searchList
// become the character at the same place in replacementList, or its last one;
// an empty replacementList removes them
// (https://learn.microsoft.com/kusto/query/translate-function).
func translate(a []any) any {
	from, to := []rune(text(a[0])), []rune(text(a[1]))
	m := map[rune]int{}
	for i, r := range from {
		if _, dup := m[r]; !dup {
			m[r] = i
		}
	}
	var b strings.Builder
	for _, r := range text(a[2]) {
		i, ok := m[r]
		switch {
		case !ok:
			b.WriteRune(r)
		case len(to) == 0:
		case i < len(to):
			b.WriteRune(to[i])
		default:
			b.WriteRune(to[len(to)-1])
		}
	}
	return b.String()
}

// replaceStrings replaces every match of the lookups. Matches do not
// overlap, and an earlier lookup takes precedence: its matches are found
// first, the next lookup's only in the text left over (so "This" with the
// lookups "is" then "This" becomes "Thwas"). A non-string rewrite keeps the
// matched text (https://learn.microsoft.com/kusto/query/replace-strings-function).
func replaceStrings(a []any) any {
	src := text(a[0])
	lookups, ok1 := a[1].([]any)
	rewrites, ok2 := a[2].([]any)
	if !ok1 || !ok2 {
		return nil
	}
	type match struct {
		start, end int
		rewrite    string
	}
	var matches []match
	overlaps := func(s, e int) bool {
		for _, m := range matches {
			if s < m.end && m.start < e {
				return true
			}
		}
		return false
	}
	for k, l := range lookups {
		ls, ok := l.(string)
		if !ok || ls == "" {
			continue
		}
		rw := ls
		if k < len(rewrites) {
			if rs, ok := rewrites[k].(string); ok {
				rw = rs
			}
		}
		for from := 0; from <= len(src)-len(ls); {
			i := strings.Index(src[from:], ls)
			if i < 0 {
				break
			}
			s, e := from+i, from+i+len(ls)
			if overlaps(s, e) {
				from = s + 1
				continue
			}
			matches = append(matches, match{s, e, rw})
			from = e
		}
	}
	sort.Slice(matches, func(i, j int) bool { return matches[i].start < matches[j].start })
	var b strings.Builder
	prev := 0
	for _, m := range matches {
		b.WriteString(src[prev:m.start])
		b.WriteString(m.rewrite)
		prev = m.end
	}
	b.WriteString(src[prev:])
	return b.String()
}

// hasAnyIndex is the index of the first array item that the text has (as has
// does), or -1 (https://learn.microsoft.com/kusto/query/has-any-index-function).
func hasAnyIndex(a []any) any {
	arr, ok := a[1].([]any)
	if !ok {
		return nil
	}
	src := text(a[0])
	for i, v := range arr {
		if hasTerm(src, text(v), false) {
			return int64(i)
		}
	}
	return int64(-1)
}

// indexOfFn is indexof(string, match [, start [, length [, occurrence]]]): a
// negative start counts from the end, length -1 is unlimited and the examined
// range ends at start+length inclusive (as the docs' examples show)
// (https://learn.microsoft.com/kusto/query/indexof-function).
func indexOfFn(a []any) any {
	src, match := []rune(text(a[0])), text(a[1])
	start, length, occ := int64(0), int64(-1), int64(1)
	var ok bool
	if len(a) > 2 {
		if start, ok = toLong(a[2]); !ok {
			return nil
		}
		if start < 0 {
			start = max(start+int64(len(src)), 0)
		}
	}
	if len(a) > 3 {
		if length, ok = toLong(a[3]); !ok || length < -1 {
			return nil
		}
	}
	if len(a) > 4 {
		if occ, ok = toLong(a[4]); !ok || occ < 0 {
			return nil
		}
	}
	if start > int64(len(src)) {
		return int64(-1)
	}
	end := int64(len(src))
	if length >= 0 {
		end = min(end, start+length+1)
	}
	hay := string(src[start:end])
	from := 0
	for n := int64(1); ; n++ {
		i := strings.Index(hay[from:], match)
		if i < 0 {
			return int64(-1)
		}
		if n >= occ {
			return start + int64(utf8.RuneCountInString(hay[:from+i]))
		}
		_, size := utf8.DecodeRuneInString(hay[from+i:])
		from += i + max(size, 1)
		if from > len(hay) {
			return int64(-1)
		}
	}
}

// makeString builds a string from code points (numbers or arrays of them).
func makeString(a []any) any {
	var b strings.Builder
	var add func(v any) bool
	add = func(v any) bool {
		if arr, ok := v.([]any); ok {
			for _, e := range arr {
				if !add(e) {
					return false
				}
			}
			return true
		}
		n, ok := toLong(v)
		if !ok || n < 0 || n > utf8.MaxRune {
			return false
		}
		b.WriteRune(rune(n))
		return true
	}
	for _, v := range a {
		if !add(v) {
			return nil
		}
	}
	return b.String()
}

func codepointsFromString(a []any) any {
	out := []any{}
	for _, r := range text(a[0]) {
		out = append(out, int64(r))
	}
	return out
}

func base64ToArray(a []any) any {
	b, err := base64.StdEncoding.DecodeString(text(a[0]))
	if err != nil {
		return nil
	}
	out := make([]any, len(b))
	for i, c := range b {
		out[i] = int64(c)
	}
	return out
}

func base64FromArray(a []any) any {
	arr, ok := a[0].([]any)
	if !ok {
		return nil
	}
	b := make([]byte, len(arr))
	for i, v := range arr {
		n, ok := toLong(v)
		if !ok || n < 0 || n > 255 {
			return nil
		}
		b[i] = byte(n)
	}
	return base64.StdEncoding.EncodeToString(b)
}

// guidBytes gives the 16 bytes of a GUID in .NET's order (the first three
// groups little-endian), the order base64_encode_fromguid() encodes.
func guidBytes(s string) ([]byte, bool) {
	h := strings.ReplaceAll(strings.Trim(strings.TrimSpace(s), "{}"), "-", "")
	b, err := hex.DecodeString(h)
	if err != nil || len(b) != 16 {
		return nil, false
	}
	b[0], b[1], b[2], b[3] = b[3], b[2], b[1], b[0]
	b[4], b[5] = b[5], b[4]
	b[6], b[7] = b[7], b[6]
	return b, true
}

func formatGUID(b []byte) string {
	c := append([]byte(nil), b...)
	c[0], c[1], c[2], c[3] = c[3], c[2], c[1], c[0]
	c[4], c[5] = c[5], c[4]
	c[6], c[7] = c[7], c[6]
	h := hex.EncodeToString(c)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

func base64ToGUID(a []any) any {
	b, err := base64.StdEncoding.DecodeString(text(a[0]))
	if err != nil || len(b) != 16 {
		return nil
	}
	return formatGUID(b)
}

func base64FromGUID(a []any) any {
	b, ok := guidBytes(text(a[0]))
	if !ok {
		return nil
	}
	return base64.StdEncoding.EncodeToString(b)
}

// new_guid() is a random (version 4) GUID per call; it is never folded.
func buildNewGUID(s *scope, c *call, args []compiled) (compiled, error) {
	return compiled{typ: "guid", fn: func([]any) any {
		var b [16]byte
		_, _ = rand.Read(b[:])
		b[6] = b[6]&0x0f | 0x40
		b[8] = b[8]&0x3f | 0x80
		h := hex.EncodeToString(b[:])
		return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
	}}, nil
}
