//go:build cgo

package esl

import (
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCRef(t *testing.T) {
	v := &funcHost{}
	r := newCRef(v)
	p := r.Pointer()
	require.NotNil(t, p)
	assert.Same(t, v, restoreCRef(p))

	r.Release()
	assert.Nil(t, r.Pointer())
	assert.Nil(t, restoreCRef(p), "a released key restores as nil")
	r.Release() // a second release must not free the key twice

	assert.Nil(t, restoreCRef(nil))
	var local byte
	assert.Nil(t, restoreCRef(unsafe.Pointer(&local)), "an unknown key restores as nil")
	assert.Panics(t, func() { newCRef(nil) })
}

// TestListenCallbackUnknownKey: a callback whose user_data is unknown closes the socket and
// returns instead of panicking into C.
func TestListenCallbackUnknownKey(t *testing.T) {
	fds, err := socketPair()
	require.NoError(t, err)
	defer closeFD(fds[1])
	r := newCRef(&funcHost{handler: func(*Connection) { t.Error("handler called") }})
	p := r.Pointer()
	r.Release()
	callListenCallback(fds[0], p)
	assertPeerClosed(t, fds[1])
}
