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
	h.Query = StripFence(h.Query)
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
	q = strings.TrimSpace(q)
	if !strings.HasPrefix(q, "```") {
		return q
	}
	first, rest, ok := strings.Cut(q, "\n")
	tag := strings.TrimSpace(strings.TrimPrefix(first, "```"))
	if !ok || strings.ContainsAny(tag, " \t`") || !strings.HasSuffix(rest, "```") {
		return q // a KQL multi-line string literal, not a fence
	}
	return strings.TrimSpace(strings.TrimSuffix(rest, "```"))
}

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
