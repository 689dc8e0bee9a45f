//go:build cgo

package esl

/*
#cgo !libesl CFLAGS: -I${SRCDIR}/csrc/include
#include <stdlib.h>
#include "callbacks_shim.h"

// The listener extensions exist in esl only; the original libesl lacks them. These wrappers let
// one Go file build against both: with the original they fail, and NewOutboundServer says so.
#ifdef ESL_HAVE_EXTENSIONS
#define ESLGO_HAVE_LISTENER 1
typedef esl_listener_t eslgo_listener_t;
static esl_status_t eslgo_listener_create(eslgo_listener_t **l, const char *host, int port, int backlog, char *err, size_t errlen)
{
	return esl_listener_create(l, host, (esl_port_t)port, backlog, err, errlen);
}
static int eslgo_listener_socket(eslgo_listener_t *l) { return esl_listener_socket(l); }
static void eslgo_listener_destroy(eslgo_listener_t **l) { esl_listener_destroy(l); }
#else
#define ESLGO_HAVE_LISTENER 0
typedef struct eslgo_listener_s eslgo_listener_t;
static esl_status_t eslgo_listener_create(eslgo_listener_t **l, const char *host, int port, int backlog, char *err, size_t errlen)
{
	(void)host; (void)port; (void)backlog;
	*l = NULL;
	snprintf(err, errlen, "the original libesl has no stoppable listener");
	return ESL_FAIL;
}
static int eslgo_listener_socket(eslgo_listener_t *l) { (void)l; return -1; }
static void eslgo_listener_destroy(eslgo_listener_t **l) { *l = NULL; }
#endif
*/
import "C"

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"runtime/debug"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"
)

// OutboundServer serves FreeSWITCH's outbound event socket connections (dialplan application
// `socket`). It serves each call on a goroutine of its own. Unlike esl_listen_threaded it
// binds the host it is given (IPv4 or IPv6), can bound the sessions served at once, counts
// what it does, and stops: Shutdown and Close return only once every goroutine and socket the
// server started is gone.
//
// What it starts, and how each is waited for: the accept loop runs in the goroutine that
// called Serve (Serve returns once it is stopped); each accepted socket is handed from there
// to a new goroutine, which attaches the Connection (whose reader goroutine ends before Close
// returns), runs the handler and closes the socket and a duplicate of it used to cut the
// session; Shutdown waits for every such goroutine, then closes the listening socket.
//
// No thread is started per call, and none blocks: the accept loop and each session's wait
// for the reply to `connect` wait in the runtime's network poller, like any Go server. A
// loop blocked in C would hold its thread and the scheduler's P until the runtime's monitor
// takes the P back, a delay every call would pay while the calls' own goroutines wait.
//
// The listening socket is made by esl's listener extension (esl_listener_create), which
// binds the host it is given and reports errors as the C API does. Linked to the original
// libesl (-tags libesl) it does not exist: NewOutboundServer fails with an error matching
// ErrUnsupported, and only ListenThreaded and Listen are available, which bind every
// IPv4 address whatever the host, cannot be stopped and do not bound their sessions.
type OutboundServer struct {
	handler OutboundHandler
	cfg     outboundConfig
	log     *slog.Logger
	addr    net.Addr
	accept  func(lfd int) (int, error) // accept4; tests inject failures

	baseCtx    context.Context
	cancelBase context.CancelFunc

	accepted, completed, panics, failed, refused atomic.Uint64

	mu        sync.Mutex
	lst       *C.eslgo_listener_t // nil once destroyed
	accepting *os.File            // Serve's duplicate of the listening socket; nil when not serving
	serving   bool
	serveDone chan struct{} // closed when Serve returns
	closing   bool          // Shutdown or Close began: sessions arriving now are refused
	sessions  map[*serverSession]struct{}
	drained   chan struct{} // closed once closing and no session is left
	finished  chan struct{} // closed when the first Shutdown or Close has completed
	wg        sync.WaitGroup
}

// serverSession is a session of an OutboundServer.
type serverSession struct {
	*session

	// ctl is our own duplicate of the socket. Shutting it down cuts the connection whatever
	// its state (even while attaching, when no Connection exists yet), and unlike the
	// session's descriptor its number cannot be reused by someone else while we hold it.
	ctlMu sync.Mutex
	ctl   int
}

