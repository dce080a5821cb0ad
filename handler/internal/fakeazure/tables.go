package fakeazure

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// TablesAccount and TablesKey are the storage account of a Tables service. The name is not
// Azurite's development account, so a client treats the service as Azure Table Storage (the
// handler then runs several transactions at once, as it does against Azure).
const (
	TablesAccount = "fakestorage"
	TablesKey     = "ZmFrZS10YWJsZS1zdG9yYWdlLWtleS1ub3QtYS1zZWNyZXQ=" // shared-key signatures are not checked
)

// Tables is an in-memory Azure Table Storage service on loopback, for what Azurite cannot carry:
// Azurite checks every insert and update against each row of the partition (its LokiJS store
// filters RowKey linearly after the PartitionKey index), so a 100-operation transaction costs
// about 1 s in a 50,000-row partition and seeding 365,000 rows would take hours. Here a point
// read or write is a map access, a partition listing walks its rows in key order from the
// continuation, and transactions of different partitions or tables run at once.
//
// What it speaks, as Azure does (JSON, minimal metadata): tables (create, delete, query), entity
// insert, get, update and merge (If-Match: an ETag or *), upsert, delete, queries with $filter
// (comparisons of properties with string, datetime, guid, number and boolean literals; and, or,
// not, parentheses), $select, $top (at most 1,000 a page) and continuation headers, and $batch:
// one changeset of at most 100 operations on one partition, all applied or none, an ETag per
// answer, and on failure the failing operation's error with its index ("2:..."). Anything else
// is answered 501 NotImplemented, so a client that needs more fails instead of being misled.
// Shared-key signatures are not checked.
type Tables struct {
	srv *httptest.Server

	mu     sync.RWMutex
	tables map[string]*fakeTable
	last   time.Time // of the last write: each write's Timestamp (and so ETag) is later
}

type fakeTable struct {
	parts  map[string]*fakePartition
	pks    []string // sorted partition keys; nil when stale
	sorted bool
}

type fakePartition struct {
	rows   map[string]*fakeEntity
	keys   []string // row keys in order while sorted
	sorted bool
}

// fakeEntity is a stored entity: its custom properties as sent (raw JSON and type annotation),
// and their values decoded for filters.
type fakeEntity struct {
	pk, rk string
	ts     time.Time
	etag   string
	props  []fakeProp
}

type fakeProp struct {
	name, typ string // typ: the @odata.type annotation sent, if any
	raw       json.RawMessage
	val       any  // string, float64, int64, bool, time.Time or nil
	long      bool // val is not kept (a long value, seldom filtered on): value decodes raw
}

// longValue is the size above which a property's value is decoded only when a filter needs it,
// so that large entities are not held twice.
const longValue = 256

func (p *fakeProp) value() any {
	if !p.long {
		return p.val
	}
	v, _ := decodeValue(p.raw, p.typ)
	return v
}

// NewTables starts a Tables service; it stops when the test ends.
func NewTables(t testing.TB) *Tables {
	ts := &Tables{tables: map[string]*fakeTable{}}
	ts.srv = httptest.NewServer(http.HandlerFunc(ts.serve))
	t.Cleanup(ts.srv.Close)
	return ts
}

// Addr is the loopback host:port the service listens on.
func (ts *Tables) Addr() string { return strings.TrimPrefix(ts.srv.URL, "http://") }

// ConnectionString is a shared-key connection string for the service, as aztables takes it.
func (ts *Tables) ConnectionString() string {
	return fmt.Sprintf("DefaultEndpointsProtocol=http;AccountName=%s;AccountKey=%s;TableEndpoint=%s/%s;", TablesAccount, TablesKey, ts.srv.URL, TablesAccount)
}

// Rows counts the entities of a table's partition.
func (ts *Tables) Rows(table, pk string) int {
	ts.mu.RLock()
	defer ts.mu.RUnlock()
	if t := ts.tables[table]; t != nil && t.parts[pk] != nil {
		return len(t.parts[pk].rows)
	}
	return 0
}

// ---- errors -------------------------------------------------------------------------------------

type tableError struct {
	status  int
	code    string
	message string
}

func (e *tableError) Error() string { return e.code + ": " + e.message }

func errTable(status int, code, msg string) *tableError {
	return &tableError{status: status, code: code, message: msg}
}

