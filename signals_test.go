//go:build cgo && linux

package esl

import (
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Signals reach every thread of a Go program, including one waiting in C: the runtime
// preempts goroutines with SIGURG, and CPU profiling sends SIGPROF. A wait that a signal
// interrupts (poll or recv failing with EINTR) must be taken up again, not reported as
// a lost connection. SIGURG is sent to the whole process, so the kernel hands each one to
// some thread that does not block it, the thread waiting for the next message among them.
func TestSignalsDoNotEndConnection(t *testing.T) {
	checkLeaks(t)
	srv := fakeFS(t)
	c := inbound(t, srv)
	require.NoError(t, c.Events("plain", "CUSTOM my::signals"))

	pid := syscall.Getpid()
	for round := 0; round < 20; round++ {
		// the reader waits for the next message while the signals come
		for i := 0; i < 200; i++ {
			require.NoError(t, syscall.Kill(pid, syscall.SIGURG))
			if i%20 == 0 {
				time.Sleep(time.Millisecond)
			}
		}
		srv.FireEvent("CUSTOM", map[string]string{"Event-Subclass": "my::signals", "X-Round": strconv.Itoa(round)}, "")
		ev := c.RecvEventTimed(5000)
		require.NotNil(t, ev, "round %d: no event: %v", round, c.Err())
		assert.Equal(t, strconv.Itoa(round), ev.GetHeader("X-Round"))
		want := "after-signals-" + strconv.Itoa(round)
		r := c.Api("echo", want)
		require.NotNil(t, r, "round %d: api: %v", round, c.Err())
		assert.Equal(t, want, r.GetBody())
	}
	assert.True(t, c.Connected())
	assert.NoError(t, c.Err())
}
