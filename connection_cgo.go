//go:build cgo

package esl

/*
#include <stdlib.h>
#include "eslgo_shim.h"
*/
import "C"

import (
	"os"
	"strings"
	"syscall"
	"time"
	"unsafe"
)

// handle is the C side of one connection: an esl_handle_t in C memory (calloc'ed, about
// 70 KiB plus the library's buffers) and the shim's packed messages of the last receive.
type handle struct {
	c *C.eslgo_conn_t
	// lend: copy text events into pooled buffers (a ReceiveEvents callback is running, so
	// they will likely be lent; see event_lend.go). Set by the holder of the read duty.
	lend bool
	// slab: Events for lent text events, allocated eventSlab at a time and never reused (a lent
	// event reads as empty once released, so its slot cannot hold another). One allocation
	// instead of 32 took 3-5% off the CPU per lent event; a kept pointer holds 6 KiB of
	// slab. Used by the holder of the read duty, like lend.
	slab []Event
}

func errTextOf(c *C.eslgo_conn_t) string {
	return C.GoString(&c.handle.err[0])
}

func timeoutMS(d time.Duration) C.uint32_t {
	if d <= 0 {
		return 0
	}
	ms := d.Milliseconds()
	if ms == 0 {
		ms = 1
	}
	if ms > 1<<31 {
		ms = 1 << 31
	}
	return C.uint32_t(ms)
}

// connectHandle logs in (esl_connect_timeout). timeout 0 waits without limit, as the SWIG
// constructors do; otherwise it bounds the whole login.
func connectHandle(host string, port int, user, password string, timeout time.Duration, maxHeader, maxBody int) (*handle, int, error) {
	c := C.eslgo_conn_new()
	if c == nil {
		return nil, -1, newError("connect", "out of memory", ErrConnect)
	}
	var cuser *C.char
	if user != "" {
		cuser = cString(user)
	}
	st := C.eslgo_connect(c, cString(host), C.int(port), cuser, cString(password), timeoutMS(timeout))
	if st != 0 {
		text := errTextOf(c)
		C.eslgo_conn_free(c)
		return nil, -1, connectError(text)
	}
	h := &handle{c: c}
	if maxHeader > 0 || maxBody > 0 {
		if err := h.setLimits(maxHeader, maxBody); err != nil {
			h.disconnect()
			return nil, -1, err
		}
	}
	return h, int(c.handle.sock), nil
}

// connectError maps esl_connect_timeout's err text to a sentinel. The original libesl
// clears the handle on failure (its quirk Q9), so there the reason is unknown.
func connectError(text string) error {
	switch {
	case strings.Contains(text, "Authentication"):
		return newError("connect", text, ErrAuth)
	case strings.Contains(text, "timed out"):
		return newError("connect", text, ErrTimeout)
	case text == "":
		return newError("connect", noReason, ErrConnect)
	}
	return newError("connect", text, ErrConnect)
}

// attachHandle runs esl_attach_handle on an accepted outbound socket: it sends connect
// and keeps the channel data. The socket belongs to the handle from here on (it is
// closed on failure too).
func attachHandle(fd int) (*handle, *Event, error) {
	c, err := connForSocket(fd)
	if err != nil {
		return nil, nil, err
	}
	st := C.eslgo_attach(c, C.int(fd))
	if st != 0 {
		text := errTextOf(c)
		if text == "" {
			text = "no reply to connect"
		}
		C.eslgo_conn_free(c)
		return nil, nil, newError("attach", text, ErrDisconnected)
	}
	h := &handle{c: c}
	h.noteDropped()
	_, info := h.unpack()
	return h, info, nil
}

// canAdopt: the library can take an accepted socket without sending "connect" itself
// (esl_attach_socket, csrc only), so NewConnectionFD sends it as a command.
var canAdopt = haveExtensions

// connForSocket allocates the C side of a connection for an accepted outbound socket; the
// socket is closed when that fails.
func connForSocket(fd int) (*C.eslgo_conn_t, error) {
	if fd < 0 {
		return nil, newError("attach", "invalid socket", ErrBadArgument)
	}
	c := C.eslgo_conn_new()
	if c == nil {
		_ = syscall.Close(fd)
		return nil, newError("attach", "out of memory", ErrConnect)
	}
	return c, nil
}

