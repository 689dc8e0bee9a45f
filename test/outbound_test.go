//go:build integration

package test

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cgoesl/esl"
)

// TestOutboundFull has FreeSWITCH call this process back: a loopback call runs the
// inline application socket(HOST:PORT async full), with no dialplan edits, and the
// handler drives the call the way an IVR would.
func TestOutboundFull(t *testing.T) {
	e := setup(t)

	uuid := newUUID()
	done := make(chan struct{})
	handler := func(ctx context.Context, c *esl.Connection) {
		defer close(done)
		if !assert.True(t, c.Connected(), "outbound connect: %v", c.Err()) {
			return
		}
		info := c.GetInfo()
		if !assert.NotNil(t, info, "GetInfo on an outbound connection") {
			return
		}
		assert.Equal(t, uuid, info.GetHeader("Unique-ID"))
		assert.Equal(t, "async", info.GetHeader("Socket-Mode"))
		assert.Equal(t, "full", info.GetHeader("Control"))
		assert.Equal(t, "+OK\n", info.GetHeader("Reply-Text"))

		expectReply := func(cmd, want string) {
			r := c.SendRecv(cmd)
			if assert.NotNil(t, r, "%s: %v", cmd, c.Err()) {
				assert.Equal(t, want, r.GetHeader("Reply-Text"), cmd)
			}
		}
		expectReply("myevents", "+OK Events Enabled")
		expectReply("linger", "+OK will linger")

		// full: api works on the call's own socket.
		if r := c.Api("status"); assert.NotNil(t, r) {
			assert.Contains(t, r.GetBody(), "UP ")
		}

		for _, app := range [][2]string{{"answer", ""}, {"playback", "silence_stream://300"}} {
			r := c.Execute(app[0], app[1])
			if assert.NotNil(t, r, "execute %s: %v", app[0], c.Err()) {
				assert.Equal(t, "+OK", r.GetHeader("Reply-Text"), "execute %s", app[0])
			}
		}
		_, err := waitFor(c, 10*time.Second, "CHANNEL_EXECUTE_COMPLETE of playback", func(ev *esl.Event) bool {
			return ev.GetHeader("Event-Name") == "CHANNEL_EXECUTE_COMPLETE" && ev.GetHeader("Application") == "playback"
		}, nil)
		assert.NoError(t, err)

		r := c.Execute("hangup", "NORMAL_CLEARING")
		if assert.NotNil(t, r) {
			assert.Equal(t, "+OK", r.GetHeader("Reply-Text"))
		}
		notice, err := waitFor(c, 10*time.Second, "the linger notice", func(ev *esl.Event) bool {
			return ev.GetHeader("Content-Type") == "text/disconnect-notice"
		}, nil)
		if assert.NoError(t, err) {
			assert.Equal(t, "linger", notice.GetHeader("Content-Disposition"))
			assert.Equal(t, uuid, notice.GetHeader("Controlled-Session-UUID"))
		}
		expectReply("exit", "+OK bye")

		// The goodbye notice follows, then the close.
		for end := time.Now().Add(5 * time.Second); c.Connected() && time.Now().Before(end); {
			c.RecvEventTimed(100)
		}
		assert.False(t, c.Connected(), "the server should close after exit")
	}

	srv, err := esl.NewOutboundServer(net.JoinHostPort(e.outboundHost, "0"), handler)
	if err != nil {
		t.Skipf("skipping: no stoppable outbound server in this build (%v)", err)
	}
	go srv.Serve()
	t.Cleanup(func() { srv.Close() })
	port := srv.Addr().(*net.TCPAddr).Port

	c := dial(t, e)
	require.NoError(t, c.Events("plain", "BACKGROUND_JOB"))
	killAtEnd(t, e, uuid)
	socket := net.JoinHostPort(e.outboundHost, strconv.Itoa(port))
	// FreeSWITCH splits originate's arguments at spaces outside single quotes, so the
	// application and its argument go in quotes.
	app := fmt.Sprintf("'&socket(%s async full)'", socket)
	if e.fake {
		app = fmt.Sprintf("&socket(%s async full)", socket) // fakefs does not strip the quotes
	}
	reply := c.Bgapi("originate", fmt.Sprintf("{origination_uuid=%s}loopback/9196/default %s", uuid, app))
	require.NotNil(t, reply)
	require.True(t, strings.HasPrefix(reply.GetHeader("Reply-Text"), "+OK"), "bgapi originate: %s", reply.GetHeader("Reply-Text"))
	jobUUID := reply.GetHeader("Job-UUID")

	// Wait for the session to end; stop early if the originate itself failed.
	for deadline := time.Now().Add(30 * time.Second); ; {
		select {
		case <-done:
		default:
			if time.Now().After(deadline) {
				t.Fatalf("FreeSWITCH did not connect to %s, or the session did not end, within 30 s", socket)
			}
			if ev := c.RecvEventTimed(100); ev != nil && ev.GetHeader("Job-UUID") == jobUUID {
				require.True(t, strings.HasPrefix(ev.GetBody(), "+OK"), "originate: %s", ev.GetBody())
			}
			continue
		}
		break
	}
	st := srv.Stats()
	assert.Equal(t, uint64(1), st.Accepted)
}
