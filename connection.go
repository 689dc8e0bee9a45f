package esl

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/cgoesl/esl/internal/ascii"
)

// Connection is one event-socket connection: inbound (NewConnection, Dial) or outbound
// (NewConnectionFD on a socket FreeSWITCH opened to us). It is safe for concurrent use by
// any number of goroutines; see the package documentation for the concurrency contract.
//
// A Connection whose setup failed is still a valid value: Connected reports false, Err
// tells why, and every method returns nil or an error.
type Connection struct {
	s *connState
}

// ESLconnection is the name of the type in the SWIG bindings.
type ESLconnection = Connection

// request is one command waiting for its reply. ch is nil for a plain Send, whose reply
// goes to the event stream as in the SWIG bindings.
type request struct {
	ch        chan *Event
	abandoned atomic.Bool // the caller stopped waiting (context ended)
	mayRead   bool        // the caller may read the socket itself (see readduty.go)
}

// streamRequest marks a Send in the FIFO.
var streamRequest = &request{}

var requestPool = sync.Pool{New: func() any { return &request{ch: make(chan *Event, 1)} }}

// connState is everything a connection owns. The reader goroutine refers to this, never
// to the Connection, so an abandoned Connection can be collected and its cleanup close
// the socket.
type connState struct {
	h      *handle // C side; nil once disconnected
	fd     int
	info   *Event
	origin string // creation stack, when leak reports are on

	connected atomic.Bool
	closing   atomic.Bool
	lastErr   atomic.Pointer[error]

	// wmu orders writers: a command is pushed onto pending and written whole under it.
	wmu    sync.Mutex
	closed bool // under wmu: the handle is gone, the fd number may be reused

	qmu     sync.Mutex
	pending ring[*request]
	dead    bool  // under qmu: the reader has ended
	deadErr error // under qmu

	events *eventQueue

	// Owned by whoever holds the read duty: events received and not queued yet (see
	// route), whether to yield after handing a caller its reply (when the reader blocks in
	// C), and whether the last reply went to a caller that may read itself.
	batch           []*Event
	yieldAfterReply bool
	replyToReader   bool

	duty readDuty
	turn dutyTurn

	// Set before the reader goroutine starts, by a goroutine that read the first reply
	// itself (readEarly): the socket's pollable duplicate, and whether the connection ended
	// already, with the library's reason.
	early struct {
		polled *os.File
		ended  bool
		text   string
	}

	readerStarted bool
	readerDone    chan struct{}
	closeOnce     sync.Once

	asyncExecute atomic.Bool
	eventLock    atomic.Bool
	lenders      atomic.Int32 // ReceiveEvents callers running

	repliesDropped atomic.Uint64
	messages       atomic.Uint64

	jobs jobTable

	// wake (capacity 1, see notify) tells a reader goroutine held back by a full event queue
	// to look again: the queue drained to queueLow, a command was sent, or Close began.
	wake chan struct{}
}

func newConnState() *connState {
	s := &connState{fd: -1, events: newEventQueue(), readerDone: make(chan struct{}), wake: make(chan struct{}, 1)}
	s.duty.init()
	s.events.duty = &s.duty
	s.events.receive = s.readForEvents
	s.events.wake = s.wake
	s.jobs.init()
	if leakCheck != "" {
		buf := make([]byte, 8192)
		s.origin = string(buf[:runtime.Stack(buf, false)])
	}
	return s
}

// leakCheck enables a report for Connections that were garbage collected without Close
// or Disconnect: ESL_LEAKCHECK=1 prints the creation stack, ESL_LEAKCHECK=panic panics.
var leakCheck = os.Getenv("ESL_LEAKCHECK")

// leaks counts Connections that were collected while still open.
var leaks atomic.Int64

func wrap(s *connState) *Connection {
	c := &Connection{s: s}
	if s.h != nil {
		// Safety net only: the socket, the handle and the reader are released by Close.
		runtime.AddCleanup(c, func(s *connState) {
			leaks.Add(1)
			if leakCheck != "" {
				msg := "esl: Connection garbage collected without Close; created at:\n" + s.origin
				if leakCheck == "panic" {
					panic(msg)
				}
				fmt.Fprintln(stderr, msg)
			}
			go s.close()
		}, s)
	}
	return c
}

