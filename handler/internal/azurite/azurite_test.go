package azurite_test

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
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
