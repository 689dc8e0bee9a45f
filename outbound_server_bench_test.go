//go:build cgo

package esl

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// A goroutine-per-connection outbound server in pure Go, for comparison with
// OutboundServer: net.Listen, and a minimal event socket client that runs the same flow
// as callFlow with the same checks.

// goMsg is one received message: its outer headers, and for text/event-plain the inner
// event's headers.
type goMsg struct {
	hdr   map[string]string
	inner map[string]string
}

type goConn struct {
	nc    net.Conn
	r     *bufio.Reader
	queue []goMsg // events that arrived while waiting for a reply
}

// parseHeaders reads "Name: value" lines; values are URL-decoded like libesl does.
func parseHeaders(block string) map[string]string {
	h := make(map[string]string, 16)
	for _, line := range strings.Split(block, "\n") {
		name, value, ok := strings.Cut(line, ": ")
		if !ok {
			continue
		}
		if v, err := url.PathUnescape(value); err == nil {
			value = v
		}
		if _, dup := h[name]; !dup {
			h[name] = value
		}
	}
	return h
}

func (g *goConn) read() (goMsg, error) {
	var block strings.Builder
	for {
		line, err := g.r.ReadString('\n')
		if err != nil {
			return goMsg{}, err
		}
		if line == "\n" {
			if block.Len() == 0 {
				continue
			}
			break
		}
		block.WriteString(line)
	}
	m := goMsg{hdr: parseHeaders(block.String())}
	if cl := m.hdr["Content-Length"]; cl != "" {
		n, err := strconv.Atoi(cl)
		if err != nil || n < 0 {
			return goMsg{}, fmt.Errorf("bad Content-Length %q", cl)
		}
		body := make([]byte, n)
		if _, err := io.ReadFull(g.r, body); err != nil {
			return goMsg{}, err
		}
		if m.hdr["Content-Type"] == "text/event-plain" {
			head, _, _ := strings.Cut(string(body), "\n\n")
			m.inner = parseHeaders(head)
		}
	}
	return m, nil
}

// cmd sends a command and returns its reply; events read meanwhile are queued.
func (g *goConn) cmd(text string) (goMsg, error) {
	if _, err := io.WriteString(g.nc, text+"\n\n"); err != nil {
		return goMsg{}, err
	}
	for {
		m, err := g.read()
		if err != nil {
			return goMsg{}, err
		}
		switch m.hdr["Content-Type"] {
		case "command/reply", "api/response":
			return m, nil
		}
		g.queue = append(g.queue, m)
	}
}

func (g *goConn) next() (goMsg, error) {
	if len(g.queue) > 0 {
		m := g.queue[0]
		g.queue = g.queue[1:]
		return m, nil
	}
	return g.read()
}

// goFlow is callFlow on a goConn.
func goFlow(nc net.Conn) error {
	g := &goConn{nc: nc, r: bufio.NewReaderSize(nc, 64<<10)}
	expect := func(cmd, want string) (goMsg, error) {
		m, err := g.cmd(cmd)
		if err != nil {
			return m, fmt.Errorf("%s: %w", strings.SplitN(cmd, "\n", 2)[0], err)
		}
		if got := m.hdr["Reply-Text"]; got != want {
			return m, fmt.Errorf("%s: Reply-Text %q, want %q", strings.SplitN(cmd, "\n", 2)[0], got, want)
		}
		return m, nil
	}
	info, err := expect("connect", "+OK\n")
	if err != nil {
		return err
	}
	uuid := info.hdr["Unique-ID"]
	if uuid == "" {
		return errors.New("connect: no Unique-ID")
	}
	for _, cw := range [][2]string{
		{"myevents", "+OK Events Enabled"},
		{"divert_events on", "+OK events diverted"},
		{"linger", "+OK will linger"},
		{"sendmsg\ncall-command: execute\nexecute-app-name: answer\nevent-lock: true", "+OK"},
		{"sendmsg\ncall-command: execute\nexecute-app-name: playback\nexecute-app-arg: silence_stream://5\nasync: true", "+OK"},
		{"sendmsg " + uuid + "\ncall-command: execute\nexecute-app-name: hangup", "+OK"},
	} {
		if _, err := expect(cw[0], cw[1]); err != nil {
			return err
		}
	}
	seen := map[string]bool{}
	for {
		m, err := g.next()
		if err != nil {
			return fmt.Errorf("waiting for the linger notice: %w", err)
		}
		if m.hdr["Content-Type"] == "text/disconnect-notice" {
			if d := m.hdr["Content-Disposition"]; d != "linger" {
				return fmt.Errorf("disconnect notice %q before the linger notice", d)
			}
			break
		}
		if m.inner != nil {
			seen[m.inner["Event-Name"]] = true
		}
	}
	for _, name := range []string{"CHANNEL_ANSWER", "CHANNEL_EXECUTE_COMPLETE", "CHANNEL_HANGUP"} {
		if !seen[name] {
			return fmt.Errorf("no %s before the linger notice", name)
		}
	}
	if _, err := expect("exit", "+OK bye"); err != nil {
		return err
	}
	goodbye := false
	for {
		m, err := g.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("after exit: %w", err)
		}
		if m.hdr["Content-Disposition"] == "disconnect" {
			goodbye = true
		}
	}
	if !goodbye {
		return errors.New("no goodbye notice")
	}
	return nil
}