// failed returns a Connection that never connected.
func failed(err error) *Connection {
	s := newConnState()
	s.setErr(err)
	s.dead = true
	s.deadErr = err
	s.events.end(err)
	close(s.readerDone)
	return &Connection{s: s}
}

func (s *connState) setErr(err error) {
	if err != nil {
		s.lastErr.Store(&err)
	}
}

// start launches the reader once the handle is connected.
func (s *connState) start() {
	s.connected.Store(true)
	s.readerStarted = true
	go s.readLoop()
}

// readLoop is the only code that receives on the handle (see receive), until the
// connection ends.
func (s *connState) readLoop() {
	errText := s.receive()
	var endErr error
	if s.closing.Load() {
		endErr = ErrClosed
	} else {
		if errText == "" {
			errText = "connection lost"
		}
		endErr = newError("recv", errText, ErrDisconnected)
	}
	s.readerExit(endErr)
}

// isReply tells replies (matched in order to the commands) from everything else. As in
// esl_send_recv, a message without Content-Type counts as a reply.
func isReply(ct string) bool {
	return ct == "" || ascii.EqualFold(ct, "command/reply") || ascii.EqualFold(ct, "api/response")
}

// route hands one received message on, in the order received. Events (and the replies to
// plain Sends) collect in s.batch until flush queues them, under one lock and with one
// wake-up; they are flushed before a reply or a job result is handed over, so whoever
// receives that finds every earlier event queued.
func (s *connState) route(reply bool, ev *Event) {
	if reply {
		s.qmu.Lock()
		req, ok := s.pending.pop()
		s.qmu.Unlock()
		switch {
		case !ok || req == streamRequest:
			// The reply to a plain Send (or one nobody asked for) is read with RecvEvent.
			s.batch = append(s.batch, ev)
		case req.abandoned.Load():
			// Its caller stopped waiting: dropped here, in order, so the replies after
			// it still reach their callers.
			s.repliesDropped.Add(1)
		default:
			s.flush()
			// Read before the hand-over: the caller recycles req once it has the reply.
			s.replyToReader = req.mayRead
			req.ch <- ev // buffered, never blocks the reader
			if s.yieldAfterReply {
				// The woken caller sits on this P; the reader is about to block in C, and
				// the P would only be handed on by sysmon, tens of microseconds later.
				// Yielding lets the caller run now (round trips got about twice as fast).
				runtime.Gosched()
			}
		}
		return
	}
	if ev.id == evBackgroundJob {
		s.flush()
		// a job's result is its waiter's to keep, not lent (settled before the hand-over,
		// which the waiter may read at once)
		ev.settle()
		if s.jobs.deliver(ev) {
			return
		}
	}
	s.batch = append(s.batch, ev)
}

// The event queue's bound. While queueHigh events or more wait and nobody waits for a reply
// or a job's result, the reader goroutine stops reading until the queue drains to
// queueLow: a consumer slower than the stream then holds back the socket, as a program on
// libesl that reads only when it asks for an event does, and FreeSWITCH keeps the rest
// (it drops a listener only some 100,000 events behind). Memory stays bounded instead of
// growing with the backlog. A command sent, a job outstanding or Close lets it read on.
const (
	queueHigh = 4096
	queueLow  = queueHigh / 2
)

// holdBack keeps the reader goroutine from reading while the event queue is full (see
// queueHigh).
func (s *connState) holdBack() {
	for s.events.depth() >= queueHigh && !s.closing.Load() && !s.awaitingReply() {
		<-s.wake
	}
}

// awaitingReply reports whether a caller waits for something only reading brings: the
// reply to a command it sent, or a job's result.
func (s *connState) awaitingReply() bool {
	if s.jobs.n.Load() > 0 {
		return true
	}
	s.qmu.Lock()
	defer s.qmu.Unlock()
	return s.pending.any(func(req *request) bool { return req != streamRequest && !req.abandoned.Load() })
}

// flush queues the events collected by route.
func (s *connState) flush() {
	if len(s.batch) == 0 {
		return
	}
	s.events.pushBatch(s.batch)
	clear(s.batch)
	s.batch = s.batch[:0]
}

