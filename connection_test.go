//go:build cgo

package esl

import (
	"bufio"
	"context"
	"errors"
	"net"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/cgoesl/esl/esltest"
)

// fakeFS starts an esltest server that is closed when the test ends.
// checkLeaks fails the test if goroutines it started are still running once everything
// else it set up (servers, connections) was cleaned up.
func checkLeaks(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ignore) })
}

func fakeFS(t testing.TB, opts ...esltest.Option) *esltest.Server {
	t.Helper()
	srv := esltest.NewServer(opts...)
	t.Cleanup(func() { srv.Close() })
	return srv
}

// inbound logs in to srv with the twin constructor.
func inbound(t testing.TB, srv *esltest.Server) *Connection {
	t.Helper()
	c := NewConnection(srv.Host(), srv.Port(), srv.Password())
	require.True(t, c.Connected(), "connect: %v", c.Err())
	t.Cleanup(func() { c.Disconnect() })
	return c
}

// recvWhere reads events until match returns true (or fails the test after d).
func recvWhere(t testing.TB, c *Connection, d time.Duration, match func(*Event) bool) *Event {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	for {
		ev, err := c.RecvEventContext(ctx)
		require.NoError(t, err)
		if match(ev) {
			return ev
		}
	}
}

func named(name string) func(*Event) bool {
	return func(e *Event) bool { return e.GetHeader("Event-Name") == name }
}

func TestConnectTwins(t *testing.T) {
	checkLeaks(t)
	srv := fakeFS(t)
	c := NewConnection(srv.Host(), srv.Port(), "ClueCon")
	require.True(t, c.Connected(), "%v", c.Err())
	assert.NoError(t, c.Err())
	assert.Greater(t, c.SocketDescriptor(), 2)
	assert.Nil(t, c.GetInfo(), "inbound connections have no channel data")

	ev := c.Api("version")
	require.NotNil(t, ev)
	assert.Equal(t, "api/response", ev.ContentType())
	assert.Equal(t, "SOCKET_DATA", ev.GetType())
	assert.Equal(t, "FreeSWITCH Version 1.11.3-dev~64bit ( 64bit)\n", ev.GetBody())

	require.NoError(t, c.Disconnect())
	require.NoError(t, c.Disconnect(), "idempotent")
	assert.False(t, c.Connected())
	assert.Equal(t, -1, c.SocketDescriptor())
	assert.Nil(t, c.Api("version"))
	assert.ErrorIs(t, c.Err(), ErrClosed)
	assert.Equal(t, "SERVER_DISCONNECTED", c.RecvEvent().GetType())
	assert.Nil(t, c.RecvEventTimed(10))
	assert.Error(t, c.Send("api status"))
	assert.Equal(t, "SERVER_DISCONNECTED", c.SendEvent(NewEvent("CUSTOM")).GetType())

	var nilConn *Connection
	assert.False(t, nilConn.Connected())
	assert.Nil(t, nilConn.Api("status"))
	assert.NoError(t, nilConn.Close())
}

func TestConnectFailures(t *testing.T) {
	checkLeaks(t)
	srv := fakeFS(t, esltest.WithPassword("secret"), esltest.WithUser("1000@default", "pw"))

	c := NewConnection(srv.Host(), srv.Port(), "wrong")
	assert.False(t, c.Connected())
	require.Error(t, c.Err())
	if HaveExtensions() {
		assert.ErrorIs(t, c.Err(), ErrAuth)
	} else {
		t.Logf("%s clears the handle on a failed login (quirk Q9): no reason, %v", Backend(), c.Err())
		assert.ErrorIs(t, c.Err(), ErrConnect)
	}
	assert.Nil(t, c.Api("status"))
	assert.NoError(t, c.Disconnect())

	c = NewConnectionUser(srv.Host(), srv.Port(), "1000@default", "pw")
	require.True(t, c.Connected(), "userauth: %v", c.Err())
	assert.NotNil(t, c.Api("status"))
	c.Disconnect()

	c = NewConnectionUser(srv.Host(), srv.Port(), "1000@default", "bad")
	assert.False(t, c.Connected())

	_, err := Dial(context.Background(), srv.Addr(), WithPassword("wrong"))
	require.Error(t, err)
	if HaveExtensions() {
		assert.ErrorIs(t, err, ErrAuth)
	}
	d, err := Dial(context.Background(), srv.Addr(), WithUser("1000@default", "pw"))
	require.NoError(t, err)
	d.Close()

	// Nothing listens on a freshly closed port.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().(*net.TCPAddr)
	l.Close()
	c = NewConnection("127.0.0.1", addr.Port, "ClueCon")
	assert.False(t, c.Connected())
	assert.ErrorIs(t, c.Err(), ErrConnect)

	rej := fakeFS(t, esltest.WithACLReject())
	c = NewConnection(rej.Host(), rej.Port(), "ClueCon")
	assert.False(t, c.Connected())
	assert.Error(t, c.Err())

	c = NewConnection("127.0.0.1\n", 1, "x")
	assert.ErrorIs(t, c.Err(), ErrBadArgument)
}

