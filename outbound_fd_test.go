//go:build cgo

package esl

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cgoesl/esl/esltest"
)

// acceptFD accepts one connection on l and returns a duplicate of its socket (still
// non-blocking, like the sockets esl_listen hands out); the net.Conn is closed.
func acceptFD(t *testing.T, l net.Listener) int {
	t.Helper()
	nc, err := l.Accept()
	require.NoError(t, err)
	defer nc.Close()
	raw, err := nc.(*net.TCPConn).SyscallConn()
	require.NoError(t, err)
	fd := -1
	require.NoError(t, raw.Control(func(s uintptr) { fd, err = syscall.Dup(int(s)) }))
	require.NoError(t, err)
	return fd
}

func TestNewConnectionFD(t *testing.T) {
	checkLeaks(t)
	srv := fakeFS(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	oc, err := srv.DialOutbound(ctx, l.Addr().String(), esltest.OutboundOptions{Async: true, Full: true, Destination: "7001"})
	require.NoError(t, err)

	c := NewConnectionFD(acceptFD(t, l))
	require.True(t, c.Connected(), "%v", c.Err())
	defer c.Disconnect()
	assert.Greater(t, c.SocketDescriptor(), 2)

	info := c.GetInfo()
	require.NotNil(t, info)
	assert.Equal(t, "SOCKET_DATA", info.GetHeader("Event-Name"), "quirk Q8, as in libesl")
	assert.Equal(t, oc.UUID(), info.GetHeader("Unique-ID"))
	assert.Equal(t, "+OK\n", info.GetHeader("Reply-Text"))
	assert.Equal(t, "command/reply", info.ContentType())
	info.AddHeader("X", "y")
	assert.Equal(t, "", c.GetInfo().GetHeader("X"), "GetInfo returns a copy")

	assert.Equal(t, "+OK Events Enabled", c.SendRecv("myevents").ReplyText())
	assert.Equal(t, "+OK will linger", c.SendRecv("linger").ReplyText())
	assert.Equal(t, "+OK", c.Execute("answer").ReplyText())
	assert.Equal(t, "+OK", c.Execute("playback", "silence_stream://50").ReplyText())
	assert.NotNil(t, c.Api("status"), "api works with full")
	assert.Equal(t, "+OK", c.Execute("hangup").ReplyText())

	var linger *Event
	for linger == nil {
		ev := c.RecvEventTimed(5000)
		require.NotNil(t, ev, "no linger notice")
		if ev.ContentType() == "text/disconnect-notice" {
			linger = ev
		}
	}
	assert.Equal(t, "linger", linger.GetHeader("Content-Disposition"))
	assert.True(t, c.Connected(), "a linger notice does not end the connection")

	assert.Equal(t, "+OK bye", c.SendRecv("exit").ReplyText())
	var goodbye *Event
	for {
		ev := c.RecvEvent()
		if ev.GetType() == "SERVER_DISCONNECTED" {
			break
		}
		if ev.ContentType() == "text/disconnect-notice" {
			goodbye = ev
		}
	}
	require.NotNil(t, goodbye)
	assert.Equal(t, "disconnect", goodbye.GetHeader("Content-Disposition"))
	assert.True(t, strings.HasPrefix(goodbye.GetBody(), "Disconnected, goodbye."))
	assert.False(t, c.Connected())
	assert.Nil(t, c.GetInfo())
	require.NoError(t, oc.Wait())

	bad := NewConnectionFD(-1)
	assert.False(t, bad.Connected())
	assert.ErrorIs(t, bad.Err(), ErrBadArgument)
}

// TestNewConnectionFDReplyThenEvents: the reply to connect comes late (the attach waits for
// it), in one write with the events after it. GetInfo holds the reply and the events follow
// in order; once the peer closes, the end of the stream is reported after them. (GetInfo is
// nil once the connection has ended, so the peer closes only when told.)
func TestNewConnectionFDReplyThenEvents(t *testing.T) {
	checkLeaks(t)
	sp, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	require.NoError(t, err)
	const reply = "Content-Type: command/reply\nReply-Text: +OK\nUnique-ID: u-1\n\n"
	event := func(name string, seq int) string {
		body := fmt.Sprintf("Event-Name: %s\nEvent-Sequence: %d\n\n", name, seq)
		return fmt.Sprintf("Content-Length: %d\nContent-Type: text/event-plain\n\n%s", len(body), body)
	}
	got := make(chan string, 1)
	release := make(chan struct{})
	go func() {
		defer syscall.Close(sp[1])
		r := bufio.NewReader(hfFDConn{sp[1]})
		got <- hfReadBlock(r)
		time.Sleep(50 * time.Millisecond)
		msg := reply + event("CHANNEL_CREATE", 1) + event("CHANNEL_ANSWER", 2) + event("CHANNEL_HANGUP", 3)
		_, _ = syscall.Write(sp[1], []byte(msg))
		<-release
	}()

	c := NewConnectionFD(sp[0])
	defer c.Close()
	defer func() {
		select {
		case <-release:
		default:
			close(release)
		}
	}()
	assert.Equal(t, "connect\n", <-got)
	require.NotNil(t, c.GetInfo(), "%v", c.Err())
	assert.Equal(t, "u-1", c.GetInfo().GetHeader("Unique-ID"))
	assert.Equal(t, "+OK", c.GetInfo().GetHeader("Reply-Text"))
	for i, name := range []string{"CHANNEL_CREATE", "CHANNEL_ANSWER", "CHANNEL_HANGUP"} {
		ev := c.RecvEventTimed(5000)
		require.NotNil(t, ev, "event %d", i+1)
		assert.Equal(t, name, ev.GetHeader("Event-Name"))
		assert.Equal(t, strconv.Itoa(i+1), ev.GetHeader("Event-Sequence"))
	}
	close(release)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err = c.RecvEventContext(ctx)
	assert.ErrorIs(t, err, ErrDisconnected)
}