var (
	errEntityExists   = errTable(http.StatusConflict, "EntityAlreadyExists", "The specified entity already exists.")
	errNotFound       = errTable(http.StatusNotFound, "ResourceNotFound", "The specified resource does not exist.")
	errTableNotFound  = errTable(http.StatusNotFound, "TableNotFound", "The table specified does not exist.")
	errTableExists    = errTable(http.StatusConflict, "TableAlreadyExists", "The table specified already exists.")
	errCondition      = errTable(http.StatusPreconditionFailed, "UpdateConditionNotSatisfied", "The update condition specified in the request was not satisfied.")
	errNotImplemented = errTable(http.StatusNotImplemented, "NotImplemented", "The fake Table service does not implement this request.")
)

func errInput(format string, args ...any) *tableError {
	return errTable(http.StatusBadRequest, "InvalidInput", fmt.Sprintf(format, args...))
}

func (e *tableError) body(prefix string) []byte {
	b, _ := json.Marshal(map[string]any{"odata.error": map[string]any{"code": e.code,
		"message": map[string]any{"lang": "en-US", "value": prefix + e.message + "\nRequestId:00000000-0000-0000-0000-000000000000\nTime:" + time.Now().UTC().Format(time.RFC3339Nano)}}})
	return b
}

func writeTableError(w http.ResponseWriter, err error) {
	te, ok := err.(*tableError)
	if !ok {
		te = errInput("%v", err)
	}
	w.Header().Set("Content-Type", "application/json;odata=minimalmetadata;streaming=true;charset=utf-8")
	w.Header().Set("x-ms-error-code", te.code)
	w.WriteHeader(te.status)
	w.Write(te.body(""))
}

// ---- routing ------------------------------------------------------------------------------------

func (ts *Tables) serve(w http.ResponseWriter, r *http.Request) {
	rest, ok := strings.CutPrefix(r.URL.EscapedPath(), "/"+TablesAccount+"/")
	if !ok {
		writeTableError(w, errTable(http.StatusNotFound, "ResourceNotFound", "no such account"))
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 8<<20))
	if err != nil {
		writeTableError(w, errInput("read body: %v", err))
		return
	}
	if rest == "$batch" && r.Method == http.MethodPost {
		ts.batch(w, r, body)
		return
	}
	status, hdr, out, err := ts.do(r.Method, rest, r.URL.Query(), r.Header, body)
	if err != nil {
		writeTableError(w, err)
		return
	}
	for k, v := range hdr {
		w.Header()[k] = v
	}
	if out != nil {
		w.Header().Set("Content-Type", "application/json;odata=minimalmetadata;streaming=true;charset=utf-8")
	}
	w.WriteHeader(status)
	w.Write(out)
}

// do runs one request (also one operation of a batch): path is the escaped path after the
// account. It returns the status, headers and body of the answer.
func (ts *Tables) do(method, path string, q url.Values, h http.Header, body []byte) (int, http.Header, []byte, error) {
	hdr := http.Header{}
	switch {
	case path == "Tables" && method == http.MethodPost:
		var req struct{ TableName string }
		if err := json.Unmarshal(body, &req); err != nil || req.TableName == "" {
			return 0, nil, nil, errInput("bad table name")
		}
		if err := ts.createTable(req.TableName); err != nil {
			return 0, nil, nil, err
		}
		if noContent(h) {
			hdr.Set("Preference-Applied", "return-no-content")
			return http.StatusNoContent, hdr, nil, nil
		}
		out, _ := json.Marshal(map[string]string{"TableName": req.TableName})
		return http.StatusCreated, hdr, out, nil
	case path == "Tables" && method == http.MethodGet:
		return ts.queryTables(q)
	case strings.HasPrefix(path, "Tables(") && method == http.MethodDelete:
		name, err := unquoteKey(strings.TrimSuffix(strings.TrimPrefix(path, "Tables("), ")"))
		if err != nil {
			return 0, nil, nil, err
		}
		ts.mu.Lock()
		defer ts.mu.Unlock()
		if ts.tables[name] == nil {
			return 0, nil, nil, errNotFound
		}
		delete(ts.tables, name)
		return http.StatusNoContent, hdr, nil, nil
	}
	table, keys, hasKeys := strings.Cut(path, "(")
	if !hasKeys {
		if method != http.MethodPost {
			return 0, nil, nil, errNotImplemented
		}
		e, err := parseEntity(body, "", "")
		if err != nil {
			return 0, nil, nil, err
		}
		ts.mu.Lock()
		err = ts.write(table, e, "insert", "")
		ts.mu.Unlock()
		if err != nil {
			return 0, nil, nil, err
		}
		hdr.Set("ETag", e.etag)
		if noContent(h) {
			hdr.Set("Preference-Applied", "return-no-content")
			return http.StatusNoContent, hdr, nil, nil
		}
		return http.StatusCreated, hdr, e.json(nil), nil
	}
	keys = strings.TrimSuffix(keys, ")")
	if keys == "" { // table() : a query
		if method != http.MethodGet {
			return 0, nil, nil, errNotImplemented
		}
		return ts.query(table, q)
	}
	pk, rk, err := parseKeys(keys)
	if err != nil {
		return 0, nil, nil, err
	}
	ifMatch := h.Get("If-Match")
	switch method {
	case http.MethodGet:
		ts.mu.RLock()
		defer ts.mu.RUnlock()
		t := ts.tables[table]
		if t == nil {
			return 0, nil, nil, errTableNotFound
		}
		e := t.get(pk, rk)
		if e == nil {
			return 0, nil, nil, errNotFound
		}
		hdr.Set("ETag", e.etag)
		return http.StatusOK, hdr, e.json(selectOf(q)), nil
	case http.MethodPut, http.MethodPatch, "MERGE":
		e, err := parseEntity(body, pk, rk)
		if err != nil {
			return 0, nil, nil, err
		}
		op := "replace"
		if method != http.MethodPut {
			op = "merge"
		}
		ts.mu.Lock()
		err = ts.write(table, e, op, ifMatch)
		ts.mu.Unlock()
		if err != nil {
			return 0, nil, nil, err
		}
		hdr.Set("ETag", e.etag)
		return http.StatusNoContent, hdr, nil, nil
	case http.MethodDelete:
		if ifMatch == "" {
			return 0, nil, nil, errInput("delete without If-Match")
		}
		ts.mu.Lock()
		err = ts.write(table, &fakeEntity{pk: pk, rk: rk}, "delete", ifMatch)
		ts.mu.Unlock()
		if err != nil {
			return 0, nil, nil, err
		}
		return http.StatusNoContent, hdr, nil, nil
	}
	return 0, nil, nil, errNotImplemented
}

