package kql

import (
	"sort"
	"strings"
)

// The row-by-row tabular operators: where, extend, project and its variants,
// take, distinct and getschema; then sort and top. Operators never modify
// their input rows; they share or copy them.

func (x *exec) where(op *whereOp, in *Table) (*Table, error) {
	pred, err := newScope(x, in.Columns).withInput(in).scalar(op.pred)
	if err != nil {
		return nil, err
	}
	if !boolish(pred.typ) {
		return nil, errorf(op.pred.exprPos(), "where needs a bool expression, got %s", pred.typ)
	}
	out := &Table{Columns: in.Columns}
	for n, r := range in.Rows {
		if n&4095 == 0 {
			if err := x.ctx.Err(); err != nil {
				return nil, err
			}
		}
		if truthy(pred.fn(r)) {
			out.Rows = append(out.Rows, r)
		}
	}
	return out, nil
}

// extend adds or replaces columns; an item may use the columns of the items before it.
func (x *exec) extend(op *extendOp, in *Table) (*Table, error) {
	cols := append([]Column(nil), in.Columns...)
	nm := &namer{}
	targets := make([]int, 0, len(op.items))
	fns := make([]evalFn, 0, len(op.items))
	for _, it := range op.items {
		c, err := newScope(x, cols).withInput(in).scalar(it.x)
		if err != nil {
			return nil, err
		}
		if it.names != nil {
			parts, err := tupleParts(it, c)
			if err != nil {
				return nil, err
			}
			types := multiResultTypes[it.x.(*call).name]
			for k, name := range it.names {
				typ := "dynamic"
				if k < len(types) {
					typ = types[k]
				}
				j := colIndex(cols, name)
				if j < 0 {
					j = len(cols)
					cols = append(cols, Column{Name: name, Type: typ})
				} else {
					cols[j].Type = typ
				}
				targets, fns = append(targets, j), append(fns, parts[k])
			}
			continue
		}
		conv := it.name == "" && conversionName(it.x) != ""
		name := nm.name(it.x, givenName(it))
		if it.name == "" && !conv && exprName(it.x) == name && colIndex(cols, name) >= 0 {
			if _, isCol := it.x.(*ident); !isCol {
				name = nm.name(&literal{}, "")
			}
		}
		j := colIndex(cols, name)
		if j < 0 {
			j = len(cols)
			cols = append(cols, Column{Name: name, Type: c.typ})
		} else {
			cols[j].Type = c.typ
		}
		targets, fns = append(targets, j), append(fns, c.fn)
	}
	out := &Table{Columns: cols, Rows: make([][]any, len(in.Rows))}
	slab := newSlab(len(in.Rows), len(cols))
	for n, r := range in.Rows {
		row := slab.row()
		copy(row, r)
		for i, f := range fns {
			row[targets[i]] = f(row)
		}
		out.Rows[n] = row
	}
	return out, nil
}

// multiResultFuncs have several named results, which extend (a, b, c) = f(...)
// spreads over columns (https://learn.microsoft.com/kusto/query/series-decompose-anomalies-function
// and the other series functions). A function here returns its results as
// one dynamic array, in order; a row whose array has another length gets
// nulls.
var multiResultFuncs = map[string]bool{
	"series_decompose_anomalies": true, "series_decompose": true, "series_decompose_forecast": true,
	"series_fit_line": true, "series_fit_2lines": true, "series_stats": true, "series_periods_detect": true,
	"series_periods_validate": true, "series_fit_poly": true,
}

// multiResultTypes are the column types of the results, where they are not
// all dynamic.
var multiResultTypes = map[string][]string{
	"series_fit_line": {"real", "real", "real", "real", "real", "dynamic"},
}

// tupleParts compiles (a, b, ...) = f(...) into one function per name; the
// first evaluates f for the row, the others read its results.
func tupleParts(it assign, c compiled) ([]evalFn, error) {
	call, ok := it.x.(*call)
	if !ok || !multiResultFuncs[call.name] {
		return nil, errorf(it.x.exprPos(), "extend: the tuple (%s) = ... needs a function with several named results, such as series_decompose_anomalies(); this expression has one value", strings.Join(it.names, ", "))
	}
	var results []any
	parts := make([]evalFn, len(it.names))
	n := len(it.names)
	for k := range parts {
		parts[k] = func(r []any) any {
			if k == 0 {
				results, _ = c.fn(r).([]any)
				if len(results) != n {
					results = nil
				}
			}
			if results == nil {
				return nil
			}
			return results[k]
		}
	}
	return parts, nil
}

