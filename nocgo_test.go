//go:build !cgo

package esl

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestNoCgo(t *testing.T) {
	assert.Equal(t, "none", Backend())
	c := NewConnection("127.0.0.1", 8021, "ClueCon")
	assert.False(t, c.Connected())
	assert.ErrorIs(t, c.Err(), ErrNoCgo)
	assert.Nil(t, c.Api("status"))
	assert.Equal(t, "SERVER_DISCONNECTED", c.RecvEvent().GetType())
	assert.NoError(t, c.Disconnect())
	assert.ErrorIs(t, NewConnectionUser("h", 1, "u@d", "p").Err(), ErrNoCgo)
	assert.ErrorIs(t, NewConnectionFD(-1).Err(), ErrNoCgo)
	_, err := Dial(context.Background(), "127.0.0.1:8021")
	assert.ErrorIs(t, err, ErrNoCgo)
	// The outbound server compiles and fails the same way.
	srv, err := NewOutboundServer("127.0.0.1:0", func(context.Context, *Connection) {})
	assert.Nil(t, srv)
	assert.ErrorIs(t, err, ErrNoCgo)
	assert.ErrorIs(t, Listen("127.0.0.1", 0, func(*Connection) {}), ErrNoCgo)
	assert.ErrorIs(t, ListenThreaded("127.0.0.1", 0, func(*Connection) {}, 1), ErrNoCgo)
	var none *OutboundServer
	assert.ErrorIs(t, none.Serve(), ErrNoCgo)
	assert.NoError(t, none.Close())
	// Events are pure Go and work without cgo.
	assert.Equal(t, "CUSTOM", NewEvent("CUSTOM").GetType())
}
