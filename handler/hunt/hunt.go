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
	"time"
	"unicode"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// Hunt is a Sentinel hunting query or analytics rule in the Azure-Sentinel repository's YAML
// format: a hunting query (no kind), a scheduled rule (kind: Scheduled) or a near-real-time rule
// (kind: NRT). Parse reads it; the yaml tags name the Sentinel fields for readers, Parse reads the
// document itself (load.go) so that one bad field does not lose the others.
type Hunt struct {
	ID          string          `yaml:"id"`
	Name        string          `yaml:"name"`
	Description string          `yaml:"description"`
	Severity    string          `yaml:"severity"` // Informational, Low, Medium, High, or ""
	Query       string          `yaml:"query"`
	Tactics     []string        `yaml:"tactics"`
	Techniques  []string        `yaml:"relevantTechniques"`
	Entities    []EntityMapping `yaml:"entityMappings"`
	// Fingerprint names the result column that identifies a finding (a huntwatch extension:
	// huntwatch.fingerprint, or fingerprint at the top level). Absent: ScriptFingerprintHash when
	// the query has it, else a hash of the entity columns, else of the row without its time
	// columns (see Findings).
	Fingerprint string `yaml:"fingerprint"`
	// Occurrence names the column that identifies one occurrence, such as one Run Command execution
	// (huntwatch.occurrence, or occurrence at the top level). Absent: CorrelationId when the query
	// has it, else a hash of the row.
	Occurrence string `yaml:"occurrence"`

	// Kind is KindHunting (no kind in the YAML), KindScheduled or KindNRT.
	Kind string `yaml:"-"`
	// Frequency is how often the hunt runs: queryFrequency, or huntwatch.frequency (which wins).
	// 0 is the default: hourly for a hunting query, every tick for an NRT rule.
	Frequency time.Duration `yaml:"-"`
	// Period is how far back each run looks: queryPeriod, or huntwatch.lookback (which wins).
	// 0 is the default, HUNT_LOOKBACK.
	Period time.Duration `yaml:"-"`
	// Trigger is when a run's result raises alerts (triggerOperator, triggerThreshold); the zero
	// value fires on any row.
	Trigger Trigger `yaml:"-"`
	// Grouping is GroupPerResult (the default: a finding per row) or GroupSingle (one per run).
	Grouping string `yaml:"-"`
	// Suppression is how long the rule stays silent after an alert (suppressionDuration when
	// suppressionEnabled is true); 0 is none.
	Suppression time.Duration `yaml:"-"`
	// Disabled is true when status or enabled says so: the hunt is loaded and listed, not run.
	Disabled bool `yaml:"-"`
	// Details are the custom details (customDetails), in file order.
	Details []Detail `yaml:"-"`
	// Override is alertDetailsOverride: title and text formats, severity and tactics columns.
	Override AlertOverride `yaml:"-"`
	// Channel is where its messages go (huntwatch.channel, a Slack channel); "" routes them by
	// severity or to the default channel.
	Channel string `yaml:"-"`
	// Reference says why a hunt is kept as a reference and not run by default (a bundled seed kept
	// as it is upstream, or huntwatch.reference); "" for a hunt meant to run. BundledPack leaves
	// references out.
	Reference string `yaml:"-"`
	// Warnings are what loading tolerated (a misspelt key, a value out of Sentinel's range, a key
	// in the wrong case, a placeholder it could not replace ...), each naming the file, line and
	// field.
	Warnings []string `yaml:"-"`

	// Source is where the hunt came from: a file path or "bundled:NAME".
	Source string `yaml:"-"`
	// QueryLine and QueryCol are where Query begins in Source (1-based), and QueryIndent is how
	// many columns every later line of Query is indented there, so that QueryError can point into
	// the file. QueryLine is 0 when Query's lines are not the file's: a hunt made in code, or a
	// query written as a quoted or folded YAML scalar rather than a literal block (query: |).
	QueryLine, QueryCol, QueryIndent int `yaml:"-"`
	// edits are the placeholders Parse replaced in Query, so that QueryError points at the
	// file's text rather than at the replacement.
	edits []queryEdit
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

// Bundled lists the names of the hunts built into the binary, references included (BundledPack
// leaves them out).
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
// An empty ref loads DefaultHunt. LoadPack loads several, and folders.
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

// Parse reads a hunting query or an analytics rule; docs/hunts.md ("The YAML the loader
// accepts") lists the fields and what is tolerated. The query may be a block scalar or a quoted
// string, and may be wrapped in a Markdown code fence (```kusto ... ```), which is stripped: sent
// as is, KQL would read the fence as a multi-line string literal and the query would read no
// table. The hunting-query placeholders '{{StartTimeISO}}' and '{{EndTimeISO}}' become HuntStart
// and HuntEnd, the window huntwatch declares before every query.
//
// Unknown fields are ignored. A field that looks like a misspelt known one, a value past
// Sentinel's documented range, and anything else Parse tolerates, is a Warning. A document that
// is not a hunt, a value that cannot be read (a duration, an operator, a threshold, a grouping)
// or a kind huntwatch does not run is an error that names the file, line and field.
func Parse(data []byte, source string) (*Hunt, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("hunt %s: not a hunting-query YAML: %w", source, err)
	}
	var root *yaml.Node
	if len(doc.Content) > 0 {
		root = doc.Content[0]
	}
	if root != nil && root.Kind != yaml.MappingNode && !isNull(root) {
		return nil, fmt.Errorf("hunt %s: not a hunting-query YAML: the document is %s, not a mapping of fields", source, nodeKind(root))
	}
	h := &Hunt{Source: source}
	l := &loader{src: source, h: h}
	l.load(data, root)
	l.done()
	if len(l.errs) > 0 {
		return nil, errors.Join(l.errs...)
	}
	return h, nil
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

// placeQuery sets QueryLine, QueryCol and QueryIndent when block, the document's query, is a
// literal block, whose lines are the file's lines; raw is the block's text and start where Query
// begins in it.
func (h *Hunt) placeQuery(data []byte, block *yaml.Node, raw string, start int) {
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
// a file; a fault in a placeholder Parse replaced points at the placeholder. It returns any other
// error, or nil, unchanged.
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
	e := &QueryPosError{Source: h.Source, Line: line, Col: h.unedit(line, col), Msg: msg, Err: err}
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
