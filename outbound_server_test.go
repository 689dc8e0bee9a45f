//go:build cgo

package esl

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/cgoesl/esl/esltest"
)

// callFlow drives one outbound call the way an IVR does, and checks every answer: channel
// data, myevents, divert_events, linger, answer (event-locked), playback (async), hangup,
// the events up to the linger notice, exit, the goodbye notice, the disconnect.
func callFlow(ctx context.Context, c *Connection) error {
	if !c.Connected() {
		return fmt.Errorf("not connected: %v", c.Err())
	}
	info := c.GetInfo()
	if info == nil {
		return errors.New("GetInfo: nil")
	}
	// The library puts Event-Name: SOCKET_DATA first (spec Q8); the server's own Event-Name
	// follows.
	names := []string{}
	for name, value := range info.Headers() {
		if name == "Event-Name" {
			names = append(names, value)
		}
	}
	if !slices.Contains(names, "CHANNEL_DATA") {
		return fmt.Errorf("GetInfo: Event-Name %q", names)
	}
	if got := info.GetHeader("Reply-Text"); got != "+OK\n" {
		return fmt.Errorf("GetInfo: Reply-Text %q", got)
	}
	uuid := info.GetHeader("Unique-ID")
	if uuid == "" {
		return errors.New("GetInfo: no Unique-ID")
	}
	expect := func(cmd, want string) error {
		r := c.SendRecv(cmd)
		if r == nil {
			return fmt.Errorf("%s: no reply: %v", cmd, c.Err())
		}
		if got := r.GetHeader("Reply-Text"); got != want {
			return fmt.Errorf("%s: Reply-Text %q, want %q", cmd, got, want)
		}
		return nil
	}
	for _, cw := range [][2]string{
		{"myevents", "+OK Events Enabled"},
		{"divert_events on", "+OK events diverted"},
		{"linger", "+OK will linger"},
	} {
		if err := expect(cw[0], cw[1]); err != nil {
			return err
		}
	}
	execute := func(r *Event, app string) error {
		if r == nil {
			return fmt.Errorf("execute %s: no reply: %v", app, c.Err())
		}
		if got := r.GetHeader("Reply-Text"); got != "+OK" {
			return fmt.Errorf("execute %s: %q", app, got)
		}
		return nil
	}
	c.SetEventLock("true")
	if err := execute(c.Execute("answer"), "answer"); err != nil {
		return err
	}
	c.SetEventLock("false")
	if err := execute(c.ExecuteAsync("playback", "silence_stream://5"), "playback"); err != nil {
		return err
	}
	if err := execute(c.Execute("hangup", "", uuid), "hangup"); err != nil {
		return err
	}
	seen := map[string]bool{}
	for {
		ev, err := c.RecvEventContext(ctx)
		if err != nil {
			return fmt.Errorf("waiting for the linger notice (seen %v): %w", seen, err)
		}
		if ev.GetHeader("Content-Type") == "text/disconnect-notice" {
			if d := ev.GetHeader("Content-Disposition"); d != "linger" {
				return fmt.Errorf("disconnect notice %q before the linger notice", d)
			}
			break
		}
		seen[ev.GetHeader("Event-Name")] = true
	}
	for _, name := range []string{"CHANNEL_ANSWER", "CHANNEL_EXECUTE_COMPLETE", "CHANNEL_HANGUP"} {
		if !seen[name] {
			return fmt.Errorf("no %s before the linger notice (seen %v)", name, seen)
		}
	}
	if err := expect("exit", "+OK bye"); err != nil {
		return err
	}
	goodbye := false
	for {
		ev, err := c.RecvEventContext(ctx)
		if err != nil {
			if !errors.Is(err, ErrDisconnected) {
				return fmt.Errorf("after exit: %w", err)
			}
			break
		}
		if ev.GetHeader("Content-Disposition") == "disconnect" {
			goodbye = true
		}
	}
	if !goodbye {
		return errors.New("no goodbye notice")
	}
	if c.Connected() {
		return errors.New("still connected after the goodbye")
	}
	return nil
}