// cut shuts the socket down: the peer sees EOF and every blocked read or write on it fails,
// so the handler's calls return with a disconnect.
func (ss *serverSession) cut() {
	ss.ctlMu.Lock()
	defer ss.ctlMu.Unlock()
	if ss.ctl >= 0 {
		_ = syscall.Shutdown(ss.ctl, syscall.SHUT_RDWR)
	}
}

func (ss *serverSession) closeCtl() {
	ss.ctlMu.Lock()
	fd := ss.ctl
	ss.ctl = -1
	ss.ctlMu.Unlock()
	if fd >= 0 {
		_ = syscall.Close(fd)
	}
}

// NewOutboundServer binds addr ("host:port"; an empty host means every IPv4 address, port 0
// picks a free port) and returns a server that does not accept yet: call Serve.
func NewOutboundServer(addr string, handler OutboundHandler, opts ...OutboundOption) (*OutboundServer, error) {
	if handler == nil {
		return nil, newError("listen", "nil handler", ErrBadArgument)
	}
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, newError("listen", fmt.Sprintf("address %q: %v", addr, err), ErrBadArgument)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		if port, err = net.LookupPort("tcp", portStr); err != nil {
			return nil, newError("listen", fmt.Sprintf("address %q: bad port", addr), ErrBadArgument)
		}
	}
	if port < 0 || port > 65535 {
		return nil, newError("listen", fmt.Sprintf("address %q: bad port", addr), ErrBadArgument)
	}
	if C.ESLGO_HAVE_LISTENER == 0 {
		return nil, newError("listen", "the original libesl has no stoppable listener; use ListenThreaded", ErrUnsupported)
	}
	cfg := outboundConfig{backlog: 4096, connectTimeout: 10 * time.Second, logger: slog.Default()}
	for _, o := range opts {
		o(&cfg)
	}

	var chost *C.char
	if host != "" {
		chost = C.CString(host)
		defer C.free(unsafe.Pointer(chost))
	}
	var errbuf [256]C.char
	var lst *C.eslgo_listener_t
	if C.eslgo_listener_create(&lst, chost, C.int(port), C.int(cfg.backlog), &errbuf[0], C.size_t(len(errbuf))) != C.ESL_SUCCESS {
		return nil, newError("listen", C.GoString(&errbuf[0]), nil)
	}
	srv := &OutboundServer{
		handler:  handler,
		cfg:      cfg,
		log:      cfg.logger,
		lst:      lst,
		sessions: make(map[*serverSession]struct{}),
		accept:   acceptCloexec,
	}
	srv.addr = boundAddr(int(C.eslgo_listener_socket(lst)))
	srv.baseCtx, srv.cancelBase = context.WithCancel(context.Background())
	return srv, nil
}

// boundAddr asks the listening socket where it is bound.
func boundAddr(fd int) net.Addr {
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		return &net.TCPAddr{}
	}
	switch a := sa.(type) {
	case *syscall.SockaddrInet4:
		return &net.TCPAddr{IP: net.IP(append([]byte(nil), a.Addr[:]...)), Port: a.Port}
	case *syscall.SockaddrInet6:
		return &net.TCPAddr{IP: net.IP(append([]byte(nil), a.Addr[:]...)), Port: a.Port}
	}
	return &net.TCPAddr{}
}

// Addr is the address the server is bound to, with the port it got.
func (srv *OutboundServer) Addr() net.Addr { return srv.addr }

// Serve accepts connections and serves each on a goroutine of its own until Shutdown or
// Close, then returns ErrServerClosed. Any other error means accepting failed; the server
// must still be closed. Serve may be called once.
func (srv *OutboundServer) Serve() error {
	srv.mu.Lock()
	if srv.closing || srv.lst == nil {
		srv.mu.Unlock()
		return ErrServerClosed
	}
	if srv.serving {
		srv.mu.Unlock()
		return newError("serve", "Serve called twice", nil)
	}
	done := make(chan struct{})
	defer close(done)
	// A duplicate, so that Shutdown can close it under Serve's feet (waking the poller) while
	// the listener keeps its own descriptor. Non-blocking, so the runtime polls it.
	f := pollable(int(C.eslgo_listener_socket(srv.lst)))
	if f == nil {
		srv.mu.Unlock()
		return newError("serve", fmt.Sprintf("accepting on %s: the socket cannot be polled", srv.addr), nil)
	}
	srv.serving = true
	srv.serveDone = done
	srv.accepting = f
	srv.mu.Unlock()

	err := srv.acceptLoop(f)
	srv.mu.Lock()
	closing := srv.closing
	srv.mu.Unlock()
	if closing {
		return ErrServerClosed
	}
	return newError("serve", fmt.Sprintf("accepting on %s: %v", srv.addr, err), nil)
}