func TestDialTimeoutAndCancel(t *testing.T) {
	// A server that accepts and never greets.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	var held []net.Conn
	var mu sync.Mutex
	go func() {
		for {
			nc, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, nc)
			mu.Unlock()
		}
	}()
	defer func() {
		mu.Lock()
		for _, nc := range held {
			nc.Close()
		}
		mu.Unlock()
	}()

	start := time.Now()
	_, err = Dial(context.Background(), l.Addr().String(), WithTimeout(200*time.Millisecond))
	require.Error(t, err)
	assert.ErrorIs(t, err, ErrTimeout, "%v", err)
	assert.Less(t, time.Since(start), 3*time.Second)

	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	_, err = Dial(ctx, l.Addr().String())
	assert.ErrorIs(t, err, ErrTimeout, "%v", err)

	ctx, cancel = context.WithCancel(context.Background())
	go func() { time.Sleep(50 * time.Millisecond); cancel() }()
	_, err = Dial(ctx, l.Addr().String(), WithTimeout(300*time.Millisecond))
	assert.ErrorIs(t, err, context.Canceled)

	_, err = Dial(context.Background(), "no-port")
	assert.ErrorIs(t, err, ErrBadArgument)
}

func TestApiTwins(t *testing.T) {
	srv := fakeFS(t)
	var gotArgs []string
	var mu sync.Mutex
	srv.HandleAPI("probe", func(args string) string {
		mu.Lock()
		gotArgs = append(gotArgs, args)
		mu.Unlock()
		return "probed"
	})
	c := inbound(t, srv)

	assert.Equal(t, "hello world", c.Api("echo", "hello world").GetBody())
	assert.Equal(t, "a b c", c.Api("echo", "a", "b", "c").GetBody(), "args are joined")
	assert.Equal(t, "probed", c.Api("probe").GetBody())
	assert.Equal(t, "probed", c.Api("probe", "x").GetBody())
	mu.Lock()
	assert.Equal(t, []string{"", "x"}, gotArgs, "no trailing space without an argument")
	mu.Unlock()
	assert.Equal(t, "-ERR nosuch Command not found!\n", c.Api("nosuch").GetBody())

	// Bad arguments never reach the wire; the connection stays in step.
	assert.Nil(t, c.Api("echo", "two\nlines"))
	assert.ErrorIs(t, c.Err(), ErrBadArgument)
	assert.Nil(t, c.Api(""))
	assert.Nil(t, c.SendRecv("api echo a\n\napi echo b"))
	assert.Equal(t, "still in step", c.Api("echo", "still in step").GetBody())

	r := c.SendRecv("api echo raw")
	require.NotNil(t, r)
	assert.Equal(t, "raw", r.GetBody())
	r = c.SendRecv("bogus")
	assert.Equal(t, "-ERR command not found", r.ReplyText())

	// Send: the reply comes from RecvEvent, as in SWIG.
	require.NoError(t, c.Send("api echo via-send"))
	ev := c.RecvEvent()
	assert.Equal(t, "api/response", ev.ContentType())
	assert.Equal(t, "via-send", ev.GetBody())
	assert.ErrorIs(t, c.Send("x\x00"), ErrBadArgument)
}