// wantReceived is what FreeSWITCH receives from callFlow.
var wantReceived = []string{"connect", "myevents", "divert_events on", "linger", "sendmsg", "sendmsg", "sendmsg", "exit"}

// commandLines keeps the first word of sendmsg lines (they carry a uuid or nothing).
func commandLines(got []string) []string {
	out := make([]string, 0, len(got))
	for _, l := range got {
		if strings.HasPrefix(l, "sendmsg") {
			l = "sendmsg"
		}
		out = append(out, l)
	}
	return out
}

// newTestServer starts an OutboundServer on a free port of 127.0.0.1, or skips the test
// when the linked library has no stoppable listener.
func newTestServer(t testing.TB, h OutboundHandler, opts ...OutboundOption) *OutboundServer {
	t.Helper()
	opts = append([]OutboundOption{WithLogger(slog.New(slog.NewTextHandler(testLogWriter{t}, nil)))}, opts...)
	srv, err := NewOutboundServer("127.0.0.1:0", h, opts...)
	if errors.Is(err, ErrUnsupported) {
		t.Skipf("skipped: %v", err)
	}
	require.NoError(t, err)
	served := make(chan error, 1)
	go func() { served <- srv.Serve() }()
	t.Cleanup(func() {
		srv.Close()
		assert.ErrorIs(t, <-served, ErrServerClosed)
	})
	return srv
}

// testLogWriter sends a server's log to the test's log, where an expected panic is no noise.
type testLogWriter struct{ t testing.TB }

func (w testLogWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func newFakeFS(t testing.TB) *esltest.Server {
	t.Helper()
	fs := esltest.NewServer(esltest.WithPlaybackDuration(5 * time.Millisecond))
	t.Cleanup(func() { fs.Close() })
	return fs
}

var asyncFull = esltest.OutboundOptions{Async: true, Full: true}

func dialAndWait(t testing.TB, fs *esltest.Server, addr string, opts esltest.OutboundOptions) (*esltest.OutboundCall, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	call, err := fs.DialOutbound(ctx, addr, opts)
	if err != nil {
		return nil, err
	}
	select {
	case <-call.Done():
	case <-ctx.Done():
		return call, fmt.Errorf("call %s did not end: %w", call.UUID(), ctx.Err())
	}
	return call, call.Wait()
}

func TestOutboundServerOneCall(t *testing.T) {
	fs := newFakeFS(t)
	errs := make(chan error, 1)
	var uuid atomic.Value
	srv := newTestServer(t, func(ctx context.Context, c *Connection) {
		uuid.Store(c.GetInfo().GetHeader("Unique-ID"))
		errs <- callFlow(ctx, c)
	})
	addr := srv.Addr().(*net.TCPAddr)
	assert.Equal(t, "127.0.0.1", addr.IP.String())
	assert.NotZero(t, addr.Port)

	call, err := dialAndWait(t, fs, srv.Addr().String(), esltest.OutboundOptions{Async: true, Full: true, Destination: "9664"})
	require.NoError(t, err)
	require.NoError(t, <-errs)
	assert.Equal(t, call.UUID(), uuid.Load())
	assert.Equal(t, wantReceived, commandLines(call.Received()))

	require.Eventually(t, func() bool { return srv.Stats().Active == 0 }, 5*time.Second, time.Millisecond)
	st := srv.Stats()
	assert.Equal(t, OutboundStats{Accepted: 1, Completed: 1}, st)
}

// TestOutboundServerLoad: 1,000 calls, 64 at a time; every one completes, and both sides
// count them.
func TestOutboundServerLoad(t *testing.T) {
	const total, parallel = 1000, 64
	fs := newFakeFS(t)
	var handled, failures atomic.Int64
	var firstErr atomic.Value
	var running, peak atomic.Int64
	srv := newTestServer(t, func(ctx context.Context, c *Connection) {
		n := running.Add(1)
		for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
		}
		defer running.Add(-1)
		if err := callFlow(ctx, c); err != nil {
			failures.Add(1)
			firstErr.CompareAndSwap(nil, err)
			return
		}
		handled.Add(1)
	})
	dialErrs := runCalls(t, fs, srv.Addr().String(), total, parallel)
	require.Zero(t, dialErrs.Load(), "calls that failed on the FreeSWITCH side")
	// FreeSWITCH's side ends with the goodbye, a moment before the handler returns:
	// Shutdown waits for the handlers.
	require.NoError(t, srv.Shutdown(context.Background()))
	require.Zero(t, failures.Load(), "first failure: %v", firstErr.Load())
	assert.EqualValues(t, total, handled.Load())
	st := srv.Stats()
	assert.Equal(t, OutboundStats{Accepted: total, Completed: total}, st)
	fst := fs.Stats()
	assert.EqualValues(t, total, fst.OutboundDone)
	assert.Zero(t, fst.OutboundFailed)
	t.Logf("peak concurrent handlers: %d", peak.Load())
}