// adoptHandle gives an accepted outbound socket to a new handle, with no I/O: the caller
// sends "connect". The socket is closed on failure.
func adoptHandle(fd int) (*handle, error) {
	c, err := connForSocket(fd)
	if err != nil {
		return nil, err
	}
	if C.eslgo_adopt(c, C.int(fd)) != 0 {
		text := errTextOf(c)
		C.eslgo_conn_free(c)
		_ = syscall.Close(fd)
		return nil, newError("attach", text, ErrConnect)
	}
	return &handle{c: c}, nil
}

// receive runs the reader until the connection ends and returns the library's reason
// (empty when it gave none). With csrc the reader waits for input in the runtime's network
// poller, like any Go socket, and calls C only to read what is there and parse it, a batch
// of messages per call; so a waiting connection holds no OS thread, and a reply wakes its
// caller without a thread hand-off. Otherwise (the original libesl, or no poller for the
// socket) it blocks in C, one message per call.
func (s *connState) receive() string {
	if s.early.ended {
		if s.early.polled != nil {
			s.early.polled.Close()
		}
		return s.early.text
	}
	if canRecvBatch {
		f := s.early.polled
		if f == nil {
			f = pollable(s.fd)
		}
		if f != nil {
			errText, ended := s.receivePolled(f)
			if ended {
				return errText
			}
		}
	}
	h := s.h
	s.yieldAfterReply = true
	for !s.closing.Load() {
		s.holdBack()
		n, ok, errText := h.recv()
		s.deliver(n)
		if !ok {
			return errText
		}
	}
	return ""
}

// deliver routes the n messages the last receive packed.
func (s *connState) deliver(n int) {
	if n == 0 {
		return
	}
	s.messages.Add(uint64(n))
	s.h.lend = s.lenders.Load() > 0
	for i := 0; i < n; i++ {
		s.route(s.h.message(i))
	}
	s.flush()
}

// repoll makes the pollable duplicate that puts the socket back in the poller after
// readDuty.unpoll; tests replace it.
var repoll = pollable

// pollable returns a duplicate of fd that the runtime's network poller watches (the socket
// is made non-blocking, which both the library and writeAll handle), or nil.
func pollable(fd int) *os.File {
	if syscall.SetNonblock(fd, true) != nil {
		return nil
	}
	dup, err := dupCloexec(fd)
	if err != nil {
		return nil
	}
	return os.NewFile(uintptr(dup), "esl")
}

// receivePolled reads through the network poller until the connection ends (ended true,
// with the reason), or until the poller cannot serve the socket (ended false: nothing was
// lost, the caller goes on in blocking mode). It steps out of the poller for callers that
// read their own replies, and comes back (see readduty.go). f is the socket's pollable
// duplicate; receivePolled closes it, and any it makes to replace it.
func (s *connState) receivePolled(f *os.File) (errText string, ended bool) {
	defer func() {
		if f != nil {
			f.Close()
		}
	}()
	// poll hands f to the poller and serves the read duty with it
	var rc syscall.RawConn
	poll := func() bool {
		var err error
		if rc, err = f.SyscallConn(); err != nil {
			return false
		}
		s.duty.serve(rc)
		return true
	}
	if !poll() {
		return "", false
	}
	defer s.duty.stop()
	// The callback reads and routes everything that can be had without waiting, and returns
	// false to wait for readability, true when the connection ended or the reader steps out.
	// Waiting inside one Read keeps the readiness the poller saw while the callback ran.
	steppedOut, forConsumers := false, false
	// Stepped out for the event consumers, the reader goroutine stays out while events are
	// queued: a consumer is busy with them and reads once they are handled. Anybody else
	// who needs a reader kicks.
	consumersBusy := func() bool { return forConsumers && s.events.depth() > 0 }
	// Out for the consumers for a lease or more, the reader goroutine takes the socket out of
	// the poller (see readDuty.unpoll) and puts it back when it takes the duty again.
	unpoll := func() {
		if forConsumers && f != nil && s.duty.unpoll() {
			f.Close()
			f = nil
		}
	}
	step := func(uintptr) bool {
		for {
			switch res, text := s.readReady(nil); res {
			case batchWait:
				steppedOut = s.stepOut()
				return steppedOut
			case batchFull:
				// events were queued for consumers at work, with more to read
				if s.stepOutToConsumers() {
					steppedOut, forConsumers = true, true
					return true
				}
			default:
				errText, ended = text, true
				return true
			}
		}
	}
	var lease *time.Timer
	for {
		steppedOut, forConsumers = false, false
		_ = rc.Read(step)
		if ended {
			return errText, true
		}
		if !steppedOut {
			return "", false
		}
		if lease == nil {
			lease = time.NewTimer(readLease)
		}
		if callerEnded, text := s.duty.reclaim(lease, consumersBusy, unpoll); callerEnded {
			return text, true
		}
		if f == nil {
			// a new duplicate needs a free descriptor: without one the reader goes on in
			// blocking mode, as when the socket could not be polled at all
			if f = repoll(s.fd); f == nil || !poll() {
				return "", false
			}
		}
	}
}