func noContent(h http.Header) bool { return strings.Contains(h.Get("Prefer"), "return-no-content") }

// ---- storage ------------------------------------------------------------------------------------

func (ts *Tables) createTable(name string) error {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if ts.tables[name] != nil {
		return errTableExists
	}
	ts.tables[name] = &fakeTable{parts: map[string]*fakePartition{}}
	return nil
}

func (t *fakeTable) get(pk, rk string) *fakeEntity {
	if p := t.parts[pk]; p != nil {
		return p.rows[rk]
	}
	return nil
}

// check tells whether op (insert, replace, merge, delete) with ifMatch ("": an upsert) may be
// applied to table; ts.mu is held.
func (ts *Tables) check(table string, e *fakeEntity, op, ifMatch string) error {
	t := ts.tables[table]
	if t == nil {
		return errTableNotFound
	}
	cur := t.get(e.pk, e.rk)
	switch {
	case op == "insert" && cur != nil:
		return errEntityExists
	case op == "insert" || ifMatch == "":
		return nil
	case cur == nil:
		return errNotFound
	case ifMatch != "*" && ifMatch != cur.etag:
		return errCondition
	}
	return nil
}

// write checks and applies one operation; ts.mu is held (for writing).
func (ts *Tables) write(table string, e *fakeEntity, op, ifMatch string) error {
	if err := ts.check(table, e, op, ifMatch); err != nil {
		return err
	}
	ts.apply(table, e, op)
	return nil
}

// apply applies a checked operation, giving e its Timestamp and ETag.
func (ts *Tables) apply(table string, e *fakeEntity, op string) {
	t := ts.tables[table]
	p := t.parts[e.pk]
	if p == nil {
		p = &fakePartition{rows: map[string]*fakeEntity{}, sorted: true}
		t.parts[e.pk] = p
		t.sorted = false
	}
	cur := p.rows[e.rk]
	if op == "delete" {
		if cur != nil {
			delete(p.rows, e.rk)
			p.sorted = false
		}
		return
	}
	if op == "merge" && cur != nil {
		merged := slices.Clone(cur.props)
		for _, np := range e.props {
			if i := slices.IndexFunc(merged, func(x fakeProp) bool { return x.name == np.name }); i >= 0 {
				merged[i] = np
			} else {
				merged = append(merged, np)
			}
		}
		e.props = merged
	}
	now := time.Now().UTC()
	if !now.After(ts.last) {
		now = ts.last.Add(100 * time.Nanosecond) // Table Storage's resolution: every write a new ETag
	}
	ts.last = now
	e.ts = now
	e.etag = `W/"datetime'` + url.QueryEscape(now.Format("2006-01-02T15:04:05.0000000Z")) + `'"`
	if cur == nil {
		if p.sorted && len(p.keys) > 0 && e.rk < p.keys[len(p.keys)-1] {
			p.sorted = false
		}
		if p.sorted {
			p.keys = append(p.keys, e.rk)
		}
	}
	p.rows[e.rk] = e
}

