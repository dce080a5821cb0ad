package loganalytics_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/huntwatch/huntwatch/handler/hunt"
	"github.com/huntwatch/huntwatch/handler/internal/fakeazure"
	"github.com/huntwatch/huntwatch/handler/loganalytics"
)

const token = "test-access-token-123"

var table = fakeazure.Table{
	Columns: []fakeazure.Column{{Name: "TimeGenerated", Type: "datetime"}, {Name: "Caller", Type: "string"}, {Name: "FileSize", Type: "long"}, {Name: "Score", Type: "real"},
		{Name: "Ok", Type: "bool"}, {Name: "Commands", Type: "dynamic"}, {Name: "Bag", Type: "dynamic"}, {Name: "Id", Type: "guid"}},
	Rows: [][]any{
		{"2026-11-01T12:00:00.1234567Z", "alice@contoso.com", 1234, 0.5, true, `["Get-Process","whoami"]`, `{"a":1}`, "6f1b0c1e-0000-0000-0000-000000000001"},
		{nil, nil, nil, nil, nil, nil, nil, nil},
	},
}

// newSource wires the real azquery client through the real managed identity credential, talking
// to the App Service identity protocol, to a TLS Log Analytics server.
func newSource(t *testing.T, la *fakeazure.LogAnalytics) (*loganalytics.Source, *fakeazure.Identity) {
	t.Helper()
	id := fakeazure.NewIdentity(t, token)
	for k, v := range id.Env() {
		t.Setenv(k, v)
	}
	cred, err := azidentity.NewManagedIdentityCredential(&azidentity.ManagedIdentityCredentialOptions{ID: azidentity.ClientID("client-1")})
	if err != nil {
		t.Fatal(err)
	}
	src, err := loganalytics.New("ws-1", la.Endpoint(), cred, loganalytics.Options{Transport: la.Client(), ServerTimeout: 5 * time.Second, MaxRetries: 2})
	if err != nil {
		t.Fatal(err)
	}
	return src, id
}

var window = hunt.Window{Start: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), End: time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)}

func TestQueryThroughManagedIdentity(t *testing.T) {
	la := fakeazure.NewLogAnalytics(t, token)
	la.SetTable(table)
	src, id := newSource(t, la)
	res, err := src.Query(context.Background(), "AzureActivity | take 1", window)
	if err != nil {
		t.Fatal(err)
	}
	reqs := la.Requests()
	if len(reqs) != 1 || reqs[0].Workspace != "ws-1" || reqs[0].Query != "AzureActivity | take 1" || reqs[0].Prefer != "wait=5" {
		t.Fatalf("requests %+v", reqs)
	}
	if reqs[0].Timespan != "2026-11-01T00:00:00Z/2026-11-02T00:00:00Z" {
		t.Errorf("timespan %q", reqs[0].Timespan)
	}
	calls := id.Calls()
	if len(calls) == 0 || calls[0].ClientID != "client-1" || !strings.HasPrefix(calls[0].Resource, "https://127.0.0.1") {
		t.Errorf("identity calls %+v", calls)
	}
	if res.Partial != nil || len(res.Rows) != 2 || len(res.Columns) != 8 || res.Columns[2] != (hunt.Column{Name: "FileSize", Type: "long"}) {
		t.Fatalf("result %+v", res)
	}
	r := res.Rows[0]
	if tm, ok := r[0].(time.Time); !ok || !tm.Equal(time.Date(2026, 11, 1, 12, 0, 0, 123456700, time.UTC)) {
		t.Errorf("datetime %#v", r[0])
	}
	if r[2] != int64(1234) || r[3] != 0.5 || r[4] != true || r[7] != "6f1b0c1e-0000-0000-0000-000000000001" {
		t.Errorf("scalars %#v", r)
	}
	if l, ok := r[5].([]any); !ok || len(l) != 2 || l[1] != "whoami" {
		t.Errorf("dynamic list %#v", r[5])
	}
	if m, ok := r[6].(map[string]any); !ok || m["a"] != 1.0 {
		t.Errorf("dynamic bag %#v", r[6])
	}
	for i, v := range res.Rows[1] {
		if v != nil {
			t.Errorf("null column %d = %#v", i, v)
		}
	}
}

