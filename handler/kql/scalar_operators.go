package kql

import (
	"regexp"
	"strings"
)

// Scalar operators: logic with Kusto's null semantics, comparisons, and the
// string operators (has, contains, in, between...). Arithmetic is in
// scalar_arith.go.

func (s *scope) binary(e *binary) (compiled, error) {
	l, err := s.scalar(e.l)
	if err != nil {
		return l, err
	}
	r, err := s.scalar(e.r)
	if err != nil {
		return r, err
	}
	var c compiled
	switch e.op {
	case "and", "or":
		if !boolish(l.typ) || !boolish(r.typ) {
			return c, errorf(e.pos, "'%s' needs bool operands, got %s and %s", e.op, l.typ, r.typ)
		}
		c = logic(e.op, l, r)
	case "+", "-", "*", "/", "%":
		typ, err := arithType(e.op, l.typ, r.typ)
		if err != nil {
			return c, errorf(e.pos, "%v", err)
		}
		op := e.op
		c = compiled{typ: typ, fn: func(row []any) any { return arith(op, l.fn(row), r.fn(row)) }}
	case "==", "!=", "<", "<=", ">", ">=":
		if e.op == "==" || e.op == "!=" {
			l, r = equalityOperands(l, r)
		}
		if !comparableTypes(l.typ, r.typ) {
			return c, errorf(e.pos, "cannot compare %s with %s using '%s'", l.typ, r.typ, e.op)
		}
		c = comparison(e.op, l, r)
	case "matches regex":
		c, err = s.matchesRegex(e, l, r)
		if err != nil {
			return c, err
		}
	default: // =~, !~ and the string operators
		match, neg := stringMatcher(e.op)
		if match == nil {
			return c, errorf(e.pos, "unsupported operator '%s'", e.op)
		}
		c = stringOp(l, r, match, neg)
	}
	return fold(c, l, r), nil
}

func boolish(t string) bool { return t == "bool" || dynamicLike(t) }

// logic implements and/or with three-valued logic: false and null is false,
// true or null is true, otherwise null propagates.
func logic(op string, l, r compiled) compiled {
	if op == "and" {
		return compiled{typ: "bool", fn: func(row []any) any {
			a := l.fn(row)
			if b, ok := a.(bool); ok && !b {
				return false
			}
			c := r.fn(row)
			if b, ok := c.(bool); ok && !b {
				return false
			}
			if a == nil || c == nil {
				return nil
			}
			return true
		}}
	}
	return compiled{typ: "bool", fn: func(row []any) any {
		a := l.fn(row)
		if b, ok := a.(bool); ok && b {
			return true
		}
		c := r.fn(row)
		if b, ok := c.(bool); ok && b {
			return true
		}
		if a == nil || c == nil {
			return nil
		}
		return false
	}}
}

// typeFamily groups types that compare with each other.
func typeFamily(t string) string {
	switch t {
	case "int", "long", "real", "decimal":
		return "number"
	case "string", "guid":
		return "string"
	}
	return t
}

// equalityOperands lets == and != compare a string with a bool, number,
// datetime or timespan, as Kusto.Language does (its == and != take any two
// scalars; <, >, <= and >= do not, and stay rejected): the string is
// converted to the other operand's type, as to<type>() would convert it
// (tobool("True"), todouble("4242"), totimespan("1.00:00:00")), and a string
// that does not convert gives null, so == is false and != true. The
// conversion is the engine's reading: the documentation does not say what
// Kusto does at run time with operands of different types.
func equalityOperands(l, r compiled) (compiled, compiled) {
	target := func(t string) string {
		switch typeFamily(t) {
		case "bool", "datetime", "timespan":
			return t
		case "number":
			return "real"
		}
		return ""
	}
	conv := func(s compiled, typ string) compiled {
		return compiled{typ: typ, fn: func(row []any) any { return convertTo(typ, s.fn(row)) }}
	}
	switch {
	case typeFamily(l.typ) == "string" && target(r.typ) != "":
		return fold(conv(l, target(r.typ)), l), r
	case typeFamily(r.typ) == "string" && target(l.typ) != "":
		return l, fold(conv(r, target(l.typ)), r)
	}
	return l, r
}

func comparableTypes(l, r string) bool {
	return dynamicLike(l) || dynamicLike(r) || typeFamily(l) == typeFamily(r)
}

