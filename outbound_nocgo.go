//go:build !cgo

package esl

import (
	"context"
	"net"
)

// OutboundServer serves FreeSWITCH's outbound event socket connections. Built without cgo
// it cannot: NewOutboundServer fails with ErrNoCgo. The type is here so that a program
// using it still compiles, as one using a Connection does.
type OutboundServer struct{}

// NewOutboundServer fails with an error matching ErrNoCgo: the package was built without
// cgo.
func NewOutboundServer(addr string, handler OutboundHandler, opts ...OutboundOption) (*OutboundServer, error) {
	return nil, newError("listen", "", ErrNoCgo)
}

// Addr returns nil: without cgo no server is bound.
func (srv *OutboundServer) Addr() net.Addr { return nil }

// Serve fails with ErrNoCgo.
func (srv *OutboundServer) Serve() error { return newError("listen", "", ErrNoCgo) }

// Stats returns zero counters.
func (srv *OutboundServer) Stats() OutboundStats { return OutboundStats{} }

// Shutdown has nothing to stop.
func (srv *OutboundServer) Shutdown(ctx context.Context) error { return nil }

// Close has nothing to stop.
func (srv *OutboundServer) Close() error { return nil }

// ListenThreaded fails with an error matching ErrNoCgo: the package was built without cgo.
func ListenThreaded(host string, port int, handler func(*Connection), max int) error {
	return newError("listen", "", ErrNoCgo)
}

// Listen fails with an error matching ErrNoCgo: the package was built without cgo.
func Listen(host string, port int, handler func(*Connection)) error {
	return newError("listen", "", ErrNoCgo)
}