func TestBgapiAndEvents(t *testing.T) {
	srv := fakeFS(t)
	c := inbound(t, srv)
	require.NoError(t, c.Events("plain", "BACKGROUND_JOB CUSTOM my::sub"))

	r := c.Bgapi("echo", "bg-out", "job-1234")
	require.NotNil(t, r)
	assert.Equal(t, "+OK Job-UUID: job-1234", r.ReplyText())
	assert.Equal(t, "job-1234", r.GetHeader("Job-UUID"))
	ev := recvWhere(t, c, 5*time.Second, named("BACKGROUND_JOB"))
	assert.Equal(t, "BACKGROUND_JOB", ev.GetType())
	assert.Equal(t, "job-1234", ev.GetHeader("Job-UUID"))
	assert.Equal(t, "bg-out", ev.GetBody())

	r = c.Bgapi("status", "")
	require.NotNil(t, r)
	assert.NotEmpty(t, r.GetHeader("Job-UUID"))
	recvWhere(t, c, 5*time.Second, named("BACKGROUND_JOB"))

	srv.FireEvent("CUSTOM", map[string]string{"Event-Subclass": "my::sub", "X-Val": "a b&c", "X-Arr": "ARRAY::1|:2"}, "the body")
	ev = c.RecvEventTimed(5000)
	require.NotNil(t, ev)
	assert.Equal(t, "CUSTOM", ev.GetType())
	assert.Equal(t, "my::sub", ev.GetHeader("Event-Subclass"))
	assert.Equal(t, "a b&c", ev.GetHeader("x-val"))
	assert.Equal(t, "2", ev.GetHeader("X-Arr", 1))
	assert.Equal(t, "the body", ev.GetBody())
	assert.Nil(t, c.RecvEventTimed(50), "timeout gives nil")

	// json: decoded by the library into the same kind of event.
	require.NoError(t, c.Events("json", "CUSTOM my::sub"))
	srv.FireEvent("CUSTOM", map[string]string{"Event-Subclass": "my::sub", "X-Val": "j"}, "jb")
	ev = c.RecvEventTimed(5000)
	require.NotNil(t, ev)
	assert.Equal(t, "CUSTOM", ev.GetType())
	assert.Equal(t, "j", ev.GetHeader("X-Val"))
	assert.Equal(t, "jb", ev.GetBody())

	// xml: not decoded; the XML is the body of the message.
	require.NoError(t, c.Events("xml", "CUSTOM my::sub"))
	srv.FireEvent("CUSTOM", map[string]string{"Event-Subclass": "my::sub", "X-Val": "x"}, "")
	ev = c.RecvEventTimed(5000)
	require.NotNil(t, ev)
	assert.Equal(t, "text/event-xml", ev.ContentType())
	assert.Contains(t, ev.GetBody(), "<X-Val>x</X-Val>")

	// filter
	f := c.Filter("X-Val", "keep")
	require.NotNil(t, f)
	assert.Equal(t, "+OK filter added. [X-Val]=[keep]", f.ReplyText())
	require.NoError(t, c.Events("plain", "CUSTOM my::sub"))
	srv.FireEvent("CUSTOM", map[string]string{"Event-Subclass": "my::sub", "X-Val": "drop"}, "")
	srv.FireEvent("CUSTOM", map[string]string{"Event-Subclass": "my::sub", "X-Val": "keep"}, "")
	ev = c.RecvEventTimed(5000)
	require.NotNil(t, ev)
	assert.Equal(t, "keep", ev.GetHeader("X-Val"))
}

