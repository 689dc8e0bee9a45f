//go:build cgo

package esl

import (
	"sync"
	"unsafe"

	pointer "github.com/mattn/go-pointer"
)

// cRef lends a Go value to C as an opaque void * (a listener's user_data) and finds it again
// when C hands the pointer back on one of its threads. Go values cannot be stored in C memory,
// so the pointer is only a key: today a 1-byte C allocation that github.com/mattn/go-pointer
// maps to the value. This type is the only code that knows that; replacing it with
// runtime/cgo.Handle means changing this file alone.
//
// Traps of the underlying package that this type guards:
//   - pointer.Unref frees the key, so a second Unref would free it twice: Release is
//     idempotent;
//   - pointer.Restore of a key it does not know (released, or never saved) returns nil:
//     restoreCRef reports that as "no value" and callers must close what C handed them;
//   - a released key may be handed out again by malloc for a later value, so a C caller that
//     still holds a released key would find the wrong value: Release may be called only once
//     C can no longer call back with the pointer (the listener has stopped and every session
//     thread has left Go).
type cRef struct {
	mu  sync.Mutex
	ptr unsafe.Pointer
}

// newCRef saves v, which must not be nil (nil has no key).
func newCRef(v any) *cRef {
	if v == nil {
		panic("esl: newCRef(nil)")
	}
	return &cRef{ptr: pointer.Save(v)}
}

// Pointer is the key to give to C; nil after Release.
func (r *cRef) Pointer() unsafe.Pointer {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.ptr
}

// Release forgets the value and frees the key. Calling it again does nothing.
func (r *cRef) Release() {
	r.mu.Lock()
	p := r.ptr
	r.ptr = nil
	r.mu.Unlock()
	if p != nil {
		pointer.Unref(p)
	}
}

// restoreCRef returns the value saved under p, or nil when p is nil or unknown.
func restoreCRef(p unsafe.Pointer) any {
	if p == nil {
		return nil
	}
	return pointer.Restore(p)
}