func (s *connState) readerExit(err error) {
	s.connected.Store(false)
	if !errors.Is(err, ErrClosed) {
		s.setErr(err)
	}
	s.qmu.Lock()
	s.dead, s.deadErr = true, err
	waiting := s.pending.drain()
	s.qmu.Unlock()
	for _, r := range waiting {
		if r != streamRequest {
			r.ch <- nil
		}
	}
	s.jobs.fail(err)
	s.events.end(err)
	close(s.readerDone)
}

func (s *connState) endErr() error {
	s.qmu.Lock()
	defer s.qmu.Unlock()
	if s.deadErr != nil {
		return s.deadErr
	}
	return ErrDisconnected
}

// send writes one command under the write lock, after queueing where its reply goes.
// mayRead: the caller will wait for the reply with no way to be interrupted but the reply
// or the end of the connection, so it may read the socket itself (see readduty.go).
func (s *connState) send(op string, cmd []byte, wantReply, mayRead bool) (*request, error) {
	req := streamRequest
	if wantReply {
		req = requestPool.Get().(*request)
		req.mayRead = mayRead
	}
	s.wmu.Lock()
	if s.closed {
		s.wmu.Unlock()
		return nil, newError(op, "", ErrClosed)
	}
	s.qmu.Lock()
	if s.dead {
		err := s.deadErr
		s.qmu.Unlock()
		s.wmu.Unlock()
		if errors.Is(err, ErrClosed) {
			return nil, newError(op, "", ErrClosed)
		}
		return nil, newError(op, "not connected", ErrDisconnected)
	}
	s.pending.push(req)
	s.qmu.Unlock()
	if wantReply {
		notify(s.wake) // a reader held back by a full queue reads on for the reply
	}
	s.jobs.noteCommand(cmd)
	err := writeAll(s.fd, cmd)
	if err != nil {
		// The stream is out of step now: end the connection, which fails every waiter.
		// Still under the write lock, so the fd cannot have been closed and reused.
		_ = syscall.Shutdown(s.fd, syscall.SHUT_RDWR)
	}
	s.wmu.Unlock()
	if err != nil {
		if s.closing.Load() {
			// Close shut the socket under this write.
			return nil, newError(op, "", ErrClosed)
		}
		return nil, newError(op, err.Error(), ErrDisconnected)
	}
	return req, nil
}

// writeAll writes b whole, also on a non-blocking socket (esl_listen hands those out).
func writeAll(fd int, b []byte) error {
	for len(b) > 0 {
		n, err := syscall.Write(fd, b)
		switch {
		case err == syscall.EINTR:
			continue
		case err == syscall.EAGAIN:
			waitWritable(fd, 1000)
			continue
		case err != nil:
			return err
		case n == 0:
			return syscall.EPIPE
		}
		b = b[n:]
	}
	return nil
}

// wait waits for the reply of req. A nil ctx waits until the reply or the end of the
// connection.
func (s *connState) wait(ctx context.Context, op string, req *request) (*Event, error) {
	var ev *Event
	select {
	case ev = <-req.ch:
	default:
		var done <-chan struct{}
		if ctx != nil {
			done = ctx.Done()
		}
		s.duty.waitBegin()
		select {
		case ev = <-req.ch:
		case <-done:
			s.duty.waitEnd()
			// req stays in the FIFO; its reply is dropped when it comes.
			req.abandoned.Store(true)
			return nil, newError(op, "gave up waiting for the reply", ctx.Err())
		}
		s.duty.waitEnd()
	}
	if ev == nil {
		err := s.endErr()
		if errors.Is(err, ErrClosed) {
			return nil, newError(op, "", ErrClosed)
		}
		return nil, newError(op, "connection ended before the reply", ErrDisconnected)
	}
	requestPool.Put(req)
	return ev, nil
}

// roundTrip sends cmd and waits for its reply.
func (s *connState) roundTrip(ctx context.Context, op string, cmd []byte) (*Event, error) {
	if ctx != nil {
		if err := ctx.Err(); err != nil {
			return nil, newError(op, "", err)
		}
	}
	mayRead := ctx == nil || ctx.Done() == nil
	req, err := s.send(op, cmd, true, mayRead)
	if err != nil {
		return nil, err
	}
	if mayRead && len(req.ch) == 0 {
		if rc, ok := s.duty.take(); ok {
			s.readFor(rc, req)
		}
	}
	return s.wait(ctx, op, req)
}

