package esl

import (
	"context"
	"errors"
	"net"
	"strconv"
	"time"
)

// DefaultDialTimeout bounds the login of Dial when neither WithTimeout nor a context
// deadline does.
const DefaultDialTimeout = 10 * time.Second

type dialConfig struct {
	user, password     string
	timeout            time.Duration
	format             string
	events             []string
	maxHeader, maxBody int
}

// DialOption configures Dial.
type DialOption func(*dialConfig)

// WithPassword sets the password for "auth" (default "ClueCon").
func WithPassword(password string) DialOption {
	return func(c *dialConfig) { c.user, c.password = "", password }
}

// WithUser logs in with "userauth user:password"; user is "name@domain".
func WithUser(user, password string) DialOption {
	return func(c *dialConfig) { c.user, c.password = user, password }
}

// WithTimeout bounds the whole login: TCP connect, greeting and auth reply.
func WithTimeout(d time.Duration) DialOption {
	return func(c *dialConfig) { c.timeout = d }
}

// WithEvents subscribes after login with "event <format> <names...>"; format is plain,
// json or xml.
func WithEvents(format string, names ...string) DialOption {
	return func(c *dialConfig) { c.format, c.events = format, names }
}

// WithLimits caps the header block and the body of received messages (a message over a
// cap ends the connection with an error instead of using unbounded memory). It needs the
// csrc library: with the original libesl (build tag libesl) Dial fails with
// ErrUnsupported.
func WithLimits(maxHeaderBlock, maxBody int) DialOption {
	return func(c *dialConfig) { c.maxHeader, c.maxBody = maxHeaderBlock, maxBody }
}

// Dial connects to FreeSWITCH's event socket at addr ("host:port") and logs in. The
// context bounds the login; once connected, it has no further effect.
func Dial(ctx context.Context, addr string, opts ...DialOption) (*Connection, error) {
	cfg := dialConfig{password: "ClueCon", timeout: DefaultDialTimeout}
	for _, o := range opts {
		o(&cfg)
	}
	host, portText, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, newError("dial", err.Error(), ErrBadArgument)
	}
	port, err := strconv.Atoi(portText)
	if err != nil || port <= 0 || port > 65535 {
		return nil, newError("dial", "bad port "+strconv.Quote(portText), ErrBadArgument)
	}
	for _, a := range []string{host, cfg.user, cfg.password} {
		if err := checkArg("dial", "login argument", a); err != nil {
			return nil, err
		}
	}
	for _, a := range append([]string{cfg.format}, cfg.events...) {
		if err := checkArg("dial", "event subscription", a); err != nil {
			return nil, err
		}
	}
	timeout := cfg.timeout
	if dl, ok := ctx.Deadline(); ok {
		if left := time.Until(dl); timeout <= 0 || left < timeout {
			timeout = left
		}
		if timeout <= 0 {
			return nil, newError("dial", "", context.DeadlineExceeded)
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, newError("dial", "", err)
	}

	type result struct {
		c   *Connection
		err error
	}
	done := make(chan result, 1)
	go func() {
		c, err := connect(host, port, cfg.user, cfg.password, timeout, cfg.maxHeader, cfg.maxBody)
		done <- result{c, err}
	}()
	var r result
	select {
	case r = <-done:
	case <-ctx.Done():
		// The C login cannot be interrupted; it ends within timeout, and its connection
		// is closed then.
		go func() {
			if r := <-done; r.c != nil {
				r.c.Close()
			}
		}()
		return nil, newError("dial", "", ctx.Err())
	}
	if r.err != nil {
		return nil, r.err
	}
	if len(cfg.events) > 0 {
		ev, err := r.c.SendRecvContext(ctx, "event "+cfg.format+" "+joinArgs(cfg.events))
		if err == nil {
			err = replyError("event", ev)
		}
		if err != nil {
			r.c.Close()
			return nil, err
		}
	}
	return r.c, nil
}