func TestQueryFaults(t *testing.T) {
	for _, test := range []struct {
		name      string
		faults    []fakeazure.Fault
		wantErr   string // "" = success
		partial   bool
		wantCalls int
	}{
		{name: "429 with Retry-After then ok", faults: []fakeazure.Fault{{Status: 429, RetryAfter: "1"}}, wantCalls: 2},
		{name: "500 then ok", faults: []fakeazure.Fault{{Status: 500}}, wantCalls: 2},
		{name: "503 for every try", faults: []fakeazure.Fault{{Status: 503}, {Status: 503}, {Status: 503}}, wantErr: "HTTP 503", wantCalls: 3},
		{name: "bad request is not retried", faults: []fakeazure.Fault{{Status: 400}}, wantErr: "HTTP 400", wantCalls: 1},
		{name: "partial result", faults: []fakeazure.Fault{{Partial: "query exceeded memory"}}, partial: true, wantCalls: 1},
		{name: "malformed body", faults: []fakeazure.Fault{{Body: `{"tables": [`}}, wantErr: "ws-1", wantCalls: 1},
		{name: "no table", faults: []fakeazure.Fault{{Body: `{"tables": []}`}}, wantErr: "no result table", wantCalls: 1},
		{name: "value of the wrong type", faults: []fakeazure.Fault{{Body: `{"tables":[{"name":"PrimaryResult","columns":[{"name":"N","type":"long"}],"rows":[["x"]]}]}`}}, wantErr: "column N", wantCalls: 1},
		{name: "bad datetime", faults: []fakeazure.Fault{{Body: `{"tables":[{"name":"PrimaryResult","columns":[{"name":"T","type":"datetime"}],"rows":[["yesterday"]]}]}`}}, wantErr: "column T", wantCalls: 1},
	} {
		t.Run(test.name, func(t *testing.T) {
			la := fakeazure.NewLogAnalytics(t, token)
			la.SetTable(table)
			la.Fail(test.faults...)
			src, _ := newSource(t, la)
			res, err := src.Query(context.Background(), "T", window)
			if got := len(la.Requests()); got != test.wantCalls {
				t.Errorf("%d calls, want %d", got, test.wantCalls)
			}
			if test.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), test.wantErr) {
					t.Fatalf("err %v, want one containing %q", err, test.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if (res.Partial != nil) != test.partial || len(res.Rows) != 2 {
				t.Errorf("partial %v rows %d", res.Partial, len(res.Rows))
			}
		})
	}
}

func TestQueryDeadline(t *testing.T) {
	la := fakeazure.NewLogAnalytics(t, token)
	la.Fail(fakeazure.Fault{Delay: time.Minute})
	src, _ := newSource(t, la)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := src.Query(ctx, "T", window)
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 10*time.Second {
		t.Fatalf("err %v after %v", err, time.Since(start))
	}
}

func TestQueryIdentityDownThenBack(t *testing.T) {
	la := fakeazure.NewLogAnalytics(t, token)
	la.SetTable(table)
	src, id := newSource(t, la)
	id.Unavailable(100)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	_, err := src.Query(ctx, "T", window)
	if err == nil || len(la.Requests()) != 0 {
		t.Fatalf("err %v, %d queries sent without a token", err, len(la.Requests()))
	}
	if strings.Contains(err.Error(), token) {
		t.Error("token in error")
	}
	id.Unavailable(0)
	if _, err := src.Query(context.Background(), "T", window); err != nil {
		t.Fatalf("after recovery: %v", err)
	}
}

func TestQueryWrongTokenIsAResponseError(t *testing.T) {
	la := fakeazure.NewLogAnalytics(t, "another-token")
	src, _ := newSource(t, la)
	_, err := src.Query(context.Background(), "T", window)
	var re *azcore.ResponseError
	if !errors.As(err, &re) || re.StatusCode != http.StatusUnauthorized {
		t.Fatalf("err %v", err)
	}
}
