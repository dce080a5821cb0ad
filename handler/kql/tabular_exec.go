package kql

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Evaluation of a query: the lets, the sources (tables, subqueries, union,
// datatable, print and range), and the pipeline, which hands each operator to
// the tabular_*.go file that runs it.

// exec is the state of one evaluation: the database, the clock and the lets.
// A function call or a let evaluated later runs in a copy of it (child) with
// the lets of its own scope.
type exec struct {
	ctx    context.Context
	db     Database
	opts   Options
	now    time.Time
	lets   map[string]*binding
	depth  int
	shared *execShared
	// present, while a union compiles its filters for one of its tables,
	// marks the union's columns that the table has (see buildSearchTerm).
	present []bool
}

// execShared is what every scope of one evaluation shares.
type execShared struct {
	external map[*externalSrc]*Table // externaldata tables, read once per evaluation
}

// binding is the value of a let: a table (evaluated on first use), a scalar,
// or a user-defined function or view.
type binding struct {
	stmt   *letStmt
	table  *Table
	scalar *compiled
	fn     *funcDef
	env    map[string]*binding // the lets visible where it was declared
	busy   bool
}

const maxCallDepth = 64

// child returns an exec for a nested scope with the given lets.
func (x *exec) child(lets map[string]*binding, pos Pos) (*exec, error) {
	if x.depth >= maxCallDepth {
		return nil, errorf(pos, "functions and lets nested more than %d deep", maxCallDepth)
	}
	c := *x
	c.lets = lets
	c.depth++
	return &c, nil
}

func copyLets(m map[string]*binding) map[string]*binding {
	out := make(map[string]*binding, len(m)+4)
	for k, v := range m {
		out[k] = v
	}
	return out
}

func (q *Query) run(ctx context.Context, db Database, opts Options) (*Table, error) {
	x := &exec{ctx: ctx, db: db, opts: opts, now: opts.Now, lets: map[string]*binding{}, shared: &execShared{external: map[*externalSrc]*Table{}}}
	if x.now.IsZero() {
		x.now = time.Now()
	}
	x.now = x.now.UTC()
	if err := x.bindLets(q.lets, true); err != nil {
		return nil, err
	}
	t, err := x.pipeline(q.body)
	if err != nil {
		return nil, err
	}
	out := &Table{Name: "PrimaryResult", Columns: t.Columns, Rows: t.Rows}
	return out, nil
}

// bindLets adds let statements to x.lets in order. Scalars are compiled now
// (and, when eager or constant, evaluated once); tables when first used.
func (x *exec) bindLets(lets []*letStmt, eager bool) error {
	for _, st := range lets {
		b := &binding{stmt: st, env: copyLets(x.lets)}
		switch {
		case st.fn != nil:
			b.fn = st.fn
			x.bindNullary(b)
		case st.tab == nil:
			if id, ok := st.expr.(*ident); ok && x.isTable(id.name) {
				st = &letStmt{pos: st.pos, name: st.name, tab: &pipeline{pos: id.pos, source: &tableRef{pos: id.pos, name: id.name}}}
				b.stmt = st
				break
			}
			c, err := newScope(x, nil).compile(st.expr)
			if err != nil {
				return err
			}
			switch {
			case c.typ == "table":
				b.table = c.fn(nil).(*Table)
			case c.typ == "type" || c.typ == "star":
				return errorf(st.expr.exprPos(), "let %s: not a value", st.name)
			case eager || c.konst:
				v := c.fn(nil)
				b.scalar = &compiled{fn: constFn(v), typ: c.typ, konst: true}
			default:
				b.scalar = &c
			}
		}
		x.lets[st.name] = b
	}
	return nil
}

// isTable reports whether name denotes a table (a tabular let, a function
// without parameters that returns a table, or a database table).
func (x *exec) isTable(name string) bool {
	if b, ok := x.lets[name]; ok {
		if b.fn != nil {
			return b.fn.view || b.fn.tab != nil
		}
		return b.scalar == nil
	}
	_, ok := x.db[name]
	return ok
}

// table resolves a name to a table: lets first, then the database.
func (x *exec) table(name string, pos Pos) (*Table, error) {
	if b, ok := x.lets[name]; ok {
		if b.fn != nil {
			return x.callTabular(b, nil, pos)
		}
		if b.scalar != nil {
			return nil, errorf(pos, "'%s' is a scalar, not a table", name)
		}
		if b.table == nil {
			if b.busy {
				return nil, errorf(pos, "let '%s' refers to itself", name)
			}
			b.busy = true
			cx, err := x.child(b.env, pos)
			if err != nil {
				return nil, err
			}
			t, err := cx.pipeline(b.stmt.tab)
			b.busy = false
			if err != nil {
				return nil, err
			}
			b.table = t
		}
		return b.table, nil
	}
	return x.dbTable(name, pos)
}

// dbTable reads a table of the database, whatever lets are named like it.
func (x *exec) dbTable(name string, pos Pos) (*Table, error) {
	t, ok := x.db[name]
	if !ok {
		return nil, &Error{Pos: pos, Msg: "unknown table '" + name + "'", unknownTable: true}
	}
	for n, r := range t.Rows {
		if len(r) != len(t.Columns) {
			return nil, errorf(pos, "table '%s': row %d has %d values for %d columns", name, n+1, len(r), len(t.Columns))
		}
	}
	return x.timeWindow(t), nil
}

// timeWindow hides the rows whose TimeGenerated is outside [From, To].
func (x *exec) timeWindow(t *Table) *Table {
	if x.opts.From.IsZero() && x.opts.To.IsZero() {
		return t
	}
	i := colIndex(t.Columns, "TimeGenerated")
	if i < 0 {
		return t
	}
	out := &Table{Name: t.Name, Columns: t.Columns}
	for _, r := range t.Rows {
		ts, ok := toDatetime(r[i])
		if !ok || !x.opts.From.IsZero() && ts.Before(x.opts.From) || !x.opts.To.IsZero() && ts.After(x.opts.To) {
			continue
		}
		out.Rows = append(out.Rows, r)
	}
	return out
}

// matchTables lists the tables matching a union or search wildcard like
// Device* (or *): database tables, and views (let V = view () {...}), as
// Kusto includes views in wildcards. Ordinary lets are not included; see
// wildcardTable for reading them.
func (x *exec) matchTables(pattern string) []string {
	var names []string
	for name := range x.db {
		if wildcardMatch(pattern, name) {
			names = append(names, name)
		}
	}
	for name, b := range x.lets {
		if b.fn != nil && b.fn.view && wildcardMatch(pattern, name) {
			names = append(names, name)
		}
	}
	sortStrings(names)
	return names
}

// wildcardTable reads a table that a wildcard matched: a view, or else the
// database table (not a let of the same name, which wildcards do not see).
func (x *exec) wildcardTable(name string, pos Pos) (*Table, error) {
	if b, ok := x.lets[name]; ok && b.fn != nil && b.fn.view {
		return x.table(name, pos)
	}
	return x.dbTable(name, pos)
}

// pipeline evaluates Source | op | op ...
func (x *exec) pipeline(pl *pipeline) (*Table, error) {
	ops := pl.ops
	var t *Table
	var err error
	switch src := pl.source.(type) {
	case *unionSrc:
		// A union reads the where filters and the columns the rest needs.
		plan, n := planUnion(ops)
		ops = ops[n:]
		t, err = x.unionPlanned(src.op, nil, plan)
	case *searchSrc:
		plan, n := planUnion(ops)
		ops = ops[n:]
		t, err = x.searchPlanned(src.op, nil, plan)
	default:
		t, err = x.source(pl.source)
	}
	if err != nil {
		return nil, err
	}
	for i := 0; i < len(ops); i++ {
		if err := x.ctx.Err(); err != nil {
			return nil, err
		}
		op := ops[i]
		// Consecutive extends run as one, saving a copy of every row, unless
		// the later one reads its input table as a whole (pack_all, next).
		if ext, ok := op.(*extendOp); ok {
			for i+1 < len(ops) {
				next, ok := ops[i+1].(*extendOp)
				if !ok || readsInput(next.items) {
					break
				}
				ext = &extendOp{pos: ext.pos, items: append(append([]assign(nil), ext.items...), next.items...)}
				i++
			}
			op = ext
		}
		if t, err = x.operator(op, t); err != nil {
			return nil, err
		}
	}
	return t, nil
}

func (x *exec) source(s source) (*Table, error) {
	switch s := s.(type) {
	case *tableRef:
		return x.table(s.name, s.pos)
	case *subquery:
		return x.pipeline(s.t)
	case *unionSrc:
		return x.union(s.op, nil)
	case *datatableSrc:
		return x.datatable(s)
	case *printSrc:
		return x.print(s)
	case *rangeSrc:
		return x.rangeTable(s)
	case *externalSrc:
		return x.externalData(s)
	case *searchSrc:
		return x.search(s.op, nil)
	case *callSrc:
		return x.callSource(s)
	}
	return nil, errorf(s.srcPos(), "unsupported source")
}

func (x *exec) operator(op operator, t *Table) (*Table, error) {
	switch op := op.(type) {
	case *whereOp:
		return x.where(op, t)
	case *extendOp:
		return x.extend(op, t)
	case *projectOp:
		return x.project(op, t)
	case *projectAwayOp:
		return x.projectAway(op, t)
	case *projectRenameOp:
		return x.projectRename(op, t)
	case *summarizeOp:
		return x.summarize(op, t)
	case *joinOp:
		return x.join(op, t)
	case *unionOp:
		return x.union(op, t)
	case *sortOp:
		return x.sort(op, t)
	case *takeOp:
		return x.take(op, t)
	case *topOp:
		return x.top(op, t)
	case *distinctOp:
		return x.distinct(op, t)
	case *countOp:
		return &Table{Columns: []Column{{"Count", "long"}}, Rows: [][]any{{int64(len(t.Rows))}}}, nil
	case *mvExpandOp:
		return x.mvExpand(op, t)
	case *parseOp:
		return x.parse(op, t)
	case *getschemaOp:
		return getschema(t), nil
	case *serializeOp:
		if len(op.items) == 0 {
			return t, nil
		}
		return x.extend(&extendOp{pos: op.pos, items: op.items}, t)
	case *renderOp:
		return t, nil
	case *invokeOp:
		return x.invoke(op, t)
	case *mvApplyOp:
		return x.mvApply(op, t)
	case *makeSeriesOp:
		return x.makeSeries(op, t)
	case *topNestedOp:
		return x.topNested(op, t)
	case *evaluateOp:
		return x.evaluate(op, t)
	case *partitionOp:
		return x.partition(op, t)
	case *sampleOp:
		return x.sample(op, t)
	case *asOp:
		x.lets[op.name] = &binding{table: t}
		return t, nil
	case *searchOp:
		return x.search(op, t)
	}
	return nil, errorf(op.opPos(), "unsupported operator")
}

// inputFuncs read the operator's whole input table, not just the row.
var inputFuncs = map[string]bool{"pack_all": true, "next": true}

func readsInput(items []assign) bool {
	found := false
	for _, it := range items {
		rewriteCalls(it.x, func(c *call) expr {
			if inputFuncs[c.name] {
				found = true
			}
			return nil
		})
	}
	return found
}

func colIndex(cols []Column, name string) int {
	for i, c := range cols {
		if c.Name == name {
			return i
		}
	}
	return -1
}

// wildcardMatch matches a name against a pattern where * stands for any text.
func wildcardMatch(pattern, name string) bool {
	if !strings.Contains(pattern, "*") {
		return pattern == name
	}
	parts := strings.Split(pattern, "*")
	if !strings.HasPrefix(name, parts[0]) {
		return false
	}
	rest := name[len(parts[0]):]
	for i := 1; i < len(parts)-1; i++ {
		j := strings.Index(rest, parts[i])
		if j < 0 {
			return false
		}
		rest = rest[j+len(parts[i]):]
	}
	return strings.HasSuffix(rest, parts[len(parts)-1])
}

// The sources that build a table from the query text: datatable, print and range.

func (x *exec) datatable(src *datatableSrc) (*Table, error) {
	s := newScope(x, nil)
	out := &Table{Columns: src.cols}
	var row []any
	for i, e := range src.values {
		c, err := s.scalar(e)
		if err != nil {
			return nil, err
		}
		if !c.konst {
			return nil, errorf(e.exprPos(), "datatable values must be constants")
		}
		col := src.cols[i%len(src.cols)]
		v := c.fn(nil)
		if conv := convertTo(col.Type, v); v != nil && conv == nil || col.Type != "dynamic" && c.typ == "dynamic" && v != nil {
			return nil, errorf(e.exprPos(), "datatable value %s does not fit column %s:%s", toStr(v), col.Name, col.Type)
		} else if col.Type != "dynamic" {
			v = conv
		}
		row = append(row, v)
		if len(row) == len(src.cols) {
			out.Rows = append(out.Rows, row)
			row = nil
		}
	}
	return out, nil
}

func (x *exec) print(src *printSrc) (*Table, error) {
	s := newScope(x, nil)
	out := &Table{Rows: [][]any{{}}}
	for i, it := range src.items {
		c, err := s.scalar(it.x)
		if err != nil {
			return nil, err
		}
		name := it.name
		if name == "" {
			name = exprName(it.x)
		}
		if name == "" {
			name = fmt.Sprintf("print_%d", i)
		}
		out.Columns = append(out.Columns, Column{Name: name, Type: c.typ})
		out.Rows[0] = append(out.Rows[0], c.fn(nil))
	}
	uniqueNames(out.Columns)
	return out, nil
}

// rangeTable implements range x from a to b step s over numbers, datetimes and timespans.
func (x *exec) rangeTable(src *rangeSrc) (*Table, error) {
	s := newScope(x, nil)
	var vals [3]compiled
	for i, e := range []expr{src.from, src.to, src.step} {
		c, err := s.scalar(e)
		if err != nil {
			return nil, err
		}
		if !c.konst {
			return nil, errorf(e.exprPos(), "range bounds must be constants")
		}
		vals[i] = c
	}
	from, to, step := vals[0].fn(nil), vals[1].fn(nil), vals[2].fn(nil)
	out := &Table{Columns: []Column{{Name: src.name, Type: vals[0].typ}}}
	if isIntType(vals[0].typ) {
		out.Columns[0].Type = "long"
	}
	const maxRows = 10_000_000
	sign, ok := compareValues(step, arith("-", step, step))
	if !ok || sign == 0 {
		return nil, errorf(src.pos, "range step must be a non-zero number or timespan")
	}
	positive := sign > 0
	for v := from; ; v = arith("+", v, step) {
		c, ok := compareValues(v, to)
		if !ok || positive && c > 0 || !positive && c < 0 {
			break
		}
		if len(out.Rows) >= maxRows {
			return nil, errorf(src.pos, "range produces more than %d rows", maxRows)
		}
		if t, isTime := v.(time.Time); isTime {
			v = t.UTC()
		}
		out.Rows = append(out.Rows, []any{v})
	}
	return out, nil
}