// close shuts the socket down (waking the reader), waits for the reader, then calls
// esl_disconnect and frees the handle, in that order: nothing touches the handle while
// it is being destroyed, which also keeps clear of the original libesl's disconnect race.
func (s *connState) close() error {
	s.closeOnce.Do(func() {
		s.closing.Store(true)
		// fd and h change only here, so they are read without the write lock: a writer
		// blocked in write(2) holds it until the shutdown below wakes it.
		fd, h := s.fd, s.h
		if h == nil {
			return
		}
		if s.readerStarted {
			_ = syscall.Shutdown(fd, syscall.SHUT_RDWR)
			s.duty.sendKick() // the reader goroutine may have stepped out of the poller
			notify(s.wake)    // or be held back by a full queue
			<-s.readerDone
		}
		s.wmu.Lock()
		s.closed = true
		s.h = nil
		s.connected.Store(false)
		h.disconnect()
		s.wmu.Unlock()
	})
	return nil
}

// state returns the connection's state, or a closed stand-in for a nil Connection.
func (c *Connection) state() *connState {
	if c == nil || c.s == nil {
		return nilState
	}
	return c.s
}

var nilState = failed(newError("esl", "nil Connection", ErrClosed)).s

// Err returns the error that explains the state of the connection: why it could not
// connect, why it ended, or the last failure of a twin method (which return nil or false
// like their SWIG counterparts). nil while all is well.
func (c *Connection) Err() error {
	if p := c.state().lastErr.Load(); p != nil {
		return *p
	}
	return nil
}

// fail records err for Err and logs it; the twins return nil or false after this.
func (s *connState) fail(err error) {
	s.setErr(err)
	logGo(LogLevelError, err.Error(), slog.String("source", "esl"))
}

// SocketDescriptor is the twin of ESLconnection::socketDescriptor: the socket while
// connected, else -1.
func (c *Connection) SocketDescriptor() int {
	s := c.state()
	if !s.connected.Load() {
		return -1
	}
	return s.fd
}

// Connected is the twin of ESLconnection::connected.
func (c *Connection) Connected() bool {
	s := c.state()
	return s.connected.Load() && !s.closing.Load()
}

// GetInfo is the twin of ESLconnection::getInfo: a copy of the channel data FreeSWITCH
// sent in reply to connect (outbound connections), or nil. Like the original, its
// Event-Name header reads SOCKET_DATA; CHANNEL_DATA comes second.
func (c *Connection) GetInfo() *Event {
	s := c.state()
	if !s.connected.Load() || s.info == nil {
		return nil
	}
	return s.info.Clone()
}

// Send is the twin of ESLconnection::send: it writes the command and returns without
// waiting. The reply is then read with RecvEvent, as in the SWIG bindings. A command may
// span several lines (sendmsg with headers); a body needs a Content-Length header.
func (c *Connection) Send(cmd string) error {
	s := c.state()
	defer runtime.KeepAlive(c)
	b, err := rawCommand("send", cmd)
	if err == nil {
		_, err = s.send("send", b, false, false)
	}
	if err != nil {
		s.fail(err)
	}
	return err
}

// SendRecv is the twin of ESLconnection::sendRecv: it sends the command and returns its
// reply (command/reply or api/response), or nil on failure (see Err). Events that arrive
// meanwhile stay queued for RecvEvent.
func (c *Connection) SendRecv(cmd string) *Event {
	ev, err := c.sendRecv(nil, "sendrecv", cmd)
	if err != nil {
		c.state().fail(err)
	}
	return ev
}

func (c *Connection) sendRecv(ctx context.Context, op, cmd string) (*Event, error) {
	s := c.state()
	defer runtime.KeepAlive(c)
	b, err := rawCommand(op, cmd)
	if err != nil {
		return nil, err
	}
	return s.roundTrip(ctx, op, b)
}