// comparison implements == != < <= > >=. A null operand gives null, except
// that null == value is false and null != value is true (Kusto's null-values
// page). Strings compare case-sensitively; a null string is the empty string.
func comparison(op string, l, r compiled) compiled {
	strs := typeFamily(l.typ) == "string" && typeFamily(r.typ) == "string"
	test := map[string]func(int) bool{
		"==": func(c int) bool { return c == 0 }, "!=": func(c int) bool { return c != 0 },
		"<": func(c int) bool { return c < 0 }, "<=": func(c int) bool { return c <= 0 },
		">": func(c int) bool { return c > 0 }, ">=": func(c int) bool { return c >= 0 },
	}[op]
	if strs && (op == "==" || op == "!=") {
		want := op == "=="
		return compiled{typ: "bool", fn: func(row []any) any {
			a, _ := l.fn(row).(string)
			b, _ := r.fn(row).(string)
			return (a == b) == want
		}}
	}
	return compiled{typ: "bool", fn: func(row []any) any {
		a, b := l.fn(row), r.fn(row)
		if strs {
			a, b = toStr(a), toStr(b)
		}
		if a == nil || b == nil {
			// The docs' null-values page: == of null and a non-null value
			// is false, != is true; both null, or an ordering, is null.
			if (op == "==" || op == "!=") && (a != nil || b != nil) {
				return op == "!="
			}
			return nil
		}
		if op == "==" || op == "!=" {
			return valuesEqual(a, b) == (op == "==")
		}
		c, ok := compareValues(a, b)
		if !ok {
			return nil
		}
		return test(c)
	}}
}

// stringOp applies a string predicate to the text of both operands.
func stringOp(l, r compiled, match func(a, b string) bool, neg bool) compiled {
	return compiled{typ: "bool", fn: func(row []any) any {
		return match(text(l.fn(row)), text(r.fn(row))) != neg
	}}
}

// text is the string form used by string operators (dynamic values as JSON).
func text(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return toStr(v)
}

// stringMatcher returns the predicate of a string operator and whether it is negated.
func stringMatcher(op string) (func(a, b string) bool, bool) {
	neg := strings.HasPrefix(op, "!")
	base := strings.TrimPrefix(op, "!")
	switch op {
	case "=~":
		return strings.EqualFold, false
	case "!~":
		return strings.EqualFold, true
	}
	m := map[string]func(a, b string) bool{
		"has":           func(a, b string) bool { return hasTerm(a, b, false) },
		"has_cs":        func(a, b string) bool { return hasTerm(a, b, true) },
		"hasprefix":     func(a, b string) bool { return hasTermPrefix(a, b, false) },
		"hasprefix_cs":  func(a, b string) bool { return hasTermPrefix(a, b, true) },
		"hassuffix":     func(a, b string) bool { return hasTermSuffix(a, b, false) },
		"hassuffix_cs":  func(a, b string) bool { return hasTermSuffix(a, b, true) },
		"contains":      func(a, b string) bool { return indexFold(a, b) >= 0 },
		"contains_cs":   strings.Contains,
		"startswith":    func(a, b string) bool { return len(a) >= len(b) && strings.EqualFold(a[:len(b)], b) },
		"startswith_cs": strings.HasPrefix,
		"endswith":      func(a, b string) bool { return len(a) >= len(b) && strings.EqualFold(a[len(a)-len(b):], b) },
		"endswith_cs":   strings.HasSuffix,
	}[base]
	return m, neg
}

func (s *scope) matchesRegex(e *binary, l, r compiled) (compiled, error) {
	if r.konst {
		re, err := regexp.Compile(toStr(r.fn(nil)))
		if err != nil {
			return compiled{}, errorf(e.r.exprPos(), "bad regular expression: %v", err)
		}
		return compiled{typ: "bool", fn: func(row []any) any { return re.MatchString(text(l.fn(row))) }}, nil
	}
	cache := regexCache{}
	return compiled{typ: "bool", fn: func(row []any) any {
		re := cache.get(toStr(r.fn(row)))
		if re == nil {
			return nil
		}
		return re.MatchString(text(l.fn(row)))
	}}, nil
}

// regexCache compiles patterns that vary per row, remembering a few.
type regexCache map[string]*regexp.Regexp

func (c regexCache) get(pattern string) *regexp.Regexp {
	if re, ok := c[pattern]; ok {
		return re
	}
	re, err := regexp.Compile(pattern)
	if err != nil {
		re = nil
	}
	if len(c) > 64 {
		clear(c)
	}
	c[pattern] = re
	return re
}