// goConnectOnly is the shortest session: `connect`, its reply checked, and the close.
func goConnectOnly(nc net.Conn) error {
	g := &goConn{nc: nc, r: bufio.NewReaderSize(nc, 64<<10)}
	m, err := g.cmd("connect")
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	if m.hdr["Unique-ID"] == "" {
		return errors.New("connect: no Unique-ID")
	}
	return nil
}

// goServer serves each connection on a goroutine of its own.
type goServer struct {
	ln       net.Listener
	wg       sync.WaitGroup
	done     atomic.Int64
	failed   atomic.Int64
	firstErr atomic.Value
}

func startGoServer(t testing.TB) *goServer { return startGoServerFlow(t, goFlow) }

// startGoServerFlow is startGoServer running flow on each connection.
func startGoServerFlow(t testing.TB, flow func(net.Conn) error) *goServer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	s := &goServer{ln: ln}
	s.wg.Go(func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			s.wg.Go(func() {
				defer nc.Close()
				if err := flow(nc); err != nil {
					s.failed.Add(1)
					s.firstErr.CompareAndSwap(nil, err)
					return
				}
				s.done.Add(1)
			})
		}
	})
	return s
}

func (s *goServer) Close() {
	s.ln.Close()
	s.wg.Wait()
}

// TestGoOutboundServer checks the comparison server itself.
func TestGoOutboundServer(t *testing.T) {
	fs := newFakeFS(t)
	s := startGoServer(t)
	require.Zero(t, runCalls(t, fs, s.ln.Addr().String(), 100, 16).Load())
	s.Close()
	require.Zero(t, s.failed.Load(), "first failure: %v", s.firstErr.Load())
	require.EqualValues(t, 100, s.done.Load())
}

// replayScript is FreeSWITCH's side of callFlow, cut from the recording of a real outbound
// call (testdata/freeswitch/outbound-full.s2c): what to send for each command.
type replayScript struct {
	info, myevents, divert, linger, ok, bye []byte
	answer, playback, hangup, goodbye       []byte // the events that follow
}

func loadReplayScript(t testing.TB) *replayScript {
	t.Helper()
	data, err := os.ReadFile("testdata/freeswitch/outbound-full.s2c")
	require.NoError(t, err)
	var msgs [][]byte
	for len(data) > 0 {
		end := bytes.Index(data, []byte("\n\n"))
		require.GreaterOrEqual(t, end, 0)
		n := end + 2
		if cl := parseHeaders(string(data[:end]))["Content-Length"]; cl != "" {
			l, err := strconv.Atoi(cl)
			require.NoError(t, err)
			n += l
		}
		msgs = append(msgs, data[:n])
		data = data[n:]
	}
	require.Len(t, msgs, 22)
	join := func(idx ...int) []byte {
		var b []byte
		for _, i := range idx {
			b = append(b, msgs[i]...)
		}
		return b
	}
	return &replayScript{
		info: msgs[0], myevents: msgs[1], linger: msgs[2], ok: msgs[4], bye: msgs[20],
		divert:   []byte("Content-Type: command/reply\nReply-Text: +OK events diverted\n\n"),
		answer:   join(6, 7, 8),
		playback: join(10, 11),
		hangup:   join(13, 14, 15, 16, 17, 18, 19),
		goodbye:  msgs[21],
	}
}