func (c *Connection) twin(op string, b []byte, err error) *Event {
	s := c.state()
	defer runtime.KeepAlive(c)
	if err == nil {
		var ev *Event
		if ev, err = s.roundTrip(nil, op, b); err == nil {
			return ev
		}
	}
	s.fail(err)
	return nil
}

func first(args []string) string {
	if len(args) > 0 {
		return args[0]
	}
	return ""
}

func joinArgs(args []string) string {
	switch len(args) {
	case 0:
		return ""
	case 1:
		return args[0]
	}
	n := 0
	for _, a := range args {
		n += len(a) + 1
	}
	b := make([]byte, 0, n)
	for i, a := range args {
		if i > 0 {
			b = append(b, ' ')
		}
		b = append(b, a...)
	}
	return string(b)
}

// Api is the twin of ESLconnection::api: runs "api <cmd> <arg>" and returns the
// api/response event (the output is its body), or nil on failure. Several args are joined
// with spaces. Unlike the SWIG method (quirk Q31), no trailing space is sent when there
// is no argument, so commands that check for an empty argument see none.
func (c *Connection) Api(cmd string, arg ...string) *Event {
	b, err := apiCommand("api", cmd, joinArgs(arg))
	return c.twin("api", b, err)
}

// Bgapi is the twin of ESLconnection::bgapi: runs the command in the background and
// returns the command/reply (Reply-Text "+OK Job-UUID: ...", header Job-UUID), or nil.
// The result comes later as a BACKGROUND_JOB event, for connections subscribed to it. An
// optional jobUUID chooses the Job-UUID. See BackgroundJob for the idiomatic form.
func (c *Connection) Bgapi(cmd string, arg string, jobUUID ...string) *Event {
	b, err := bgapiCommand(cmd, arg, first(jobUUID))
	return c.twin("bgapi", b, err)
}

// SendEvent is the twin of ESLconnection::sendEvent: fires ev on the server ("sendevent
// <type>" with the event's headers and body) and returns the server's reply
// (Reply-Text "+OK <Event-UUID>"). The SWIG method returns stale data here (quirk Q26);
// this returns the reply. Like the SWIG method it never returns nil: on failure it
// returns a SERVER_DISCONNECTED event, and Err tells why.
func (c *Connection) SendEvent(ev *Event) *Event {
	var b []byte
	var err error
	if ev == nil {
		err = newError("sendevent", "nil event", ErrBadArgument)
	} else {
		b, err = eventCommand("sendevent", "sendevent "+eventName(ev.id), ev)
	}
	if r := c.twin("sendevent", b, err); r != nil {
		return r
	}
	return newEventID(evServerDisconnected, "")
}

// SendMSG is the twin of ESLconnection::sendMSG: sends ev as "sendmsg [<uuid>]" and waits
// for the reply. It returns nil once the server answered, whatever the answer (as the
// SWIG method returns 0); use SendRecv or ExecuteContext to look at the reply.
func (c *Connection) SendMSG(ev *Event, uuid ...string) error {
	s := c.state()
	defer runtime.KeepAlive(c)
	line := "sendmsg"
	if u := first(uuid); u != "" {
		line += " " + u
	}
	b, err := eventCommand("sendmsg", line, ev)
	if err == nil {
		_, err = s.roundTrip(nil, "sendmsg", b)
	}
	if err != nil {
		s.fail(err)
	}
	return err
}

// RecvEvent is the twin of ESLconnection::recvEvent: the next event, or the reply to a
// plain Send, waiting as long as it takes. It never returns nil: once the connection has
// ended and everything received was handed out, it returns a SERVER_DISCONNECTED event.
// Disconnect notices are handed out as events before that (the SWIG method hides a
// goodbye notice behind SERVER_DISCONNECTED).
func (c *Connection) RecvEvent() *Event {
	s := c.state()
	defer runtime.KeepAlive(c)
	ev, err := s.events.pop(nil, 0)
	if ev == nil {
		if err != nil && !errors.Is(err, ErrClosed) {
			s.setErr(err)
		}
		return newEventID(evServerDisconnected, "")
	}
	return ev
}

