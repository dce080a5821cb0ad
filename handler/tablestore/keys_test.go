package tablestore

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestKey(t *testing.T) {
	hashed := func(s string) bool {
		return strings.HasPrefix(key(s), hashedPrefix) && len(key(s)) == len(hashedPrefix)+64
	}
	for _, test := range []struct {
		in    string
		plain bool
	}{
		{"abc", true},
		{"A-Z_0.9", true},
		{"3f2a" + strings.Repeat("0", 60), true}, // a sha256 hex fingerprint stays readable
		{strings.Repeat("y", maxPlainKey), true},
		{strings.Repeat("y", maxPlainKey+1), false},
		{"", false},
		{" ", false},
		{"a/b", false},
		{`a\b`, false},
		{"a#b", false},
		{"a?b", false},
		{"a'b", false},
		{"tab\there", false},
		{"\x00", false},
		{"\u0085", false},
		{"ünï", false},
		{"🔥", false},
		{"\xff", false},
		{strings.Repeat("x", 5000), false},
		{windowRowKey, false},
		{hashedPrefix + strings.Repeat("ab", 32), false},
	} {
		k := key(test.in)
		if test.plain && k != test.in {
			t.Errorf("key(%.40q) = %q, want it unchanged", test.in, k)
		}
		if !test.plain && !hashed(test.in) {
			t.Errorf("key(%.40q) = %q, want the hashed form", test.in, k)
		}
		if !validKey(k) {
			t.Errorf("key(%.40q) = %q is not a valid table key", test.in, k)
		}
		if k == windowRowKey {
			t.Errorf("key(%.40q) is the window row key", test.in)
		}
		if key(test.in) != k {
			t.Errorf("key(%.40q) is not deterministic", test.in)
		}
	}
}

func TestKeyUnique(t *testing.T) {
	seen := map[string]string{}
	inputs := []string{"", " ", "a", "A", "a ", "a/b", "a\\b", windowRowKey, "~Window", hashedPrefix}
	for _, s := range inputs {
		inputs = append(inputs, key(s)) // a fingerprint equal to another's key
	}
	for _, s := range inputs {
		k := key(s)
		if prev, ok := seen[k]; ok && prev != s {
			t.Errorf("key(%q) = key(%q) = %q", s, prev, k)
		}
		seen[k] = s
	}
}

// validKey: at most 1 KiB, no / \ # ?, no control characters, and (ours) nothing to quote.
func validKey(k string) bool {
	if len(k) > 1024 || !utf8.ValidString(k) {
		return false
	}
	for _, r := range k {
		if r < 0x20 || (r >= 0x7f && r <= 0x9f) || strings.ContainsRune(`/\#?'`, r) {
			return false
		}
	}
	return true
}