// readReady receives and routes messages until none can be had without waiting
// (batchWait), the connection ended (the library's reason in text), or, given a caller's
// request, that request has its reply (batchFull: more may be buffered). The reader
// goroutine (req nil) waits first while the event queue is full (holdBack), and stops
// with batchFull after a batch received while consumers are at work (see
// stepOutToConsumers).
func (s *connState) readReady(req *request) (res int, text string) {
	for {
		var n int
		if s.closing.Load() {
			// Close discards what is left: a peer that never stops sending cannot hold it up
			return batchEnded, ""
		}
		if req == nil {
			s.holdBack()
		}
		n, res, text = s.h.recvBatch()
		s.deliver(n)
		if res != batchFull || (req != nil && len(req.ch) > 0) || (req == nil && n > 0 && s.consumersAtWork()) {
			return res, text
		}
	}
}

// stepOut reports whether the reader goroutine leaves the poller to the callers, which
// it does right after handing a reply to a caller that may read, with nothing else
// outstanding and nobody waiting for events.
func (s *connState) stepOut() bool {
	if !s.replyToReader {
		return false
	}
	s.replyToReader = false
	s.qmu.Lock()
	busy := s.pending.n > 0
	s.qmu.Unlock()
	return !busy && s.duty.stepOut()
}

// consumersAtWork reports whether an event consumer is likely to come back for more: a
// ReceiveEvents caller runs, or an event was handed out since the last look.
func (s *connState) consumersAtWork() bool {
	return s.lenders.Load() > 0 || (s.events.popped.Load() && s.events.popped.Swap(false))
}

// stepOutToConsumers reports whether the reader goroutine leaves the poller to the event
// consumers, which it does after queuing events while they are at work and nobody waits
// for events or replies: the consumers are busy with earlier events, so the stream comes
// faster than they handle it. A consumer then receives the rest itself (readForEvents)
// once it has handled what is queued, on its own CPU, where the text it reads next was just
// copied: handed from the reader goroutine on another CPU, every line of every event would
// be moved between the CPUs' caches as it is read.
func (s *connState) stepOutToConsumers() bool {
	s.qmu.Lock()
	busy := s.pending.n > 0
	s.qmu.Unlock()
	return !busy && s.duty.stepOut()
}

// readForEvents is an event consumer's turn at reading, taken when it found no event
// queued and nobody holds the read duty (see stepOutToConsumers): one batch, received without
// waiting and routed as the reader goroutine would. It reports whether events may have been
// queued; when nothing more can be had without waiting, or the connection ended, the duty
// goes straight back to the reader goroutine, which waits in the poller.
func (s *connState) readForEvents() bool {
	if !s.duty.takeForEvents() {
		return false
	}
	if s.closing.Load() {
		s.duty.release(true, true, "")
		return false
	}
	n, res, text := s.h.recvBatch()
	s.deliver(n)
	s.replyToReader = false // a reply read here went to a caller that is done reading
	s.duty.release(res != batchFull, res == batchEnded, text)
	return n > 0
}