// ordered returns table read-locked with its keys in order (nil if there is no such table), and
// the function that unlocks it.
func (ts *Tables) ordered(table string) (*fakeTable, func()) {
	for {
		ts.mu.RLock()
		t := ts.tables[table]
		if t == nil || t.inOrder() {
			return t, ts.mu.RUnlock
		}
		ts.mu.RUnlock()
		ts.mu.Lock()
		if t := ts.tables[table]; t != nil {
			t.order()
		}
		ts.mu.Unlock()
	}
}

func (t *fakeTable) inOrder() bool {
	if !t.sorted {
		return false
	}
	for _, p := range t.parts {
		if !p.sorted {
			return false
		}
	}
	return true
}

// order sorts what went out of order since the last query; ts.mu is held for writing.
func (t *fakeTable) order() {
	if !t.sorted {
		t.pks, t.sorted = slices.Sorted(maps.Keys(t.parts)), true
	}
	for _, p := range t.parts {
		if !p.sorted {
			p.keys, p.sorted = slices.Sorted(maps.Keys(p.rows)), true
		}
	}
}

// parseEntity reads an entity body; pk and rk, when given (from the URL), must match it.
func parseEntity(body []byte, pk, rk string) (*fakeEntity, error) {
	if len(body) > 1<<20 {
		return nil, errTable(http.StatusRequestEntityTooLarge, "EntityTooLarge", "The entity is larger than 1 MiB.")
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, errInput("entity is not a JSON object: %v", err)
	}
	e := &fakeEntity{}
	for k, raw := range m {
		switch {
		case k == "PartitionKey":
			json.Unmarshal(raw, &e.pk)
		case k == "RowKey":
			json.Unmarshal(raw, &e.rk)
		case k == "Timestamp", strings.HasPrefix(k, "odata."), strings.Contains(k, "@"):
		default:
			p := fakeProp{name: k, raw: raw}
			if typ, ok := m[k+"@odata.type"]; ok {
				json.Unmarshal(typ, &p.typ)
			}
			v, err := decodeValue(raw, p.typ)
			if err != nil {
				return nil, errInput("property %s: %v", k, err)
			}
			p.val, p.long = v, len(raw) > longValue
			if p.long {
				p.val = nil
			}
			e.props = append(e.props, p)
		}
	}
	if pk != "" || rk != "" {
		if _, ok := m["PartitionKey"]; !ok {
			e.pk = pk
		}
		if _, ok := m["RowKey"]; !ok {
			e.rk = rk
		}
		if e.pk != pk || e.rk != rk {
			return nil, errInput("the keys of the body are not those of the URL")
		}
	}
	if len(e.props) > 252 {
		return nil, errTable(http.StatusBadRequest, "TooManyProperties", "The entity has more than 252 properties.")
	}
	slices.SortFunc(e.props, func(a, b fakeProp) int { return strings.Compare(a.name, b.name) })
	return e, nil
}

func decodeValue(raw json.RawMessage, typ string) (any, error) {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, err
	}
	s, isString := v.(string)
	switch {
	case typ == "Edm.DateTime" && isString:
		return time.Parse(time.RFC3339Nano, s)
	case typ == "Edm.Int64" && isString:
		return strconv.ParseInt(s, 10, 64)
	case typ == "Edm.Double" && isString: // NaN, Infinity
		return strconv.ParseFloat(s, 64)
	}
	return v, nil
}

// json encodes the entity as a query answers it; sel (nil: all) names the properties to include.
func (e *fakeEntity) json(sel map[string]bool) []byte {
	var b bytes.Buffer
	b.WriteString(`{"odata.etag":`)
	writeString(&b, e.etag)
	if sel == nil || sel["PartitionKey"] {
		b.WriteString(`,"PartitionKey":`)
		writeString(&b, e.pk)
	}
	if sel == nil || sel["RowKey"] {
		b.WriteString(`,"RowKey":`)
		writeString(&b, e.rk)
	}
	if sel == nil || sel["Timestamp"] {
		b.WriteString(`,"Timestamp@odata.type":"Edm.DateTime","Timestamp":"` + e.ts.Format("2006-01-02T15:04:05.0000000Z") + `"`)
	}
	for _, p := range e.props {
		if sel != nil && !sel[p.name] {
			continue
		}
		if p.typ != "" {
			b.WriteString(",")
			writeString(&b, p.name+"@odata.type")
			b.WriteString(":")
			writeString(&b, p.typ)
		}
		b.WriteString(",")
		writeString(&b, p.name)
		b.WriteString(":")
		b.Write(p.raw)
	}
	b.WriteString("}")
	return b.Bytes()
}

