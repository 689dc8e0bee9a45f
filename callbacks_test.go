//go:build cgo

package esl

import (
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cgoesl/esl/esltest"
)

// callListenCallback does what the exported callback does on a listener thread.
func callListenCallback(fd int, userData unsafe.Pointer) {
	listenCallback(fd, userData)
}

func socketPair() ([2]int, error) {
	return syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
}

func closeFD(fd int) { _ = syscall.Close(fd) }

// assertPeerClosed reads from fd until EOF, which comes once the other end is closed.
func assertPeerClosed(t *testing.T, fd int) {
	t.Helper()
	tv := syscall.NsecToTimeval(int64(5 * time.Second))
	require.NoError(t, syscall.SetsockoptTimeval(fd, syscall.SOL_SOCKET, syscall.SO_RCVTIMEO, &tv))
	buf := make([]byte, 256)
	for {
		n, err := syscall.Read(fd, buf)
		require.NoError(t, err, "the other end is still open")
		if n == 0 {
			return
		}
	}
}

// TestListenCallbackPanic: a panic in a ListenThreaded handler is recovered in the exported
// callback, and the connection is closed.
func TestListenCallbackPanic(t *testing.T) {
	fs := newFakeFS(t)
	var calls atomic.Int64
	h := &funcHost{handler: func(c *Connection) {
		calls.Add(1)
		panic(errors.New("handler bug"))
	}}
	r := newCRef(h)
	defer r.Release()

	// A listener of our own stands in for the C accept loop.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	go func() {
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		f, err := nc.(*net.TCPConn).File()
		nc.Close()
		if err != nil {
			return
		}
		fd, err := syscall.Dup(int(f.Fd()))
		f.Close()
		if err != nil {
			return
		}
		callListenCallback(fd, r.Pointer())
	}()
	call, err := dialAndWait(t, fs, ln.Addr().String(), asyncFull)
	require.NotNil(t, call, "%v", err)
	assert.Equal(t, []string{"connect"}, call.Received())
	assert.EqualValues(t, 1, calls.Load())
}

// freePort finds a port that is free now; ListenThreaded and Listen take a port number.
func freePort(t *testing.T) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// dialWhenUp retries until the listener started in the background accepts.
func dialWhenUp(t *testing.T, fs *esltest.Server, addr string, listenErr <-chan error) *esltest.OutboundCall {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		select {
		case err := <-listenErr:
			t.Fatalf("listener returned: %v", err)
		default:
		}
		call, err := fs.DialOutbound(context.Background(), addr, asyncFull)
		if err == nil {
			return call
		}
		if time.Now().After(deadline) {
			t.Fatalf("nothing listens on %s: %v", addr, err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// inChild runs the calling test again in a child process of the test binary and checks that
// it passed there; it returns true in that child, which then runs the test's body. Listen and
// ListenThreaded never return, so their goroutine, thread and listening socket would stay in
// the test process for good, under the feet of the leak checks of other tests.
func inChild(t *testing.T) bool {
	t.Helper()
	const env = "ESL_TEST_LISTEN_CHILD"
	if os.Getenv(env) == t.Name() {
		return true
	}
	cmd := exec.Command(os.Args[0], "-test.run=^"+t.Name()+"$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), env+"="+t.Name())
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: "+t.Name()) {
		t.Fatalf("in a child process: %v\n%s", err, out)
	}
	return false
}

// TestListenThreaded runs the twin of esl_listen_threaded (in a child process: it cannot be
// stopped).
func TestListenThreaded(t *testing.T) {
	if !inChild(t) {
		return
	}
	fs := newFakeFS(t)
	port := freePort(t)
	errs := make(chan error, 8)
	var panicked atomic.Bool
	listenErr := make(chan error, 1)
	go func() {
		listenErr <- ListenThreaded("127.0.0.1", port, func(c *Connection) {
			if panicked.CompareAndSwap(false, true) {
				panic("first session panics")
			}
			errs <- callFlow(context.Background(), c)
		}, 100)
	}()
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))

	// The first session panics: its connection is closed, the process and listener go on.
	first := dialWhenUp(t, fs, addr, listenErr)
	<-first.Done()
	assert.Equal(t, []string{"connect"}, first.Received())

	// Then several calls at once, each on its own thread.
	calls := make([]*esltest.OutboundCall, 4)
	for i := range calls {
		var err error
		calls[i], err = fs.DialOutbound(context.Background(), addr, asyncFull)
		require.NoError(t, err)
	}
	for _, c := range calls {
		require.NoError(t, <-errs)
		require.NoError(t, c.Wait())
		assert.Equal(t, wantReceived, commandLines(c.Received()))
	}

	assert.ErrorIs(t, ListenThreaded("127.0.0.1", port, nil, 1), ErrBadArgument)
	// The port is taken: listening fails and returns.
	assert.Error(t, ListenThreaded("127.0.0.1", port, func(*Connection) {}, 1))
}

// TestListen runs the twin of esl_listen: one session at a time, in the accept loop (in a
// child process: it cannot be stopped).
func TestListen(t *testing.T) {
	if !inChild(t) {
		return
	}
	fs := newFakeFS(t)
	port := freePort(t)
	errs := make(chan error, 4)
	listenErr := make(chan error, 1)
	go func() {
		listenErr <- Listen("127.0.0.1", port, func(c *Connection) { errs <- callFlow(context.Background(), c) })
	}()
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	for i := 0; i < 3; i++ {
		var call *esltest.OutboundCall
		if i == 0 {
			call = dialWhenUp(t, fs, addr, listenErr)
		} else {
			var err error
			call, err = fs.DialOutbound(context.Background(), addr, asyncFull)
			require.NoError(t, err)
		}
		require.NoError(t, <-errs)
		require.NoError(t, call.Wait())
	}
	assert.ErrorIs(t, Listen("127.0.0.1", port, nil), ErrBadArgument)
}