// runCalls places total calls, parallel at a time, and waits for each to end. It returns
// the number of calls that failed.
func runCalls(t testing.TB, fs *esltest.Server, addr string, total, parallel int) *atomic.Int64 {
	var failed atomic.Int64
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < parallel; w++ {
		wg.Go(func() {
			for next.Add(1) <= int64(total) {
				if _, err := dialAndWait(t, fs, addr, asyncFull); err != nil {
					if failed.Add(1) == 1 {
						t.Errorf("call: %v", err)
					}
				}
			}
		})
	}
	wg.Wait()
	return &failed
}

func TestOutboundServerPanic(t *testing.T) {
	fs := newFakeFS(t)
	var n atomic.Int64
	errs := make(chan error, 1)
	srv := newTestServer(t, func(ctx context.Context, c *Connection) {
		if n.Add(1) == 1 {
			panic("handler bug")
		}
		errs <- callFlow(ctx, c)
	})
	// The panicking session's connection is closed: FreeSWITCH sees the socket end.
	call, _ := dialAndWait(t, fs, srv.Addr().String(), asyncFull)
	require.NotNil(t, call)
	assert.Equal(t, []string{"connect"}, commandLines(call.Received()))

	_, err := dialAndWait(t, fs, srv.Addr().String(), asyncFull)
	require.NoError(t, err)
	require.NoError(t, <-errs)
	require.Eventually(t, func() bool { return srv.Stats().Active == 0 }, 5*time.Second, time.Millisecond)
	assert.Equal(t, OutboundStats{Accepted: 2, Completed: 1, Panics: 1}, srv.Stats())
}

// TestOutboundServerMaxSessions: over the limit, a connection is closed at once and
// counted; the sessions within the limit go on.
func TestOutboundServerMaxSessions(t *testing.T) {
	fs := newFakeFS(t)
	release := make(chan struct{})
	started := make(chan struct{}, 2)
	srv := newTestServer(t, func(ctx context.Context, c *Connection) {
		started <- struct{}{}
		<-release
		_ = callFlow(ctx, c)
	}, WithMaxSessions(2))

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var held []*esltest.OutboundCall
	for range 2 {
		call, err := fs.DialOutbound(ctx, srv.Addr().String(), asyncFull)
		require.NoError(t, err)
		held = append(held, call)
		<-started
	}

	begin := time.Now()
	call, err := fs.DialOutbound(ctx, srv.Addr().String(), asyncFull)
	require.NoError(t, err, "the TCP connection is accepted, then closed")
	select {
	case <-call.Done():
	case <-ctx.Done():
		t.Fatal("a session over the limit hangs")
	}
	assert.ErrorIs(t, call.Wait(), esltest.ErrNoConnect)
	assert.Less(t, time.Since(begin), 2*time.Second)
	st := srv.Stats()
	assert.EqualValues(t, 3, st.Accepted)
	assert.EqualValues(t, 1, st.Refused)
	assert.Equal(t, 2, st.Active)

	close(release)
	for _, c := range held {
		select {
		case <-c.Done():
			assert.NoError(t, c.Wait())
		case <-ctx.Done():
			t.Fatal("held calls did not end")
		}
	}
	require.NoError(t, srv.Shutdown(ctx))
	assert.Equal(t, OutboundStats{Accepted: 3, Refused: 1, Completed: 2}, srv.Stats())
}

