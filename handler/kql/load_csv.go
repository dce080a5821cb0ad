package kql

import (
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// Reading CSV exports: a header row, then one row a line; cells stay text
// until load_types.go types them. The Azure portal's export has its own
// datetime form and "[UTC]" column names.

func readCSV(path string) ([]record, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	header, err := r.Read()
	if err == io.EOF {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%s: header: %v", path, err)
	}
	if len(header) > 0 {
		header[0] = strings.TrimPrefix(header[0], "\ufeff")
	}
	for i, h := range header {
		// The Azure portal's export names datetime columns "TimeGenerated [UTC]".
		header[i] = strings.TrimSuffix(h, " [UTC]")
	}
	var recs []record
	for {
		cells, err := r.Read()
		if err == io.EOF {
			return recs, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: row %d: %v", path, len(recs)+1, err)
		}
		line, _ := r.FieldPos(0)
		if len(cells) != len(header) {
			return nil, fmt.Errorf("%s: row %d (line %d): %d fields, header has %d", path, len(recs)+1, line, len(cells), len(header))
		}
		rec := record{file: path, row: len(recs) + 1, line: line}
		for i, c := range cells {
			var v any = csvText(c)
			if c == "" {
				v = nil
			}
			rec.fields = append(rec.fields, field{name: header[i], value: v})
		}
		recs = append(recs, rec)
	}
}

// portalLayouts are how the Azure portal's CSV export writes datetimes in its "[UTC]" columns
// (US English: month first, a 12-hour clock; fractions of a second are optional).
var portalLayouts = []string{"1/2/2006, 3:04:05 PM", "1/2/2006 3:04:05 PM"}

func parsePortalDatetime(s string) (time.Time, bool) {
	for _, layout := range portalLayouts {
		if t, err := time.Parse(layout, strings.TrimSpace(s)); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}