func TestSendEventAndMsg(t *testing.T) {
	srv := fakeFS(t)
	c := inbound(t, srv)
	require.NoError(t, c.Events("plain", "CUSTOM test::fixture"))

	e := NewEvent("CUSTOM", "test::fixture")
	e.AddHeader("X-Hello", "world")
	e.AddBody("fixture body")
	r := c.SendEvent(e)
	require.NotNil(t, r)
	assert.True(t, strings.HasPrefix(r.ReplyText(), "+OK "), "the reply itself, not stale data: %q", r.ReplyText())
	uuid := strings.TrimPrefix(r.ReplyText(), "+OK ")
	ev := recvWhere(t, c, 5*time.Second, func(e *Event) bool { return e.GetHeader("X-Hello") == "world" })
	assert.Equal(t, uuid, ev.GetHeader("Event-UUID"))
	assert.Equal(t, "fixture body", ev.GetBody())

	// sendmsg to an unknown uuid: the twin reports success once a reply came.
	m := NewEvent("CUSTOM")
	m.AddHeader("call-command", "hangup")
	require.NoError(t, c.SendMSG(m, "00000000-0000-0000-0000-000000000000"))
	bad := NewEvent("CUSTOM")
	bad.AddHeader("call-command", "exe\ncute")
	assert.ErrorIs(t, c.SendMSG(bad), ErrBadArgument)
	assert.Equal(t, "SERVER_DISCONNECTED", c.SendEvent(bad).GetType())
	assert.ErrorIs(t, c.Err(), ErrBadArgument)
}

func TestExecuteOnChannel(t *testing.T) {
	srv := fakeFS(t)
	c := inbound(t, srv)
	require.NoError(t, c.Events("plain", "CHANNEL_EXECUTE CHANNEL_EXECUTE_COMPLETE CHANNEL_ANSWER"))
	uuid := c.Api("create_uuid").GetBody()
	r := c.Api("originate", "{origination_uuid="+uuid+"}loopback/9999/default", "&park")
	require.NotNil(t, r)
	require.True(t, strings.HasPrefix(r.GetBody(), "+OK"), r.GetBody())

	assert.False(t, c.SetEventLock("0"))
	assert.True(t, c.SetEventLock("true"))
	r = c.Execute("answer", "", uuid)
	require.NotNil(t, r)
	assert.Equal(t, "+OK", r.ReplyText())
	ev := recvWhere(t, c, 5*time.Second, named("CHANNEL_EXECUTE_COMPLETE"))
	assert.Equal(t, "answer", ev.GetHeader("Application"))

	r = c.ExecuteAsync("playback", "silence_stream://100", uuid)
	require.NotNil(t, r)
	assert.Equal(t, "+OK", r.ReplyText())
	assert.True(t, c.SetAsyncExecute("yes"))

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := c.ExecuteContext(ctx, "hangup", "", "11111111-2222-3333-4444-555555555555")
	assert.ErrorIs(t, err, ErrCommand, "unknown uuid gives -ERR")
	assert.Nil(t, c.Execute(""))
	assert.Nil(t, c.Execute("playback", "a\rb", uuid))
}