// TestOutboundServerShutdownDeadline: handlers still running when Shutdown's context ends
// see their context cancelled and their connection cut; Shutdown returns once they are gone.
func TestOutboundServerShutdownDeadline(t *testing.T) {
	fs := newFakeFS(t)
	started := make(chan struct{})
	var sawCancel, sawDisconnect atomic.Bool
	srv := newTestServer(t, func(ctx context.Context, c *Connection) {
		c.SendRecv("myevents")
		close(started)
		// RecvEvent ignores ctx: only the cut connection can end it.
		for {
			ev := c.RecvEvent()
			if ev.GetType() == "SERVER_DISCONNECTED" {
				sawDisconnect.Store(true)
				break
			}
		}
		sawCancel.Store(ctx.Err() != nil)
	})
	call, err := fs.DialOutbound(context.Background(), srv.Addr().String(), asyncFull)
	require.NoError(t, err)
	<-started

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	begin := time.Now()
	err = srv.Shutdown(ctx)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, time.Since(begin), 3*time.Second)
	assert.True(t, sawDisconnect.Load())
	assert.True(t, sawCancel.Load())
	<-call.Done()
	assert.Equal(t, OutboundStats{Accepted: 1, Completed: 1}, srv.Stats())
	assert.ErrorIs(t, srv.Serve(), ErrServerClosed)
}

// TestOutboundServerGracefulShutdown: Shutdown waits for a running call to finish on its
// own, and refuses what arrives meanwhile.
func TestOutboundServerGracefulShutdown(t *testing.T) {
	fs := newFakeFS(t)
	started := make(chan struct{}, 1)
	errs := make(chan error, 1)
	srv := newTestServer(t, func(ctx context.Context, c *Connection) {
		started <- struct{}{}
		time.Sleep(100 * time.Millisecond)
		errs <- callFlow(ctx, c)
	})
	call, err := fs.DialOutbound(context.Background(), srv.Addr().String(), asyncFull)
	require.NoError(t, err)
	<-started
	require.NoError(t, srv.Shutdown(context.Background()))
	require.NoError(t, <-errs)
	require.NoError(t, call.Wait())
	assert.Equal(t, OutboundStats{Accepted: 1, Completed: 1}, srv.Stats())

	// The port is closed now.
	_, err = net.DialTimeout("tcp", srv.Addr().String(), time.Second)
	assert.Error(t, err)
}

// TestOutboundServerSilentPeer: a peer that never answers `connect` holds a session only
// until the connect timeout, and Close does not wait for it either.
func TestOutboundServerSilentPeer(t *testing.T) {
	var called atomic.Bool
	h := func(ctx context.Context, c *Connection) { called.Store(true) }

	srv := newTestServer(t, h, WithConnectTimeout(100*time.Millisecond))
	nc, err := net.Dial("tcp", srv.Addr().String())
	require.NoError(t, err)
	defer nc.Close()
	buf := make([]byte, 64)
	require.NoError(t, nc.SetReadDeadline(time.Now().Add(5*time.Second)))
	n, _ := nc.Read(buf) // "connect\n\n", then EOF once the session gives up
	assert.Equal(t, "connect\n\n", string(buf[:n]))
	_, err = nc.Read(buf)
	assert.Error(t, err)
	require.Eventually(t, func() bool { return srv.Stats().Failed == 1 }, 5*time.Second, time.Millisecond)
	assert.False(t, called.Load())

	srv2 := newTestServer(t, h, WithConnectTimeout(0))
	nc2, err := net.Dial("tcp", srv2.Addr().String())
	require.NoError(t, err)
	defer nc2.Close()
	require.Eventually(t, func() bool { return srv2.Stats().Active == 1 }, 5*time.Second, time.Millisecond)
	begin := time.Now()
	require.NoError(t, srv2.Close())
	assert.Less(t, time.Since(begin), 2*time.Second)
	assert.Equal(t, OutboundStats{Accepted: 1, Failed: 1}, srv2.Stats())
	assert.False(t, called.Load())
}

