package kql

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// externaldata (https://learn.microsoft.com/kusto/query/externaldata-operator)
// reads the local copy of each URL, in the format of the with() properties
// (format, ignoreFirstRecord), typed by the declared columns.
func TestExternalData(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("iocs.csv", "DateAdded,IoC,Type\n2022-02-04,bad.example,domainname\n2022-02-05,\"a,b\",sha256\n")
	write("list.txt", "10.0.0.1\n10.0.0.2\r\n")
	write("Torlist", "192.0.2.1\n")
	write("rows.json", `[{"n": 1, "s": "x", "d": {"k": [1]}}, {"n": 2.5}]`)
	write("lines.json", "{\"n\": 1}\n{\"n\": 2}\n")
	write("mapped-elsewhere.tsv", "a\t1\nb\t2\n")
	opts := Options{Now: testNow, ExternalDataDir: dir, ExternalData: map[string]string{"https://x.test/q?id=7": filepath.Join(dir, "mapped-elsewhere.tsv")}}
	for _, tc := range []struct{ name, query, want string }{
		{"csv, first record ignored", `externaldata(DateAdded:datetime, IoC:string, Type:string) [@"https://raw.githubusercontent.com/x/y/master/Sample%20Data/iocs.csv"] with (format="csv", ignoreFirstRecord=true)`, `
			DateAdded:datetime|IoC:string|Type:string
			2022-02-04T00:00:00.0000000Z|bad.example|domainname
			2022-02-05T00:00:00.0000000Z|a,b|sha256`},
		{"txt, one line a record", `externaldata(IP:string) [h@'https://feeds.test/list.txt'] with (format='txt')`, `
			IP:string
			10.0.0.1
			10.0.0.2`},
		{"file named after the last path segment", `externaldata(IP:string)[@"https://www.dan.me.uk/Torlist/?full"] with (format="txt", ignoreFirstRecord=False) | count`, `
			Count:long
			1`},
		{"json array, format from the extension", `externaldata(n:real, s:string, d:dynamic) ["https://x.test/rows.json"]`, `
			n:real|s:string|d:dynamic
			1|x|{"k":[1]}
			2.5||`},
		{"multijson", `externaldata(n:long) ["https://x.test/lines.json"] with (format="multijson") | summarize sum(n)`, `
			sum_n:long
			3`},
		{"Options.ExternalData maps a URL to a file", `externaldata(k:string, v:long) ["https://x.test/q?id=7"] with (format="tsv")`, `
			k:string|v:long
			a|1
			b|2`},
		{"in a let, in an in() list", `let Bad = externaldata(DateAdded:string, IoC:string, Type:string) [@"https://raw.githubusercontent.com/x/y/master/Sample%20Data/iocs.csv"] with (format="csv", ignoreFirstRecord=true) | project IoC;
			print found = "bad.example" in (Bad), missing = "good.example" in (externaldata(IP:string) [h@'https://feeds.test/list.txt'] with (format='txt'))`, `
			found:bool|missing:bool
			true|false`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := Run(t.Context(), tc.query, nil, opts)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := render(res), strings.TrimSpace(dedent(tc.want)); got != want {
				t.Errorf("got:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

// A URL without a local copy fails with the URL and the file to provide.
func TestExternalDataMissing(t *testing.T) {
	q := "let x = 1;\nexternaldata(a:string) [@\"https://feeds.test/path/feed.csv\"]"
	_, err := Run(t.Context(), q, nil, Options{Now: testNow, ExternalDataDir: "/logs/externaldata"})
	kerr, ok := err.(*Error)
	if !ok || kerr.Pos != (Pos{2, 1}) || !strings.Contains(kerr.Msg, "https://feeds.test/path/feed.csv") || !strings.Contains(kerr.Msg, filepath.Join("/logs/externaldata", "feed.csv")) {
		t.Errorf("got %v, want an error at 2:1 naming the URL and /logs/externaldata/feed.csv", err)
	}
	_, err = Run(t.Context(), q, nil, Options{Now: testNow})
	if err == nil || !strings.Contains(err.Error(), "<logs>/externaldata/feed.csv") {
		t.Errorf("without a folder: got %v, want the conventional place", err)
	}
}

func TestExternalDataFile(t *testing.T) {
	for url, want := range map[string]string{
		"https://raw.githubusercontent.com/Azure/Azure-Sentinel/master/Sample%20Data/Feeds/ActiniumIOC.csv": "ActiniumIOC.csv",
		"https://www.dan.me.uk/Torlist/?full":        "Torlist",
		"https://bazaar.abuse.ch/export/csv/recent/": "recent",
		"https://example.test":                       ExternalDataFile("https://example.test"),
		"https://example.test/a%2Fb":                 ExternalDataFile("https://example.test/a%2Fb"),
	} {
		if got := ExternalDataFile(url); got != want {
			t.Errorf("ExternalDataFile(%q) = %q, want %q", url, got, want)
		}
	}
	if got := ExternalDataFile("https://example.test"); !strings.HasPrefix(got, "externaldata-") || len(got) != len("externaldata-")+12 {
		t.Errorf("a URL without a path: got %q, want externaldata-<12 hex digits>", got)
	}
	if got := ExternalDataFile("https://example.test/a%2Fb"); strings.Contains(got, "/") {
		t.Errorf("an escaped slash must not make a path: %q", got)
	}
}
