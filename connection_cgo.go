//go:build cgo

package esl

/*
#include <stdlib.h>
#include "eslgo_shim.h"
*/
import "C"

import (
	"strings"
	"time"
	"unsafe"
)

// handle is the C side of one connection: an esl_handle_t in C memory (calloc'ed, about
// 70 KiB plus the library's buffers) and the shim's tables of the last message.
type handle struct {
	c *C.eslgo_conn_t
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
	if fd < 0 {
		return nil, nil, newError("attach", "invalid socket", ErrBadArgument)
	}
	c := C.eslgo_conn_new()
	if c == nil {
		return nil, nil, newError("attach", "out of memory", ErrConnect)
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
	var info *Event
	if c.nev > 0 {
		_, info = h.unpack()
	}
	return h, info, nil
}

// recv receives one message: the outer Content-Type, the event to hand out (the inner
// event of text/event-plain and text/event-json, else the message itself), whether the
// connection is still up, and the library's error text when it is not. It is the one cgo
// call per message.
func (h *handle) recv() (ct string, ev *Event, ok bool, errText string) {
	c := h.c
	st := C.eslgo_recv(c)
	if c.nev > 0 {
		ct, ev = h.unpack()
	}
	if c.oom != 0 {
		logGo(LogLevelError, "esl: out of memory while copying a message; it was dropped")
	}
	if st != 0 {
		errText = errTextOf(c)
		return ct, ev, false, errText
	}
	return ct, ev, true, ""
}

// The Go tables must match the shim's, byte for byte: they are copied with memmove.
var (
	_ [unsafe.Sizeof(C.eslgo_hdr_t{}) - unsafe.Sizeof(rec{})]byte
	_ [unsafe.Sizeof(rec{}) - unsafe.Sizeof(C.eslgo_hdr_t{})]byte
	_ [unsafe.Sizeof(C.eslgo_span_t{}) - unsafe.Sizeof(span{})]byte
	_ [unsafe.Sizeof(span{}) - unsafe.Sizeof(C.eslgo_span_t{})]byte
)

// unpack copies the packed message out of C into one Go allocation: the event's header
// and element tables followed by every name, value and body, which the event's strings
// are slices of.
func (h *handle) unpack() (string, *Event) {
	c := h.c
	hdrs := unsafe.Slice(c.hdrs, int(c.nhdr))
	strs := unsafe.Slice((*byte)(unsafe.Pointer(c.strs)), int(c.strs_len))
	ctOff, ctLen := uint32(0), uint32(0)
	outer := &c.ev[0]
	for i := uint32(0); i < uint32(outer.nhdr); i++ {
		hp := &hdrs[uint32(outer.hdr_first)+i]
		if hp.name_len == 12 && asciiEqualFold(unsafe.String(&strs[hp.name_off], 12), "content-type") {
			ctOff, ctLen = uint32(hp.value_off), uint32(hp.value_len)
			break
		}
	}
	slot := 0
	if c.nev == 2 {
		slot = 1
	}
	r := &c.ev[slot]
	n, first := int(r.nhdr), int(r.hdr_first)
	elemFirst, nelem := 0, 0
	if n > 0 {
		last := &hdrs[first+n-1]
		elemFirst = int(hdrs[first].elem_first)
		nelem = int(last.elem_first) + max(int(last.nelem), 0) - elemFirst
	}
	recBytes := n * int(unsafe.Sizeof(rec{}))
	spanBytes := nelem * int(unsafe.Sizeof(span{}))
	buf := make([]byte, recBytes+spanBytes+len(strs))
	if n > 0 {
		copy(buf, unsafe.Slice((*byte)(unsafe.Pointer(&hdrs[first])), recBytes))
	}
	if nelem > 0 {
		copy(buf[recBytes:], unsafe.Slice((*byte)(unsafe.Pointer(&unsafe.Slice(c.elems, int(c.nelem))[elemFirst])), spanBytes))
	}
	copy(buf[recBytes+spanBytes:], strs)
	e := &Event{id: int(r.event_id), priority: Priority(r.priority), packed: true}
	if n > 0 {
		e.recs = unsafe.Slice((*rec)(unsafe.Pointer(&buf[0])), n)
		if elemFirst != 0 {
			for i := range e.recs {
				e.recs[i].elemFirst -= uint32(elemFirst)
			}
		}
	}
	if nelem > 0 {
		e.spans = unsafe.Slice((*span)(unsafe.Pointer(&buf[recBytes])), nelem)
	}
	if len(strs) > 0 {
		// buf is not written to after this point, so the string may alias it.
		e.data = unsafe.String(&buf[recBytes+spanBytes], len(strs))
	}
	if r.has_body != 0 {
		e.body, e.hasBody = e.data[r.body_off:r.body_off+r.body_len], true
	}
	// The outer message's strings are in data too.
	return e.data[ctOff : ctOff+ctLen], e
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