func TestOutboundServerBadArguments(t *testing.T) {
	h := func(context.Context, *Connection) {}
	for _, addr := range []string{"127.0.0.1", "127.0.0.1:x", "127.0.0.1:70000", "127.0.0.1:-1"} {
		_, err := NewOutboundServer(addr, h)
		assert.ErrorIs(t, err, ErrBadArgument, addr)
	}
	_, err := NewOutboundServer("127.0.0.1:0", nil)
	assert.ErrorIs(t, err, ErrBadArgument)

	srv := newTestServer(t, h)
	// The port is taken now.
	_, err = NewOutboundServer(srv.Addr().String(), h)
	assert.Error(t, err)
}

// TestOutboundServerAcceptErrors: accept failing for want of descriptors, or for a call that
// went before it was accepted, does not stop the server: it waits, then accepts the call that
// waits in the backlog. Any other failure ends Serve with an error.
func TestOutboundServerAcceptErrors(t *testing.T) {
	srv, err := NewOutboundServer("127.0.0.1:0", func(ctx context.Context, c *Connection) {
		if c.GetInfo().GetHeader("Unique-ID") == "" {
			t.Error("no channel data")
		}
	}, WithLogger(slog.New(slog.NewTextHandler(testLogWriter{t}, nil))))
	if errors.Is(err, ErrUnsupported) {
		t.Skipf("skipped: %v", err)
	}
	require.NoError(t, err)
	var calls atomic.Int32
	var lasting atomic.Bool
	failures := []error{syscall.EMFILE, syscall.ECONNABORTED, syscall.ENFILE}
	srv.accept = func(lfd int) (int, error) {
		if lasting.Load() {
			return -1, syscall.EINVAL
		}
		if n := int(calls.Add(1)); n <= len(failures) {
			return -1, failures[n-1]
		}
		return acceptCloexec(lfd)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve() }()

	rs := loadReplayScript(t)
	called := make(chan error, 1)
	go func() { called <- rs.connectOnlyCall(srv.Addr().String()) }()
	select {
	case err := <-called:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		srv.Close()
		t.Fatal("the call waiting in the backlog was never served")
	}
	require.Eventually(t, func() bool { return srv.Stats().Active == 0 }, 5*time.Second, time.Millisecond)
	assert.Equal(t, OutboundStats{Accepted: 1, Completed: 1}, srv.Stats())
	assert.GreaterOrEqual(t, int(calls.Load()), len(failures)+1)

	// A failure that is not the moment's ends Serve; the server still closes cleanly.
	lasting.Store(true)
	nc, err := net.Dial("tcp", srv.Addr().String())
	require.NoError(t, err)
	defer nc.Close()
	select {
	case err := <-served:
		require.Error(t, err)
		assert.NotErrorIs(t, err, ErrServerClosed)
		assert.Contains(t, err.Error(), "invalid argument")
	case <-time.After(10 * time.Second):
		t.Fatal("Serve went on after a lasting accept failure")
	}
	require.NoError(t, srv.Close())
}

func TestOutboundServerIPv6(t *testing.T) {
	ln, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		t.Skipf("skipped: no IPv6 loopback: %v", err)
	}
	ln.Close()
	fs := newFakeFS(t)
	errs := make(chan error, 1)
	srv, err := NewOutboundServer("[::1]:0", func(ctx context.Context, c *Connection) { errs <- callFlow(ctx, c) })
	if errors.Is(err, ErrUnsupported) {
		t.Skipf("skipped: %v", err)
	}
	require.NoError(t, err)
	go srv.Serve()
	defer srv.Close()
	assert.Equal(t, "::1", srv.Addr().(*net.TCPAddr).IP.String())
	_, err = dialAndWait(t, fs, srv.Addr().String(), asyncFull)
	require.NoError(t, err)
	require.NoError(t, <-errs)
}