// RecvEventTimed is the twin of ESLconnection::recvEventTimed: like RecvEvent, waiting at
// most ms milliseconds; nil on timeout or once the connection has ended. As in libesl
// (and unlike what its wiki says), ms <= 0 waits without limit; use RecvEventContext with
// a done context to poll.
func (c *Connection) RecvEventTimed(ms int) *Event {
	s := c.state()
	defer runtime.KeepAlive(c)
	ev, _ := s.events.pop(nil, time.Duration(ms)*time.Millisecond)
	return ev
}

// Filter is the twin of ESLconnection::filter: "filter <header> <value>"; the reply or nil.
func (c *Connection) Filter(header, value string) *Event {
	b, err := simpleCommand("filter", "filter", header, value)
	return c.twin("filter", b, err)
}

// Events is the twin of ESLconnection::events: subscribes with "event <format> <value>",
// where format is "xml" or "json" when etype is exactly that, else "plain". It returns
// nil once the server answered, whatever the answer (as the SWIG method returns 0).
func (c *Connection) Events(etype, value string) error {
	s := c.state()
	defer runtime.KeepAlive(c)
	format := "plain"
	if etype == "xml" || etype == "json" {
		format = etype
	}
	b, err := simpleCommand("events", "event", format, value)
	if err == nil {
		_, err = s.roundTrip(nil, "events", b)
	}
	if err != nil {
		s.fail(err)
	}
	return err
}

// Execute is the twin of ESLconnection::execute(app, arg, uuid): runs a dialplan
// application with sendmsg and returns the reply, or nil. args are the optional argument
// and channel uuid (needed on inbound connections). The event-lock and async flags set by
// SetEventLock and SetAsyncExecute are honoured.
func (c *Connection) Execute(app string, args ...string) *Event {
	return c.execute(app, args, c.state().asyncExecute.Load())
}

// ExecuteAsync is the twin of ESLconnection::executeAsync: Execute with "async: true".
// It still waits for the server's reply, which in async mode comes at once.
func (c *Connection) ExecuteAsync(app string, args ...string) *Event {
	return c.execute(app, args, true)
}

func (c *Connection) execute(app string, args []string, async bool) *Event {
	arg, uuid := first(args), ""
	if len(args) > 1 {
		uuid = args[1]
	}
	b, err := executeCommand(app, arg, uuid, c.state().eventLock.Load(), async)
	return c.twin("execute", b, err)
}

// SetAsyncExecute is the twin of ESLconnection::setAsyncExecute: val is read with esl_true
// ("1", "true", "yes", "on", ...); Execute then adds "async: true". Returns the new value.
func (c *Connection) SetAsyncExecute(val string) bool {
	v := eslTrue(val)
	c.state().asyncExecute.Store(v)
	return v
}

// SetEventLock is the twin of ESLconnection::setEventLock: Execute then adds
// "event-lock: true". Returns the new value.
func (c *Connection) SetEventLock(val string) bool {
	v := eslTrue(val)
	c.state().eventLock.Store(v)
	return v
}

// Disconnect is the twin of ESLconnection::disconnect: closes the connection. It is
// idempotent and safe to call concurrently with any other method; waiting callers get
// ErrClosed (twins: nil).
func (c *Connection) Disconnect() error {
	defer runtime.KeepAlive(c)
	return c.state().close()
}

// Close is Disconnect, for io.Closer.
func (c *Connection) Close() error { return c.Disconnect() }

// Stats are counters of one connection.
type Stats struct {
	Messages        uint64 // messages received (replies, events, notices)
	EventsQueued    uint64 // messages put on the event queue
	EventsDelivered uint64 // taken from it by RecvEvent and friends
	QueueDepth      int    // waiting in the queue now
	MaxQueueDepth   int    // the most that ever waited
	RepliesDropped  uint64 // replies whose caller had stopped waiting
	PendingReplies  int    // commands written whose reply has not come yet
}

// Stats returns the connection's counters.
func (c *Connection) Stats() Stats {
	s := c.state()
	q, d, depth, maxDepth := s.events.stats()
	s.qmu.Lock()
	pend := s.pending.n
	s.qmu.Unlock()
	return Stats{Messages: s.messages.Load(), EventsQueued: q, EventsDelivered: d, QueueDepth: depth,
		MaxQueueDepth: maxDepth, RepliesDropped: s.repliesDropped.Load(), PendingReplies: pend}
}
