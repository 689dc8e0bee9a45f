package main

import (
	"bytes"
	"context"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cgoesl/esl/esltest"
)

// syncBuffer is written by the handlers' threads and read by the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (w *syncBuffer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *syncBuffer) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

// TestOutboundExample runs the program against the fake FreeSWITCH: the caller presses 5,
// then 9 (transfer), and hangs up.
func TestOutboundExample(t *testing.T) {
	fs := esltest.NewServer(esltest.WithPlaybackDuration(20 * time.Millisecond))
	defer fs.Close()

	var out syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ready := make(chan net.Addr, 1)
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"-listen", "127.0.0.1:0"}, &out, ready) }()
	var addr net.Addr
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatalf("run: %v", err)
	}

	call, err := fs.DialOutbound(ctx, addr.String(), esltest.OutboundOptions{
		Async: true, Full: true, Destination: "7001", DTMF: "59", HangupAfter: 500 * time.Millisecond,
	})
	require.NoError(t, err)
	select {
	case <-call.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("the call did not end")
	}
	require.NoError(t, call.Wait())
	assert.Equal(t, "connect", call.Received()[0])
	assert.Contains(t, call.Received(), "myevents")
	assert.Contains(t, call.Received(), "divert_events on")

	cancel()
	require.NoError(t, <-done)
	log := out.String()
	t.Log("\n" + log)
	for _, want := range []string{
		"Listening for connections on 127.0.0.1:",
		"] Call to [7001]",
		"EVENT: CHANNEL_ANSWER",
		"DTMF DIGIT 5 (2000)",
		"DTMF DIGIT 9 (2000)",
		"Connection closed",
		"Stopped: 1 calls served, 0 refused, 0 panics",
	} {
		assert.Contains(t, log, want)
	}
	// The transfer on 9 was accepted, and the call's events went on after it.
	assert.Contains(t, log, "Transfer to 99355151: +OK")
	assert.Less(t, strings.Index(log, "Transfer to"), strings.LastIndex(log, "EVENT: CHANNEL_HANGUP"))
}
