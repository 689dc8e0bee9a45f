//go:build cgo

package esl

/*
#include <stdlib.h>
#include "eslgo_shim.h"
*/
import "C"

import "unsafe"

// cEvent is an esl_event_t built by the linked C library. Tests replay the same header
// operations on a cEvent and on an Event and compare the serializations, so the Go twin
// is checked against csrc and, under the libesl tag, against the original.
type cEvent struct{ p *C.esl_event_t }

func newCEvent(id int, subclass string) *cEvent {
	var sub *C.char
	if subclass != "" {
		sub = cString(subclass)
	}
	p := C.eslgo_event_new(C.int(id), sub)
	if p == nil {
		return nil
	}
	return &cEvent{p: p}
}

// cEventJSON parses JSON with esl_event_create_json; nil when it did not create an event.
func cEventJSON(text string) *cEvent {
	p := C.eslgo_event_json(cString(text))
	if p == nil {
		return nil
	}
	return &cEvent{p: p}
}

func (e *cEvent) add(stack int, name, value string) {
	C.eslgo_event_add(e.p, C.int(stack), cString(name), cString(value))
}

func (e *cEvent) setPriority(p Priority) { C.eslgo_event_priority(e.p, C.int(p)) }
func (e *cEvent) setBody(b string)       { C.eslgo_event_body(e.p, cString(b)) }
func (e *cEvent) del(name string)        { C.eslgo_event_del(e.p, cString(name)) }

func (e *cEvent) serialize(json bool) string {
	j := C.int(0)
	if json {
		j = 1
	}
	s := C.eslgo_event_serialize(e.p, j)
	if s == nil {
		return ""
	}
	defer C.free(unsafe.Pointer(s))
	return C.GoString(s)
}

// header is esl_event_get_header_idx.
func (e *cEvent) header(name string, idx int) (string, bool) {
	v := C.esl_event_get_header_idx(e.p, cString(name), C.int(idx))
	if v == nil {
		return "", false
	}
	return C.GoString(v), true
}

// toGo copies the event through the receive path's packing and unpacking.
func (e *cEvent) toGo() *Event {
	c := C.eslgo_conn_new()
	defer C.eslgo_conn_free(c)
	if C.eslgo_pack_one(c, e.p) != 0 {
		return nil
	}
	h := &handle{c: c}
	_, ev := h.unpack()
	return ev
}

// packInner packs a text/event-plain or text/event-json body as the receive path does
// (spans: straight from the text; otherwise through the C event) and unpacks it. The result
// is the shim's: 1 with the event, 0 when declined or no event, -1 out of memory, -2 when
// not linked to csrc.
func packInner(text []byte, json, spans bool) (*Event, int) {
	c := C.eslgo_conn_new()
	defer C.eslgo_conn_free(c)
	flag := func(b bool) C.int {
		if b {
			return 1
		}
		return 0
	}
	// NUL-terminated, as a received body is
	p := (*C.char)(C.CBytes(append(text[:len(text):len(text)], 0)))
	defer C.free(unsafe.Pointer(p))
	r := int(C.eslgo_pack_inner_test(c, p, C.size_t(len(text)), flag(json), flag(spans)))
	if r != 1 {
		return nil, r
	}
	h := &handle{c: c}
	_, ev := h.unpack()
	return ev, r
}

func (e *cEvent) free() { C.eslgo_event_free(e.p); e.p = nil }

// cEventName is esl_event_name.
func cEventName(id int) string { return C.GoString(C.esl_event_name(C.esl_event_types_t(id))) }

// cLog writes one line through libesl's global logger, as library code does.
func cLog(level int, text string) { C.eslgo_log_test(C.int(level), cString(text)) }
