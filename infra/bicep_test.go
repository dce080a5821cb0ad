package infra_test

// Reading Bicep as text: enough of the language to find resources, parameters with their decorators,
// and properties along a path, for the checks in infra_test.go. Not a parser: forms it cannot read
// (one-line objects, loops) make a check fail rather than pass.

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// bicepFile holds one file three ways, all the same length so that offsets agree: src as written;
// code with comments blanked; expr with comments and the text of string literals blanked (quotes and
// ${...} interpolations stay), which is what brace matching, keys and references read.
type bicepFile struct {
	name, src, code, expr string
}

func parseBicep(name, src string) *bicepFile {
	code, expr := mask(src)
	return &bicepFile{name: name, src: src, code: code, expr: expr}
}

// mask blanks comments (in code and expr) and string text (in expr only), keeping newlines.
func mask(src string) (code, expr string) {
	c, e := []byte(src), []byte(src)
	blank := func(b []byte, i int) {
		if b[i] != '\n' {
			b[i] = ' '
		}
	}
	// A stack of open literals: 's' a string, 'm' a ''' multi-line string, an int > 0 the brace depth
	// of a ${...} interpolation (code again).
	type frame struct {
		kind  byte
		depth int
	}
	var stack []frame
	for i := 0; i < len(src); i++ {
		top := frame{}
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		switch {
		case top.kind == 'm':
			if strings.HasPrefix(src[i:], "'''") {
				stack = stack[:len(stack)-1]
				i += 2
				continue
			}
			blank(e, i)
		case top.kind == 's':
			switch {
			case src[i] == '\\' && i+1 < len(src):
				blank(e, i)
				blank(e, i+1)
				i++
			case src[i] == '\'':
				stack = stack[:len(stack)-1]
			case strings.HasPrefix(src[i:], "${"):
				blank(e, i)
				stack = append(stack, frame{kind: 'i', depth: 1})
				i++ // the '{' stays in expr and opens the interpolation
			default:
				blank(e, i)
			}
		default: // code, at the top level or inside an interpolation
			switch {
			case top.kind == 'i' && src[i] == '{':
				stack[len(stack)-1].depth++
			case top.kind == 'i' && src[i] == '}':
				stack[len(stack)-1].depth--
				if stack[len(stack)-1].depth == 0 {
					stack = stack[:len(stack)-1]
				}
			case strings.HasPrefix(src[i:], "'''"):
				stack = append(stack, frame{kind: 'm'})
				i += 2
			case src[i] == '\'':
				stack = append(stack, frame{kind: 's'})
			case strings.HasPrefix(src[i:], "//"):
				for ; i < len(src) && src[i] != '\n'; i++ {
					blank(c, i)
					blank(e, i)
				}
				i--
			case strings.HasPrefix(src[i:], "/*"):
				end := strings.Index(src[i+2:], "*/")
				stop := len(src)
				if end >= 0 {
					stop = i + 2 + end + 2
				}
				for ; i < stop; i++ {
					blank(c, i)
					blank(e, i)
				}
				i--
			}
		}
	}
	return string(c), string(e)
}

// span is a range of offsets in a file: the inside of an object's braces.
type span struct{ start, end int }

func (f *bicepFile) line(offset int) int { return strings.Count(f.src[:offset], "\n") + 1 }

// isCode reports whether offset is code: neither a comment nor the text of a string literal.
func (f *bicepFile) isCode(offset int) bool {
	return f.expr[offset] == f.code[offset] && f.code[offset] != ' '
}

// keys returns the offsets of every object key named name (case-insensitive, quoted or not), at any depth.
func (f *bicepFile) keys(name string) []int {
	re := regexp.MustCompile(`(?mi)^[ \t]*('?)` + regexp.QuoteMeta(name) + `'?[ \t]*:`)
	var out []int
	for _, m := range re.FindAllStringSubmatchIndex(f.code, -1) {
		first := m[2] // the quote, or the key itself
		if m[2] == m[3] {
			first = m[3]
		}
		if f.isCode(first) {
			out = append(out, first)
		}
	}
	return out
}

