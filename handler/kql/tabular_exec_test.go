package kql

import "testing"

func TestLetAndSources(t *testing.T) {
	runTable(t, eventsDB(), []queryTest{
		{"scalar lets", `let lookback = 2h; let minLevel = 1 + 2; let t0 = datetime(2024-01-01 03:00);
			Events | where TimeGenerated >= t0 - lookback and Level >= minLevel | project Computer`, `
			Computer:string
			web2
			web1`},
		{"tabular lets", `let web = Events | where Computer startswith "web";
			let levels = web | summarize n = count() by Computer;
			levels | order by Computer asc`, `
			Computer:string|n:long
			web1|2
			web2|1`},
		{"let naming a table", `let E = Events; E | count`, `
			Count:long
			4`},
		{"toscalar", `let maxLevel = toscalar(Events | summarize max(Level));
			Events | where Level == maxLevel | project Computer`, `
			Computer:string
			web2`},
		{"datatable", `datatable(a:long, b:string, c:dynamic, d:datetime)[1, "x", dynamic({"k": 1}), datetime(2024-01-01), -2, 'y', dynamic([1]), datetime(null)]`, `
			a:long|b:string|c:dynamic|d:datetime
			1|x|{"k":1}|2024-01-01T00:00:00.0000000Z
			-2|y|[1]|`},
		{"range of datetimes", `range t from datetime(2024-01-01) to datetime(2024-01-01 02:00) step 1h`, `
			t:datetime
			2024-01-01T00:00:00.0000000Z
			2024-01-01T01:00:00.0000000Z
			2024-01-01T02:00:00.0000000Z`},
		{"parenthesized source and materialize", `let m = materialize(Events | where Level > 2); (m | project Computer) | take 1`, `
			Computer:string
			web2`},
	})
}
