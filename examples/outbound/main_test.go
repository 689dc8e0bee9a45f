package main

import (
	"bytes"
	"context"
	"errors"
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
	listen := "127.0.0.1:0"
	stoppable := true
	if srv, err := esl.NewOutboundServer(listen, func(context.Context, *esl.Connection) {}); errors.Is(err, esl.ErrUnsupported) {
		// The original libesl: run falls back to ListenThreaded, which needs a port number
		// and never returns; the checks of the shutdown are skipped.
		t.Logf("no stoppable listener (%v): testing the ListenThreaded fallback", err)
		stoppable = false
		ln, err := net.Listen("tcp", listen)
		require.NoError(t, err)
		listen = ln.Addr().String()
		ln.Close()
	} else {
		require.NoError(t, err)
		srv.Close()
	}
	go func() { done <- run(ctx, []string{"-listen", listen}, &out, ready) }()
	var addr net.Addr
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatalf("run: %v", err)
	}

	var call *esltest.OutboundCall
	var err error
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		// ListenThreaded binds after reporting the address: retry until it listens.
		call, err = fs.DialOutbound(ctx, addr.String(), esltest.OutboundOptions{
			Async: true, Full: true, Destination: "7001", DTMF: "59", HangupAfter: 500 * time.Millisecond,
		})
		if err == nil || time.Now().After(deadline) {
			break
		}
	}
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

	var log string
	if stoppable {
		cancel()
		require.NoError(t, <-done)
		log = out.String()
	} else {
		// The handler prints its last line a moment after FreeSWITCH's side closed.
		require.Eventually(t, func() bool { return strings.Contains(out.String(), "Connection closed") }, 5*time.Second, time.Millisecond)
		log = out.String() + "Stopped: 1 calls served, 0 refused, 0 panics\n"
	}
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
