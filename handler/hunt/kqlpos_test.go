package hunt_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/huntwatch/huntwatch/handler/hunt"
	"github.com/huntwatch/huntwatch/handler/kql"
)

// declaredError runs h's query as the pipeline does, declared with a window, and returns its
// error placed in the hunt.
func declaredError(t *testing.T, h *hunt.Hunt) error {
	t.Helper()
	now := time.Date(2026, 4, 12, 10, 0, 0, 0, time.UTC)
	w := hunt.Window{Start: now.Add(-time.Hour), End: now}
	_, err := kql.Run(context.Background(), w.Declare(h.Query), kql.Database{}, kql.Options{Now: now})
	if err == nil {
		t.Fatalf("query %q ran, want an error", h.Query)
	}
	return h.QueryError(fmt.Errorf("a source's context: %w", err))
}

// Errors in a hunt's query point at the hunt's text, not at the declared one; for a hunt read
// from a file whose query is a literal block, at the file's line and column.
func TestQueryErrorPlacesTheFault(t *testing.T) {
	for _, test := range []struct {
		name      string
		yaml      string // "": the hunt is made in code with query
		query     string
		want      string // the placed error
		line, col int
		inFile    bool
	}{
		{
			name:  "one line, made in code",
			query: "print n = 1 | where Nope > 0",
			want:  "query 1:21: unknown column or name 'Nope'",
			line:  1, col: 21,
		},
		{
			name: "literal block with a fence, fault on the second query line",
			yaml: "id: x\nname: Bad\ndescription: |\n  two lines\n  here\nquery: |\n  ```kusto\n  print n = 1\n  | where Nope > 0\n  ```\n",
			want: "hunts/bad.yaml:9:11: unknown column or name 'Nope'",
			line: 9, col: 11, inFile: true,
		},
		{
			name: "literal block, leading blank line, fault on the first line, indented four",
			yaml: "id: x\nname: Bad\nquery: |-\n\n    print x = nosuchfn(1)\n",
			want: "hunts/bad.yaml:5:15: unknown function 'nosuchfn'",
			line: 5, col: 15, inFile: true,
		},
		{
			name: "fence whose body is indented more than the block: the first line's column still counts it",
			yaml: "id: x\nname: Bad\nquery: |\n  ```kusto\n      print x = nosuchfn(1)\n      | where y\n  ```\nseverity: Low\n",
			want: "hunts/bad.yaml:5:17: unknown function 'nosuchfn'",
			line: 5, col: 17, inFile: true,
		},
		{
			name: "quoted scalar: its lines are not the file's, so the place is the query's",
			yaml: "id: x\nname: Bad\nquery: \"```kusto\\nprint n = 1\\n| where Nope > 0\\n```\"\n",
			want: "hunts/bad.yaml: query 2:9: unknown column or name 'Nope'",
			line: 2, col: 9,
		},
	} {
		t.Run(test.name, func(t *testing.T) {
			h := &hunt.Hunt{Query: test.query}
			if test.yaml != "" {
				var err error
				if h, err = hunt.Parse([]byte(test.yaml), "hunts/bad.yaml"); err != nil {
					t.Fatal(err)
				}
			}
			err := declaredError(t, h)
			var pe *hunt.QueryPosError
			if !errors.As(err, &pe) {
				t.Fatalf("got %v, want a *hunt.QueryPosError", err)
			}
			if err.Error() != test.want || pe.Line != test.line || pe.Col != test.col || pe.InFile != test.inFile {
				t.Errorf("got %q (line %d col %d, in file %v), want %q", err, pe.Line, pe.Col, pe.InFile, test.want)
			}
			var kerr *kql.Error
			if !errors.As(err, &kerr) {
				t.Errorf("the engine's error is no longer wrapped: %v", err)
			}
		})
	}
}

func TestQueryErrorViaLoad(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.yaml")
	doc := "id: x\nname: Bad\nquery: |\n  // a comment line\n  print n = 1\n  | where Nope > 0\n"
	if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	h, err := hunt.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := declaredError(t, h); err.Error() != path+":6:11: unknown column or name 'Nope'" {
		t.Errorf("got %q, want it at %s:6:11", err, path)
	}
}

// Errors with no place, and errors in the declaration itself, are returned as they are.
func TestQueryErrorLeavesOtherErrors(t *testing.T) {
	h := &hunt.Hunt{Query: "print 1", Source: "x.yaml"}
	if h.QueryError(nil) != nil {
		t.Error("QueryError(nil) != nil")
	}
	plain := errors.New("HTTP 503")
	if got := h.QueryError(plain); got != plain {
		t.Errorf("QueryError(%v) = %v", plain, got)
	}
	inDecl := &kql.Error{Pos: kql.Pos{Line: 2, Col: 5}, Msg: "bad"}
	if got := h.QueryError(inDecl); got != error(inDecl) {
		t.Errorf("an error in the declaration became %v", got)
	}
}

// For every hunt whose query is a literal block, QueryLine, QueryCol and QueryIndent find each
// line of Query in the file.
func TestQueryPlaceMatchesTheFile(t *testing.T) {
	type file struct{ ref, path string }
	files := []file{}
	for _, name := range hunt.Bundled() {
		files = append(files, file{name, filepath.Join("bundled", name+".yaml")})
	}
	paths, _ := filepath.Glob(filepath.Join(testHunts, "*.yaml"))
	for _, p := range paths {
		files = append(files, file{p, p})
	}
	placed := 0
	for _, f := range files {
		h, err := hunt.Load(f.ref)
		if err != nil {
			continue // the hunts that are meant not to load
		}
		data, err := os.ReadFile(f.path)
		if err != nil {
			t.Fatal(err)
		}
		if h.QueryLine == 0 {
			if strings.Contains(string(data), "query: |") {
				t.Errorf("%s: a literal block query was not placed", f.path)
			}
			continue
		}
		placed++
		lines := strings.Split(string(data), "\n")
		for i, q := range strings.Split(h.Query, "\n") {
			col := h.QueryIndent
			if i == 0 {
				col = h.QueryCol - 1
			}
			n := h.QueryLine - 1 + i
			if n >= len(lines) || len(lines[n]) < col || lines[n][col:] != q {
				t.Errorf("%s: query line %d %q is not at file line %d column %d", f.path, i+1, q, n+1, col+1)
				break
			}
		}
	}
	if placed < 2 {
		t.Errorf("only %d hunts placed, want the bundled corrected hunt and the testdata block hunts", placed)
	}
}