func writeString(b *bytes.Buffer, s string) {
	j, _ := json.Marshal(s)
	b.Write(j)
}

func selectOf(q url.Values) map[string]bool {
	s := q.Get("$select")
	if s == "" || s == "*" {
		return nil
	}
	sel := map[string]bool{}
	for _, n := range strings.Split(s, ",") {
		sel[strings.TrimSpace(n)] = true
	}
	return sel
}

// ---- keys in URLs -------------------------------------------------------------------------------

// parseKeys reads "PartitionKey='a',RowKey='b'" as aztables escapes it: the quotes around
// each key literal, the quotes within it doubled and escaped (%27%27) like the comma.
func parseKeys(s string) (pk, rk string, err error) {
	inner, ok1 := strings.CutPrefix(s, "PartitionKey=")
	pkq, rkq, ok2 := strings.Cut(inner, ",RowKey=")
	if !ok1 || !ok2 {
		return "", "", errInput("bad keys %q", s)
	}
	if pk, err = unquoteKey(pkq); err != nil {
		return "", "", err
	}
	rk, err = unquoteKey(rkq)
	return pk, rk, err
}

// unquoteKey reads an escaped, quoted key: 'a”b' is a'b.
func unquoteKey(s string) (string, error) {
	u, err := url.PathUnescape(s)
	if err != nil || len(u) < 2 || u[0] != '\'' || u[len(u)-1] != '\'' {
		return "", errInput("bad key %q", s)
	}
	return strings.ReplaceAll(u[1:len(u)-1], "''", "'"), nil
}

// ---- queries ------------------------------------------------------------------------------------

const maxPage = 1000

func (ts *Tables) query(table string, q url.Values) (int, http.Header, []byte, error) {
	f, err := parseFilter(q.Get("$filter"))
	if err != nil {
		return 0, nil, nil, err
	}
	top := maxPage
	if s := q.Get("$top"); s != "" {
		if top, err = strconv.Atoi(s); err != nil || top < 1 || top > maxPage {
			return 0, nil, nil, errInput("bad $top %q", s)
		}
	}
	nextPK, nextRK := decodeToken(q.Get("NextPartitionKey")), decodeToken(q.Get("NextRowKey"))
	sel := selectOf(q)

	t, unlock := ts.ordered(table)
	if t == nil {
		return 0, nil, nil, errTableNotFound
	}
	defer unlock()
	var b bytes.Buffer
	b.WriteString(`{"odata.metadata":"` + ts.srv.URL + "/" + TablesAccount + `/$metadata#` + table + `","value":[`)
	n := 0
	hdr := http.Header{}
	pks := t.pks
	if pk, ok := f.partition(); ok {
		pks = nil
		if t.parts[pk] != nil {
			pks = []string{pk}
		}
	}
	start, _ := slices.BinarySearch(pks, nextPK)
scan:
	for _, pk := range pks[start:] {
		p := t.parts[pk]
		from := 0
		if pk == nextPK {
			from, _ = slices.BinarySearch(p.keys, nextRK)
		}
		for _, rk := range p.keys[from:] {
			e := p.rows[rk]
			if !f.match(e) {
				continue
			}
			if n == top {
				hdr.Set("x-ms-continuation-NextPartitionKey", encodeToken(pk))
				hdr.Set("x-ms-continuation-NextRowKey", encodeToken(rk))
				break scan
			}
			if n > 0 {
				b.WriteString(",")
			}
			b.Write(e.json(sel))
			n++
		}
	}
	b.WriteString("]}")
	return http.StatusOK, hdr, b.Bytes(), nil
}

func (ts *Tables) queryTables(q url.Values) (int, http.Header, []byte, error) {
	f, err := parseFilter(q.Get("$filter"))
	if err != nil {
		return 0, nil, nil, err
	}
	ts.mu.RLock()
	names := make([]string, 0, len(ts.tables))
	for name := range ts.tables {
		names = append(names, name)
	}
	ts.mu.RUnlock()
	slices.Sort(names)
	var value []map[string]string
	for _, name := range names {
		if f.match(&fakeEntity{props: []fakeProp{{name: "TableName", val: name}}}) {
			value = append(value, map[string]string{"TableName": name})
		}
	}
	out, _ := json.Marshal(map[string]any{"value": value})
	return http.StatusOK, http.Header{}, out, nil
}

