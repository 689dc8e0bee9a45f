package esltest

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"time"
)

// ErrNoConnect is reported by OutboundCall.Wait when the application never
// sent `connect`.
var ErrNoConnect = errors.New("esltest: outbound application did not send connect")

// OutboundOptions describes the call DialOutbound places, as if the
// dialplan ran `socket <addr> [async] [full]`.
type OutboundOptions struct {
	Async          bool   // socket mode async (sendmsg queued, channel parked)
	Full           bool   // full control: api, bgapi, event, linger, log, ... allowed
	Destination    string // destination number (default "7001")
	CallerIDNumber string // caller id number (default "0000000000")
	// HangupAfter hangs the call up this long after DialOutbound returned;
	// 0 means only when the application hangs up or exits, or Hangup is called.
	HangupAfter time.Duration
	// DTMF digits the caller presses after the channel is answered.
	DTMF string
	// Answered answers the channel before the socket app runs, like a
	// dialplan `answer` before `socket`.
	Answered bool
}

// OutboundCall is one outbound socket session started by DialOutbound.
type OutboundCall struct {
	s    *Server
	ch   *Channel
	opts OutboundOptions

	mu   sync.Mutex
	c    *conn
	err  error
	done chan struct{}
}

// DialOutbound is the dialplan `socket` application: it creates a fake
// call (a loopback pair whose B-leg runs the socket app), dials addr, and
// acts as FreeSWITCH on that socket. It returns once the TCP connection is
// established.
func (s *Server) DialOutbound(ctx context.Context, addr string, opts OutboundOptions) (*OutboundCall, error) {
	var d net.Dialer
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	if opts.Destination == "" {
		opts.Destination = "7001"
	}
	oc := &OutboundCall{s: s, opts: opts, done: make(chan struct{})}
	k := &call{
		s:     s,
		runs:  map[*Channel]*legRun{},
		inbox: make(chan callMsg, 64),
		done:  make(chan struct{}),
		aApp:  appSpec{"park", ""},
	}
	data := addr
	if opts.Async {
		data += " async"
	}
	if opts.Full {
		data += " full"
	}
	var apps []appSpec
	if opts.Answered {
		apps = append(apps, appSpec{"answer", ""})
	}
	apps = append(apps, appSpec{"socket", data})
	o := &originateArgs{}
	if opts.CallerIDNumber != "" {
		o.vars = append(o.vars, Header{"origination_caller_id_number", opts.CallerIDNumber})
	}
	k.pending = &pendingSocket{nc: nc, oc: oc}
	k.pressDTMF = opts.DTMF
	ready := make(chan struct{})
	if !s.goRun(func() {
		k.startLoopback(opts.Destination, "default", o, apps)
		close(ready)
		k.loop()
	}) {
		nc.Close()
		return nil, net.ErrClosed
	}
	select {
	case <-ready:
	case <-k.done:
	}
	oc.mu.Lock()
	ch := oc.ch
	oc.mu.Unlock()
	if ch == nil {
		nc.Close()
		return nil, errors.New("esltest: the call ended before the socket app ran")
	}
	if opts.HangupAfter > 0 {
		s.goRun(func() {
			t := time.NewTimer(opts.HangupAfter)
			defer t.Stop()
			select {
			case <-t.C:
				ch.Hangup("NORMAL_CLEARING")
			case <-ch.Done():
			case <-s.ctx.Done():
			}
		})
	}
	return oc, nil
}

// pendingSocket is a connection DialOutbound already opened for the socket app.
type pendingSocket struct {
	nc net.Conn
	oc *OutboundCall
}

// UUID returns the uuid of the controlled channel.
func (oc *OutboundCall) UUID() string { return oc.ch.UUID() }

// Channel returns the controlled channel.
func (oc *OutboundCall) Channel() *Channel { return oc.ch }

// Hangup hangs the controlled channel up (default cause NORMAL_CLEARING).
func (oc *OutboundCall) Hangup(cause string) { oc.ch.Hangup(cause) }