func (x *exec) project(op *projectOp, in *Table) (*Table, error) {
	s := newScope(x, in.Columns).withInput(in)
	nm := &namer{}
	var cols []Column
	var fns []evalFn
	for _, it := range op.items {
		c, err := s.scalar(it.x)
		if err != nil {
			return nil, err
		}
		name := nm.name(it.x, givenName(it))
		if colIndex(cols, name) >= 0 {
			return nil, errorf(it.x.exprPos(), "project: column '%s' appears twice", name)
		}
		cols = append(cols, Column{Name: name, Type: c.typ})
		fns = append(fns, c.fn)
	}
	return mapRows(in, cols, fns), nil
}

// conversionFuncs keep the name of the column they convert: Kusto names the
// result of tostring(Col) (or todatetime(Col), tostring(Col.field)...) after
// Col, as it names Col itself (project tostring(Identity) gives a column
// Identity; extend tostring(Identity) replaces Identity).
var conversionFuncs = map[string]bool{
	"tostring": true, "toint": true, "tolong": true, "todouble": true, "toreal": true, "todecimal": true,
	"tobool": true, "toboolean": true, "todatetime": true, "totimespan": true, "toguid": true, "todynamic": true,
}

// conversionName is the column name of a conversion of a named expression, or "".
func conversionName(e expr) string {
	c, ok := e.(*call)
	if !ok || len(c.args) != 1 || !conversionFuncs[c.name] {
		return ""
	}
	if n := conversionName(c.args[0]); n != "" {
		return n
	}
	return exprName(c.args[0])
}

// givenName is the name an assignment gives, or the one its conversion keeps.
func givenName(a assign) string {
	if a.name != "" {
		return a.name
	}
	return conversionName(a.x)
}

// columnNameOf is the name Kusto gives an unnamed expression ("" when none).
func columnNameOf(e expr) string {
	if n := conversionName(e); n != "" {
		return n
	}
	return exprName(e)
}

func mapRows(in *Table, cols []Column, fns []evalFn) *Table {
	out := &Table{Columns: cols, Rows: make([][]any, len(in.Rows))}
	slab := newSlab(len(in.Rows), len(cols))
	for n, r := range in.Rows {
		row := slab.row()
		for i, f := range fns {
			row[i] = f(r)
		}
		out.Rows[n] = row
	}
	return out
}

// pick builds a table from the listed input columns.
func pick(in *Table, idx []int) *Table {
	cols := make([]Column, len(idx))
	for i, j := range idx {
		cols[i] = in.Columns[j]
	}
	out := &Table{Columns: cols, Rows: make([][]any, len(in.Rows))}
	slab := newSlab(len(in.Rows), len(cols))
	for n, r := range in.Rows {
		row := slab.row()
		for i, j := range idx {
			row[i] = r[j]
		}
		out.Rows[n] = row
	}
	return out
}

// projectAway handles project-away, project-keep and project-reorder; a name
// without wildcards must exist.
func (x *exec) projectAway(op *projectAwayOp, in *Table) (*Table, error) {
	matched := make([]bool, len(in.Columns))
	var order []int
	for _, pat := range op.patterns {
		found := false
		for i, c := range in.Columns {
			if wildcardMatch(pat, c.Name) {
				found = true
				if !matched[i] {
					order = append(order, i)
				}
				matched[i] = true
			}
		}
		if !found && !containsStar(pat) {
			return nil, errorf(op.pos, "%s: unknown column '%s'", op.kind, pat)
		}
	}
	var idx []int
	switch op.kind {
	case "project-away":
		for i := range in.Columns {
			if !matched[i] {
				idx = append(idx, i)
			}
		}
	case "project-keep":
		for i := range in.Columns {
			if matched[i] {
				idx = append(idx, i)
			}
		}
	default: // project-reorder
		idx = order
		for i := range in.Columns {
			if !matched[i] {
				idx = append(idx, i)
			}
		}
	}
	return pick(in, idx), nil
}

func containsStar(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == '*' {
			return true
		}
	}
	return false
}

func (x *exec) projectRename(op *projectRenameOp, in *Table) (*Table, error) {
	cols := append([]Column(nil), in.Columns...)
	for i, old := range op.oldNames {
		j := colIndex(in.Columns, old)
		if j < 0 {
			return nil, errorf(op.pos, "project-rename: unknown column '%s'", old)
		}
		cols[j].Name = op.newNames[i]
	}
	return &Table{Columns: cols, Rows: in.Rows}, nil
}

// constLong evaluates a constant count such as the N of take N.
func (x *exec) constLong(e expr, what string) (int64, error) {
	c, err := newScope(x, nil).scalar(e)
	if err != nil {
		return 0, err
	}
	n, ok := toLong(c.fn(nil))
	if !c.konst || !ok || n < 0 {
		return 0, errorf(e.exprPos(), "%s needs a constant non-negative number", what)
	}
	return n, nil
}