// Continuation tokens are opaque to clients: keys in base64, so that any key fits a header.
func encodeToken(k string) string { return "1!" + base64.RawURLEncoding.EncodeToString([]byte(k)) }

func decodeToken(s string) string {
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(s, "1!"))
	if err != nil {
		return ""
	}
	return string(b)
}

// ---- $filter ------------------------------------------------------------------------------------

// filter is a parsed $filter: nil matches everything.
type filter struct {
	op          string // and, or, not, or a comparison: eq ne gt ge lt le
	left, right *filter
	prop        string // comparison: the property
	lit         any    // comparison: the literal (string, float64, int64, bool, time.Time)
}

// partition is the partition key the filter pins (a top-level PartitionKey eq conjunct).
func (f *filter) partition() (string, bool) {
	switch {
	case f == nil:
		return "", false
	case f.op == "and":
		if pk, ok := f.left.partition(); ok {
			return pk, true
		}
		return f.right.partition()
	case f.op == "eq" && f.prop == "PartitionKey":
		pk, ok := f.lit.(string)
		return pk, ok
	}
	return "", false
}

func (f *filter) match(e *fakeEntity) bool {
	if f == nil {
		return true
	}
	switch f.op {
	case "and":
		return f.left.match(e) && f.right.match(e)
	case "or":
		return f.left.match(e) || f.right.match(e)
	case "not":
		return !f.left.match(e)
	}
	var v any
	switch f.prop {
	case "PartitionKey":
		v = e.pk
	case "RowKey":
		v = e.rk
	case "Timestamp":
		v = e.ts
	default:
		i, found := slices.BinarySearchFunc(e.props, f.prop, func(p fakeProp, name string) int { return strings.Compare(p.name, name) })
		if !found {
			return false // a comparison with a missing property is false
		}
		v = e.props[i].value()
	}
	c, ok := compare(v, f.lit)
	if !ok {
		return false
	}
	switch f.op {
	case "eq":
		return c == 0
	case "ne":
		return c != 0
	case "gt":
		return c > 0
	case "ge":
		return c >= 0
	case "lt":
		return c < 0
	case "le":
		return c <= 0
	}
	return false
}

// compare orders a property's value and a literal of the same kind.
func compare(v, lit any) (int, bool) {
	num := func(x any) (float64, bool) {
		switch n := x.(type) {
		case float64:
			return n, true
		case int64:
			return float64(n), true
		}
		return 0, false
	}
	switch l := lit.(type) {
	case string:
		s, ok := v.(string)
		return strings.Compare(s, l), ok
	case bool:
		b, ok := v.(bool)
		if !ok {
			return 0, false
		}
		if b == l {
			return 0, true
		}
		return 1, true
	case time.Time:
		t, ok := v.(time.Time)
		return t.Compare(l), ok
	}
	if a, ok := v.(int64); ok {
		if b, ok := lit.(int64); ok {
			switch {
			case a < b:
				return -1, true
			case a > b:
				return 1, true
			}
			return 0, true
		}
	}
	a, ok1 := num(v)
	b, ok2 := num(lit)
	switch {
	case !ok1 || !ok2:
		return 0, false
	case a < b:
		return -1, true
	case a > b:
		return 1, true
	}
	return 0, true
}

func parseFilter(s string) (*filter, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	p := &filterParser{s: s}
	f, err := p.or()
	if err == nil && p.peek() != "" {
		err = fmt.Errorf("unexpected %q", p.peek())
	}
	if err != nil {
		return nil, errInput("$filter %q: %v", s, err)
	}
	return f, nil
}

type filterParser struct {
	s   string
	pos int
}

func (p *filterParser) skip() {
	for p.pos < len(p.s) && p.s[p.pos] == ' ' {
		p.pos++
	}
}

// peek returns the next token without taking it: a word, a parenthesis, or a literal's start.
func (p *filterParser) peek() string {
	p.skip()
	if p.pos >= len(p.s) {
		return ""
	}
	if c := p.s[p.pos]; c == '(' || c == ')' || c == '\'' {
		return string(c)
	}
	end := p.pos
	for end < len(p.s) && !strings.ContainsRune(" ()'", rune(p.s[end])) {
		end++
	}
	return p.s[p.pos:end]
}

func (p *filterParser) take() string {
	t := p.peek()
	p.pos += len(t)
	return t
}

func (p *filterParser) or() (*filter, error)  { return p.joined("or", p.and) }
func (p *filterParser) and() (*filter, error) { return p.joined("and", p.unary) }