func TestIdiomaticLayer(t *testing.T) {
	checkLeaks(t)
	srv := fakeFS(t)
	ctx := context.Background()
	c, err := Dial(ctx, srv.Addr(), WithPassword("ClueCon"), WithTimeout(5*time.Second), WithEvents("plain", "CUSTOM", "my::sub"))
	require.NoError(t, err)
	defer c.Close()

	ev, err := c.ApiContext(ctx, "echo", "x")
	require.NoError(t, err)
	assert.Equal(t, "x", ev.GetBody())
	ev, err = c.ApiContext(ctx, "nosuch", "")
	assert.ErrorIs(t, err, ErrCommand)
	require.NotNil(t, ev, "the reply comes with the error")
	var e *Error
	require.True(t, errors.As(err, &e))
	assert.Equal(t, "api", e.Op)
	assert.Equal(t, "-ERR nosuch Command not found!", e.Text)
	_, err = c.SendRecvContext(ctx, "nosuchcommand")
	assert.ErrorIs(t, err, ErrCommand)
	_, err = c.ApiContext(ctx, "echo", "a\rb")
	assert.ErrorIs(t, err, ErrBadArgument)

	// A caller that gives up: its late reply is dropped, later calls get their own.
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	_, err = c.ApiContext(short, "msleep", "300")
	cancel()
	assert.ErrorIs(t, err, ErrTimeout)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	for i := 0; i < 3; i++ {
		ev, err = c.ApiContext(ctx, "echo", "after-"+string(rune('a'+i)))
		require.NoError(t, err)
		assert.Equal(t, "after-"+string(rune('a'+i)), ev.GetBody())
	}
	assert.Equal(t, uint64(1), c.Stats().RepliesDropped)

	// EventStream
	for i := 0; i < 3; i++ {
		srv.FireEvent("CUSTOM", map[string]string{"Event-Subclass": "my::sub", "N": string(rune('0' + i))}, "")
	}
	sctx, scancel := context.WithTimeout(ctx, 5*time.Second)
	n := 0
	for ev, err := range c.EventStream(sctx) {
		require.NoError(t, err)
		assert.Equal(t, string(rune('0'+n)), ev.GetHeader("N"))
		if n++; n == 3 {
			break
		}
	}
	scancel()
	ectx, ecancel := context.WithTimeout(ctx, 30*time.Millisecond)
	for _, err := range c.EventStream(ectx) {
		assert.ErrorIs(t, err, context.DeadlineExceeded)
	}
	ecancel()
	done, dcancel := context.WithCancel(ctx)
	dcancel()
	_, err = c.RecvEventContext(done)
	assert.ErrorIs(t, err, context.Canceled, "a done context polls")

	// Background jobs: subscribed automatically, never missed, routed to the Job.
	j, err := c.BackgroundJob(ctx, "echo", "job output")
	require.NoError(t, err)
	assert.Len(t, j.UUID, 36)
	res, err := j.Wait(ctx)
	require.NoError(t, err)
	assert.Equal(t, "job output", res.GetBody())
	assert.Equal(t, j.UUID, res.GetHeader("Job-UUID"))
	j, err = c.BackgroundJob(ctx, "nosuch", "")
	require.NoError(t, err)
	_, err = j.Wait(ctx)
	assert.ErrorIs(t, err, ErrCommand)
	jobs := make([]*Job, 20)
	for i := range jobs {
		jobs[i], err = c.BackgroundJob(ctx, "msleep", "10")
		require.NoError(t, err)
	}
	for _, j := range jobs {
		res, err := j.Wait(ctx)
		require.NoError(t, err)
		assert.Equal(t, "+OK", res.GetBody())
	}
	_, err = c.BackgroundJob(ctx, "echo", "bad\narg")
	assert.ErrorIs(t, err, ErrBadArgument)
	// The job results did not leak into the event stream.
	ev, err = c.RecvEventContext(done)
	assert.Nil(t, ev)
	assert.ErrorIs(t, err, context.Canceled)
}

// rawFS is a minimal hand-driven event socket: it greets, accepts any auth, and hands the
// connection to serve.
func rawFS(t *testing.T, serve func(nc net.Conn, r *bufio.Reader)) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var wg sync.WaitGroup
	t.Cleanup(func() { l.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		nc, err := l.Accept()
		if err != nil {
			return
		}
		defer nc.Close()
		r := bufio.NewReader(nc)
		nc.Write([]byte("Content-Type: auth/request\n\n"))
		if readBlock(r) == "" {
			return
		}
		nc.Write([]byte("Content-Type: command/reply\nReply-Text: +OK accepted\n\n"))
		serve(nc, r)
	}()
	return l.Addr().String()
}

// readBlock reads one command block ("" at EOF).
func readBlock(r *bufio.Reader) string {
	var b strings.Builder
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return ""
		}
		if line == "\n" {
			return b.String()
		}
		b.WriteString(line)
	}
}

