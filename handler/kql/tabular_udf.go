package kql

import "strings"

// User-defined functions and views (let f = (a:long, T:(x:string)) { ... }),
// following https://learn.microsoft.com/kusto/query/functions/user-defined-functions
// and https://learn.microsoft.com/kusto/query/let-statement: a function sees
// the lets declared before it and its parameters; parameters with default
// values may be left out; a function without parameters may be named without
// parentheses; tabular functions are called as a source (f(1) | ...), with
// invoke (T | invoke f(1), T being the first argument), or as an argument
// (toscalar(f(1))); scalar functions inside expressions, where their
// arguments may be columns.
//
// The parser turns a call of a declared function into a call of fnUserCall
// with the function's name as first argument; fnUserCall and fnSearchTerm
// (tabular_search.go) are registered here as scalar functions, whose names
// no query can spell.

const fnUserCall = "\x00call"

func init() {
	register(map[string]*fnDef{
		fnUserCall:   {minArgs: 1, maxArgs: -1, build: buildUserCall, tableArgs: true},
		fnSearchTerm: {minArgs: 3, maxArgs: 3, build: buildSearchTerm},
	})
}

// argValue is an evaluated argument of a function call: a table or a compiled scalar.
type argValue struct {
	table *Table
	c     compiled
	pos   Pos
}

// buildUserCall compiles f(args) in an expression.
func buildUserCall(s *scope, c *call, args []compiled) (compiled, error) {
	name := args[0].fn(nil).(string)
	b := s.x.lets[name]
	if b == nil || b.fn == nil {
		return compiled{}, errorf(c.pos, "'%s' is not a function here", name)
	}
	vals := make([]argValue, len(args)-1)
	for i, a := range args[1:] {
		vals[i] = argValue{c: a, pos: c.args[i+1].exprPos()}
		if a.typ == "table" {
			vals[i].table = a.fn(nil).(*Table)
		}
	}
	fn := b.fn
	if fn.tab != nil || fn.view {
		t, err := s.x.callFunc(b, vals, c.pos)
		if err != nil {
			return compiled{}, err
		}
		return konst(t, "table"), nil
	}
	for i, v := range vals {
		if !v.c.konst && v.table == nil && usesTables(fn) {
			// Kusto's restriction: a function that reads a table cannot take
			// an argument that varies with the row.
			return compiled{}, errorf(c.args[i+1].exprPos(), "function '%s' evaluates a tabular expression, so its arguments must not vary by row", name)
		}
	}
	cx, err := s.x.bindParams(b, vals, c.pos, false)
	if err != nil {
		return compiled{}, err
	}
	body, err := newScope(cx, nil).compile(fn.expr)
	if err != nil {
		return compiled{}, err
	}
	return body, nil
}

// bindNullary gives a scalar function that needs no argument a value, so
// that its bare name works as a scalar (let a = () { 123 }; ... x * a), as
// Kusto allows. Functions that do not compile without arguments keep none.
func (x *exec) bindNullary(b *binding) {
	fn := b.fn
	if fn.tab != nil || fn.view {
		return
	}
	for _, prm := range fn.params {
		if prm.def == nil {
			return
		}
	}
	cx, err := x.bindParams(b, nil, fn.pos, false)
	if err != nil {
		return
	}
	c, err := newScope(cx, nil).compile(fn.expr)
	if err != nil || c.typ == "table" || c.typ == "type" || c.typ == "star" {
		return
	}
	b.scalar = &c
}

// usesTables reports whether a function's body evaluates a tabular expression.
func usesTables(fn *funcDef) bool {
	if fn.tab != nil {
		return true
	}
	for _, st := range fn.lets {
		if st.tab != nil || st.expr != nil && exprUsesTables(st.expr) || st.fn != nil && usesTables(st.fn) {
			return true
		}
	}
	return fn.expr != nil && exprUsesTables(fn.expr)
}

