// Package azurite runs Azurite's Table service for tests: a real Table Storage emulator on a
// free loopback port with its own data directory, stopped when the test ends. With InMemory it
// keeps its data in memory only (--inMemoryPersistence; see InMemory).
//
// The binary is the one pinned in <repo root>/.ci (install it with `npm ci --prefix .ci`), or
// the one named by AZURITE_TABLE_BIN. A missing binary fails the test: it is never skipped.
package azurite

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/huntwatch/huntwatch/handler/internal/loopback"
)

// Account and Key are Azurite's well-known development account; they are public.
const (
	Account = "devstoreaccount1"
	Key     = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)

const (
	startTimeout = 20 * time.Second
	stopTimeout  = 10 * time.Second
)

// Server is a running azurite-table process.
type Server struct {
	t        testing.TB
	bin      string
	dir      string
	port     int
	inMemory bool

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd has exited
	out  *loopback.Buffer
}

// Option changes how Start runs Azurite.
type Option func(*Server)

// InMemory runs Azurite with --inMemoryPersistence instead of --location: its data lives in its
// memory only, so Restart is refused (it would lose every table).
//
// By default Azurite keeps its tables in one LokiJS database that it saves whole to disk every
// 5 s while anything changed, stalling the requests in flight (up to 5 s at 50,000 entities of
// 1 KB) and failing once the database outgrows a JavaScript string (about 512 MB). Either way
// each insert or update scans the partition's rows (LokiJS filters RowKey linearly after the
// PartitionKey index), so a transaction's cost grows with the partition: BenchmarkTransaction
// measures both.
func InMemory() Option { return func(s *Server) { s.inMemory = true } }

// Start starts azurite-table on a free loopback port with a temporary data directory, waits
// until it accepts connections, and stops it when the test ends.
func Start(t testing.TB, opts ...Option) *Server {
	t.Helper()
	bin, err := binary()
	if err != nil {
		t.Fatalf("azurite: %v", err)
	}
	s := &Server{t: t, bin: bin, dir: t.TempDir()}
	for _, o := range opts {
		o(s)
	}
	t.Cleanup(s.Stop)
	var lastErr error
	for range 3 { // a port found free may be taken before Azurite binds it
		port, err := loopback.FreePort()
		if err != nil {
			t.Fatalf("azurite: find a free port: %v", err)
		}
		s.port = port
		if lastErr = s.start(); lastErr == nil {
			return s
		}
	}
	t.Fatalf("azurite: %v", lastErr)
	return nil
}

// Endpoint is the table service URL, account included.
func (s *Server) Endpoint() string {
	return fmt.Sprintf("http://127.0.0.1:%d/%s", s.port, Account)
}

// ConnectionString is a shared-key connection string for the development account.
func (s *Server) ConnectionString() string {
	return fmt.Sprintf("DefaultEndpointsProtocol=http;AccountName=%s;AccountKey=%s;TableEndpoint=%s;", Account, Key, s.Endpoint())
}

// Addr is the loopback host:port the server listens on.
func (s *Server) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)) }

// Stop stops the server by its pid (interrupt, then kill after a grace period) and waits for it
// to exit. Data in its directory is kept. Stopping a stopped server does nothing.
func (s *Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stopLocked()
}

// Restart stops the server and starts it again on the same port with the same data directory.
// A server started InMemory has nothing to restart with: Restart fails the test.
func (s *Server) Restart() {
	s.t.Helper()
	if s.inMemory {
		s.t.Fatal("azurite: Restart of a server started InMemory would lose its data")
	}
	s.mu.Lock()
	s.stopLocked()
	s.mu.Unlock()
	deadline := time.Now().Add(startTimeout)
	for {
		err := s.start()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("azurite: restart: %v", err)
		}
		// The old socket may linger briefly; try again until the deadline.
	}
}

func (s *Server) start() error {
	out := &loopback.Buffer{Max: 64 << 10}
	persistence := []string{"--location", s.dir}
	if s.inMemory {
		persistence = []string{"--inMemoryPersistence"}
	}
	cmd := exec.Command(s.bin, append(append([]string{
		"--tableHost", "127.0.0.1",
		"--tablePort", strconv.Itoa(s.port)},
		persistence...),
		"--skipApiVersionCheck", "--disableTelemetry", "--silent")...)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.Dir = s.dir
	orphanProof(cmd)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", s.bin, err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()

	deadline := time.Now().Add(startTimeout)
	for {
		select {
		case <-done:
			return fmt.Errorf("azurite-table on port %d exited early: %s", s.port, out.String())
		default:
		}
		c, err := net.DialTimeout("tcp", s.Addr(), 200*time.Millisecond)
		if err == nil {
			c.Close()
			s.mu.Lock()
			s.cmd, s.done, s.out = cmd, done, out
			s.mu.Unlock()
			return nil
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			<-done
			return fmt.Errorf("azurite-table did not accept connections on %s within %v: %s", s.Addr(), startTimeout, out.String())
		}
		select {
		case <-done:
		case <-time.After(50 * time.Millisecond): // poll interval, not synchronisation
		}
	}
}

func (s *Server) stopLocked() {
	if s.cmd == nil {
		return
	}
	// SIGINT is Azurite's graceful shutdown: it saves its database before exiting.
	_ = s.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-s.done:
	case <-time.After(stopTimeout):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
	s.cmd, s.done = nil, nil
}

// binary finds azurite-table: $AZURITE_TABLE_BIN, else .ci/node_modules/.bin under the module root.
func binary() (string, error) {
	if b := os.Getenv("AZURITE_TABLE_BIN"); b != "" {
		if _, err := os.Stat(b); err != nil {
			return "", fmt.Errorf("AZURITE_TABLE_BIN=%s: %w", b, err)
		}
		return b, nil
	}
	root, err := repoRoot()
	if err != nil {
		return "", err
	}
	b := filepath.Join(root, ".ci", "node_modules", ".bin", "azurite-table")
	if _, err := os.Stat(b); err != nil {
		return "", fmt.Errorf("%s is missing: run `npm ci --prefix .ci` in %s (or set AZURITE_TABLE_BIN)", b, root)
	}
	return b, nil
}

func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory; set AZURITE_TABLE_BIN")
		}
		dir = parent
	}
}
