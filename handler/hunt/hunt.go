package hunt

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// Hunt is a Sentinel hunting query in the Azure-Sentinel repository's YAML format.
type Hunt struct {
	ID          string          `yaml:"id"`
	Name        string          `yaml:"name"`
	Description string          `yaml:"description"`
	Severity    string          `yaml:"severity"`
	Query       string          `yaml:"query"`
	Tactics     []string        `yaml:"tactics"`
	Techniques  []string        `yaml:"relevantTechniques"`
	Entities    []EntityMapping `yaml:"entityMappings"`
	// Fingerprint names the result column that identifies a finding (a huntwatch extension of the
	// format). Absent: ScriptFingerprintHash when the query has it, else a hash of the entity columns.
	Fingerprint string `yaml:"fingerprint"`
	// Occurrence names the column that identifies one occurrence, such as one Run Command execution
	// (a huntwatch extension). Absent: CorrelationId when the query has it, else a hash of the row.
	Occurrence string `yaml:"occurrence"`
	// Source is where the hunt came from: a file path or "bundled:NAME".
	Source string `yaml:"-"`
	// QueryLine and QueryCol are where Query begins in Source (1-based), and QueryIndent is how
	// many columns every later line of Query is indented there, so that QueryError can point into
	// the file. QueryLine is 0 when Query's lines are not the file's: a hunt made in code, or a
	// query written as a quoted or folded YAML scalar rather than a literal block (query: |).
	QueryLine, QueryCol, QueryIndent int `yaml:"-"`
}

// EntityMapping maps result columns to a Sentinel entity (Account, IP, Host, ...).
type EntityMapping struct {
	EntityType    string         `yaml:"entityType"`
	FieldMappings []FieldMapping `yaml:"fieldMappings"`
}

// FieldMapping maps one entity identifier to a result column.
type FieldMapping struct {
	Identifier string `yaml:"identifier"`
	ColumnName string `yaml:"columnName"`
}

//go:embed bundled/*.yaml
var bundled embed.FS

// DefaultHunt is the bundled hunt used when no HUNT_FILE is set.
const DefaultHunt = "runcommand-mde"

// Bundled lists the names of the hunts built into the binary.
func Bundled() []string {
	entries, _ := fs.ReadDir(bundled, "bundled")
	var names []string
	for _, e := range entries {
		names = append(names, strings.TrimSuffix(e.Name(), ".yaml"))
	}
	sort.Strings(names)
	return names
}

// Load returns the hunt named by ref: a bundled hunt's name, or a path to a YAML file.
// An empty ref loads DefaultHunt.
func Load(ref string) (*Hunt, error) {
	if ref == "" {
		ref = DefaultHunt
	}
	if data, err := bundled.ReadFile(path.Join("bundled", ref+".yaml")); err == nil {
		return Parse(data, "bundled:"+ref)
	}
	data, err := os.ReadFile(ref)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("hunt %q: no such file and no bundled hunt of that name (bundled: %s)", ref, strings.Join(Bundled(), ", "))
		}
		return nil, fmt.Errorf("hunt %q: %w", ref, err)
	}
	return Parse(data, ref)
}

// Parse reads a hunting-query YAML. The query may be a block scalar or a quoted string, and may be
// wrapped in a Markdown code fence (```kusto ... ```), which is stripped: sent as is, KQL would read
// the fence as a multi-line string literal and the query would read no table. Unknown fields are
// ignored; a document that is not a hunt is an error that says what is missing.
func Parse(data []byte, source string) (*Hunt, error) {
	var h Hunt
	if err := yaml.Unmarshal(data, &h); err != nil {
		return nil, fmt.Errorf("hunt %s: not a hunting-query YAML: %w", source, err)
	}
	h.Source = source
	raw, start := h.Query, 0
	h.Query, start = stripFence(raw)
	h.placeQuery(data, raw, start)
	var missing []string
	if strings.TrimSpace(h.ID) == "" {
		missing = append(missing, "id")
	}
	if strings.TrimSpace(h.Name) == "" {
		missing = append(missing, "name")
	}
	if strings.TrimSpace(h.Query) == "" {
		missing = append(missing, "query")
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("hunt %s: not a hunting query: missing %s", source, strings.Join(missing, ", "))
	}
	for i, e := range h.Entities {
		if e.EntityType == "" {
			return nil, fmt.Errorf("hunt %s: entityMappings[%d] has no entityType", source, i)
		}
		for j, f := range e.FieldMappings {
			if f.ColumnName == "" || f.Identifier == "" {
				return nil, fmt.Errorf("hunt %s: entityMappings[%d].fieldMappings[%d] needs identifier and columnName", source, i, j)
			}
		}
	}
	return &h, nil
}

// StripFence removes a Markdown code fence around a query: a first line of ``` with an optional
// language tag, and a last line of ```. A query without a fence is returned trimmed.
func StripFence(q string) string {
	q, _ = stripFence(q)
	return q
}

