//go:build cgo

package esl

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type panicHandler struct{ slog.Handler }

func (panicHandler) Handle(context.Context, slog.Record) error { panic("handler bug") }

func TestLogBridge(t *testing.T) {
	var buf syncBuffer
	SetLogger(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
	defer SetLogger(nil)
	defer SetLogLevel(-1)

	cLog(LogLevelError, "before SetLogLevel")
	assert.Empty(t, buf.String(), "nothing is logged by default")

	SetLogLevel(LogLevelWarning)
	cLog(LogLevelError, "an error")
	cLog(LogLevelDebug, "a debug line")
	long := strings.Repeat("x", 3000)
	cLog(LogLevelWarning, long)
	out := buf.String()
	assert.Contains(t, out, "level=ERROR msg=\"test line 42: an error\"")
	assert.Contains(t, out, "source=libesl")
	assert.Contains(t, out, "file=eslgo_shim.c")
	assert.Contains(t, out, "func=eslgo_log_test")
	assert.NotContains(t, out, "a debug line", "above the level")
	assert.Contains(t, out, "test line 42: "+long, "long lines are not cut")

	// Lines of this package go the same way.
	c := NewConnection("127.0.0.1\r", 1, "x")
	assert.False(t, c.Connected())
	assert.True(t, strings.Contains(buf.String(), "bad argument"), "twins log their failures")

	SetLogLevel(99)
	cLog(LogLevelDebug, "debug now")
	assert.Contains(t, buf.String(), "debug now")

	// A panicking handler must not unwind into C.
	SetLogger(slog.New(panicHandler{slog.NewTextHandler(&buf, nil)}))
	cLog(LogLevelError, "boom")

	SetLogLevel(-1)
	SetLogger(slog.New(slog.NewTextHandler(&buf, nil)))
	n := len(buf.String())
	cLog(LogLevelEmerg, "off")
	assert.Equal(t, n, len(buf.String()))
}