// acceptLoop accepts until f is closed (Shutdown, Close) or accepting fails for good.
func (srv *OutboundServer) acceptLoop(f *os.File) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var backoff time.Duration
	for {
		var fd int
		var aerr error
		err := rc.Read(func(lfd uintptr) bool {
			fd, aerr = srv.accept(int(lfd))
			return aerr != syscall.EAGAIN
		})
		if err != nil {
			return err // f was closed
		}
		switch aerr {
		case nil:
			backoff = 0
			srv.accepted.Add(1)
			srv.serveSession(&session{fd: fd})
		case syscall.EINTR, syscall.ECONNABORTED, syscall.EPROTO:
			// the connection went before it was accepted; the next may be fine
		case syscall.EMFILE, syscall.ENFILE, syscall.ENOBUFS, syscall.ENOMEM:
			// Out of descriptors or memory: wait for sessions to end rather than spin.
			if backoff == 0 {
				backoff = 5 * time.Millisecond
			} else if backoff < time.Second {
				backoff *= 2
			}
			srv.log.Warn("esl: outbound server cannot accept; retrying", "err", aerr, "after", backoff)
			time.Sleep(backoff)
		default:
			return aerr
		}
	}
}

func acceptCloexec(lfd int) (int, error) {
	fd, _, err := syscall.Accept4(lfd, syscall.SOCK_CLOEXEC)
	return fd, err
}

// serveSession admits an accepted session and starts its goroutine; the accept loop goes on
// once it returns.
func (srv *OutboundServer) serveSession(s *session) {
	ss := &serverSession{session: s, ctl: -1}
	// Duplicated before the session is visible to cutAll, so no cut can miss it.
	if fd, err := dupCloexec(s.fd); err == nil {
		ss.ctl = fd
	} else {
		srv.log.Warn("esl: outbound session cannot be cut without its Connection", "err", err)
	}
	srv.mu.Lock()
	if srv.closing || (srv.cfg.maxSessions > 0 && len(srv.sessions) >= srv.cfg.maxSessions) {
		srv.mu.Unlock()
		srv.refused.Add(1)
		s.closeSocket()
		ss.closeCtl()
		return
	}
	srv.sessions[ss] = struct{}{}
	srv.wg.Add(1)
	srv.mu.Unlock()
	go srv.session(ss)
}

// session is the goroutine of one call, from `connect` to the closed socket.
func (srv *OutboundServer) session(ss *serverSession) {
	defer srv.wg.Done()
	ctx, cancel := context.WithCancel(srv.baseCtx)
	result := srv.runSession(ctx, ss)
	cancel()
	ss.closeSocket()
	ss.closeCtl()
	switch result {
	case sessionPanicked:
		srv.panics.Add(1)
	case sessionCompleted:
		srv.completed.Add(1)
	default:
		srv.failed.Add(1)
	}
	srv.untrack(ss)
}

type sessionResult int

const (
	sessionFailed sessionResult = iota
	sessionCompleted
	sessionPanicked
)

// runSession attaches the Connection and runs the handler. A panic is recovered, logged,
// and closes the connection.
func (srv *OutboundServer) runSession(ctx context.Context, ss *serverSession) (result sessionResult) {
	defer func() {
		if r := recover(); r != nil {
			// The peer is read before the socket closes, for the log.
			srv.log.Error("esl: outbound handler panicked; connection closed",
				"panic", fmt.Sprint(r), "peer", ss.peer(), "stack", string(debug.Stack()))
			ss.closeSocket()
			result = sessionPanicked
		}
	}()
	var timer *time.Timer
	if srv.cfg.connectTimeout > 0 {
		timer = time.AfterFunc(srv.cfg.connectTimeout, ss.cut)
	}
	c := ss.attach()
	if timer != nil {
		timer.Stop()
	}
	// Attached means connect was answered, even if the connection has ended since (a call
	// hung up at once): the handler still gets it. Connected would misreport that as failed.
	if c == nil || !c.state().readerStarted {
		srv.log.Debug("esl: outbound session ended before the handler: no reply to connect", "peer", ss.peer())
		return sessionFailed
	}
	srv.handler(ctx, c)
	return sessionCompleted
}

