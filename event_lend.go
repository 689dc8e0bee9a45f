package esl

import (
	"math/bits"
	"strings"
	"sync"
	"unsafe"
)

// Lent events (ReceiveEvents). A received plain or JSON event kept as its text costs one
// copy of that text into Go memory. When the event goes to a ReceiveEvents callback, the
// copy is made into a buffer that returns to a pool once the callback is done, so a
// stream of events reuses a few warm buffers instead of allocating its size in garbage:
// the collector, and the page faults after the runtime hands freed memory back to the
// kernel, were a third of what the binding cost per event.
//
// The buffer is reused, and Go strings must never change, so no string that points into
// it may outlive the callback. Every string a lent event hands out is copied first
// (keep), its header table is built from a copy of the text, and its body is copied when
// it is received. Only the buffer's owner, the event, reads the text itself.

// lendClasses are the pooled buffer sizes: 1 KiB, 1.5 KiB, 2 KiB, 3 KiB, 4 KiB and so on
// (powers of two and the halfway sizes between them, each one of the runtime's own size
// classes) up to 64 KiB, so a buffer is at most half again as large as its text (a fifth
// on average), not up to twice: while a consumer falls behind, every queued lent event
// holds one. Larger texts are allocated as usual.
const (
	lendMinShift = 10
	lendClasses  = 13
)

var lendPools [lendClasses]sync.Pool

// lendClass returns the pool of texts of n bytes, or -1 when n is beyond the largest.
func lendClass(n int) int {
	if n <= 1<<lendMinShift {
		return 0
	}
	k := bits.Len(uint(n - 1)) // 1<<(k-1) < n <= 1<<k
	c := 2 * (k - lendMinShift)
	if n <= 3<<(k-2) {
		c-- // the halfway size below 1<<k
	}
	if c >= lendClasses {
		return -1
	}
	return c
}

// lendSize is the size of the buffers of class c.
func lendSize(c int) int {
	if c%2 == 1 {
		return 3 << (lendMinShift - 1 + c/2)
	}
	return 1 << (lendMinShift + c/2)
}

// lendBuffer returns a buffer of n bytes from the pools (nil when n is too large): the
// pointer goes back with returnBuffer.
func lendBuffer(n int) *[]byte {
	c := lendClass(n)
	if c < 0 {
		return nil
	}
	if p, _ := lendPools[c].Get().(*[]byte); p != nil {
		*p = (*p)[:n]
		return p
	}
	b := make([]byte, n, lendSize(c))
	return &b
}

func returnBuffer(p *[]byte) {
	if c := lendClass(cap(*p)); c >= 0 && cap(*p) == lendSize(c) {
		lendPools[c].Put(p)
	}
}

// lent reports whether the event's text is in a buffer that may go back to the pool.
func (e *Event) lent() bool { return e.lease != nil }

// keep returns v as a string that stays valid after the event's buffer is reused: v
// itself unless it points into a lent event's text, else the table's string when v is the
// event's type name (Event-Name's value, read from nearly every event), else a copy.
func (e *Event) keep(v string) string {
	if e.lease == nil || len(v) == 0 {
		return v
	}
	if n := eventName(e.id); v == n {
		return n
	}
	start := uintptr(unsafe.Pointer(unsafe.StringData(e.data)))
	p := uintptr(unsafe.Pointer(unsafe.StringData(v)))
	if p >= start && p < start+uintptr(len(e.data)) {
		return strings.Clone(v)
	}
	return v
}

// settle makes a lent event an ordinary one: its buffer is then never reused.
func (e *Event) settle() { e.lease = nil }

// release ends the loan when the callback returned: the buffer goes back to the pool and
// the event reads as empty from then on.
func (e *Event) release() {
	if e == nil {
		return
	}
	p := e.lease
	*e = Event{}
	if p != nil {
		returnBuffer(p)
	}
}
