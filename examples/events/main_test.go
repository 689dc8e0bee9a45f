package main

import (
	"bytes"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cgoesl/esl/esltest"
)

// runEvents runs the program until it has printed n events, firing a CUSTOM event every
// 20 ms meanwhile (the first ones may come before the subscription).
func runEvents(t *testing.T, srv *esltest.Server, args ...string) string {
	t.Helper()
	var out, errOut bytes.Buffer
	done := make(chan error, 1)
	base := []string{"-H", srv.Host(), "-P", strconv.Itoa(srv.Port()), "-p", srv.Password()}
	go func() { done <- run(append(base, args...), &out, &errOut) }()

	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
			srv.FireEvent("CUSTOM", map[string]string{"Event-Subclass": "example::tick", "X-Tick": strconv.Itoa(i)}, "tick body")
		}
	}()
	defer func() { close(stop); wg.Wait() }()

	select {
	case err := <-done:
		require.NoError(t, err, errOut.String())
	case <-time.After(20 * time.Second):
		t.Fatal("events did not stop after -n events")
	}
	return out.String()
}

func TestPlain(t *testing.T) {
	srv := esltest.NewServer()
	defer srv.Close()
	out := runEvents(t, srv, "-events", "CUSTOM example::tick", "-n", "3")
	assert.True(t, strings.HasPrefix(out, "connected\n"), out)
	assert.Equal(t, 3, strings.Count(out, "Event-Name: CUSTOM\n"), out)
	assert.Contains(t, out, "Event-Subclass: example%3A%3Atick\n")
	assert.Contains(t, out, "\n\ntick body")
}

func TestJSON(t *testing.T) {
	srv := esltest.NewServer()
	defer srv.Close()
	out := runEvents(t, srv, "-events", "ALL", "-format", "json", "-n", "2")
	assert.Contains(t, out, `"Event-Subclass":`)
	assert.Contains(t, out, `"example::tick"`)
	assert.Contains(t, out, `"_body":`)
}

type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// The loop ends when the server goes away.
func TestServerGone(t *testing.T) {
	srv := esltest.NewServer()
	var out, errOut syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run([]string{"-H", srv.Host(), "-P", strconv.Itoa(srv.Port()), "-p", srv.Password()}, &out, &errOut)
	}()
	// Once an event came through, the subscription is in place.
	require.Eventually(t, func() bool {
		srv.FireEvent("CUSTOM", map[string]string{"Event-Subclass": "example::tick"}, "")
		return strings.Contains(out.String(), "Event-Name: CUSTOM")
	}, 10*time.Second, 20*time.Millisecond)
	srv.Close()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("events did not end when the server closed")
	}
}

func TestCannotConnect(t *testing.T) {
	srv := esltest.NewServer()
	addrPort := srv.Port()
	srv.Close()
	var out, errOut bytes.Buffer
	err := run([]string{"-H", "127.0.0.1", "-P", strconv.Itoa(addrPort)}, &out, &errOut)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "cannot connect")
}
