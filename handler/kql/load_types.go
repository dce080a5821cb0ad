package kql

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Typing loaded rows: columns take the schema's type, else one inferred from
// their values, and every value is converted to its column's type.

// buildTable types the columns (schema first, then inference) and converts every value.
func buildTable(name string, schema []Column, recs []record) (*Table, error) {
	cols := append([]Column(nil), schema...)
	var extra []string
	seen := map[string]bool{}
	for _, c := range schema {
		seen[c.Name] = true
	}
	for _, r := range recs {
		for _, f := range r.fields {
			if !seen[f.name] {
				seen[f.name] = true
				extra = append(extra, f.name)
			}
		}
	}
	for _, n := range extra {
		cols = append(cols, Column{Name: n, Type: inferType(n, recs)})
	}
	t := &Table{Name: name, Columns: cols, Rows: make([][]any, 0, len(recs))}
	index := map[string]int{}
	for i, c := range cols {
		index[c.Name] = i
	}
	for _, r := range recs {
		row := make([]any, len(cols))
		for i, c := range cols {
			if c.Type == "string" || c.Type == "guid" {
				row[i] = ""
			}
		}
		for _, f := range r.fields {
			i := index[f.name]
			v, err := convertLoaded(cols[i].Type, f.value)
			if err != nil {
				return nil, fmt.Errorf("%s: row %d (line %d): column %s: %v", r.file, r.row, r.line, f.name, err)
			}
			row[i] = v
		}
		t.Rows = append(t.Rows, row)
	}
	return t, nil
}

// convertLoaded converts a value read from a file to the column's type.
func convertLoaded(typ string, v any) (any, error) {
	switch x := v.(type) {
	case nil:
		if typ == "string" || typ == "guid" {
			return "", nil
		}
		return nil, nil
	case csvText:
		return convertText(typ, string(x))
	case string:
		if typ == "dynamic" {
			if j, ok := parseJSON(x); ok {
				return j, nil
			}
			return x, nil
		}
		return convertText(typ, x)
	case json.Number:
		switch {
		case typ == "string" || typ == "guid":
			return x.String(), nil
		case typ == "dynamic":
			return normalizeJSON(x), nil
		case typ == "real" || typ == "decimal" || isIntType(typ):
			return convertText(typ, x.String())
		}
	case bool:
		switch typ {
		case "bool", "dynamic":
			return x, nil
		case "string":
			return toStr(x), nil
		}
	case map[string]any, []any:
		switch typ {
		case "dynamic":
			return normalizeJSON(x), nil
		case "string":
			return jsonText(normalizeJSON(x)), nil
		}
	}
	return nil, fmt.Errorf("cannot read %s as %s", describeValue(v), typ)
}

func convertText(typ, s string) (any, error) {
	if s == "" && typ != "string" && typ != "guid" {
		return nil, nil
	}
	v, ok := convertString(typ, s)
	if !ok && typ == "datetime" {
		v, ok = parsePortalDatetime(s)
	}
	if !ok {
		if typ == "real" || typ == "decimal" || isIntType(typ) {
			// long columns accept numbers written as reals when they are whole.
			if f, fok := convertString("real", s); fok && f.(float64) == float64(int64(f.(float64))) && isIntType(typ) {
				return int64(f.(float64)), nil
			}
		}
		return nil, fmt.Errorf("cannot read %q as %s", s, typ)
	}
	return v, nil
}

func describeValue(v any) string {
	switch x := v.(type) {
	case map[string]any:
		return "a JSON object"
	case []any:
		return "a JSON array"
	case bool:
		return fmt.Sprintf("boolean %v", x)
	case json.Number:
		return "number " + x.String()
	}
	return fmt.Sprintf("%q", fmt.Sprint(v))
}

// inferType picks a column type from its values: the narrowest type all
// non-empty values fit (bool, long, real, datetime, dynamic), else string.
func inferType(name string, recs []record) string {
	kinds := map[string]bool{}
	for _, r := range recs {
		for _, f := range r.fields {
			if f.name == name {
				if k := valueKind(f.value); k != "" {
					kinds[k] = true
				}
			}
		}
	}
	switch {
	case len(kinds) == 0:
		return "string"
	case len(kinds) == 1:
		for k := range kinds {
			return k
		}
	case len(kinds) == 2 && kinds["long"] && kinds["real"]:
		return "real"
	case kinds["dynamic"]:
		return "dynamic"
	}
	return "string"
}

func valueKind(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case bool:
		return "bool"
	case json.Number:
		if _, err := x.Int64(); err == nil {
			return "long"
		}
		return "real"
	case map[string]any, []any:
		return "dynamic"
	case string:
		if x == "" {
			return ""
		}
		if looksLikeDatetime(x) {
			return "datetime"
		}
		return "string"
	case csvText:
		s := string(x)
		for _, typ := range []string{"long", "real", "bool"} {
			if _, ok := convertString(typ, s); ok && (typ != "bool" || strings.EqualFold(s, "true") || strings.EqualFold(s, "false")) {
				return typ
			}
		}
		if looksLikeDatetime(s) {
			return "datetime"
		}
		if s[0] == '{' || s[0] == '[' {
			if _, ok := parseJSON(s); ok {
				return "dynamic"
			}
		}
		return "string"
	}
	return "string"
}

// looksLikeDatetime accepts ISO 8601 timestamps such as 2024-01-01T10:00:00Z, and the Azure
// portal's (see parsePortalDatetime).
func looksLikeDatetime(s string) bool {
	if _, ok := parsePortalDatetime(s); ok {
		return true
	}
	if len(s) < 19 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != ' ') {
		return false
	}
	_, ok := parseDatetime(s)
	return ok
}
