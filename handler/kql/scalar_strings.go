package kql

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/netip"
	"net/url"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// String functions, and the term matching behind has: Kusto splits text into
// terms, the maximal runs of letters and digits, and has matches whole terms
// (case-insensitively), so "North America" has "america" but
// "KustoExplorerQueryRun" does not have "Explorer".

func init() {
	register(map[string]*fnDef{
		"tolower":                {minArgs: 1, maxArgs: 1, ret: "string", eval: func(a []any) any { return strings.ToLower(text(a[0])) }},
		"toupper":                {minArgs: 1, maxArgs: 1, ret: "string", eval: func(a []any) any { return strings.ToUpper(text(a[0])) }},
		"strlen":                 {minArgs: 1, maxArgs: 1, ret: "long", eval: func(a []any) any { return int64(utf8.RuneCountInString(text(a[0]))) }},
		"substring":              {minArgs: 2, maxArgs: 3, ret: "string", eval: substring},
		"strcat":                 {minArgs: 1, maxArgs: 64, ret: "string", eval: strcat},
		"strcat_delim":           {minArgs: 2, maxArgs: 64, ret: "string", eval: func(a []any) any { return joinText(a[1:], text(a[0])) }},
		"strcat_array":           {minArgs: 2, maxArgs: 2, ret: "string", eval: strcatArray},
		"split":                  {minArgs: 2, maxArgs: 3, ret: "dynamic", eval: split},
		"replace_string":         {minArgs: 3, maxArgs: 3, ret: "string", eval: func(a []any) any { return strings.ReplaceAll(text(a[0]), text(a[1]), text(a[2])) }},
		"trim":                   {minArgs: 2, maxArgs: 2, ret: "string", build: trimBuilder(true, true)},
		"trim_start":             {minArgs: 2, maxArgs: 2, ret: "string", build: trimBuilder(true, false)},
		"trim_end":               {minArgs: 2, maxArgs: 2, ret: "string", build: trimBuilder(false, true)},
		"reverse":                {minArgs: 1, maxArgs: 1, ret: "string", eval: reverse},
		"countof":                {minArgs: 2, maxArgs: 2, ret: "long", eval: func(a []any) any { return int64(strings.Count(text(a[0]), text(a[1]))) }},
		"extract":                {minArgs: 3, maxArgs: 4, build: buildExtract, typeArgs: true},
		"extract_all":            {minArgs: 2, maxArgs: 3, build: buildExtractAll},
		"replace_regex":          {minArgs: 3, maxArgs: 3, build: buildReplaceRegex},
		"replace":                {minArgs: 3, maxArgs: 3, build: buildReplace},
		"hash_sha256":            {minArgs: 1, maxArgs: 1, ret: "string", eval: func(a []any) any { h := sha256.Sum256([]byte(text(a[0]))); return hex.EncodeToString(h[:]) }},
		"hash_sha1":              {minArgs: 1, maxArgs: 1, ret: "string", eval: func(a []any) any { h := sha1.Sum([]byte(text(a[0]))); return hex.EncodeToString(h[:]) }},
		"hash_md5":               {minArgs: 1, maxArgs: 1, ret: "string", eval: func(a []any) any { h := md5.Sum([]byte(text(a[0]))); return hex.EncodeToString(h[:]) }},
		"base64_encode_tostring": {minArgs: 1, maxArgs: 1, ret: "string", eval: func(a []any) any { return base64.StdEncoding.EncodeToString([]byte(text(a[0]))) }},
		"base64_decode_tostring": {minArgs: 1, maxArgs: 1, ret: "string", eval: base64Decode},
		"url_decode":             {minArgs: 1, maxArgs: 1, ret: "string", eval: urlDecode},
		"url_encode":             {minArgs: 1, maxArgs: 1, ret: "string", eval: func(a []any) any { return url.QueryEscape(text(a[0])) }},
		"isascii":                {minArgs: 1, maxArgs: 1, ret: "bool", eval: isASCII},
		"ipv4_is_private":        {minArgs: 1, maxArgs: 1, ret: "bool", eval: ipv4IsPrivate},
		"ipv4_is_in_range":       {minArgs: 2, maxArgs: 2, ret: "bool", eval: ipv4InRange},
	})
}

func isTermRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }

// hasTerm reports whether needle occurs in hay on term boundaries: if the
// needle starts (ends) with a letter or digit, the match must not be preceded
// (followed) by one.
func hasTerm(hay, needle string, cs bool) bool {
	return termSearch(hay, needle, cs, true, true)
}

func hasTermPrefix(hay, needle string, cs bool) bool { return termSearch(hay, needle, cs, true, false) }
func hasTermSuffix(hay, needle string, cs bool) bool { return termSearch(hay, needle, cs, false, true) }