// readFor reads for a caller that holds the read duty, until its reply is in (see
// readduty.go), routing everything else as the reader goroutine would.
func (s *connState) readFor(rc syscall.RawConn, req *request) {
	more, err := s.readTurn(rc, req)
	s.duty.release(more || err != nil, s.turn.ended, s.turn.endText)
}

// readTurn reads and routes on the calling goroutine until req has its reply, data is left
// for the reader goroutine (more), or the connection ended (s.turn.ended, endText).
func (s *connState) readTurn(rc syscall.RawConn, req *request) (more bool, err error) {
	t := &s.turn
	t.req, t.more, t.ended, t.endText = req, false, false, ""
	if t.step == nil {
		t.step = s.turnStep // made once: a closure per turn would cost allocations
	}
	err = rc.Read(t.step)
	// A reply read here went to a caller that is done reading (see stepOut).
	s.replyToReader = false
	t.req = nil // before a release: the next holder of the duty owns t
	return t.more, err
}

// readEarly reads on the calling goroutine, before the reader goroutine starts, until req
// has its reply or the connection ended (recorded in s.early for the reader goroutine to
// report). It waits in the poller: f is the socket's pollable duplicate, kept in s.early for
// the reader goroutine. Everything else that comes is routed as the reader would.
func (s *connState) readEarly(f *os.File, req *request) {
	s.early.polled = f
	rc, err := f.SyscallConn()
	if err != nil {
		return
	}
	_, _ = s.readTurn(rc, req)
	s.early.ended, s.early.text = s.turn.ended, s.turn.endText
}

// turnStep is the callback of readFor's Read: it reads and routes what can be had without
// waiting, and reports whether the turn is over.
func (s *connState) turnStep(uintptr) bool {
	t := &s.turn
	switch res, text := s.readReady(t.req); res {
	case batchFull:
		// The reply is in: leave the rest to the reader goroutine rather than read a busy
		// stream on the caller's time.
		t.more = true
		return true
	case batchWait:
		return len(t.req.ch) > 0
	default:
		t.ended, t.endText = true, text
		return true
	}
}

// recv receives one message, waiting as long as it takes (a blocking cgo call): whether
// the connection is still up, and the library's error text when it is not. The message,
// if one came, is the handle's only packed message (see message).
func (h *handle) recv() (n int, ok bool, errText string) {
	st := C.eslgo_recv(h.c)
	h.noteDropped()
	if st != 0 {
		return int(h.c.nmsg), false, errTextOf(h.c)
	}
	return int(h.c.nmsg), true, ""
}

// Results of recvBatch.
const (
	batchFull  = iota // more may be buffered: call again
	batchWait         // nothing more until the socket is readable
	batchEnded        // the connection ended (errText says why)
)

// Limits of one batch: enough to spread the cost of a cgo call and of waking a consumer
// over many events, small enough that the first event of a batch is not held up long.
const (
	batchMessages = 32
	batchBytes    = 128 << 10
)

// canRecvBatch reports whether the linked library receives without waiting
// (esl_recv_event_nowait, csrc only).
var canRecvBatch = haveExtensions

// recvBatch receives what can be had without waiting, at most one batch, in one cgo call.
// The messages are the handle's packed messages 0..n-1 (see message).
func (h *handle) recvBatch() (n int, res int, errText string) {
	st := C.eslgo_recv_batch(h.c, batchMessages, batchBytes)
	h.noteDropped()
	n = int(h.c.nmsg)
	switch st {
	case C.ESL_SUCCESS:
		return n, batchFull, ""
	case C.ESL_BREAK:
		return n, batchWait, ""
	}
	return n, batchEnded, errTextOf(h.c)
}

func (h *handle) noteDropped() {
	if h.c.dropped != 0 {
		logGo(LogLevelError, "esl: out of memory while copying a message; it was dropped")
	}
}

// eventSlab is how many Events handle.slab allocates at once.
const eventSlab = 32