// inList implements in, !in, in~, !in~, has_any and has_all. Dynamic arrays in
// the list are flattened; a tabular item contributes its first column.
func (s *scope) inList(e *inList) (compiled, error) {
	x, err := s.scalar(e.x)
	if err != nil {
		return x, err
	}
	items, err := s.args(e.list)
	if err != nil {
		return x, err
	}
	allConst := true
	for i, it := range items {
		if it.typ == "star" || it.typ == "type" {
			return x, errorf(e.list[i].exprPos(), "unexpected %s in list", it.typ)
		}
		allConst = allConst && it.konst
	}
	values := func(row []any) []any {
		var out []any
		for _, it := range items {
			out = appendFlat(out, it.fn(row))
		}
		return out
	}
	var pred func(v any, list []any) bool
	switch strings.TrimPrefix(e.op, "!") {
	case "in":
		pred = func(v any, list []any) bool {
			for _, w := range list {
				if w != nil && valuesEqual(v, w) {
					return true
				}
			}
			return false
		}
	case "in~":
		pred = func(v any, list []any) bool {
			t := text(v)
			for _, w := range list {
				if w != nil && strings.EqualFold(t, text(w)) {
					return true
				}
			}
			return false
		}
	case "has_any", "has_all":
		all := e.op == "has_all"
		pred = func(v any, list []any) bool {
			t := text(v)
			for _, w := range list {
				if hasTerm(t, text(w), false) != all {
					return !all
				}
			}
			return all
		}
	}
	neg := strings.HasPrefix(e.op, "!")
	if allConst {
		list := values(nil)
		if e.op == "in" || e.op == "!in" {
			if set, ok := stringSet(list); ok && typeFamily(x.typ) == "string" {
				return fold(compiled{typ: "bool", fn: func(row []any) any {
					_, found := set[text(x.fn(row))]
					return found != neg
				}}, x), nil
			}
		}
		return fold(compiled{typ: "bool", fn: func(row []any) any {
			v := x.fn(row)
			if v == nil && !strings.HasPrefix(e.op, "has") {
				return nullIn(list, neg)
			}
			return pred(v, list) != neg
		}}, x), nil
	}
	return compiled{typ: "bool", fn: func(row []any) any {
		v := x.fn(row)
		if v == nil && !strings.HasPrefix(e.op, "has") {
			return nullIn(values(row), neg)
		}
		return pred(v, values(row)) != neg
	}}, nil
}

// nullIn is null in (list) and null !in (list): in is an or of ==, !in an
// and of != (Kusto's null-values page), so a null item in the list makes the
// result null; otherwise in is false and !in is true.
func nullIn(list []any, neg bool) any {
	for _, w := range list {
		if w == nil {
			return nil
		}
	}
	return neg
}

// appendFlat appends v, or its elements when v is an array or a table.
func appendFlat(out []any, v any) []any {
	switch x := v.(type) {
	case []any:
		return append(out, x...)
	case *Table:
		for _, r := range x.Rows {
			if len(r) > 0 {
				out = append(out, r[0])
			}
		}
		return out
	}
	return append(out, v)
}

func stringSet(list []any) (map[string]struct{}, bool) {
	set := make(map[string]struct{}, len(list))
	for _, v := range list {
		s, ok := v.(string)
		if !ok {
			return nil, false
		}
		set[s] = struct{}{}
	}
	return set, true
}

// between is inclusive; for datetimes the upper bound may be a timespan
// counted from the lower bound.
func (s *scope) between(e *between) (compiled, error) {
	x, err := s.scalar(e.x)
	if err != nil {
		return x, err
	}
	lo, err := s.scalar(e.lo)
	if err != nil {
		return x, err
	}
	hi, err := s.scalar(e.hi)
	if err != nil {
		return x, err
	}
	relative := lo.typ == "datetime" && hi.typ == "timespan"
	if !relative && (!comparableTypes(x.typ, lo.typ) || !comparableTypes(x.typ, hi.typ)) {
		return x, errorf(e.pos, "between needs bounds of the same type as the value, got %s, %s and %s", x.typ, lo.typ, hi.typ)
	}
	neg := e.neg
	c := compiled{typ: "bool", fn: func(row []any) any {
		v, a, b := x.fn(row), lo.fn(row), hi.fn(row)
		if relative {
			b = arith("+", a, b)
		}
		if v == nil || a == nil || b == nil {
			return nil
		}
		c1, ok1 := compareValues(v, a)
		c2, ok2 := compareValues(v, b)
		if !ok1 || !ok2 {
			return nil
		}
		return (c1 >= 0 && c2 <= 0) != neg
	}}
	return fold(c, x, lo, hi), nil
}