func (x *exec) take(op *takeOp, in *Table) (*Table, error) {
	n, err := x.constLong(op.n, "take")
	if err != nil {
		return nil, err
	}
	if n > int64(len(in.Rows)) {
		n = int64(len(in.Rows))
	}
	return &Table{Columns: in.Columns, Rows: in.Rows[:n:n]}, nil
}

func (x *exec) distinct(op *distinctOp, in *Table) (*Table, error) {
	t := in
	if len(op.items) > 0 {
		var err error
		if t, err = x.project(&projectOp{pos: op.pos, items: op.items}, in); err != nil {
			return nil, err
		}
	}
	out := &Table{Columns: t.Columns}
	seen := map[string]bool{}
	var buf []byte
	for _, r := range t.Rows {
		buf = buf[:0]
		for _, v := range r {
			buf = appendKey(buf, v)
		}
		if !seen[string(buf)] {
			seen[string(buf)] = true
			out.Rows = append(out.Rows, r)
		}
	}
	return out, nil
}

var dotnetTypes = map[string]string{
	"bool": "System.SByte", "int": "System.Int32", "long": "System.Int64", "real": "System.Double",
	"decimal": "System.Data.SqlTypes.SqlDecimal", "string": "System.String", "datetime": "System.DateTime",
	"timespan": "System.TimeSpan", "guid": "System.Guid", "dynamic": "System.Object",
}

func getschema(in *Table) *Table {
	out := &Table{Columns: []Column{{"ColumnName", "string"}, {"ColumnOrdinal", "int"}, {"DataType", "string"}, {"ColumnType", "string"}}}
	for i, c := range in.Columns {
		out.Rows = append(out.Rows, []any{c.Name, int64(i), dotnetTypes[c.Type], c.Type})
	}
	return out
}

// slab hands out rows of one width carved from a few large allocations.
type slab struct {
	width int
	buf   []any
}

func newSlab(rows, width int) *slab {
	return &slab{width: width, buf: make([]any, min(rows, 4096)*width)}
}

func (s *slab) row() []any {
	if len(s.buf) < s.width {
		s.buf = make([]any, 4096*s.width)
	}
	r := s.buf[:s.width:s.width]
	s.buf = s.buf[s.width:]
	return r
}

// order by / sort by and top. Keys are computed once per row, then rows are
// sorted stably. Defaults follow Kusto: descending; nulls last when
// descending and first when ascending.

func (x *exec) sort(op *sortOp, in *Table) (*Table, error) {
	rows, err := x.sortedRows(op.keys, in)
	if err != nil {
		return nil, err
	}
	return &Table{Columns: in.Columns, Rows: rows}, nil
}

func (x *exec) top(op *topOp, in *Table) (*Table, error) {
	n, err := x.constLong(op.n, "top")
	if err != nil {
		return nil, err
	}
	rows, err := x.sortedRows([]sortKey{op.key}, in)
	if err != nil {
		return nil, err
	}
	if n < int64(len(rows)) {
		rows = rows[:n]
	}
	return &Table{Columns: in.Columns, Rows: rows}, nil
}

func (x *exec) sortedRows(keys []sortKey, in *Table) ([][]any, error) {
	s := newScope(x, in.Columns)
	fns := make([]evalFn, len(keys))
	for i, k := range keys {
		c, err := s.scalar(k.x)
		if err != nil {
			return nil, err
		}
		fns[i] = c.fn
	}
	type keyed struct {
		keys []any
		row  []any
	}
	items := make([]keyed, len(in.Rows))
	flat := make([]any, len(in.Rows)*len(keys))
	for n, r := range in.Rows {
		kv := flat[n*len(keys) : (n+1)*len(keys)]
		for i, f := range fns {
			kv[i] = f(r)
		}
		items[n] = keyed{keys: kv, row: r}
	}
	sort.SliceStable(items, func(a, b int) bool {
		for i, k := range keys {
			c := compareSortKey(items[a].keys[i], items[b].keys[i], k)
			if c != 0 {
				return c < 0
			}
		}
		return false
	})
	rows := make([][]any, len(items))
	for i, it := range items {
		rows[i] = it.row
	}
	return rows, nil
}

// compareSortKey orders two key values under one sort key's direction and null placement.
func compareSortKey(a, b any, k sortKey) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		if k.nullsFirst {
			return -1
		}
		return 1
	case b == nil:
		if k.nullsFirst {
			return 1
		}
		return -1
	}
	c := sortCompare(a, b)
	if !k.asc {
		c = -c
	}
	return c
}