// Wait blocks until the socket is closed. It returns an error for
// protocol trouble: no `connect`, an oversized body, a read error.
func (oc *OutboundCall) Wait() error {
	<-oc.done
	oc.mu.Lock()
	defer oc.mu.Unlock()
	return oc.err
}

// Done is closed when the socket is closed.
func (oc *OutboundCall) Done() <-chan struct{} { return oc.done }

// Received returns the command lines the application sent, in order.
func (oc *OutboundCall) Received() []string {
	oc.mu.Lock()
	c := oc.c
	oc.mu.Unlock()
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.received...)
}

// startSocketApp runs the `socket` application on ch: the listener gets
// its own goroutine, and the session is held until the socket closes.
func (k *call) startSocketApp(ch *Channel, a *appRun) {
	f := strings.Fields(a.arg)
	async, full := false, false
	for _, w := range f[1:] {
		switch w {
		case "async":
			async = true
		case "full":
			full = true
		}
	}
	host := f[0]
	if h, _, err := net.SplitHostPort(f[0]); err == nil {
		host = h
	}
	ch.setVar("socket_host", host)
	a.waitPark = async
	k.run(ch).holds++
	p := k.pending
	k.pending = nil
	var oc *OutboundCall
	if p != nil {
		oc = p.oc
	} else {
		oc = &OutboundCall{s: k.s, done: make(chan struct{})}
	}
	oc.mu.Lock()
	oc.ch = ch
	oc.mu.Unlock()
	target := f[0]
	if !strings.Contains(target, ":") {
		target += ":8084"
	}
	started := k.s.goRun(func() {
		var nc net.Conn
		if p != nil {
			nc = p.nc
		} else {
			var d net.Dialer
			ctx, cancel := context.WithTimeout(k.s.ctx, 5*time.Second)
			var err error
			nc, err = d.DialContext(ctx, "tcp", target)
			cancel()
			if err != nil {
				oc.end(k.s, err)
				k.send(callMsg{kind: msgSocketDone, ch: ch})
				return
			}
		}
		c := newConn(k.s, nc, true)
		c.session = ch
		c.async, c.full = async, full
		c.authed = true
		oc.mu.Lock()
		oc.c = c
		oc.mu.Unlock()
		ch.mu.Lock()
		ch.controls = append(ch.controls, c)
		ch.mu.Unlock()
		var err error
		if k.s.register(c) {
			err = c.serveOutbound()
			k.s.unregister(c)
		} else {
			err = net.ErrClosed
		}
		nc.Close()
		oc.end(k.s, err)
		k.send(callMsg{kind: msgSocketDone, ch: ch})
	})
	if !started {
		if p != nil {
			p.nc.Close()
		}
		k.run(ch).holds--
		oc.end(k.s, net.ErrClosed)
	}
}

func (oc *OutboundCall) end(s *Server, err error) {
	oc.mu.Lock()
	defer oc.mu.Unlock()
	select {
	case <-oc.done:
		return
	default:
	}
	oc.err = err
	if err != nil {
		s.stats.outboundFailed.Add(1)
	} else {
		s.stats.outboundDone.Add(1)
	}
	close(oc.done)
}

// serveOutbound runs an outbound listener: no greeting, the first block
// must come within the connect deadline (S5), then the command phase.
func (c *conn) serveOutbound() error {
	if !c.s.goRun(c.readLoop) {
		return net.ErrClosed
	}
	defer c.closeGracefully(true)
	t := time.NewTimer(c.s.cfg.connectWait)
	defer t.Stop()
	select {
	case <-c.aborted:
		return net.ErrClosed
	case <-t.C:
		return ErrNoConnect
	case r := <-c.cmds:
		if r.err != nil {
			if r.err == io.EOF {
				return ErrNoConnect
			}
			return r.err
		}
		if !c.command(r.blk) {
			c.finish()
			return c.outcome(nil)
		}
	}
	return c.outcome(c.commandLoop())
}

func (c *conn) outcome(err error) error {
	c.mu.Lock()
	connected := c.connected
	c.mu.Unlock()
	if !connected {
		return ErrNoConnect
	}
	if errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) || errors.Is(err, errDropped) {
		return nil
	}
	return err
}
