package esl

import (
	"context"
	"iter"
	"runtime"
	"strings"

	"github.com/cgoesl/esl/internal/ascii"
)

// replyError turns a -ERR reply into an error wrapping ErrCommand: a command/reply whose
// Reply-Text starts with -ERR, or an api/response whose body does.
func replyError(op string, ev *Event) error {
	if ev == nil {
		return nil
	}
	if t := ev.GetHeader("Reply-Text"); strings.HasPrefix(t, "-ERR") {
		return newError(op, strings.TrimSpace(t), ErrCommand)
	}
	if ascii.EqualFold(ev.GetHeader("Content-Type"), "api/response") && strings.HasPrefix(ev.body, "-ERR") {
		return newError(op, strings.TrimSpace(ev.body), ErrCommand)
	}
	return nil
}

// SendRecvContext sends a raw command and waits for its reply until ctx ends. A -ERR reply
// comes back together with an error wrapping ErrCommand. When ctx ends first, the error
// wraps ctx's error (and a deadline also matches ErrTimeout); the late reply is dropped
// when it comes, so later commands still get their own replies.
func (c *Connection) SendRecvContext(ctx context.Context, cmd string) (*Event, error) {
	ev, err := c.sendRecv(ctx, "sendrecv", cmd)
	if err != nil {
		return nil, err
	}
	return ev, replyError("sendrecv", ev)
}

// ApiContext runs "api <cmd> [<arg>]" and returns the api/response; its body is the
// output. An output starting with -ERR comes back with an error wrapping ErrCommand.
func (c *Connection) ApiContext(ctx context.Context, cmd, arg string) (*Event, error) {
	b, err := apiCommand("api", cmd, arg)
	if err != nil {
		return nil, err
	}
	defer runtime.KeepAlive(c)
	ev, err := c.state().roundTrip(ctx, "api", b)
	if err != nil {
		return nil, err
	}
	return ev, replyError("api", ev)
}

// ExecuteContext runs a dialplan application on a channel (uuid may be empty on an
// outbound connection) and returns the server's reply, honouring SetEventLock and
// SetAsyncExecute.
func (c *Connection) ExecuteContext(ctx context.Context, app, arg, uuid string) (*Event, error) {
	s := c.state()
	b, err := executeCommand(app, arg, uuid, s.eventLock.Load(), s.asyncExecute.Load())
	if err != nil {
		return nil, err
	}
	defer runtime.KeepAlive(c)
	ev, err := s.roundTrip(ctx, "execute", b)
	if err != nil {
		return nil, err
	}
	return ev, replyError("execute", ev)
}

// RecvEventContext returns the next event (or the reply to a plain Send) as soon as there
// is one, or an error: ctx's error when it ends, an error wrapping ErrDisconnected once
// the server closed the connection and everything received was handed out, ErrClosed
// after Close. Disconnect notices are events; the goodbye notice is followed by
// ErrDisconnected.
func (c *Connection) RecvEventContext(ctx context.Context) (*Event, error) {
	defer runtime.KeepAlive(c)
	ev, err := c.state().events.pop(ctx, 0)
	if err != nil {
		return nil, err
	}
	return ev, nil
}

// EventStream yields the events of the connection until ctx ends or the connection
// does; then it yields one error and stops:
//
//	for ev, err := range conn.EventStream(ctx) {
//		if err != nil {
//			return err
//		}
//		...
//	}
//
// Several streams (and RecvEvent callers) on one connection share the events: each event
// goes to exactly one of them.
func (c *Connection) EventStream(ctx context.Context) iter.Seq2[*Event, error] {
	return func(yield func(*Event, error) bool) {
		for {
			ev, err := c.RecvEventContext(ctx)
			if err != nil {
				yield(nil, err)
				return
			}
			if !yield(ev, nil) {
				return
			}
		}
	}
}

// ReceiveEvents calls fn with every event received (and the reply to every plain Send), in
// order, until fn returns an error, ctx ends or the connection does, and returns that
// error: fn's own, ctx's, or the one RecvEventContext would return.
//
// The event is lent to fn: it is valid until fn returns and reads as an empty event
// afterwards. The strings it returns may be kept; Clone keeps the whole event. In return,
// a stream of events read this way allocates almost nothing per event: the text of each
// is copied into a buffer that is reused once fn is done with it, instead of into fresh
// memory the garbage collector must reclaim. fn may call any method of the connection.
// Like RecvEventContext, it shares the events with other consumers of the connection.
func (c *Connection) ReceiveEvents(ctx context.Context, fn func(ev *Event) error) error {
	defer runtime.KeepAlive(c)
	s := c.state()
	s.lenders.Add(1)
	defer func() {
		s.lenders.Add(-1)
		s.duty.sendKick() // the reader goroutine may have stepped out for this caller
	}()
	for {
		ev, err := s.events.popLent(ctx, 0)
		if err != nil {
			return err
		}
		err = fn(ev)
		ev.release()
		if err != nil {
			return err
		}
	}
}
