package esl

import (
	"strings"
	"sync/atomic"
	"unsafe"
)

// A received plain event that none of libesl's insertion rules would change (the C side
// checks: esl_wire_plain_check) stays as the text it arrived in: every line of its header
// section with a ':' is one header, in order. GetHeader walks the lines and decodes only the
// value it returns, so an event costs one copy of its text and nothing per header that is
// never asked for. The first call that needs every header (Len, Headers, Serialize, a
// change, ...) builds the header table once; it is published atomically, because an Event
// may be read from several goroutines at once.

// textHeader finds the first header named name (ASCII case-insensitive) in a text event.
func (e *Event) textHeader(name string) (string, bool) {
	if strings.IndexByte(name, ':') >= 0 {
		// a name ends at the first ':' of its line, so it never holds one
		return "", false
	}
	h := e.data[:e.textLen]
	for len(h) > len(name) {
		line := h
		if i := strings.IndexByte(h, '\n'); i >= 0 {
			line, h = h[:i], h[i+1:]
		} else {
			h = ""
		}
		if len(line) > len(name) && line[len(name)] == ':' && asciiEqualFold(line[:len(name)], name) {
			return plainValue(line[len(name)+1:]), true
		}
	}
	return "", false
}

// textTable returns the headers of a text event, building them on first use.
func (e *Event) textTable() []header {
	if p := (*[]header)(atomic.LoadPointer(&e.table)); p != nil {
		return *p
	}
	h := e.data[:e.textLen]
	hs := make([]header, 0, strings.Count(h, "\n")+1)
	for len(h) > 0 {
		line := h
		if i := strings.IndexByte(h, '\n'); i >= 0 {
			line, h = h[:i], h[i+1:]
		} else {
			h = ""
		}
		if i := strings.IndexByte(line, ':'); i >= 0 {
			hs = append(hs, header{name: line[:i], value: plainValue(line[i+1:])})
		}
	}
	// Two goroutines may build it at once; both tables are the same, the first one stays.
	if !atomic.CompareAndSwapPointer(&e.table, nil, unsafe.Pointer(&hs)) {
		return *(*[]header)(atomic.LoadPointer(&e.table))
	}
	return hs
}

// plainValue is a header value as the plain parser gives it: the rest of the line after the
// spaces that follow the colon, URL-decoded. Only '%' with two hex digits is an escape, and
// "%00" stays as it is (decoding it would cut the value in C).
func plainValue(v string) string {
	for len(v) > 0 && v[0] == ' ' {
		v = v[1:]
	}
	if strings.IndexByte(v, '%') < 0 {
		return v
	}
	b := make([]byte, 0, len(v))
	for {
		i := strings.IndexByte(v, '%')
		if i < 0 {
			b = append(b, v...)
			break
		}
		b = append(b, v[:i]...)
		if i+2 < len(v) {
			hi, lo := unhex(v[i+1]), unhex(v[i+2])
			if hi >= 0 && lo >= 0 && hi|lo != 0 {
				b = append(b, byte(hi<<4|lo))
				v = v[i+3:]
				continue
			}
		}
		b = append(b, '%')
		v = v[i+1:]
	}
	return unsafe.String(unsafe.SliceData(b), len(b))
}

func unhex(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c-'a') + 10
	case 'A' <= c && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}