// joined parses operands joined by op (and, or), grouping from the left.
func (p *filterParser) joined(op string, operand func() (*filter, error)) (*filter, error) {
	l, err := operand()
	for err == nil && p.peek() == op {
		p.take()
		var r *filter
		if r, err = operand(); err == nil {
			l = &filter{op: op, left: l, right: r}
		}
	}
	return l, err
}

func (p *filterParser) unary() (*filter, error) {
	switch p.peek() {
	case "not":
		p.take()
		f, err := p.unary()
		return &filter{op: "not", left: f}, err
	case "(":
		p.take()
		f, err := p.or()
		if err == nil && p.take() != ")" {
			err = fmt.Errorf("missing )")
		}
		return f, err
	}
	prop := p.take()
	if prop == "" || strings.ContainsAny(prop[:1], "0123456789'") {
		return nil, fmt.Errorf("want a property name, have %q", prop)
	}
	op := p.take()
	if !slices.Contains([]string{"eq", "ne", "gt", "ge", "lt", "le"}, op) {
		return nil, fmt.Errorf("unsupported operator %q", op)
	}
	lit, err := p.literal()
	return &filter{op: op, prop: prop, lit: lit}, err
}

func (p *filterParser) literal() (any, error) {
	p.skip()
	prefix := ""
	if t := p.peek(); t != "'" {
		p.take()
		switch t {
		case "datetime", "guid", "X", "binary":
			prefix = t
		case "true", "false":
			return t == "true", nil
		default:
			if n, ok := strings.CutSuffix(t, "L"); ok {
				return strconv.ParseInt(n, 10, 64)
			}
			if i, err := strconv.ParseInt(t, 10, 64); err == nil {
				return float64(i), nil
			}
			return strconv.ParseFloat(t, 64)
		}
	}
	if p.pos >= len(p.s) || p.s[p.pos] != '\'' {
		return nil, fmt.Errorf("want a quoted literal at %d", p.pos)
	}
	var b strings.Builder
	for i := p.pos + 1; i < len(p.s); i++ {
		if p.s[i] == '\'' {
			if i+1 < len(p.s) && p.s[i+1] == '\'' {
				b.WriteByte('\'')
				i++
				continue
			}
			p.pos = i + 1
			switch prefix {
			case "datetime":
				return time.Parse(time.RFC3339Nano, b.String())
			case "X", "binary":
				return nil, fmt.Errorf("binary literals are not implemented")
			}
			return b.String(), nil // a string, or a guid (compared as its text)
		}
		b.WriteByte(p.s[i])
	}
	return nil, fmt.Errorf("unterminated string")
}

// ---- $batch -------------------------------------------------------------------------------------

type batchOp struct {
	method, path string
	header       http.Header
	entity       *fakeEntity
	op           string // insert, replace, merge, delete
	ifMatch      string
}

func (ts *Tables) batch(w http.ResponseWriter, r *http.Request, body []byte) {
	ops, err := parseBatch(r.Header.Get("Content-Type"), body)
	if err != nil {
		writeTableError(w, err)
		return
	}
	table := ""
	for i, o := range ops {
		t, _, _ := strings.Cut(o.path, "(")
		switch {
		case i == 0:
			table = t
		case t != table:
			writeTableError(w, errInput("operations on several tables"))
			return
		case o.entity.pk != ops[0].entity.pk:
			writeTableError(w, errTable(http.StatusBadRequest, "CommandsInBatchActOnDifferentPartitions", "All commands in a batch must operate on the same partition."))
			return
		}
		for _, prev := range ops[:i] {
			if prev.entity.rk == o.entity.rk {
				writeTableError(w, errTable(http.StatusBadRequest, "InvalidDuplicateRow", "The batch request contains multiple changes with the same row key."))
				return
			}
		}
	}
	ts.mu.Lock()
	failed, ferr := -1, error(nil)
	for i, o := range ops {
		if err := ts.check(table, o.entity, o.op, o.ifMatch); err != nil {
			failed, ferr = i, err
			break
		}
	}
	if failed < 0 {
		for _, o := range ops {
			ts.apply(table, o.entity, o.op)
		}
	}
	ts.mu.Unlock()

	var out bytes.Buffer
	outer := multipart.NewWriter(&out)
	outer.SetBoundary("batchresponse_" + strconv.FormatInt(time.Now().UnixNano(), 36))
	var cs bytes.Buffer
	inner := multipart.NewWriter(&cs)
	inner.SetBoundary("changesetresponse_" + strconv.FormatInt(time.Now().UnixNano(), 36))
	part := func(status int, hdr http.Header, body []byte) {
		pw, _ := inner.CreatePart(textproto.MIMEHeader{"Content-Type": {"application/http"}, "Content-Transfer-Encoding": {"binary"}})
		fmt.Fprintf(pw, "HTTP/1.1 %d %s\r\nX-Content-Type-Options: nosniff\r\nCache-Control: no-cache\r\nDataServiceVersion: 3.0;\r\n", status, http.StatusText(status))
		for k, v := range hdr {
			fmt.Fprintf(pw, "%s: %s\r\n", k, v[0])
		}
		fmt.Fprintf(pw, "\r\n%s\r\n", body)
	}
	if failed >= 0 {
		te, ok := ferr.(*tableError)
		if !ok {
			te = errInput("%v", ferr)
		}
		part(te.status, http.Header{"Content-Type": {"application/json;odata=minimalmetadata;streaming=true;charset=utf-8"}}, te.body(strconv.Itoa(failed)+":"))
	} else {
		for _, o := range ops {
			hdr := http.Header{}
			switch {
			case o.op == "delete":
				part(http.StatusNoContent, hdr, nil)
			case o.op == "insert" && !noContent(o.header):
				hdr.Set("ETag", o.entity.etag)
				hdr.Set("Content-Type", "application/json;odata=minimalmetadata;streaming=true;charset=utf-8")
				part(http.StatusCreated, hdr, o.entity.json(nil))
			default:
				hdr.Set("ETag", o.entity.etag)
				if o.op == "insert" {
					hdr.Set("Preference-Applied", "return-no-content")
				}
				part(http.StatusNoContent, hdr, nil)
			}
		}
	}
	inner.Close()
	pw, _ := outer.CreatePart(textproto.MIMEHeader{"Content-Type": {"multipart/mixed; boundary=" + inner.Boundary()}})
	pw.Write(cs.Bytes())
	outer.Close()
	w.Header().Set("Content-Type", "multipart/mixed; boundary="+outer.Boundary())
	w.WriteHeader(http.StatusAccepted)
	w.Write(out.Bytes())
}