func TestDisconnectMidCall(t *testing.T) {
	checkLeaks(t)
	addr := rawFS(t, func(nc net.Conn, r *bufio.Reader) {
		for {
			cmd := readBlock(r)
			switch {
			case cmd == "":
				return
			case strings.HasPrefix(cmd, "api "):
				// Never answered: the server goes away in the middle of the call.
				time.Sleep(100 * time.Millisecond)
				nc.Write([]byte("Content-Type: text/disconnect-notice\nContent-Length: 3\n\nbye"))
				return
			default:
				nc.Write([]byte("Content-Type: command/reply\nReply-Text: +OK\n\n"))
			}
		}
	})
	c, err := Dial(context.Background(), addr)
	require.NoError(t, err)
	defer c.Close()
	j, err := c.BackgroundJob(context.Background(), "msleep", "5000")
	require.NoError(t, err)
	_, err = c.ApiContext(context.Background(), "msleep", "5000")
	assert.ErrorIs(t, err, ErrDisconnected)
	_, err = j.Wait(context.Background())
	assert.ErrorIs(t, err, ErrDisconnected)
	// The stream ends: the notice first, then ErrDisconnected.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ev, err := c.RecvEventContext(ctx)
	require.NoError(t, err)
	assert.Equal(t, "text/disconnect-notice", ev.ContentType())
	assert.Equal(t, "bye", ev.GetBody())
	_, err = c.RecvEventContext(ctx)
	assert.ErrorIs(t, err, ErrDisconnected)
	assert.False(t, c.Connected())
	assert.Equal(t, "SERVER_DISCONNECTED", c.RecvEvent().GetType())
	assert.Nil(t, c.Api("status"))
	assert.ErrorIs(t, c.Err(), ErrDisconnected)
}

func TestCloseWhileWaiting(t *testing.T) {
	checkLeaks(t)
	srv := fakeFS(t)
	c := inbound(t, srv)
	var wg sync.WaitGroup
	errs := make(chan error, 3)
	wg.Add(3)
	go func() { defer wg.Done(); _, err := c.ApiContext(context.Background(), "msleep", "5000"); errs <- err }()
	go func() { defer wg.Done(); _, err := c.RecvEventContext(context.Background()); errs <- err }()
	go func() {
		defer wg.Done()
		if ev := c.RecvEvent(); ev.GetType() != "SERVER_DISCONNECTED" {
			errs <- errors.New("RecvEvent: " + ev.GetType())
			return
		}
		errs <- ErrClosed
	}()
	time.Sleep(100 * time.Millisecond)
	start := time.Now()
	require.NoError(t, c.Close())
	wg.Wait()
	close(errs)
	for err := range errs {
		assert.ErrorIs(t, err, ErrClosed)
	}
	assert.Less(t, time.Since(start), 2*time.Second)
}

func TestExitGoodbye(t *testing.T) {
	srv := fakeFS(t)
	c := inbound(t, srv)
	r := c.SendRecv("exit")
	require.NotNil(t, r)
	assert.Equal(t, "+OK bye", r.ReplyText())
	ev := c.RecvEvent()
	assert.Equal(t, "text/disconnect-notice", ev.ContentType())
	assert.Equal(t, "Disconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n", ev.GetBody())
	assert.Equal(t, "SERVER_DISCONNECTED", c.RecvEvent().GetType())
	assert.False(t, c.Connected())
	assert.ErrorIs(t, c.Err(), ErrDisconnected)
}

func TestFaultyWire(t *testing.T) {
	for _, f := range []esltest.Faults{
		{ChunkSize: 1},
		{ChunkSize: 7, Delay: time.Millisecond},
		{SplitAt: []int{1, 27, 28, 60, 61, 100}},
	} {
		srv := fakeFS(t, esltest.WithFaults(f))
		c := inbound(t, srv)
		require.NoError(t, c.Events("plain", "CUSTOM"))
		for i := 0; i < 3; i++ {
			assert.Equal(t, "ping", c.Api("echo", "ping").GetBody())
		}
		srv.FireEvent("CUSTOM", map[string]string{"K": "v"}, "body")
		ev := c.RecvEventTimed(5000)
		require.NotNil(t, ev)
		assert.Equal(t, "v", ev.GetHeader("K"))
	}
	srv := fakeFS(t, esltest.WithFaults(esltest.Faults{DropAfter: 200}))
	c := NewConnection(srv.Host(), srv.Port(), "ClueCon")
	if c.Connected() {
		defer c.Disconnect()
		for i := 0; i < 10 && c.Api("status") != nil; i++ {
		}
		assert.Eventually(t, func() bool { return !c.Connected() }, 5*time.Second, 10*time.Millisecond)
		assert.ErrorIs(t, c.Err(), ErrDisconnected)
	}
}