// replayCall dials addr as the socket application does and answers callFlow's commands
// with the recorded bytes.
func (rs *replayScript) replayCall(addr string) error {
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		return err
	}
	defer nc.Close()
	r := bufio.NewReader(nc)
	for {
		var first string
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return fmt.Errorf("reading a command: %w", err)
			}
			if line == "\n" {
				if first == "" {
					continue
				}
				break
			}
			if first == "" {
				first = strings.TrimSuffix(line, "\n")
			} else if strings.HasPrefix(line, "execute-app-name: ") {
				first += " " + strings.TrimSpace(strings.TrimPrefix(line, "execute-app-name: "))
			}
		}
		var out []byte
		switch {
		case first == "connect":
			out = rs.info
		case first == "myevents":
			out = rs.myevents
		case first == "divert_events on":
			out = rs.divert
		case first == "linger":
			out = rs.linger
		case strings.HasSuffix(first, " answer"):
			out = append(append([]byte(nil), rs.ok...), rs.answer...)
		case strings.HasSuffix(first, " playback"):
			out = append(append([]byte(nil), rs.ok...), rs.playback...)
		case strings.HasSuffix(first, " hangup"):
			out = append(append([]byte(nil), rs.ok...), rs.hangup...)
		case first == "exit":
			_, err := nc.Write(append(append([]byte(nil), rs.bye...), rs.goodbye...))
			return err
		default:
			return fmt.Errorf("unexpected command %q", first)
		}
		if _, err := nc.Write(out); err != nil {
			return err
		}
	}
}

// connectOnlyCall dials addr, answers `connect` with the recorded channel data and waits
// for the server to close.
func (rs *replayScript) connectOnlyCall(addr string) error {
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		return err
	}
	defer nc.Close()
	r := bufio.NewReader(nc)
	line, err := r.ReadString('\n')
	if err != nil || line != "connect\n" {
		return fmt.Errorf("reading connect: %q, %v", line, err)
	}
	if line, err = r.ReadString('\n'); err != nil || line != "\n" {
		return fmt.Errorf("reading connect: %q, %v", line, err)
	}
	if _, err := nc.Write(rs.info); err != nil {
		return err
	}
	if _, err := io.Copy(io.Discard, r); err != nil {
		return fmt.Errorf("waiting for the close: %w", err)
	}
	return nil
}

// runCalls places total replayed calls, parallel at a time.
func (rs *replayScript) runCalls(t testing.TB, addr string, total, parallel int) *atomic.Int64 {
	return rs.run(t, addr, total, parallel, rs.replayCall)
}

// run places total calls of one kind, parallel at a time.
func (rs *replayScript) run(t testing.TB, addr string, total, parallel int, call func(addr string) error) *atomic.Int64 {
	var failed, next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < parallel; w++ {
		wg.Go(func() {
			for next.Add(1) <= int64(total) {
				if err := call(addr); err != nil && failed.Add(1) == 1 {
					t.Errorf("call: %v", err)
				}
			}
		})
	}
	wg.Wait()
	return &failed
}