// connect logs in and starts the reader.
func connect(host string, port int, user, password string, timeout time.Duration, maxHeader, maxBody int) (*Connection, error) {
	start := time.Now()
	h, fd, err := connectHandle(host, port, user, password, timeout, maxHeader, maxBody)
	if err != nil {
		var e *Error
		if timeout > 0 && errors.As(err, &e) && e.Err == ErrConnect && e.Text == noReason &&
			time.Since(start) >= timeout*9/10 {
			// The original libesl gives no reason (quirk Q9); a failure that took the
			// whole timeout was one.
			return nil, newError("connect", "no answer within "+timeout.String(), ErrTimeout)
		}
		return nil, err
	}
	s := newConnState()
	s.h, s.fd = h, fd
	s.start()
	return wrap(s), nil
}

// NewConnection is the twin of new ESLconnection(host, port, password): logs in with
// "auth", waiting as long as it takes (use Dial for a timeout). It never returns nil:
// check Connected, and Err for the reason of a failure.
func NewConnection(host string, port int, password string) *Connection {
	return newConnection(host, port, "", password)
}

// NewConnectionUser is the twin of new ESLconnection(host, port, user, password): logs in
// with "userauth user:password" (user is "name@domain").
func NewConnectionUser(host string, port int, user, password string) *Connection {
	return newConnection(host, port, user, password)
}

func newConnection(host string, port int, user, password string) *Connection {
	var err error
	for _, a := range []string{host, user, password} {
		if err = checkArg("connect", "login argument", a); err != nil {
			break
		}
	}
	var c *Connection
	if err == nil {
		c, err = connect(host, port, user, password, 0, 0, 0)
	}
	if err != nil {
		logGo(LogLevelError, err.Error())
		return failed(err)
	}
	return c
}

// NewConnectionFD is the twin of new ESLconnection(fd) for outbound mode: fd is a socket
// FreeSWITCH opened to this program (accepted by a listener). It sends "connect", keeps
// the channel data for GetInfo and starts receiving. The Connection owns fd from here on
// and closes it on Disconnect, or at once when the setup fails. It never returns nil.
func NewConnectionFD(fd int) *Connection {
	if canAdopt {
		return adoptConnection(fd)
	}
	h, info, err := attachHandle(fd)
	if err != nil {
		logGo(LogLevelError, err.Error())
		return failed(err)
	}
	s := newConnState()
	s.h, s.fd, s.info = h, fd, info
	s.start()
	return wrap(s)
}

// adoptConnection is NewConnectionFD with csrc: the handle takes the socket without I/O and
// "connect" is sent like any command. Its reply is awaited in the runtime's network poller,
// not in a blocking C call that would hold an OS thread, and the scheduler's P until sysmon
// takes it back, for as long as the peer takes to answer.
func adoptConnection(fd int) *Connection {
	h, err := adoptHandle(fd)
	if err != nil {
		logGo(LogLevelError, err.Error())
		return failed(err)
	}
	s := newConnState()
	s.h, s.fd = h, fd
	// connect is sent and its reply read on this goroutine, in the poller, before the reader
	// goroutine starts: no hand-over between goroutines for the one reply every session waits
	// for. Whatever follows the reply is queued as the reader goroutine would queue it.
	req, err := s.send("attach", []byte("connect\n\n"), true, true)
	if err == nil {
		if f := pollable(fd); f != nil {
			s.readEarly(f, req)
		}
	}
	s.start()
	var info *Event
	if err == nil {
		info, err = s.wait(nil, "attach", req)
	}
	if err != nil {
		// The reader's reason (the peer closed, a malformed reply) says more than "ended
		// before the reply".
		text := "no reply to connect"
		if e := (*Error)(nil); errors.As(s.endErr(), &e) && e.Text != "" {
			text = e.Text
		}
		_ = s.close()
		err = newError("attach", text, ErrDisconnected)
		logGo(LogLevelError, err.Error())
		return failed(err)
	}
	s.info = info
	return wrap(s)
}