func TestInjectedGarbage(t *testing.T) {
	srv := fakeFS(t)
	c := inbound(t, srv)
	require.NoError(t, c.Events("plain", "CUSTOM"))
	// A message with a log/data content type goes to the stream like any non-reply.
	srv.InjectRaw([]byte("Content-Type: log/data\nContent-Length: 5\nLog-Level: 7\n\nhello"))
	ev := recvWhere(t, c, 5*time.Second, func(e *Event) bool { return e.ContentType() == "log/data" })
	assert.Equal(t, "log/data", ev.ContentType())
	assert.Equal(t, "hello", ev.GetBody())
	// An unsolicited reply (nobody waits) also goes to the stream, and later replies
	// still match.
	srv.InjectRaw([]byte("Content-Type: command/reply\nReply-Text: +OK stray\n\n"))
	ev = recvWhere(t, c, 5*time.Second, func(e *Event) bool { return e.ContentType() == "command/reply" })
	assert.Equal(t, "+OK stray", ev.ReplyText())
	assert.Equal(t, "ok", c.Api("echo", "ok").GetBody())
	// A body with NUL bytes arrives whole.
	srv.InjectRaw([]byte("Content-Type: log/data\nContent-Length: 5\n\na\x00b\x00c"))
	ev = recvWhere(t, c, 5*time.Second, func(e *Event) bool { return e.ContentType() == "log/data" })
	assert.Equal(t, "a\x00b\x00c", ev.GetBody())
}

func TestLimits(t *testing.T) {
	srv := fakeFS(t)
	if !HaveExtensions() {
		_, err := Dial(context.Background(), srv.Addr(), WithLimits(4096, 4096))
		assert.ErrorIs(t, err, ErrUnsupported)
		t.Skipf("message limits are a csrc extension; %s has none", Backend())
	}
	c, err := Dial(context.Background(), srv.Addr(), WithLimits(4096, 1024))
	require.NoError(t, err)
	defer c.Close()
	assert.Equal(t, "ok", c.Api("echo", "ok").GetBody())
	ev, err := c.ApiContext(context.Background(), "echo", strings.Repeat("x", 2000))
	assert.Nil(t, ev)
	assert.ErrorIs(t, err, ErrDisconnected, "a body over the limit ends the connection")
	assert.Contains(t, c.Err().Error(), "")
}

// openFDs counts this process's open file descriptors.
func openFDs(t *testing.T) int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip("no /proc/self/fd")
	}
	return len(ents)
}

func TestNoLeaks(t *testing.T) {
	checkLeaks(t)
	srv := fakeFS(t)
	before := openFDs(t)
	for i := 0; i < 50; i++ {
		c := NewConnection(srv.Host(), srv.Port(), "ClueCon")
		require.True(t, c.Connected())
		c.Api("status")
		c.Close()
	}
	assert.Eventually(t, func() bool { return openFDs(t) == before }, 5*time.Second, 10*time.Millisecond,
		"every socket closed")

	// A Connection dropped without Close is closed by its cleanup.
	leaksBefore := leaks.Load()
	func() {
		c := NewConnection(srv.Host(), srv.Port(), "ClueCon")
		require.True(t, c.Connected())
	}()
	require.Eventually(t, func() bool {
		runtime.GC()
		return leaks.Load() > leaksBefore && openFDs(t) == before
	}, 5*time.Second, 10*time.Millisecond)
}

// A writer stuck in write(2) (the server stopped reading) does not keep Close waiting.
func TestCloseUnblocksWriter(t *testing.T) {
	checkLeaks(t)
	stop := make(chan struct{})
	addr := rawFS(t, func(nc net.Conn, r *bufio.Reader) { <-stop })
	defer close(stop)
	c, err := Dial(context.Background(), addr)
	require.NoError(t, err)
	errc := make(chan error, 1)
	go func() {
		_, err := c.ApiContext(context.Background(), "echo", strings.Repeat("x", 8<<20))
		errc <- err
	}()
	time.Sleep(200 * time.Millisecond)
	done := make(chan struct{})
	go func() { c.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close blocked behind a stuck writer")
	}
	assert.Error(t, <-errc)
}
