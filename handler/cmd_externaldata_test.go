package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// externaldata in local mode: --externaldata URL=FILE reads that URL from FILE; without it the
// error names the file to add under <logs>/externaldata.
func TestQueryExternalData(t *testing.T) {
	chdirRoot(t)
	const url = "https://127.0.0.1/lists/ips.csv"
	q := `externaldata(Ip:string)["` + url + `"] with (format="csv") | join kind=inner (AzureActivity | distinct CallerIpAddress) on $left.Ip == $right.CallerIpAddress | count`
	code, _, errOut := runMain(t, nil, "query", q)
	if code != 1 || !strings.Contains(errOut, "externaldata") || !strings.Contains(errOut, "ips.csv") {
		t.Fatalf("without the file: exit %d\n%s", code, errOut)
	}
	file := filepath.Join(t.TempDir(), "ips.csv")
	if err := os.WriteFile(file, []byte("203.0.113.10\n198.51.100.250\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runMain(t, nil, "query", "--externaldata", url+"="+file, q)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || strings.TrimSpace(lines[len(lines)-1]) != "1" {
		t.Fatalf("with the file: exit %d\n%s\n%s", code, out, errOut)
	}
	if code, _, _ := runMain(t, nil, "query", "--externaldata", "no-equals-sign", q); code != 2 {
		t.Errorf("a bad --externaldata: exit %d, want 2 (usage)", code)
	}
}
