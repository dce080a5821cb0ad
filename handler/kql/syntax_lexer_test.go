package kql

import (
	"strings"
	"testing"
)

func TestLexer(t *testing.T) {
	for _, test := range []struct {
		src  string
		want string // kind:text tokens separated by spaces
	}{
		{`T | project-away a | mv-expand b`, `id:T p:| id:project-away id:a p:| id:mv-expand id:b`},
		{`a - b`, `id:a p:- id:b`},
		{`x !has "y" and z !in~ (1) or w in~ (2) !contains_cs !between`, `id:x id:!has s:y id:and id:z id:!in~ p:( n:1 p:) id:or id:w id:in~ p:( n:2 p:) id:!contains_cs id:!between`},
		{`$left.a == $right.b`, `id:$left p:. id:a p:== id:$right p:. id:b`},
		{`1d 30m 1.5h 100ms 2.5 7 0x1F`, `ts:1d ts:30m ts:1.5h ts:100ms r:2.5 n:7 n:0x1F`},
		{`datetime(2024-01-01 10:00:00Z) guid(74be27de-1e4e) int(null) datetime("2024")`, `id:datetime raw:2024-01-01 10:00:00Z id:guid raw:74be27de-1e4e id:int raw:null id:datetime p:( s:2024 p:)`},
		{"a // comment\n| b", `id:a p:| id:b`},
		{`"é→x" @'ü' 'Ω'`, `s:é→x s:ü s:Ω`}, // non-ASCII characters in every quoted form
		{"@'c:\\x' \"a\\\"b\" ```multi\nline```", "s:c:\\x s:a\"b s:multi\nline"},
		{`x <> y <= z .. w =~ v !~ u`, `id:x p:<> id:y p:<= id:z p:.. id:w p:=~ id:v p:!~ id:u`},
	} {
		toks, err := lex(test.src)
		if err != nil {
			t.Errorf("lex(%q): %v", test.src, err)
			continue
		}
		var got []string
		for _, tk := range toks[:len(toks)-1] {
			kind := map[tokKind]string{tIdent: "id", tString: "s", tLong: "n", tReal: "r", tTimespan: "ts", tRaw: "raw", tPunct: "p"}[tk.kind]
			got = append(got, kind+":"+tk.text)
		}
		if strings.Join(got, " ") != test.want {
			t.Errorf("lex(%q)\n got %s\nwant %s", test.src, strings.Join(got, " "), test.want)
		}
	}
}

func TestLexerPositions(t *testing.T) {
	toks, err := lex("T\n  | where x")
	if err != nil {
		t.Fatal(err)
	}
	if p := toks[2].pos; p != (Pos{2, 5}) {
		t.Errorf("position of 'where' = %v, want 2:5", p)
	}
}

// Characters Kusto skips like spaces (checked with Kusto.Language, which
// accepts them between tokens): the no-break space, the narrow no-break space
// and the other Unicode space separators, the zero-width space, the byte-order
// mark and the form feed. It rejects the zero-width non-joiner, the vertical
// tab and the line separator, and so does this lexer, naming the character.
func TestLexerUnicodeSpaces(t *testing.T) {
	for _, sp := range []string{"\u00a0", "\u202f", "\u200b", "\ufeff", "\u2003", "\u3000", "\f"} {
		q := "print" + sp + "x = 1" + sp + "|" + sp + "extend y = x"
		res, err := Run(t.Context(), q, nil, Options{Now: testNow})
		if err != nil {
			t.Errorf("%q: %v", sp, err)
			continue
		}
		if got := render(res); got != "x:long|y:long\n1|1" {
			t.Errorf("%q: got %s", sp, got)
		}
	}
	// Columns are counted in characters: the no-break space is one.
	_, err := Parse("print\u00a0x = 1 |\u200b nope")
	if kerr, ok := err.(*Error); !ok || kerr.Pos != (Pos{1, 16}) {
		t.Errorf("got %v, want an error at 1:16", err)
	}
	for _, bad := range []string{"\u200c", "\v", "\u2028"} {
		if _, err := Parse("print x = 1" + bad); err == nil || !strings.Contains(err.Error(), "unexpected character") {
			t.Errorf("%q: got %v, want unexpected character", bad, err)
		}
	}
}
