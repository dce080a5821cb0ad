package slack

import (
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// hostile inputs, by what they try.
var hostile = []struct {
	name, in string
}{
	{"channel mention", "<!channel> wake up"},
	{"here mention", "hey <!here>"},
	{"everyone", "<!everyone>"},
	{"user mention", "ping <@U123>"},
	{"usergroup", "<!subteam^S123|admins>"},
	{"forged link", "<https://evil.example/|click here>"},
	{"bare angle", "a < b > c"},
	{"pre-escaped", "&lt;!channel&gt; &amp;"},
	{"bold", "*bold*"},
	{"italic", "_x_"},
	{"strike", "~x~"},
	{"inline code", "`x`"},
	{"fence", "```\n<!channel>\n```"},
	{"many backticks", "``````````"},
	{"quote", "> quoted\n> again"},
	{"control chars", "a\x00b\x07c\x1b[31md\x7fe\u0085f\r\n"},
	{"invalid utf-8", "ok\xff\xfe\xc3("},
	{"bidi override", "evil\u202Egnp.exe\u2066x\u2069"},
	{"line separator", "a\u2028b\u2029c"},
	{"emoji", ":red_circle: 🙂 𝕏"},
	{"empty", ""},
}

func TestFitCutsWhole(t *testing.T) {
	for _, test := range []struct {
		name    string
		in      string
		max     int
		esc     escaper
		want    string
		wantAll bool
	}{
		{"fits", "abc", 3, plainText(true), "abc", true},
		{"cut", "abcdef", 4, plainText(true), "abc…", false},
		{"never inside &amp;", "a&b", 5, plainText(true), "a…", false},
		{"entity kept whole", "a&b", 7, plainText(true), "a&amp;b", true},
		{"entity exactly", "&", 5, plainText(true), "&amp;", true},
		{"entity too long for max", "&", 4, plainText(true), "…", false},
		{"never inside a rune", "héllo wörld", 4, plainText(true), "hél…", false},
		{"surrogate pair counts 2", "𝕏𝕏𝕏", 5, plainText(true), "𝕏𝕏…", false},
		{"invalid utf-8 replaced", "a\xffb", 10, plainText(true), "a\uFFFDb", true},
		{"control stripped", "a\x00\x1bb\r", 10, plainText(true), "ab", true},
		{"zero max", "abc", 0, plainText(true), "", false},
		{"empty", "", 0, plainText(true), "", true},
		{"code block breaks fences", "```", 20, codeBlock(""), "`\u200b`\u200b`", true},
		{"code block indents lines", "a\nb", 20, codeBlock("  "), "a\n  b", true},
		{"inline code has no backtick", "a`b\nc", 20, inlineCode, "aˋb c", true},
		{"mrkdwn emphasis", "*b* _i_ ~s~ `c`", 40, mrkdwnText(true), "∗b∗ ˍiˍ ∼s∼ ˋcˋ", true},
		{"mrkdwn quote", "> q", 40, mrkdwnText(false), "\u00ad&gt; q", true},
	} {
		t.Run(test.name, func(t *testing.T) {
			got, all := fit(test.in, test.max, test.esc)
			if got != test.want || all != test.wantAll {
				t.Errorf("fit(%q, %d) = %q, %v; want %q, %v", test.in, test.max, got, all, test.want, test.wantAll)
			}
		})
	}
}

var entityRE = regexp.MustCompile(`&(amp|lt|gt);`)

// checkEscaped fails when s could be read by Slack as anything but text.
func checkEscaped(t *testing.T, where, s string) {
	t.Helper()
	if !utf8.ValidString(s) {
		t.Errorf("%s: invalid UTF-8 in %q", where, s)
	}
	if strings.ContainsAny(s, "<>") {
		t.Errorf("%s: raw < or > in %q", where, s)
	}
	if strings.Count(s, "&") != len(entityRE.FindAllString(s, -1)) {
		t.Errorf("%s: & outside an entity in %q", where, s)
	}
	for _, r := range s {
		if unicode.IsControl(r) && r != '\n' && r != '\t' {
			t.Errorf("%s: control character %U in %q", where, r, s)
		}
		if isBidi(r) {
			t.Errorf("%s: bidirectional control %U in %q", where, r, s)
		}
	}
}

func TestEscapersHostile(t *testing.T) {
	for _, test := range hostile {
		t.Run(test.name, func(t *testing.T) {
			m := md(test.in, 1000)
			checkEscaped(t, "md", m)
			if strings.ContainsAny(m, "*_~`") {
				t.Errorf("md(%q) = %q keeps mrkdwn emphasis", test.in, m)
			}
			c := code(test.in, 1000)
			checkEscaped(t, "code", c)
			if inner := c[1 : len(c)-1]; strings.Contains(inner, "`") || strings.Contains(inner, "\n") {
				t.Errorf("code(%q) = %q: a backtick or newline inside would end the span", test.in, c)
			}
			p := plain(test.in, 1000)
			checkEscaped(t, "plain", p)
			cb, _ := fit(test.in, 1000, codeBlock("   "))
			checkEscaped(t, "code block", cb)
			if strings.Contains(cb, "```") {
				t.Errorf("code block line %q holds a fence", cb)
			}
		})
	}
}

// TestFitRandom throws random bytes and lengths at every escaper.
func TestFitRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	alphabet := []string{"a", "&", "<", ">", "`", "*", "_", "~", "\n", "\t", "\x00", "\xff", "é", "𝕏", "\u202e", " ", "!", "@", "|"}
	escapers := map[string]escaper{"plain": plainText(true), "md": mrkdwnText(false), "inline": inlineCode, "block": codeBlock("  ")}
	for i := range 3000 {
		var b strings.Builder
		for range r.IntN(60) {
			b.WriteString(alphabet[r.IntN(len(alphabet))])
		}
		in, max := b.String(), r.IntN(40)
		for name, esc := range escapers {
			got, all := fit(in, max, esc)
			if textLen(got) > max {
				t.Fatalf("#%d %s: fit(%q, %d) = %q: %d units", i, name, in, max, got, textLen(got))
			}
			if !all && max > 0 && !strings.HasSuffix(got, ellipsis) {
				t.Fatalf("#%d %s: fit(%q, %d) = %q cut without …", i, name, in, max, got)
			}
			checkEscaped(t, name, got)
			if name == "block" && strings.Contains(got, "```") {
				t.Fatalf("#%d: fence in %q", i, got)
			}
		}
	}
}

func TestCutEscaped(t *testing.T) {
	for _, test := range []struct {
		in   string
		max  int
		want string
	}{
		{"abc", 3, "abc"},
		{"a &amp; b", 4, "a …"},
		{"a &amp; b", 7, "a …"},
		{"a &amp; b", 8, "a &amp;…"},
		{"ééé", 2, "é…"},
	} {
		if got := cutEscaped(test.in, test.max); got != test.want {
			t.Errorf("cutEscaped(%q, %d) = %q, want %q", test.in, test.max, got, test.want)
		}
	}
}
