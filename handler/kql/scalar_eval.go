package kql

import (
	"fmt"
	"strings"
)

// Scalar expressions are compiled once per operator into closures over a row
// ([]any, in the column order of the operator's input). Compilation resolves
// names and functions, checks types and infers the result type, so that
// evaluation itself cannot fail: like Kusto, a conversion that does not work
// gives null.

type evalFn func(row []any) any

// compiled is an expression ready to run, with its Kusto result type. Besides
// the scalar types, typ may be "table" (a tabular argument, value *Table),
// "type" (typeof(t), value the type name) or "star" (the * argument).
type compiled struct {
	fn    evalFn
	typ   string
	konst bool
}

func constFn(v any) evalFn { return func([]any) any { return v } }

func konst(v any, typ string) compiled { return compiled{fn: constFn(v), typ: typ, konst: true} }

// scope is what names mean while compiling the expressions of one operator.
type scope struct {
	x     *exec
	cols  []Column
	index map[string]int
	// depth counts nested compile calls: 1 while compiling a whole expression.
	depth int
	// window holds the row state of the window functions (row_number, prev...)
	// of the expression being compiled; nil when it has none.
	window *windowState
	// input, when the operator provides it, is its input table in row order:
	// next() reads the rows after the current one there.
	input *Table
}

// withInput gives the scope the operator's input table, in row order, for
// next(); operators that evaluate their expressions once per input row, in
// order (where, extend, project), call it.
func (s *scope) withInput(t *Table) *scope {
	s.input = t
	return s
}

func newScope(x *exec, cols []Column) *scope {
	s := &scope{x: x, cols: cols, index: make(map[string]int, len(cols))}
	for i, c := range cols {
		if _, dup := s.index[c.Name]; !dup {
			s.index[c.Name] = i
		}
	}
	return s
}

// scalar compiles e and rejects tabular, type and star values.
func (s *scope) scalar(e expr) (compiled, error) {
	c, err := s.compile(e)
	if err != nil {
		return c, err
	}
	switch c.typ {
	case "table":
		return c, errorf(e.exprPos(), "a tabular expression is not allowed here")
	case "type":
		return c, errorf(e.exprPos(), "typeof() is not allowed here")
	case "star":
		return c, errorf(e.exprPos(), "'*' is not allowed here")
	}
	return c, nil
}

// compile compiles an expression. A whole expression (depth 1) that calls
// window functions is wrapped so that their row state advances once per row,
// whatever parts of the expression a row evaluates.
func (s *scope) compile(e expr) (compiled, error) {
	if s.depth > 0 {
		s.depth++
		c, err := s.compileExpr(e)
		s.depth--
		return c, err
	}
	s.depth, s.window = 1, nil
	c, err := s.compileExpr(e)
	w := s.window
	s.depth, s.window = 0, nil
	if err != nil || w == nil {
		return c, err
	}
	return w.wrap(c), nil
}

func (s *scope) compileExpr(e expr) (compiled, error) {
	switch e := e.(type) {
	case *literal:
		return konst(e.val, e.typ), nil
	case *ident:
		return s.ident(e)
	case *member:
		x, err := s.scalar(e.x)
		if err != nil {
			return x, err
		}
		if !dynamicLike(x.typ) {
			return x, errorf(e.pos, "property access '.%s' needs a dynamic value, but the expression is %s", e.name, x.typ)
		}
		name := e.name
		return fold(compiled{typ: "dynamic", fn: func(r []any) any { return getMember(x.fn(r), name) }}, x), nil
	case *index:
		return s.indexExpr(e)
	case *unary:
		return s.unary(e)
	case *binary:
		return s.binary(e)
	case *call:
		return s.call(e)
	case *inList:
		return s.inList(e)
	case *between:
		return s.between(e)
	case *star:
		return konst(nil, "star"), nil
	case *typeRef:
		return konst(e.typ, "type"), nil
	case *tabularExpr:
		t, err := s.x.pipeline(e.t)
		if err != nil {
			return compiled{}, err
		}
		return konst(t, "table"), nil
	}
	return compiled{}, errorf(e.exprPos(), "unsupported expression")
}

func dynamicLike(t string) bool { return t == "dynamic" || t == "" }

func (s *scope) ident(e *ident) (compiled, error) {
	if i, ok := s.index[e.name]; ok {
		return compiled{typ: s.cols[i].Type, fn: func(r []any) any { return r[i] }}, nil
	}
	if b, ok := s.x.lets[e.name]; ok {
		if b.scalar != nil {
			return *b.scalar, nil
		}
		t, err := s.x.table(e.name, e.pos)
		if err != nil {
			return compiled{}, err
		}
		return konst(t, "table"), nil
	}
	if _, ok := s.x.db[e.name]; ok {
		t, err := s.x.table(e.name, e.pos)
		if err != nil {
			return compiled{}, err
		}
		return konst(t, "table"), nil
	}
	if e.name == "$left" || e.name == "$right" {
		return compiled{}, errorf(e.pos, "%s is only allowed in join conditions", e.name)
	}
	if fn, ok := funcs[e.name]; ok && fn.minArgs == 0 {
		return compiled{}, errorf(e.pos, "function '%s' needs parentheses: %s()", e.name, e.name)
	}
	return compiled{}, errorf(e.pos, "unknown column or name '%s'", e.name)
}