// The Go tables must match the shim's, byte for byte: they are copied with memmove.
var (
	_ [unsafe.Sizeof(C.eslgo_hdr_t{}) - unsafe.Sizeof(rec{})]byte
	_ [unsafe.Sizeof(rec{}) - unsafe.Sizeof(C.eslgo_hdr_t{})]byte
	_ [unsafe.Sizeof(C.eslgo_span_t{}) - unsafe.Sizeof(span{})]byte
	_ [unsafe.Sizeof(span{}) - unsafe.Sizeof(C.eslgo_span_t{})]byte
)

// message copies packed message i out of C into one Go allocation: the header and element
// tables followed by every name, value, element and body, which the event's strings are
// slices of. It reports whether the message is a reply.
func (h *handle) message(i int) (reply bool, e *Event) {
	c := h.c
	m := &unsafe.Slice(c.msgs, int(c.nmsg))[i]
	size, nhdr, nelem, strsOff := int(m.size), int(m.nhdr), int(m.nelem), int(m.strs_off)
	if h.lend && m.is_text != 0 {
		if len(h.slab) == 0 {
			h.slab = make([]Event, eventSlab)
		}
		e, h.slab = &h.slab[0], h.slab[1:]
	} else {
		e = new(Event)
	}
	*e = Event{id: int(m.event_id), priority: Priority(m.priority), form: formPacked, textLen: uint32(m.text_len)}
	switch m.is_text {
	case 1:
		e.form = formPlainText
	case 2:
		e.form = formJSONText
	}
	if size > 0 {
		src := unsafe.Slice((*byte)(unsafe.Add(unsafe.Pointer(c.buf), uintptr(m.off))), size)
		var buf []byte
		if h.lend && e.form != formPacked {
			e.lease = lendBuffer(size)
		}
		if e.lease != nil {
			buf = *e.lease
			copy(buf, src)
		} else {
			// make and copy of len(src), one statement after the other, compile to one
			// allocation that is not zeroed first (runtime.makeslicecopy)
			buf = make([]byte, len(src))
			copy(buf, src)
		}
		if nhdr > 0 {
			e.recs = unsafe.Slice((*rec)(unsafe.Pointer(&buf[0])), nhdr)
		}
		if nelem > 0 {
			e.spans = unsafe.Slice((*span)(unsafe.Pointer(&buf[nhdr*int(unsafe.Sizeof(rec{}))])), nelem)
		}
		if n := int(m.nmember_at); n > 0 && e.isText() {
			if e.form == formPlainText {
				n *= 2 // the name lengths follow the starts
			}
			e.memberAt = unsafe.Slice((*uint16)(unsafe.Pointer(&buf[0])), n)
		}
		if strsOff < size {
			// buf is not written to after this point, so the string may alias it.
			e.data = unsafe.String(&buf[strsOff], size-strsOff)
		}
	}
	if m.has_body != 0 {
		e.body, e.hasBody = e.data[m.body_off:m.body_off+m.body_len], true
		if e.form == formJSONText {
			e.body = jsonValue(e.body)
		}
		e.body = e.keep(e.body)
	}
	return m.is_reply != 0, e
}

// unpack returns the first packed message as an event (nil when there is none), with its
// Content-Type.
func (h *handle) unpack() (string, *Event) {
	if h.c.nmsg == 0 {
		return "", nil
	}
	_, e := h.message(0)
	return e.GetHeader("Content-Type"), e
}

// disconnect calls esl_disconnect and frees the C memory. Only after the reader exited.
func (h *handle) disconnect() {
	C.eslgo_disconnect(h.c)
	C.eslgo_conn_free(h.c)
	h.c = nil
}

func (h *handle) setLimits(maxHeader, maxBody int) error {
	if !haveExtensions {
		return newError("limits", "message limits need the csrc library", ErrUnsupported)
	}
	if C.eslgo_set_limits(h.c, C.size_t(max(maxHeader, 0)), C.size_t(max(maxBody, 0))) != 0 {
		return newError("limits", "rejected by the library", ErrBadArgument)
	}
	return nil
}

func waitWritable(fd int, ms int) {
	C.eslgo_wait_writable(C.int(fd), C.uint32_t(ms))
}