// matchBrace returns the offset of the '}' closing the '{' at open, or -1.
func (f *bicepFile) matchBrace(open int) int {
	depth := 0
	for i := open; i < len(f.expr); i++ {
		switch f.expr[i] {
		case '{':
			depth++
		case '}':
			depth--
			if depth == 0 {
				return i
			}
		}
	}
	return -1
}

type propLine struct {
	key, value string
	line       int
	offset     int // of the value
}

var propRE = regexp.MustCompile(`^[ \t]*('?)([A-Za-z_$][A-Za-z0-9_$]*)('?)[ \t]*:[ \t]*`)

// props lists the properties written directly in s, one per line (`key: value`, the key quoted or
// not), with the value as written (comments dropped). Lines nested deeper are skipped; an object
// written on one line (`{ a: 1, b: 2 }`) yields nothing, so a check reading it fails rather than
// passing unchecked.
func (f *bicepFile) props(s span) []propLine {
	var out []propLine
	depth := 0
	for i := s.start; i < s.end; {
		end := s.end
		if j := strings.IndexByte(f.expr[i:s.end], '\n'); j >= 0 {
			end = i + j
		}
		if depth == 0 {
			line := f.code[i:end]
			if m := propRE.FindStringSubmatchIndex(line); m != nil && line[m[2]:m[3]] == line[m[6]:m[7]] {
				first := i + m[2]
				if m[2] == m[3] {
					first = i + m[4]
				}
				if f.expr[first] == f.code[first] { // code, not the text of a string
					out = append(out, propLine{
						key:    line[m[4]:m[5]],
						value:  strings.TrimSpace(line[m[1]:]),
						line:   f.line(i),
						offset: i + m[1],
					})
				}
			}
		}
		for k := i; k < end; k++ {
			switch f.expr[k] {
			case '{', '[', '(':
				depth++
			case '}', ']', ')':
				depth--
			}
		}
		i = end + 1
	}
	return out
}

// prop returns the value written for key directly in s.
func (f *bicepFile) prop(s span, key string) (string, int, bool) {
	for _, p := range f.props(s) {
		if p.key == key {
			return p.value, p.line, true
		}
	}
	return "", 0, false
}

// path follows object-valued properties from s (each `key: {` directly inside the previous one).
func (f *bicepFile) path(s span, keys ...string) (span, bool) {
	for _, key := range keys {
		found := false
		for _, p := range f.props(s) {
			if p.key != key || !strings.HasPrefix(p.value, "{") {
				continue
			}
			open := p.offset + strings.IndexByte(f.expr[p.offset:], '{')
			close := f.matchBrace(open)
			if close < 0 {
				return span{}, false
			}
			s, found = span{open + 1, close}, true
			break
		}
		if !found {
			return span{}, false
		}
	}
	return s, true
}

// resource is one `resource NAME 'TYPE' [existing] = {` (or module) block, nested ones included.
type resource struct {
	f          *bicepFile
	name, typ  string
	line       int
	body       span
	isModule   bool
	isExisting bool
}

func (r *resource) where() string { return fmt.Sprintf("%s:%d (%s)", r.f.name, r.line, r.name) }

var declRE = regexp.MustCompile(`(?m)^[ \t]*(resource|module)[ \t]+(\w+)[ \t]+'([^']*)'([ \t]+existing)?[ \t]*=[ \t]*(?:if[ \t]*\(.*\)[ \t]*)?\{`)

func (f *bicepFile) declarations() []*resource {
	var out []*resource
	for _, m := range declRE.FindAllStringSubmatchIndex(f.code, -1) {
		open := m[1] - 1
		close := f.matchBrace(open)
		if close < 0 {
			continue
		}
		out = append(out, &resource{
			f: f, name: f.code[m[4]:m[5]], typ: f.code[m[6]:m[7]], line: f.line(m[0]),
			body: span{open + 1, close}, isModule: f.code[m[2]:m[3]] == "module", isExisting: m[8] >= 0,
		})
	}
	return out
}

func (f *bicepFile) resources() []*resource {
	var out []*resource
	for _, r := range f.declarations() {
		if !r.isModule {
			out = append(out, r)
		}
	}
	return out
}

// resourceNamed returns the resource declared as symbol (nested ones included), or nil.
func (f *bicepFile) resourceNamed(symbol string) *resource {
	for _, r := range f.resources() {
		if r.name == symbol {
			return r
		}
	}
	return nil
}