func TestOutboundServerCloseBeforeServe(t *testing.T) {
	srv, err := NewOutboundServer("127.0.0.1:0", func(context.Context, *Connection) {})
	if errors.Is(err, ErrUnsupported) {
		t.Skipf("skipped: %v", err)
	}
	require.NoError(t, err)
	require.NoError(t, srv.Close())
	require.NoError(t, srv.Close())
	require.NoError(t, srv.Shutdown(context.Background()))
	assert.ErrorIs(t, srv.Serve(), ErrServerClosed)
}

// TestOutboundServerNoLeaks: after Shutdown, no goroutine, thread or descriptor the server
// started is left.
func TestOutboundServerNoLeaks(t *testing.T) {
	if _, err := os.Stat("/proc/self/task"); err != nil {
		t.Skip("skipped: needs /proc to count threads and descriptors")
	}
	fs := newFakeFS(t)
	handler := func(ctx context.Context, c *Connection) { _ = callFlow(ctx, c) }

	// Warm up at twice the concurrency measured below: the Go runtime keeps the threads it
	// once needed (for cgo calls) parked for reuse, and they are not the server's.
	warm := newTestServer(t, handler)
	require.Zero(t, runCalls(t, fs, warm.Addr().String(), 128, 64).Load())
	require.NoError(t, warm.Shutdown(context.Background()))

	runtime.GC()
	goroutines := goleak.IgnoreCurrent()
	threads, fds := countDir(t, "/proc/self/task"), countDir(t, "/proc/self/fd")

	var slow atomic.Bool
	started := make(chan struct{}, 2)
	srv, err := NewOutboundServer("127.0.0.1:0", func(ctx context.Context, c *Connection) {
		if slow.Load() {
			started <- struct{}{}
			time.Sleep(50 * time.Millisecond)
		}
		handler(ctx, c)
	})
	require.NoError(t, err)
	served := make(chan error, 1)
	go func() { served <- srv.Serve() }()
	require.Zero(t, runCalls(t, fs, srv.Addr().String(), 200, 32).Load())
	// Two calls are still running when Shutdown starts.
	slow.Store(true)
	held := make([]*esltest.OutboundCall, 2)
	for i := range held {
		held[i], err = fs.DialOutbound(context.Background(), srv.Addr().String(), asyncFull)
		require.NoError(t, err)
		<-started
	}
	require.NoError(t, srv.Shutdown(context.Background()))
	require.ErrorIs(t, <-served, ErrServerClosed)
	for _, c := range held {
		require.NoError(t, c.Wait())
	}
	assert.Equal(t, OutboundStats{Accepted: 202, Completed: 202}, srv.Stats())

	// Right after Shutdown: the server's threads and sockets are gone already. The fake
	// FreeSWITCH's side of each socket closes on its own schedule, hence Eventually. On a
	// busy machine the Go runtime may still start a thread or two of its own for the 202
	// calls beyond those the warm-up left (one or two more were seen under -race beside a
	// CPU-bound process), and keeps them; a thread kept per call would add up to 202.
	threadsAfter := countDir(t, "/proc/self/task")
	t.Logf("threads: %d before, %d right after Shutdown", threads, threadsAfter)
	assert.LessOrEqual(t, threadsAfter, threads+4, "threads after Shutdown")
	assert.Eventually(t, func() bool { return countDir(t, "/proc/self/fd") <= fds }, 5*time.Second, time.Millisecond,
		"descriptors: %d before, %d after", fds, countDir(t, "/proc/self/fd"))
	goleak.VerifyNone(t, goroutines)
}

func countDir(t testing.TB, dir string) int {
	t.Helper()
	f, err := os.Open(dir)
	require.NoError(t, err)
	defer f.Close()
	names, err := f.Readdirnames(-1)
	require.NoError(t, err)
	return len(names) - 1 // the directory's own descriptor, when counting /proc/self/fd
}
