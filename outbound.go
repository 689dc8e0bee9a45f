package esl

import (
	"context"
	"errors"
	"log/slog"
	"time"
)

// The outbound server's handler, options and counters, shared by the cgo build
// (outbound_server.go) and the build without cgo (outbound_nocgo.go).

// ErrServerClosed is returned by OutboundServer.Serve after Shutdown or Close.
var ErrServerClosed = errors.New("esl: outbound server closed")

// OutboundHandler serves one call. c is attached to the socket FreeSWITCH opened: `connect`
// has been answered, so c.GetInfo() returns the CHANNEL_DATA event. ctx is cancelled when
// the server is closed, or when Shutdown's context ends; the connection is then cut as well.
// The server closes c when the handler returns. A panic is logged and closes that
// connection only.
type OutboundHandler func(ctx context.Context, c *Connection)

// OutboundOption configures an OutboundServer.
type OutboundOption func(*outboundConfig)

type outboundConfig struct {
	maxSessions    int
	backlog        int
	connectTimeout time.Duration
	logger         *slog.Logger
}

// WithMaxSessions bounds the sessions served at once (0, the default, means no bound). A
// connection over the bound is closed at once, before `connect`, and counted in
// OutboundStats.Refused; FreeSWITCH then tries the next host of the socket application's
// list, or fails the call. A session counts until its handler has returned and its
// connection is closed.
func WithMaxSessions(n int) OutboundOption {
	return func(c *outboundConfig) { c.maxSessions = max(n, 0) }
}

// WithBacklog sets the listen backlog (default 4096; the kernel may cap it).
func WithBacklog(n int) OutboundOption {
	return func(c *outboundConfig) {
		if n > 0 {
			c.backlog = n
		}
	}
}

// WithConnectTimeout bounds the `connect` exchange that opens each session (default 10 s;
// 0 waits forever). FreeSWITCH answers at once; a peer that does not holds a session until
// then.
func WithConnectTimeout(d time.Duration) OutboundOption {
	return func(c *outboundConfig) { c.connectTimeout = max(d, 0) }
}

// WithLogger sets where panics and failed sessions are logged (default slog.Default()).
func WithLogger(l *slog.Logger) OutboundOption {
	return func(c *outboundConfig) {
		if l != nil {
			c.logger = l
		}
	}
}

// OutboundStats counts the connections of an OutboundServer. At any time
// Accepted == Refused + Active + Completed + Panics + Failed, give or take the sessions
// being handed to or leaving their goroutine.
type OutboundStats struct {
	Accepted  uint64 // connections accepted, refused ones included
	Refused   uint64 // closed at once: over MaxSessions, or arriving while the server stopped
	Active    int    // sessions being served now
	Completed uint64 // sessions whose handler returned
	Panics    uint64 // sessions whose handler panicked; the process carried on
	Failed    uint64 // sessions that ended before the handler ran: `connect` got no reply
}