func (f *bicepFile) modules() []*resource {
	var out []*resource
	for _, r := range f.declarations() {
		if r.isModule {
			out = append(out, r)
		}
	}
	return out
}

// object returns the properties of `var NAME = {`.
func (f *bicepFile) object(name string) (map[string]propLine, bool) {
	re := regexp.MustCompile(`(?m)^var[ \t]+` + regexp.QuoteMeta(name) + `[ \t]*=[ \t]*\{`)
	loc := re.FindStringIndex(f.code)
	if loc == nil {
		return nil, false
	}
	close := f.matchBrace(loc[1] - 1)
	if close < 0 {
		return nil, false
	}
	out := map[string]propLine{}
	for _, p := range f.props(span{loc[1], close}) {
		out[p.key] = p
	}
	return out, true
}

// param is one `param NAME TYPE [= DEFAULT]` with the decorators above it.
type param struct {
	name          string
	line          int
	def, min, max *int // nil: no default, no @minValue, no @maxValue (or not an integer)
	allowed       []int
	secure        bool
}

var (
	paramRE   = regexp.MustCompile(`(?m)^param[ \t]+(\w+)[ \t]+(\w+)(?:[ \t]*=[ \t]*(.*))?$`)
	declStart = regexp.MustCompile(`^(param|var|resource|module|output|targetScope|type|func|import|metadata)\b`)
	minRE     = regexp.MustCompile(`@minValue\(\s*(-?\d+)\s*\)`)
	maxRE     = regexp.MustCompile(`@maxValue\(\s*(-?\d+)\s*\)`)
	allowedRE = regexp.MustCompile(`(?s)@allowed\(\s*\[(.*?)\]\s*\)`)
	secureRE  = regexp.MustCompile(`@secure\(\s*\)`)
)

func (f *bicepFile) params() map[string]*param {
	out := map[string]*param{}
	lines, srcLines := strings.Split(f.code, "\n"), strings.Split(f.src, "\n")
	for _, m := range paramRE.FindAllStringSubmatchIndex(f.code, -1) {
		p := &param{name: f.code[m[2]:m[3]], line: f.line(m[0])}
		if m[6] >= 0 {
			if n, err := strconv.Atoi(strings.TrimSpace(f.code[m[6]:m[7]])); err == nil {
				p.def = &n
			}
		}
		// Decorators: the lines above, up to a blank line or another declaration.
		var above []string
		for i := p.line - 2; i >= 0; i-- {
			l := strings.TrimSpace(lines[i])
			if strings.TrimSpace(srcLines[i]) == "" || declStart.MatchString(l) {
				break
			}
			if l != "" { // a comment line is skipped
				above = append([]string{l}, above...)
			}
		}
		dec := strings.Join(above, "\n")
		if s := minRE.FindStringSubmatch(dec); s != nil {
			n, _ := strconv.Atoi(s[1])
			p.min = &n
		}
		if s := maxRE.FindStringSubmatch(dec); s != nil {
			n, _ := strconv.Atoi(s[1])
			p.max = &n
		}
		if s := allowedRE.FindStringSubmatch(dec); s != nil {
			for _, v := range strings.FieldsFunc(s[1], func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\t' }) {
				if n, err := strconv.Atoi(v); err == nil {
					p.allowed = append(p.allowed, n)
				}
			}
		}
		p.secure = secureRE.MatchString(dec)
		out[p.name] = p
	}
	return out
}

// inKeyVaultSecretValue reports whether offset is the whole value of `value:` in the properties of
// a Key Vault secret resource.
func (f *bicepFile) inKeyVaultSecretValue(offset int, name string) bool {
	for _, r := range f.resources() {
		if !(strings.HasPrefix(r.typ, "Microsoft.KeyVault/vaults/secrets@") || r.typ == "secrets") {
			continue
		}
		if offset < r.body.start || offset > r.body.end {
			continue
		}
		props, ok := f.path(r.body, "properties")
		if !ok {
			return false
		}
		for _, p := range f.props(props) {
			if p.key == "value" && p.offset == offset && p.value == name {
				return true
			}
		}
	}
	return false
}
