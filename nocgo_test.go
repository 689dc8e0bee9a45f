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
	// Events are pure Go and work without cgo.
	assert.Equal(t, "CUSTOM", NewEvent("CUSTOM").GetType())
}