// BenchmarkOutboundSessions: whole calls (callFlow, checks included), 64 at a time,
// served by OutboundServer (accepted in the C library's loop, each call on a goroutine)
// and by the pure-Go goroutine-per-connection server, in one process. Two kinds of
// FreeSWITCH dial in: esltest (a full fake: channels, event bus; it costs the same for both
// servers and dominates), and replay (the bytes of a recorded real call, so the servers'
// own costs show). connect-only sessions end after `connect` is answered: what a session
// costs a server apart from its messages. Compare the sessions/s of the two servers within
// one run.
func BenchmarkOutboundSessions(b *testing.B) {
	const parallel = 64
	type server struct {
		name  string
		start func(b *testing.B, connectOnly bool) (addr string, stop func())
	}
	servers := []server{
		{"cgo-OutboundServer", func(b *testing.B, connectOnly bool) (string, func()) {
			var failed atomic.Int64
			var firstErr atomic.Value
			srv := newTestServer(b, func(ctx context.Context, c *Connection) {
				var err error
				if connectOnly {
					if c.GetInfo().GetHeader("Unique-ID") == "" {
						err = errors.New("connect: no Unique-ID")
					}
				} else {
					err = callFlow(ctx, c)
				}
				if err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err)
				}
			})
			return srv.Addr().String(), func() {
				require.NoError(b, srv.Shutdown(context.Background()))
				require.Zero(b, failed.Load(), "first failure: %v", firstErr.Load())
			}
		}},
		{"pure-Go-goroutines", func(b *testing.B, connectOnly bool) (string, func()) {
			flow := goFlow
			if connectOnly {
				flow = goConnectOnly
			}
			s := startGoServerFlow(b, flow)
			return s.ln.Addr().String(), func() {
				s.Close()
				require.Zero(b, s.failed.Load(), "first failure: %v", s.firstErr.Load())
			}
		}},
	}
	// Wall time depends on what else the machine runs; the process's CPU time per session
	// (user + system, both servers and the dialer) much less. The system share is reported
	// apart: both servers make the same system calls, so it is what they cannot differ in.
	cpuTime := func() (user, sys time.Duration) {
		var ru syscall.Rusage
		_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
		return time.Duration(ru.Utime.Nano()), time.Duration(ru.Stime.Nano())
	}
	measure := func(b *testing.B, calls func() *atomic.Int64) {
		b.ResetTimer()
		start := time.Now()
		user0, sys0 := cpuTime()
		failed := calls()
		elapsed := time.Since(start)
		user1, sys1 := cpuTime()
		b.StopTimer()
		require.Zero(b, failed.Load())
		perSession := func(d time.Duration) float64 { return float64(d.Microseconds()) / float64(b.N) }
		b.ReportMetric(float64(b.N)/elapsed.Seconds(), "sessions/s")
		b.ReportMetric(perSession(user1-user0+sys1-sys0), "cpu-µs/session")
		b.ReportMetric(perSession(sys1-sys0), "sys-µs/session")
	}
	for _, srv := range servers {
		b.Run("esltest/"+srv.name, func(b *testing.B) {
			fs := newFakeFS(b)
			addr, stop := srv.start(b, false)
			measure(b, func() *atomic.Int64 { return runCalls(b, fs, addr, b.N, parallel) })
			stop()
		})
	}
	rs := loadReplayScript(b)
	for _, srv := range servers {
		b.Run("replay/"+srv.name, func(b *testing.B) {
			addr, stop := srv.start(b, false)
			measure(b, func() *atomic.Int64 { return rs.runCalls(b, addr, b.N, parallel) })
			stop()
		})
	}
	for _, srv := range servers {
		b.Run("connect-only/"+srv.name, func(b *testing.B) {
			addr, stop := srv.start(b, true)
			measure(b, func() *atomic.Int64 { return rs.run(b, addr, b.N, parallel, rs.connectOnlyCall) })
			stop()
		})
	}
}

// TestReplayedCalls checks the replay against both servers.
func TestReplayedCalls(t *testing.T) {
	rs := loadReplayScript(t)
	var done atomic.Int64
	errs := make(chan error, 1)
	srv := newTestServer(t, func(ctx context.Context, c *Connection) {
		if err := callFlow(ctx, c); err != nil {
			select {
			case errs <- err:
			default:
			}
			return
		}
		done.Add(1)
	})
	require.Zero(t, rs.runCalls(t, srv.Addr().String(), 200, 16).Load())
	require.NoError(t, srv.Shutdown(context.Background()))
	select {
	case err := <-errs:
		t.Fatal(err)
	default:
	}
	require.EqualValues(t, 200, done.Load())

	g := startGoServer(t)
	require.Zero(t, rs.runCalls(t, g.ln.Addr().String(), 200, 16).Load())
	g.Close()
	require.Zero(t, g.failed.Load(), "first failure: %v", g.firstErr.Load())
	require.EqualValues(t, 200, g.done.Load())
}