func termSearch(hay, needle string, cs, checkStart, checkEnd bool) bool {
	if needle == "" {
		return true
	}
	first, _ := utf8.DecodeRuneInString(needle)
	last, _ := utf8.DecodeLastRuneInString(needle)
	checkStart = checkStart && isTermRune(first)
	checkEnd = checkEnd && isTermRune(last)
	for from := 0; from <= len(hay)-len(needle); {
		var i int
		if cs {
			i = strings.Index(hay[from:], needle)
		} else {
			i = indexFold(hay[from:], needle)
		}
		if i < 0 {
			return false
		}
		start := from + i
		end := start + len(needle)
		ok := true
		if checkStart && start > 0 {
			r, _ := utf8.DecodeLastRuneInString(hay[:start])
			ok = !isTermRune(r)
		}
		if ok && checkEnd && end < len(hay) {
			r, _ := utf8.DecodeRuneInString(hay[end:])
			ok = !isTermRune(r)
		}
		if ok {
			return true
		}
		_, size := utf8.DecodeRuneInString(hay[start:])
		from = start + size
	}
	return false
}

// indexFold is a case-insensitive strings.Index that avoids allocating for
// ASCII needles.
func indexFold(hay, needle string) int {
	n := len(needle)
	if n == 0 {
		return 0
	}
	for i := 0; i < n; i++ {
		if needle[i] >= utf8.RuneSelf {
			return strings.Index(strings.ToLower(hay), strings.ToLower(needle))
		}
	}
	c0 := lowerASCII(needle[0])
	for i := 0; i+n <= len(hay); i++ {
		if lowerASCII(hay[i]) != c0 {
			continue
		}
		j := 1
		for j < n && lowerASCII(hay[i+j]) == lowerASCII(needle[j]) {
			j++
		}
		if j == n {
			return i
		}
	}
	return -1
}