// parseBatch reads a $batch body: one changeset of HTTP requests, at most 100.
func parseBatch(contentType string, body []byte) ([]batchOp, error) {
	_, params, err := mime.ParseMediaType(contentType)
	if err != nil || params["boundary"] == "" {
		return nil, errInput("$batch without a multipart boundary")
	}
	outer := multipart.NewReader(bytes.NewReader(body), params["boundary"])
	cs, err := outer.NextPart()
	if err != nil {
		return nil, errInput("$batch: %v", err)
	}
	_, cparams, err := mime.ParseMediaType(cs.Header.Get("Content-Type"))
	if err != nil || cparams["boundary"] == "" {
		return nil, errInput("$batch: only changesets are implemented")
	}
	inner := multipart.NewReader(cs, cparams["boundary"])
	var ops []batchOp
	for {
		p, err := inner.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, errInput("$batch part %d: %v", len(ops), err)
		}
		req, err := http.ReadRequest(bufio.NewReader(p))
		if err != nil {
			return nil, errInput("$batch part %d: %v", len(ops), err)
		}
		b, _ := io.ReadAll(req.Body)
		path, ok := strings.CutPrefix(req.URL.EscapedPath(), "/"+TablesAccount+"/")
		if !ok {
			return nil, errInput("$batch part %d: path %q", len(ops), req.URL.EscapedPath())
		}
		o := batchOp{method: req.Method, path: path, header: req.Header, ifMatch: req.Header.Get("If-Match")}
		_, keys, hasKeys := strings.Cut(path, "(")
		pk, rk := "", ""
		if hasKeys {
			if pk, rk, err = parseKeys(strings.TrimSuffix(keys, ")")); err != nil {
				return nil, err
			}
		}
		switch {
		case req.Method == http.MethodPost && !hasKeys:
			o.op = "insert"
		case req.Method == http.MethodPut && hasKeys:
			o.op = "replace"
		case (req.Method == http.MethodPatch || req.Method == "MERGE") && hasKeys:
			o.op = "merge"
		case req.Method == http.MethodDelete && hasKeys:
			o.op = "delete"
			if o.ifMatch == "" {
				return nil, errInput("$batch part %d: delete without If-Match", len(ops))
			}
		default:
			return nil, errNotImplemented
		}
		if o.op == "delete" {
			o.entity = &fakeEntity{pk: pk, rk: rk}
		} else if o.entity, err = parseEntity(b, pk, rk); err != nil {
			return nil, err
		}
		ops = append(ops, o)
	}
	switch {
	case len(ops) == 0:
		return nil, errInput("$batch without operations")
	case len(ops) > 100:
		return nil, errInput("$batch of %d operations: at most 100", len(ops))
	}
	return ops, nil
}
