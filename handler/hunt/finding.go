package hunt

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Column is one column of a query result, with its Kusto type name.
type Column struct {
	Name string
	Type string
}

// Result is a query's answer. Values are nil, string, bool, int64, float64, time.Time,
// time.Duration, or decoded dynamic values ([]any, map[string]any).
type Result struct {
	Columns []Column
	Rows    [][]any
	// Partial is set when the service returned rows together with an error: the rows are used,
	// but the run counts as failed and its window does not advance.
	Partial error
}

// Field is one column of a finding, formatted for people and kept small enough to store.
type Field struct {
	Name string   `json:"n"`
	Type string   `json:"t,omitempty"`
	Text string   `json:"v,omitempty"` // a scalar value as text
	List []string `json:"l,omitempty"` // the elements of an array value, as text
}

// Finding is one result row of a hunt, identified by its fingerprint (what was found) and its
// occurrence (one execution of it, such as one Run Command invocation).
type Finding struct {
	Fingerprint string    `json:"fp"`
	Occurrence  string    `json:"occ"`
	Time        time.Time `json:"time"`
	Fields      []Field   `json:"fields"`

	// A header of a run's spill (see spill) has nil Fields, which are in the spill's file at
	// at-1, size bytes.
	at   int64
	size int32
}

// Field returns the finding's column called name.
func (f *Finding) Field(name string) (Field, bool) {
	for _, c := range f.Fields {
		if c.Name == name {
			return c, true
		}
	}
	return Field{}, false
}

// Value returns the text of the column called name, or "" when absent or empty.
func (f *Finding) Value(name string) string {
	c, _ := f.Field(name)
	if c.Text == "" && len(c.List) > 0 {
		return "[" + strings.Join(c.List, ", ") + "]"
	}
	return c.Text
}

// Columns the pipeline looks for when the hunt does not name its own.
const (
	defaultFingerprintColumn = "ScriptFingerprintHash"
	defaultOccurrenceColumn  = "CorrelationId"
)

// maxFieldText bounds a stored field value; longer values are cut with a visible marker.
const maxFieldText = 8 << 10

