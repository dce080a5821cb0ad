package fakeazure_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/data/aztables"

	"github.com/huntwatch/huntwatch/handler/hunt"
	"github.com/huntwatch/huntwatch/handler/hunt/storetest"
	"github.com/huntwatch/huntwatch/handler/internal/fakeazure"
	"github.com/huntwatch/huntwatch/handler/tablestore"
)

var seq atomic.Int64

// The handler's store passes its conformance suite against the fake Table service, with its
// transactions eight at a time as against Azure (the fake's account is not Azurite's).
func TestTablesConformance(t *testing.T) {
	ts := fakeazure.NewTables(t)
	storetest.Run(t, func(t *testing.T) hunt.Store {
		s, err := tablestore.FromConnectionString(slog.New(slog.DiscardHandler), ts.ConnectionString(), fmt.Sprintf("conf%d", seq.Add(1)), nil)
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

// A transaction is applied whole or not at all, its failure names the operation, and the keys and
// filters of the wire protocol (quotes, ranges, or, not, types) select what Azure selects.
func TestTablesProtocol(t *testing.T) {
	ctx := context.Background()
	ts := fakeazure.NewTables(t)
	svc, err := aztables.NewServiceClientFromConnectionString(ts.ConnectionString(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.CreateTable(ctx, "proto", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.CreateTable(ctx, "proto", nil); err == nil || !strings.Contains(err.Error(), "TableAlreadyExists") {
		t.Fatalf("second create: %v", err)
	}
	c := svc.NewClient("proto")
	ent := func(pk, rk string, n int) []byte {
		return fmt.Appendf(nil, `{"PartitionKey":%q,"RowKey":%q,"N":%d,"Big":"%d","Big@odata.type":"Edm.Int64","At":"2026-12-0%dT00:00:00Z","At@odata.type":"Edm.DateTime","S":"v%d"}`, pk, rk, n, n, n%9+1, n)
	}
	var acts []aztables.TransactionAction
	for i := range 5 {
		acts = append(acts, aztables.TransactionAction{ActionType: aztables.TransactionTypeAdd, Entity: ent("p'1", fmt.Sprintf("r/%d'", i), i)})
	}
	if _, err := c.SubmitTransaction(ctx, acts, nil); err != nil {
		t.Fatal(err)
	}
	// The third operation conflicts: nothing of the transaction is applied.
	acts = []aztables.TransactionAction{
		{ActionType: aztables.TransactionTypeAdd, Entity: ent("p'1", "new", 9)},
		{ActionType: aztables.TransactionTypeUpdateReplace, Entity: ent("p'1", "r/0'", 10)},
		{ActionType: aztables.TransactionTypeAdd, Entity: ent("p'1", "r/1'", 11)},
	}
	if _, err := c.SubmitTransaction(ctx, acts, nil); err == nil || !strings.Contains(err.Error(), "2:The specified entity already exists") {
		t.Fatalf("conflicting transaction: %v", err)
	}
	if _, err := c.GetEntity(ctx, "p'1", "new", nil); err == nil {
		t.Fatal("a failed transaction's insert was applied")
	}
	got, err := c.GetEntity(ctx, "p'1", "r/0'", nil)
	if err != nil || !strings.Contains(string(got.Value), `"N":0`) {
		t.Fatalf("get: %s, %v", got.Value, err)
	}
	if _, err := c.UpdateEntity(ctx, ent("p'1", "r/0'", 20), &aztables.UpdateEntityOptions{IfMatch: to.Ptr(got.ETag), UpdateMode: aztables.UpdateModeReplace}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.UpdateEntity(ctx, ent("p'1", "r/0'", 21), &aztables.UpdateEntityOptions{IfMatch: to.Ptr(got.ETag), UpdateMode: aztables.UpdateModeReplace}); err == nil || !strings.Contains(err.Error(), "UpdateConditionNotSatisfied") {
		t.Fatalf("update with a stale ETag: %v", err)
	}
	long := strings.Repeat("x", 300) // decoded only when a filter needs it
	if _, err := c.AddEntity(ctx, fmt.Appendf(nil, `{"PartitionKey":"q","RowKey":"long","L":%q}`, long), nil); err != nil {
		t.Fatal(err)
	}
	for filter, want := range map[string]string{
		"L eq '" + long + "'":              "long",
		"PartitionKey eq 'q' and L lt 'x'": "",
		"PartitionKey eq 'p''1'":           "r/0' r/1' r/2' r/3' r/4'",
		"PartitionKey eq 'p''1' and RowKey ge 'r/1''' and RowKey lt 'r/3'": "r/1' r/2'",
		"(RowKey eq 'r/1''' or RowKey eq 'r/4''') and not (N eq 4)":        "r/1'",
		"Big gt 2L":                            "r/0' r/3' r/4'",
		"At lt datetime'2026-12-03T00:00:00Z'": "r/1'",
		"S eq 'v3' or Missing eq 'x'":          "r/3'",
		"N ge 2.5 and N le 4":                  "r/3' r/4'",
	} {
		var keys []string
		p := c.NewListEntitiesPager(&aztables.ListEntitiesOptions{Filter: to.Ptr(filter), Select: to.Ptr("RowKey"), Top: to.Ptr[int32](2)})
		for p.More() {
			page, err := p.NextPage(ctx)
			if err != nil {
				t.Fatalf("%s: %v", filter, err)
			}
			for _, e := range page.Entities {
				var m map[string]any
				if err := json.Unmarshal(e, &m); err != nil || m["N"] != nil {
					t.Fatalf("%s: %s (select RowKey), %v", filter, e, err)
				}
				keys = append(keys, m["RowKey"].(string))
			}
		}
		if got := strings.Join(keys, " "); got != want {
			t.Errorf("%s: %q, want %q", filter, got, want)
		}
	}
}
