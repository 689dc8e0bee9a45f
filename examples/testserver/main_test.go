package main

import (
	"context"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cgoesl/esl"
	"github.com/cgoesl/esl/esltest"
)

// syncBuffer is a bytes.Buffer for one writer goroutine and one reader.
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

// TestCall has the fake FreeSWITCH run `socket <addr> async full` and hang up; the
// server answers, runs its application, sees the linger notice and lets go.
func TestCall(t *testing.T) {
	if esl.Backend() != "csrc" {
		t.Skipf("skipping: with the %s backend testserver serves with ListenThreaded, which cannot be stopped", esl.Backend())
	}
	fs := esltest.NewServer()
	defer fs.Close()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var logs syncBuffer
	ready := make(chan net.Addr, 1)
	served := make(chan error, 1)
	go func() {
		served <- run(ctx, []string{"-listen", "127.0.0.1:0", "-app", "playback", "-arg", "tone_stream://%(100,0,440)",
			"-grace", "200ms", "-loglevel=-1"}, &logs, ready)
	}()
	var addr net.Addr
	select {
	case addr = <-ready:
	case err := <-served:
		t.Fatalf("testserver ended: %v\n%s", err, logs.String())
	case <-time.After(10 * time.Second):
		t.Fatal("testserver did not start")
	}

	call, err := fs.DialOutbound(ctx, addr.String(), esltest.OutboundOptions{Async: true, Full: true})
	require.NoError(t, err)
	require.Eventually(t, func() bool { return call.Channel().Answered() }, 10*time.Second, 10*time.Millisecond,
		"the server should answer")
	call.Hangup("NORMAL_CLEARING")

	select {
	case <-call.Done():
	case <-time.After(15 * time.Second):
		t.Fatalf("the server did not close the socket\n%s", logs.String())
	}
	assert.NoError(t, call.Wait())

	received := strings.Join(call.Received(), "\n")
	for _, want := range []string{"connect", "filter unique-id " + call.UUID(), "event plain SESSION_HEARTBEAT", "linger", "sendmsg"} {
		assert.Contains(t, received, want)
	}

	cancel()
	select {
	case err := <-served:
		require.NoError(t, err)
	case <-time.After(15 * time.Second):
		t.Fatal("testserver did not stop")
	}
	out := logs.String()
	t.Log(out)
	for _, want := range []string{"Connected!", "event CHANNEL_ANSWER", "Got a disconnection notice dispostion: [linger]", "Disconnected!"} {
		assert.Contains(t, out, want)
	}
}