// Findings turns a result into findings, in the result's order. It fails, naming the column, when
// the result lacks the fingerprint column, an occurrence column the hunt names, or an entity column.
//
// A finding's fingerprint is, in this order: the value of the hunt's fingerprint column (or of
// ScriptFingerprintHash when the result has it); else a hash of the entity columns; else, for a
// hunt without entity mappings, a hash of the row's columns without its datetime ones, so that
// the same row seen again at another time (a later window, another run) is the same finding.
func Findings(h *Hunt, res *Result) ([]Finding, error) {
	conv, err := newConverter(h, res.Columns)
	if err != nil {
		return nil, err
	}
	out := make([]Finding, 0, len(res.Rows))
	for _, row := range res.Rows {
		f, err := conv.finding(row)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}

// converter turns the rows of one result into findings (see Findings), one row at a time.
type converter struct {
	h       *Hunt
	cols    []Column
	fpIdx   int   // the fingerprint column, or -1
	fpCols  []int // the columns hashed when there is no fingerprint value
	occIdx  int   // the occurrence column, or -1
	timeIdx int   // the time column, or -1
	rows    int
}

// newConverter checks that cols have what h needs, naming the column that is missing.
func newConverter(h *Hunt, cols []Column) (*converter, error) {
	index := make(map[string]int, len(cols))
	for i, c := range cols {
		index[c.Name] = i
	}
	need := func(col, why string) (int, error) {
		i, ok := index[col]
		if !ok {
			return 0, fmt.Errorf("hunt %s: query result has no column %q (%s); it has: %s", h.Name, col, why, columnList(cols))
		}
		return i, nil
	}
	c := &converter{h: h, cols: cols, fpIdx: -1, occIdx: -1, timeIdx: -1}
	var entityIdx []int
	for _, col := range h.EntityColumns() {
		i, err := need(col, "named by entityMappings")
		if err != nil {
			return nil, err
		}
		entityIdx = append(entityIdx, i)
	}
	switch _, has := index[defaultFingerprintColumn]; {
	case h.Fingerprint != "":
		i, err := need(h.Fingerprint, "the hunt's fingerprint")
		if err != nil {
			return nil, err
		}
		c.fpIdx = i
	case has:
		c.fpIdx = index[defaultFingerprintColumn]
	}
	// Without entity columns, the row's own columns, less its times, identify the finding.
	c.fpCols = entityIdx
	if len(entityIdx) == 0 {
		c.fpCols = untimedColumns(cols)
	}
	if h.Occurrence != "" {
		i, err := need(h.Occurrence, "the hunt's occurrence")
		if err != nil {
			return nil, err
		}
		c.occIdx = i
	} else if i, ok := index[defaultOccurrenceColumn]; ok {
		c.occIdx = i
	}
	for _, name := range []string{"TimeGenerated", "StartTime", "Timestamp"} {
		if i, ok := index[name]; ok && cols[i].Type == "datetime" {
			c.timeIdx = i
			break
		}
	}
	return c, nil
}

// finding converts the next row.
func (c *converter) finding(row []any) (Finding, error) {
	r := c.rows
	c.rows++
	if len(row) != len(c.cols) {
		return Finding{}, fmt.Errorf("hunt %s: result row %d has %d values for %d columns", c.h.Name, r, len(row), len(c.cols))
	}
	f := Finding{Fields: make([]Field, len(row))}
	for i, v := range row {
		f.Fields[i] = field(c.cols[i], v)
	}
	if c.fpIdx >= 0 {
		f.Fingerprint = f.Fields[c.fpIdx].Text
	}
	if f.Fingerprint == "" {
		f.Fingerprint = digest(pick(f.Fields, c.fpCols))
	}
	if c.occIdx >= 0 {
		f.Occurrence = f.Fields[c.occIdx].Text
	}
	if f.Occurrence == "" {
		f.Occurrence = digest(f.Fields)
	}
	if c.timeIdx >= 0 {
		f.Time, _ = row[c.timeIdx].(time.Time)
	}
	return f, nil
}

// untimedColumns returns the indexes of the columns that are not datetime-typed.
func untimedColumns(cols []Column) []int {
	var idx []int
	for i, c := range cols {
		if c.Type != "datetime" {
			idx = append(idx, i)
		}
	}
	return idx
}

func pick(fields []Field, idx []int) []Field {
	out := make([]Field, len(idx))
	for i, j := range idx {
		out[i] = fields[j]
	}
	return out
}

// digest is a stable hash of fields: names, values and list elements, length-prefixed so that
// no two different inputs share an encoding.
func digest(fields []Field) string {
	h := sha256.New()
	put := func(s string) { fmt.Fprintf(h, "%d:%s", len(s), s) }
	for _, f := range fields {
		put(f.Name)
		put(f.Text)
		fmt.Fprintf(h, "[%d]", len(f.List))
		for _, e := range f.List {
			put(e)
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

func field(c Column, v any) Field {
	f := Field{Name: c.Name, Type: c.Type}
	switch x := v.(type) {
	case []any:
		f.List = make([]string, len(x))
		for i, e := range x {
			f.List[i] = clip(Format(e))
		}
	case string:
		if c.Type == "dynamic" && strings.HasPrefix(strings.TrimSpace(x), "[") {
			var list []any
			if json.Unmarshal([]byte(x), &list) == nil {
				return field(c, list)
			}
		}
		f.Text = clip(x)
	default:
		f.Text = clip(Format(v))
	}
	return f
}

func clip(s string) string {
	if len(s) <= maxFieldText {
		return s
	}
	cut := maxFieldText
	for cut > 0 && !utf8Start(s[cut]) {
		cut--
	}
	return s[:cut] + fmt.Sprintf("… [%d more bytes]", len(s)-cut)
}

func utf8Start(b byte) bool { return b&0xC0 != 0x80 }

// Format renders a result value as text: datetimes in RFC 3339 UTC, whole numbers without a
// fraction, dynamic values as compact JSON, null as "".
func Format(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	case time.Duration:
		return x.String()
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1e15 {
			return strconv.FormatInt(int64(x), 10)
		}
		return strconv.FormatFloat(x, 'g', -1, 64)
	case int64:
		return strconv.FormatInt(x, 10)
	case bool:
		return strconv.FormatBool(x)
	default:
		b, err := json.Marshal(x)
		if err != nil {
			return fmt.Sprint(x)
		}
		return string(b)
	}
}

func columnList(cols []Column) string {
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = c.Name
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}
