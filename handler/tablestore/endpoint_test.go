package tablestore_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/huntwatch/huntwatch/handler/tablestore"
)

type fakeCredential struct{}

func (fakeCredential) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	return azcore.AccessToken{Token: "fake-token", ExpiresOn: time.Now().Add(time.Hour)}, nil
}

// TestFromEndpoint: managed identity sends a bearer token (over TLS only) to the endpoint.
func TestFromEndpoint(t *testing.T) {
	var mu sync.Mutex
	var auth []string
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		mu.Lock()
		auth = append(auth, r.Method+" "+r.Header.Get("Authorization"))
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json;odata=minimalmetadata")
		if r.Method == http.MethodPost {
			w.WriteHeader(http.StatusCreated)
			io.WriteString(w, `{"TableName":"hunts"}`)
			return
		}
		io.WriteString(w, `{"value":[]}`)
	}))
	defer srv.Close()

	s, err := tablestore.FromEndpoint(nil, srv.URL, fakeCredential{}, "hunts", &tablestore.Options{Transport: srv.Client(), Retry: policy.RetryOptions{RetryDelay: time.Millisecond, MaxRetryDelay: 10 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	st, err := s.Load(context.Background(), "h")
	if err != nil || len(st.Records) != 0 || !st.WindowEnd.IsZero() {
		t.Fatalf("Load = %+v, %v", st, err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(auth) != 3 || auth[0] != "POST Bearer fake-token" || auth[1] != "GET Bearer fake-token" || auth[2] != "GET Bearer fake-token" {
		t.Errorf("requests %q, want create table and two listings (sparse, pending), all with the bearer token", auth)
	}

	if _, err := tablestore.FromEndpoint(nil, "not a url", fakeCredential{}, "hunts", nil); err == nil {
		t.Error("FromEndpoint accepted a relative endpoint")
	}
	srv.Close()
	_, err = s.Load(context.Background(), "h")
	if err == nil || !strings.Contains(err.Error(), srv.URL) || !strings.Contains(err.Error(), "hunts") {
		t.Errorf("Load from a closed server: %v; want an error naming the endpoint and table", err)
	}
}