// fold evaluates c once when all its inputs are constants.
func fold(c compiled, inputs ...compiled) compiled {
	for _, in := range inputs {
		if !in.konst {
			return c
		}
	}
	return konst(c.fn(nil), c.typ)
}

func (s *scope) indexExpr(e *index) (compiled, error) {
	x, err := s.scalar(e.x)
	if err != nil {
		return x, err
	}
	if !dynamicLike(x.typ) {
		return x, errorf(e.pos, "indexing needs a dynamic value, but the expression is %s", x.typ)
	}
	i, err := s.scalar(e.idx)
	if err != nil {
		return i, err
	}
	return fold(compiled{typ: "dynamic", fn: func(r []any) any { return getIndex(x.fn(r), i.fn(r)) }}, x, i), nil
}

func (s *scope) unary(e *unary) (compiled, error) {
	x, err := s.scalar(e.x)
	if err != nil || e.op == "+" {
		return x, err
	}
	if !isNumericType(x.typ) && x.typ != "timespan" && !dynamicLike(x.typ) {
		return x, errorf(e.pos, "unary minus is not defined for %s", x.typ)
	}
	return fold(compiled{typ: x.typ, fn: func(r []any) any { return arith("-", int64(0), x.fn(r)) }}, x), nil
}

// args compiles call arguments, keeping table/type/star values.
func (s *scope) args(list []expr) ([]compiled, error) {
	out := make([]compiled, len(list))
	for i, a := range list {
		c, err := s.compile(a)
		if err != nil {
			return nil, err
		}
		out[i] = c
	}
	return out, nil
}

func (s *scope) call(e *call) (compiled, error) {
	def, ok := funcs[e.name]
	if !ok {
		def, ok = funcs[funcAliases[e.name]]
	}
	if !ok {
		if _, isAgg := aggs[e.name]; isAgg {
			return compiled{}, errorf(e.pos, "aggregation function '%s' is only allowed in summarize", e.name)
		}
		if unsupportedFuncs[e.name] {
			return compiled{}, errorf(e.pos, "unsupported function '%s'", e.name)
		}
		return compiled{}, &Error{Pos: e.pos, Msg: fmt.Sprintf("unknown function '%s'", e.name), unknownFunc: true}
	}
	if len(e.args) < def.minArgs || def.maxArgs >= 0 && len(e.args) > def.maxArgs {
		return compiled{}, errorf(e.pos, "function '%s' takes %s, got %d", e.name, arity(def), len(e.args))
	}
	args, err := s.args(e.args)
	if err != nil {
		return compiled{}, err
	}
	for i, a := range args {
		if a.typ == "star" || a.typ == "table" && !def.tableArgs || a.typ == "type" && !def.typeArgs {
			return compiled{}, errorf(e.args[i].exprPos(), "unexpected %s argument to '%s'", a.typ, e.name)
		}
	}
	if def.build != nil {
		return def.build(s, e, args)
	}
	typ := def.ret
	if def.retFn != nil {
		typ = def.retFn(args)
	}
	eval := def.eval
	vals := make([]any, len(args))
	c := compiled{typ: typ, fn: func(r []any) any {
		for i, a := range args {
			vals[i] = a.fn(r)
		}
		return eval(vals)
	}}
	if len(args) == 1 {
		a := args[0].fn
		c.fn = func(r []any) any {
			vals[0] = a(r)
			return eval(vals)
		}
	}
	if def.volatile {
		return c, nil
	}
	return fold(c, args...), nil
}

func arity(def *fnDef) string {
	switch {
	case def.maxArgs < 0:
		return "at least " + itoa(def.minArgs) + " arguments"
	case def.minArgs == def.maxArgs && def.minArgs == 1:
		return "1 argument"
	case def.minArgs == def.maxArgs:
		return itoa(def.minArgs) + " arguments"
	}
	return itoa(def.minArgs) + " to " + itoa(def.maxArgs) + " arguments"
}

// exprName is the column name Kusto gives an unnamed expression: the column
// name for a column, a_b for a.b, the column for bin(Col, ...); "" otherwise.
func exprName(e expr) string {
	switch e := e.(type) {
	case *ident:
		return e.name
	case *member:
		if n := exprName(e.x); n != "" {
			return n + "_" + e.name
		}
	case *index:
		if n := exprName(e.x); n != "" {
			if lit, ok := e.idx.(*literal); ok {
				return n + "_" + strings.TrimPrefix(toStr(lit.val), "-")
			}
		}
	case *call:
		if (e.name == "bin" || e.name == "floor" || e.name == "bin_at") && len(e.args) > 0 {
			return exprName(e.args[0])
		}
	}
	return ""
}

// namer hands out Column1, Column2... for unnamed expressions and makes names unique.
type namer struct{ n int }

func (nm *namer) name(e expr, given string) string {
	if given != "" {
		return given
	}
	if n := exprName(e); n != "" {
		return n
	}
	nm.n++
	return "Column" + itoa(nm.n)
}