func exprUsesTables(e expr) bool {
	switch e := e.(type) {
	case *tabularExpr:
		return true
	case *binary:
		return exprUsesTables(e.l) || exprUsesTables(e.r)
	case *unary:
		return exprUsesTables(e.x)
	case *call:
		for _, a := range e.args {
			if exprUsesTables(a) {
				return true
			}
		}
	case *member:
		return exprUsesTables(e.x)
	case *index:
		return exprUsesTables(e.x) || exprUsesTables(e.idx)
	case *inList:
		if exprUsesTables(e.x) {
			return true
		}
		for _, it := range e.list {
			if exprUsesTables(it) {
				return true
			}
		}
	case *between:
		return exprUsesTables(e.x) || exprUsesTables(e.lo) || exprUsesTables(e.hi)
	}
	return false
}

// callTabular calls a function named without arguments (f, or f | ...).
func (x *exec) callTabular(b *binding, vals []argValue, pos Pos) (*Table, error) {
	return x.callFunc(b, vals, pos)
}

// callFunc calls a function whose arguments are tables or constants, and
// returns its table.
func (x *exec) callFunc(b *binding, vals []argValue, pos Pos) (*Table, error) {
	for _, v := range vals {
		if v.table == nil && !v.c.konst {
			return nil, errorf(v.pos, "the arguments of tabular function '%s' must be constants or tables", b.fn.name)
		}
	}
	cx, err := x.bindParams(b, vals, pos, true)
	if err != nil {
		return nil, err
	}
	fn := b.fn
	if fn.tab != nil {
		return cx.pipeline(fn.tab)
	}
	c, err := newScope(cx, nil).compile(fn.expr)
	if err != nil {
		return nil, err
	}
	if c.typ != "table" {
		return nil, errorf(pos, "function '%s' returns a %s, not a table", fn.name, c.typ)
	}
	return c.fn(nil).(*Table), nil
}

// bindParams returns the scope of a call: the function's declaration scope,
// its parameters bound to the arguments (or their defaults), then its local lets.
func (x *exec) bindParams(b *binding, vals []argValue, pos Pos, eager bool) (*exec, error) {
	fn := b.fn
	if len(vals) > len(fn.params) {
		return nil, errorf(pos, "function '%s' takes %d arguments, got %d", fn.name, len(fn.params), len(vals))
	}
	lets := copyLets(b.env)
	declScope, err := x.child(b.env, pos)
	if err != nil {
		return nil, err
	}
	for i, prm := range fn.params {
		var v argValue
		switch {
		case i < len(vals) && vals[i].c.typ != missingArg:
			v = vals[i]
		case prm.def != nil:
			c, err := newScope(declScope, nil).scalar(prm.def)
			if err != nil {
				return nil, err
			}
			v = argValue{c: c, pos: prm.def.exprPos()}
		default:
			return nil, errorf(pos, "function '%s' needs a value for parameter '%s'", fn.name, prm.name)
		}
		if prm.tabular {
			if v.table == nil {
				return nil, errorf(v.pos, "parameter '%s' of function '%s' is a table, got a %s", prm.name, fn.name, v.c.typ)
			}
			for _, col := range prm.cols {
				if colIndex(v.table.Columns, col.Name) < 0 {
					return nil, errorf(v.pos, "the table passed to '%s' as %s has no column '%s'", fn.name, prm.name, col.Name)
				}
			}
			lets[prm.name] = &binding{table: v.table}
			continue
		}
		if v.table != nil {
			return nil, errorf(v.pos, "parameter '%s' of function '%s' is a %s, got a table", prm.name, fn.name, prm.typ)
		}
		c, err := castParam(v.c, prm, fn.name, v.pos)
		if err != nil {
			return nil, err
		}
		lets[prm.name] = &binding{scalar: &c}
	}
	cx, err := x.child(lets, pos)
	if err != nil {
		return nil, err
	}
	if err := cx.bindLets(fn.lets, false); err != nil {
		return nil, err
	}
	return cx, nil
}

