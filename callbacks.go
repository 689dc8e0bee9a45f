//go:build cgo

package esl

/*
#cgo !libesl CFLAGS: -I${SRCDIR}/csrc/include
#include <stdlib.h>
#include "callbacks_shim.h"
*/
import "C"

import (
	"fmt"
	"log/slog"
	"net"
	"runtime/debug"
	"strconv"
	"sync"
	"syscall"
	"unsafe"
)

// Outbound mode: FreeSWITCH's dialplan application `socket` connects to the application once
// per call. libesl serves that with esl_listen (the callback runs in the accept loop) and
// esl_listen_threaded (one detached C thread per connection); OutboundServer accepts in Go
// (outbound_server.go). Both C loops call eslgo_listen_trampoline (callbacks_shim.c); the
// trampoline calls eslgoListenCallback below, and the listener's user_data, a cRef, leads to
// the Go side of that listener: a sessionHost.

// sessionHost is the Go side of one listener.
type sessionHost interface {
	// serveSession owns s from now on: it must close the socket, before it returns or on a
	// goroutine it started.
	serveSession(s *session)
}

// session is one accepted connection.
type session struct {
	mu   sync.Mutex
	fd   int         // the accepted socket, -1 once a Connection owns it or it is closed
	conn *Connection // set once attached
}

// closeSocket closes whatever of the socket is still ours: the Connection once there is one,
// else the raw descriptor. Safe to call more than once.
func (s *session) closeSocket() {
	s.mu.Lock()
	fd, c := s.fd, s.conn
	s.fd = -1
	s.mu.Unlock()
	if c != nil {
		_ = c.Close()
	}
	if fd >= 0 {
		_ = syscall.Close(fd)
	}
}

// attach hands the socket to a new Connection, which sends `connect` and keeps the reply
// (CHANNEL_DATA). From here the Connection owns the descriptor, even when attaching failed.
func (s *session) attach() *Connection {
	s.mu.Lock()
	fd := s.fd
	s.fd = -1
	s.mu.Unlock()
	if fd < 0 {
		return nil
	}
	c := NewConnectionFD(fd)
	s.mu.Lock()
	s.conn = c
	s.mu.Unlock()
	return c
}

// peerAddr asks the socket for its peer, for logs; the callback's sockaddr_in cannot hold
// an IPv6 peer.
func peerAddr(fd int) string {
	if fd < 0 {
		return ""
	}
	sa, err := syscall.Getpeername(fd)
	if err != nil {
		return ""
	}
	switch a := sa.(type) {
	case *syscall.SockaddrInet4:
		return (&net.TCPAddr{IP: a.Addr[:], Port: a.Port}).String()
	case *syscall.SockaddrInet6:
		return (&net.TCPAddr{IP: a.Addr[:], Port: a.Port}).String()
	}
	return ""
}

//export eslgoListenCallback
func eslgoListenCallback(clientSock C.int, userData unsafe.Pointer) {
	// A panic must never unwind into C: that ends the process. listenCallback recovers
	// and closes the connection; this is the last line of defence around it.
	defer func() {
		if r := recover(); r != nil {
			slog.Error("esl: panic in outbound listener callback", "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
		}
	}()
	listenCallback(int(clientSock), userData)
}

// listenCallback is the body of eslgoListenCallback, with Go types so tests can call it.
func listenCallback(fd int, userData unsafe.Pointer) {
	if fd < 0 {
		// The original passes -1 after accept fails with EINTR (spec Q23).
		return
	}
	s := &session{fd: fd}
	// A Listen or ListenThreaded handler's panic is recovered here (OutboundServer runs its
	// handlers on goroutines of their own and recovers there): log it, close the
	// connection, carry on.
	defer func() {
		if r := recover(); r != nil {
			slog.Error("esl: panic in outbound session; connection closed",
				"panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			s.closeSocket()
		}
	}()
	h, _ := restoreCRef(userData).(sessionHost)
	if h == nil {
		// The listener's Go side is gone or was never registered: nobody can serve this call.
		slog.Error("esl: outbound connection for an unknown listener; connection closed", "fd", fd)
		s.closeSocket()
		return
	}
	h.serveSession(s)
}

// funcHost serves the sessions of Listen and ListenThreaded: attach, run the handler, close.
type funcHost struct {
	handler func(*Connection)
}

func (h *funcHost) serveSession(s *session) {
	defer s.closeSocket()
	c := s.attach()
	if c == nil {
		return
	}
	h.handler(c)
}

// ListenThreaded is the twin of esl_listen_threaded: it listens on port and runs handler for
// each connection, on a thread of its own, with a Connection attached to the socket (see
// NewConnectionFD: `connect` has been sent, GetInfo returns the CHANNEL_DATA event; check
// Connected). The Connection is closed when handler returns; a panic in handler is logged
// and closes that connection only. max is the listen backlog, not a limit on sessions.
//
// Like the C function it never returns unless listening fails, and it cannot be stopped.
// With the original libesl (-tags libesl) host is ignored and every IPv4 address is bound.
// OutboundServer can be stopped, binds the host it is given and bounds the sessions.
//
// The handler stays registered after an error return, because session threads that the C
// library started before may still call it.
func ListenThreaded(host string, port int, handler func(*Connection), max int) error {
	if handler == nil || port < 0 || port > 65535 {
		return newError("listen", "nil handler or bad port", ErrBadArgument)
	}
	ref := newCRef(&funcHost{handler: handler})
	chost := C.CString(host)
	defer C.free(unsafe.Pointer(chost))
	if C.eslgo_listen_threaded(chost, cPort(port), ref.Pointer(), C.int(max)) != C.ESL_SUCCESS {
		return newError("listen", "cannot listen on or accept from "+net.JoinHostPort(host, strconv.Itoa(port)), nil)
	}
	return nil
}

// Listen is the twin of esl_listen: it listens on port and runs handler for each connection
// in the accept loop, so one call is served at a time. It never returns unless listening or
// accepting fails. host is ignored by the original libesl (-tags libesl).
func Listen(host string, port int, handler func(*Connection)) error {
	if handler == nil || port < 0 || port > 65535 {
		return newError("listen", "nil handler or bad port", ErrBadArgument)
	}
	ref := newCRef(&funcHost{handler: handler})
	// Callbacks run on this thread, so none is left once esl_listen has returned.
	defer ref.Release()
	chost := C.CString(host)
	defer C.free(unsafe.Pointer(chost))
	if C.eslgo_listen(chost, cPort(port), ref.Pointer()) != C.ESL_SUCCESS {
		return newError("listen", "cannot listen on or accept from "+net.JoinHostPort(host, strconv.Itoa(port)), nil)
	}
	return nil
}

// cPort converts a port to esl_port_t, a signed 16-bit type: ports above 32767 wrap to
// negative values and come back right through htons.
func cPort(port int) C.esl_port_t {
	return C.esl_port_t(int16(uint16(port)))
}
