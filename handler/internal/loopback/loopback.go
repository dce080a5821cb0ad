// Package loopback holds what the tests' servers and child processes share: a free TCP port on
// 127.0.0.1 and a buffer a child process can write its output to while the test reads it.
package loopback

import (
	"bytes"
	"net"
	"strconv"
	"sync"
	"testing"
)

// FreePort returns a port on 127.0.0.1 that nobody listened on a moment ago.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Port is FreePort as a string, failing tb when none can be had.
func Port(tb testing.TB) string {
	tb.Helper()
	p, err := FreePort()
	if err != nil {
		tb.Fatal(err)
	}
	return strconv.Itoa(p)
}

// Buffer is a bytes.Buffer safe for one writer and concurrent readers. With Max set, it keeps
// the first Max bytes or so and drops the rest.
type Buffer struct {
	Max int

	mu sync.Mutex
	b  bytes.Buffer
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.Max > 0 && b.b.Len() > b.Max {
		return len(p), nil
	}
	return b.b.Write(p)
}

func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