// castParam converts an argument to the parameter's declared type: numbers
// convert among themselves, null and dynamic values convert as todatatype()
// would; other mismatches are errors, as in Kusto.
func castParam(c compiled, prm funcParam, fname string, pos Pos) (compiled, error) {
	want := prm.typ
	switch {
	case c.typ == want || want == "dynamic":
		return c, nil
	case isNumericType(c.typ) && isNumericType(want), dynamicLike(c.typ), c.konst && c.fn(nil) == nil:
		f := c.fn
		return fold(compiled{typ: want, fn: func(r []any) any { return convertTo(want, f(r)) }}, c), nil
	case want == "string" && c.typ == "guid", want == "guid" && c.typ == "string":
		return compiled{typ: want, fn: c.fn, konst: c.konst}, nil
	}
	return c, errorf(pos, "parameter '%s' of function '%s' is %s, got %s", prm.name, fname, want, c.typ)
}

// callSource runs f(args) used as a source; table("Name") names a table.
func (x *exec) callSource(s *callSrc) (*Table, error) {
	sc := newScope(x, nil)
	if s.name == "table" {
		if len(s.args) != 1 {
			return nil, errorf(s.pos, "table() takes 1 argument, the table's name")
		}
		c, err := sc.scalar(s.args[0])
		if err != nil {
			return nil, err
		}
		name, ok := c.fn(nil).(string)
		if !c.konst || !ok {
			return nil, errorf(s.args[0].exprPos(), "table() needs a constant string")
		}
		return x.table(name, s.pos)
	}
	b := x.lets[s.name]
	if b == nil || b.fn == nil {
		if _, isScalar := funcs[s.name]; isScalar {
			return nil, errorf(s.pos, "'%s' is a scalar function, not a table", s.name)
		}
		if b != nil {
			return nil, errorf(s.pos, "'%s' is not a function", s.name)
		}
		return nil, &Error{Pos: s.pos, Msg: "unknown function '" + s.name + "'", unknownTable: true}
	}
	vals, err := x.callArgs(sc, s.args)
	if err != nil {
		return nil, err
	}
	return x.callFunc(b, vals, s.pos)
}

func (x *exec) callArgs(sc *scope, list []expr) ([]argValue, error) {
	vals := make([]argValue, len(list))
	for i, a := range list {
		c, err := sc.compile(a)
		if err != nil {
			return nil, err
		}
		if c.typ == "type" || c.typ == "star" {
			return nil, errorf(a.exprPos(), "unexpected %s argument", c.typ)
		}
		vals[i] = argValue{c: c, pos: a.exprPos()}
		if c.typ == "table" {
			vals[i].table = c.fn(nil).(*Table)
		}
	}
	return vals, nil
}

// invoke runs T | invoke f(args): f(T, args).
func (x *exec) invoke(op *invokeOp, in *Table) (*Table, error) {
	b := x.lets[op.name]
	if b == nil || b.fn == nil {
		msg := "unknown function '" + op.name + "'"
		if strings.HasSuffix(op.name, "Profile") || op.name == "DeviceFromIP" || op.name == "AssignedIPAddresses" || op.name == "SeenBy" {
			msg += " (a Microsoft Defender built-in function, not available offline)"
		}
		return nil, errorf(op.pos, "invoke: %s", msg)
	}
	if len(b.fn.params) == 0 || !b.fn.params[0].tabular {
		return nil, errorf(op.pos, "invoke: function '%s' does not take a table as its first parameter", op.name)
	}
	vals, err := x.callArgs(newScope(x, nil), op.args)
	if err != nil {
		return nil, err
	}
	vals = append([]argValue{{table: in, pos: op.pos}}, vals...)
	return x.callFunc(b, vals, op.pos)
}