func lowerASCII(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func substring(a []any) any {
	r := []rune(text(a[0]))
	start, ok := toLong(a[1])
	if !ok {
		return nil
	}
	if start < 0 { // counted from the end of the string
		start += int64(len(r))
	}
	start = max(start, 0)
	if start > int64(len(r)) {
		return ""
	}
	end := int64(len(r))
	if len(a) > 2 && a[2] != nil {
		n, ok := toLong(a[2])
		if !ok {
			return nil
		}
		end = min(start+max(n, 0), end)
	}
	return string(r[start:end])
}

func strcat(a []any) any { return joinText(a, "") }

func joinText(a []any, sep string) string {
	var b strings.Builder
	for i, v := range a {
		if i > 0 {
			b.WriteString(sep)
		}
		b.WriteString(text(v))
	}
	return b.String()
}

func strcatArray(a []any) any {
	arr, ok := a[0].([]any)
	if !ok {
		return nil
	}
	return joinText(arr, text(a[1]))
}

// split returns a dynamic array of strings; with a third argument, only that element (as an array).
func split(a []any) any {
	parts := strings.Split(text(a[0]), text(a[1]))
	if text(a[1]) == "" {
		parts = []string{text(a[0])}
	}
	out := make([]any, len(parts))
	for i, p := range parts {
		out[i] = p
	}
	if len(a) > 2 {
		i, ok := toLong(a[2])
		if !ok || i < 0 || i >= int64(len(out)) {
			return nil
		}
		return []any{out[i]}
	}
	return out
}

func trimBuilder(start, end bool) func(*scope, *call, []compiled) (compiled, error) {
	return func(s *scope, c *call, args []compiled) (compiled, error) {
		re := regexCache{}
		return fold(compiled{typ: "string", fn: func(row []any) any {
			p := toStr(args[0].fn(row))
			src := text(args[1].fn(row))
			if start {
				if rx := re.get("^(?:" + p + ")+"); rx != nil {
					src = strings.TrimPrefix(src, rx.FindString(src))
				}
			}
			if end {
				if rx := re.get("(?:" + p + ")+$"); rx != nil {
					if loc := rx.FindStringIndex(src); loc != nil {
						src = src[:loc[0]]
					}
				}
			}
			return src
		}}, args...), nil
	}
}

func reverse(a []any) any {
	r := []rune(text(a[0]))
	for i, j := 0, len(r)-1; i < j; i, j = i+1, j-1 {
		r[i], r[j] = r[j], r[i]
	}
	return string(r)
}

func base64Decode(a []any) any {
	b, err := base64.StdEncoding.DecodeString(text(a[0]))
	if err != nil || !utf8.Valid(b) {
		return nil
	}
	return string(b)
}

func urlDecode(a []any) any {
	s, err := url.QueryUnescape(text(a[0]))
	if err != nil {
		return nil
	}
	return s
}

func isASCII(a []any) any {
	for _, c := range []byte(text(a[0])) {
		if c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// regexArg compiles a constant pattern at compile time, or per row through a cache.
func regexArg(c *call, arg compiled) (func(row []any) *regexp.Regexp, error) {
	if arg.konst {
		re, err := regexp.Compile(toStr(arg.fn(nil)))
		if err != nil {
			return nil, errorf(c.args[0].exprPos(), "bad regular expression in %s(): %v", c.name, err)
		}
		return func([]any) *regexp.Regexp { return re }, nil
	}
	cache := regexCache{}
	return func(row []any) *regexp.Regexp { return cache.get(toStr(arg.fn(row))) }, nil
}

// extract(regex, group, text [, typeof(t)]) returns the captured group, or
// null ("" for string results) when there is no match.
func buildExtract(s *scope, c *call, args []compiled) (compiled, error) {
	re, err := regexArg(c, args[0])
	if err != nil {
		return compiled{}, err
	}
	typ := "string"
	if len(args) == 4 {
		if args[3].typ != "type" {
			return compiled{}, errorf(c.args[3].exprPos(), "extract() takes typeof(type) as its fourth argument")
		}
		typ = args[3].fn(nil).(string)
	}
	group, src := args[1], args[2]
	return fold(compiled{typ: typ, fn: func(row []any) any {
		rx := re(row)
		g, ok := toLong(group.fn(row))
		if rx == nil || !ok || g < 0 || int(g) > rx.NumSubexp() {
			return nil
		}
		m := rx.FindStringSubmatchIndex(text(src.fn(row)))
		if m == nil || m[2*g] < 0 {
			if typ == "string" {
				return ""
			}
			return nil
		}
		v := text(src.fn(row))[m[2*g]:m[2*g+1]]
		if typ == "string" {
			return v
		}
		return convertTo(typ, v)
	}}, args...), nil
}

// extract_all(regex, [groups,] text) returns every match: an array of strings
// for a single group, or of arrays for several.
func buildExtractAll(s *scope, c *call, args []compiled) (compiled, error) {
	re, err := regexArg(c, args[0])
	if err != nil {
		return compiled{}, err
	}
	src := args[len(args)-1]
	return fold(compiled{typ: "dynamic", fn: func(row []any) any {
		rx := re(row)
		if rx == nil {
			return nil
		}
		matches := rx.FindAllStringSubmatch(text(src.fn(row)), -1)
		if len(matches) == 0 {
			return nil
		}
		out := make([]any, 0, len(matches))
		for _, m := range matches {
			switch {
			case len(m) == 1:
				out = append(out, m[0])
			case len(m) == 2:
				out = append(out, m[1])
			default:
				groups := make([]any, len(m)-1)
				for i, g := range m[1:] {
					groups[i] = g
				}
				out = append(out, groups)
			}
		}
		return out
	}}, args...), nil
}

// replace_regex(text, regex, rewrite): \1 in the rewrite is the first group.
func buildReplaceRegex(s *scope, c *call, args []compiled) (compiled, error) {
	if !args[1].konst {
		return compiled{}, errorf(c.pos, "replace_regex() needs a constant pattern")
	}
	re, err := regexp.Compile(toStr(args[1].fn(nil)))
	if err != nil {
		return compiled{}, errorf(c.args[1].exprPos(), "bad regular expression in replace_regex(): %v", err)
	}
	backref := regexp.MustCompile(`\\(\d)`)
	return fold(compiled{typ: "string", fn: func(row []any) any {
		rewrite := backref.ReplaceAllString(strings.ReplaceAll(text(args[2].fn(row)), "$", "$$"), "$${$1}")
		return re.ReplaceAllString(text(args[0].fn(row)), rewrite)
	}}, args...), nil
}

// replace(regex, rewrite, text) is the deprecated form of replace_regex,
// with the text last (https://learn.microsoft.com/kusto/query/replacefunction).
func buildReplace(s *scope, c *call, args []compiled) (compiled, error) {
	re := &call{pos: c.pos, name: "replace", args: []expr{c.args[2], c.args[0], c.args[1]}}
	return buildReplaceRegex(s, re, []compiled{args[2], args[0], args[1]})
}

func parseIPv4(v any) (netip.Addr, bool) {
	a, err := netip.ParseAddr(strings.TrimSpace(text(v)))
	if err != nil || !a.Is4() {
		return netip.Addr{}, false
	}
	return a, true
}

// ipv4IsPrivate reports whether an address is in 10/8, 172.16/12 or 192.168/16.
func ipv4IsPrivate(a []any) any {
	ip, ok := parseIPv4(a[0])
	if !ok {
		if p, err := netip.ParsePrefix(strings.TrimSpace(text(a[0]))); err == nil && p.Addr().Is4() {
			ip = p.Addr()
		} else {
			return nil
		}
	}
	return ip.IsPrivate()
}

// ipv4InRange checks an address against an address or CIDR range.
func ipv4InRange(a []any) any {
	ip, ok := parseIPv4(a[0])
	if !ok {
		return nil
	}
	r := strings.TrimSpace(text(a[1]))
	if !strings.Contains(r, "/") {
		r += "/32"
	}
	p, err := netip.ParsePrefix(r)
	if err != nil || !p.Addr().Is4() {
		return nil
	}
	return p.Contains(ip)
}