func (ss *serverSession) peer() string {
	ss.ctlMu.Lock()
	defer ss.ctlMu.Unlock()
	return peerAddr(ss.ctl)
}

// untrack ends a session's accounting.
func (srv *OutboundServer) untrack(ss *serverSession) {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	delete(srv.sessions, ss)
	if srv.closing && len(srv.sessions) == 0 && srv.drained != nil {
		select {
		case <-srv.drained:
		default:
			close(srv.drained)
		}
	}
}

// Stats returns the counters; they stay readable after Close.
func (srv *OutboundServer) Stats() OutboundStats {
	srv.mu.Lock()
	st := OutboundStats{Active: len(srv.sessions)}
	srv.mu.Unlock()
	st.Accepted = srv.accepted.Load()
	st.Refused = srv.refused.Load()
	st.Completed = srv.completed.Load()
	st.Panics = srv.panics.Load()
	st.Failed = srv.failed.Load()
	return st
}

// Shutdown stops accepting and waits for the running sessions to end. When ctx ends first,
// it cancels the handlers' contexts and cuts their connections, waits for them to return, and
// returns ctx.Err(). A handler that ignores both its context and its connection's errors
// keeps Shutdown waiting. Shutdown returns once the listening socket, every session's socket
// and every goroutine the server started are gone.
func (srv *OutboundServer) Shutdown(ctx context.Context) error {
	return srv.shutdown(ctx, false)
}

// Close stops accepting, cuts every session at once (their contexts are cancelled and their
// connections shut down), and returns when all is gone, as Shutdown does.
func (srv *OutboundServer) Close() error {
	return srv.shutdown(context.Background(), true)
}

func (srv *OutboundServer) shutdown(ctx context.Context, force bool) error {
	srv.mu.Lock()
	first := !srv.closing
	if first {
		srv.closing = true
		srv.finished = make(chan struct{})
		srv.drained = make(chan struct{})
		if len(srv.sessions) == 0 {
			close(srv.drained)
		}
		if srv.accepting != nil {
			// Wakes the accept loop; a Serve not started yet sees closing and returns.
			_ = srv.accepting.Close()
		}
	}
	finished, drained, serveDone := srv.finished, srv.drained, srv.serveDone
	srv.mu.Unlock()

	if force {
		srv.cutAll()
	}
	if !first {
		select {
		case <-finished:
			return nil
		case <-ctx.Done():
			srv.cutAll()
			<-finished
			return ctx.Err()
		}
	}

	var err error
	if serveDone != nil {
		// The accept loop returns promptly once stopped; after that no session can start.
		<-serveDone
	}
	select {
	case <-drained:
	case <-ctx.Done():
		err = ctx.Err()
		srv.cutAll()
		<-drained
	}
	// Every session left its accounting; this waits until their goroutines have returned.
	srv.wg.Wait()

	srv.mu.Lock()
	if srv.lst != nil {
		C.eslgo_listener_destroy(&srv.lst)
		srv.lst = nil
	}
	srv.mu.Unlock()
	srv.cancelBase()
	close(finished)
	return err
}

// cutAll cancels every handler's context and shuts every session's socket down.
func (srv *OutboundServer) cutAll() {
	srv.cancelBase()
	srv.mu.Lock()
	list := make([]*serverSession, 0, len(srv.sessions))
	for ss := range srv.sessions {
		list = append(list, ss)
	}
	srv.mu.Unlock()
	for _, ss := range list {
		ss.cut()
	}
}

// dupCloexec duplicates fd, close-on-exec like every descriptor Go opens.
func dupCloexec(fd int) (int, error) {
	r, _, errno := syscall.Syscall(syscall.SYS_FCNTL, uintptr(fd), syscall.F_DUPFD_CLOEXEC, 0)
	if errno != 0 {
		return -1, errno
	}
	return int(r), nil
}