// stripFence is StripFence, also returning where in q the query it returns begins.
func stripFence(q string) (string, int) {
	start := leadingSpace(q)
	q = strings.TrimSpace(q)
	if !strings.HasPrefix(q, "```") {
		return q, start
	}
	first, rest, ok := strings.Cut(q, "\n")
	tag := strings.TrimSpace(strings.TrimPrefix(first, "```"))
	if !ok || strings.ContainsAny(tag, " \t`") || !strings.HasSuffix(rest, "```") {
		return q, start // a KQL multi-line string literal, not a fence
	}
	body := strings.TrimSuffix(rest, "```")
	return strings.TrimSpace(body), start + len(first) + 1 + leadingSpace(body)
}

func leadingSpace(s string) int { return len(s) - len(strings.TrimLeftFunc(s, unicode.IsSpace)) }

// placeQuery sets QueryLine, QueryCol and QueryIndent when the document's query is a literal
// block, whose lines are the file's lines; raw is the block's text and start where Query begins
// in it.
func (h *Hunt) placeQuery(data []byte, raw string, start int) {
	var doc yaml.Node
	if yaml.Unmarshal(data, &doc) != nil || len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return
	}
	var block *yaml.Node
	m := doc.Content[0].Content
	for i := 0; i+1 < len(m); i += 2 {
		if m[i].Value == "query" {
			block = m[i+1]
		}
	}
	if block == nil || block.Style&yaml.LiteralStyle == 0 || block.Value != raw {
		return
	}
	// The block's lines follow the line of its "|"; its indentation is what the file has before
	// the block's first non-blank line.
	fileLines := strings.Split(string(data), "\n")
	indent := -1
	for i, line := range strings.Split(raw, "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		if n := block.Line + i; n < len(fileLines) {
			inFile := strings.TrimSuffix(fileLines[n], "\r")
			if pad, ok := strings.CutSuffix(inFile, line); ok && strings.Trim(pad, " ") == "" {
				indent = len(pad)
			}
		}
		break
	}
	if indent < 0 {
		return
	}
	before := raw[:start]
	h.QueryLine = block.Line + 1 + strings.Count(before, "\n")
	h.QueryCol = indent + 1 + utf8.RuneCountInString(before[strings.LastIndexByte(before, '\n')+1:])
	h.QueryIndent = indent
}

// PositionedError is an error a Source returns for a fault at a place in the query it ran: the
// fault's 1-based line and column (in characters) in that text, and the message without them.
// The KQL engine's errors are; wrapping them with %w keeps them visible.
type PositionedError interface {
	error
	QueryPosition() (line, col int, msg string)
}

// QueryError places err, an error from running Window.Declare(h.Query), in the hunt: when err
// is (or wraps) a PositionedError, it returns a *QueryPosError whose line and column are the
// hunt file's (see QueryLine), or the query text's own when the query is not a literal block of
// a file. It returns any other error, or nil, unchanged.
func (h *Hunt) QueryError(err error) error {
	var pe PositionedError
	if !errors.As(err, &pe) {
		return err
	}
	line, col, msg := pe.QueryPosition()
	line -= declaredLines
	if line < 1 {
		return err // in the declaration, not in the hunt
	}
	e := &QueryPosError{Source: h.Source, Line: line, Col: col, Msg: msg, Err: err}
	if h.QueryLine > 0 {
		if line == 1 {
			e.Col += h.QueryCol - 1
		} else {
			e.Col += h.QueryIndent
		}
		e.Line += h.QueryLine - 1
		e.InFile = true
	}
	return e
}

// QueryPosError is an error at a place in a hunt's query.
type QueryPosError struct {
	Source string // the hunt's Source
	// InFile is true when Line and Col are the file's; false, they are the query text's own.
	InFile    bool
	Line, Col int
	Msg       string // without the place
	Err       error  // as the source returned it, placed in the declared query
}

func (e *QueryPosError) Error() string {
	switch {
	case e.InFile:
		return fmt.Sprintf("%s:%d:%d: %s", e.Source, e.Line, e.Col, e.Msg)
	case e.Source != "":
		return fmt.Sprintf("%s: query %d:%d: %s", e.Source, e.Line, e.Col, e.Msg)
	}
	return fmt.Sprintf("query %d:%d: %s", e.Line, e.Col, e.Msg)
}

func (e *QueryPosError) Unwrap() error { return e.Err }

// EntityColumns returns the result columns the entity mappings name, in order, without repeats.
func (h *Hunt) EntityColumns() []string {
	var cols []string
	seen := map[string]bool{}
	for _, e := range h.Entities {
		for _, f := range e.FieldMappings {
			if !seen[f.ColumnName] {
				seen[f.ColumnName] = true
				cols = append(cols, f.ColumnName)
			}
		}
	}
	return cols
}
