package azurite_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/data/aztables"
	"github.com/huntwatch/huntwatch/handler/internal/azurite"
)

func TestStartStopRestartKeepsData(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Azurite: skipped with -short")
	}
	s := azurite.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	svc, err := aztables.NewServiceClientFromConnectionString(s.ConnectionString(),
		&aztables.ClientOptions{ClientOptions: policy.ClientOptions{Retry: policy.RetryOptions{MaxRetries: -1}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.CreateTable(ctx, "kept", nil); err != nil {
		t.Fatalf("create table: %v", err)
	}
	client := svc.NewClient("kept")
	if _, err := client.AddEntity(ctx, []byte(`{"PartitionKey":"p","RowKey":"r","V":"x"}`), nil); err != nil {
		t.Fatalf("add: %v", err)
	}

	s.Stop()
	if c, err := net.DialTimeout("tcp", s.Addr(), time.Second); err == nil {
		c.Close()
		t.Fatalf("%s still accepts connections after Stop", s.Addr())
	}
	s.Stop() // idempotent

	s.Restart()
	got, err := client.GetEntity(ctx, "p", "r", nil)
	if err != nil {
		t.Fatalf("get after restart: %v", err)
	}
	if want := `"V":"x"`; !strings.Contains(string(got.Value), want) {
		t.Errorf("entity after restart = %s, want it to contain %s", got.Value, want)
	}
}

func TestTwoServersAreIndependent(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Azurite: skipped with -short")
	}
	a, b := azurite.Start(t), azurite.Start(t)
	if a.Endpoint() == b.Endpoint() {
		t.Fatalf("both servers at %s", a.Endpoint())
	}
}

// BenchmarkTransaction: the time of one 100-insert transaction (one partition), with data on disk
// (the default) and in memory (InMemory), for small and ~1 KB entities, as the table grows. Each
// sub-benchmark writes -benchtime transactions into a fresh table and reports the median of the
// first and of the last tenth.
//
//	go test -run '^$' -bench Transaction -benchtime 200x ./handler/internal/azurite/
func BenchmarkTransaction(b *testing.B) {
	for _, mem := range []bool{false, true} {
		var opts []azurite.Option
		name := "disk"
		if mem {
			opts, name = append(opts, azurite.InMemory()), "memory"
		}
		s := azurite.Start(b, opts...)
		svc, err := aztables.NewServiceClientFromConnectionString(s.ConnectionString(), nil)
		if err != nil {
			b.Fatal(err)
		}
		seq := 0
		for _, size := range []int{50, 1000} {
			b.Run(fmt.Sprintf("persistence=%s/entity=%dB", name, size), func(b *testing.B) {
				ctx := context.Background()
				seq++ // the benchmark runs with b.N = 1 first
				table := fmt.Sprintf("tx%d", seq)
				if _, err := svc.CreateTable(ctx, table, nil); err != nil {
					b.Fatal(err)
				}
				client := svc.NewClient(table)
				pad := strings.Repeat("x", max(0, size-50))
				took := make([]time.Duration, 0, b.N)
				b.ResetTimer()
				for i := range b.N {
					actions := make([]aztables.TransactionAction, 100)
					for j := range actions {
						e, _ := json.Marshal(map[string]any{"PartitionKey": "p", "RowKey": fmt.Sprintf("%08d", i*100+j), "State": "delivered", "Pad": pad})
						actions[j] = aztables.TransactionAction{ActionType: aztables.TransactionTypeAdd, Entity: e}
					}
					t0 := time.Now()
					if _, err := client.SubmitTransaction(ctx, actions, nil); err != nil {
						b.Fatal(err)
					}
					took = append(took, time.Since(t0))
				}
				b.StopTimer()
				tenth := max(1, b.N/10)
				b.ReportMetric(float64(medianOf(took[:tenth]))/1e6, "first-ms/tx")
				b.ReportMetric(float64(medianOf(took[len(took)-tenth:]))/1e6, "last-ms/tx")
				b.ReportMetric(float64(slices.Max(took))/1e6, "max-ms/tx")
				t0 := time.Now()
				n := 0
				pager := client.NewListEntitiesPager(&aztables.ListEntitiesOptions{Select: to.Ptr("PartitionKey,RowKey")})
				for pager.More() {
					page, err := pager.NextPage(ctx)
					if err != nil {
						b.Fatal(err)
					}
					n += len(page.Entities)
				}
				b.ReportMetric(float64(time.Since(t0))/1e6, "list-keys-ms")
				if n != 100*b.N {
					b.Fatalf("listed %d of %d", n, 100*b.N)
				}
			})
		}
		s.Stop()
	}
}

func medianOf(xs []time.Duration) time.Duration {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}
