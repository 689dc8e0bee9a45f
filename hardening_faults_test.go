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
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// Faults at every byte: a recorded FreeSWITCH stream (testdata/freeswitch/*.s2c) is cut after
// its first k bytes, the server side closes, and every call of the binding must return in
// bounded time; the messages delivered must be exactly the complete messages among the k
// bytes; afterwards no goroutine and no descriptor may be left.
//
// Inbound recordings go through Dial (every other cut through the twin NewConnection, with
// the twin calls Api, SendRecv, Execute and RecvEvent): the raw server
// writes the greeting and the auth reply, waits until the client has written the auth
// command and one command for every reply the recording holds (so every reply has a caller
// waiting for it), then writes the rest up to byte k, shuts its side down and reads until
// the client closes. Outbound recordings go through NewConnectionFD on a socketpair: the
// recording's first message is the CHANNEL_DATA reply to connect, so cutting it fails the
// attach. Cuts run on up to 4 workers, each with its own listener.
//
// Which k: every k for recordings under hfSmall bytes and, for the larger ones, every k
// within 1 byte of a message boundary, every k of the first two messages (the greeting
// and auth reply, or the CHANNEL_DATA reply) and every hfStride-th k. ESL_FAULTS_FULL=1:
// every k of every recording (about 8 minutes without -race).

const (
	hfSmall   = 8 * 1024
	hfStride  = 257
	hfCallMax = 20 * time.Second // a call that takes longer counts as a hang
)

type hfRecording struct {
	name    string
	data    []byte
	ends    []int    // end offset of each message
	cts     []string // Content-Type of each message
	inbound bool     // starts with auth/request
	loginOK bool     // and the auth reply is +OK accepted
}

var hfCLRe = regexp.MustCompile(`(?m)^Content-Length: (\d+)$`)
var hfCTRe = regexp.MustCompile(`(?m)^Content-Type: (.*)$`)

// hfSplit splits a recorded stream as testdata/freeswitch/README.md says: a header block up
// to the first empty line, then Content-Length bytes of body.
func hfSplit(name string, data []byte) (hfRecording, error) {
	r := hfRecording{name: name, data: data}
	for pos := 0; pos < len(data); {
		e := bytes.Index(data[pos:], []byte("\n\n"))
		if e < 0 {
			return r, fmt.Errorf("%s: no end of header block at %d", name, pos)
		}
		blk := data[pos : pos+e+1]
		end := pos + e + 2
		if m := hfCLRe.FindSubmatch(blk); m != nil {
			n, _ := strconv.Atoi(string(m[1]))
			end += n
		}
		ct := ""
		if m := hfCTRe.FindSubmatch(blk); m != nil {
			ct = string(m[1])
		}
		if end > len(data) {
			return r, fmt.Errorf("%s: body past the end at %d", name, pos)
		}
		r.ends = append(r.ends, end)
		r.cts = append(r.cts, ct)
		pos = end
	}
	r.inbound = len(r.cts) > 1 && r.cts[0] == "auth/request"
	r.loginOK = r.inbound && bytes.Contains(data[r.ends[0]:r.ends[1]], []byte("Reply-Text: +OK accepted\n"))
	return r, nil
}

func hfLoad(t testing.TB) []hfRecording {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "freeswitch", "*.s2c"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no recordings: %v", err)
	}
	sort.Strings(files)
	var recs []hfRecording
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		r, err := hfSplit(strings.TrimSuffix(filepath.Base(f), ".s2c"), data)
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, r)
	}
	return recs
}

// complete is the number of messages that end within the first k bytes.
func (r *hfRecording) complete(k int) int {
	n := 0
	for _, e := range r.ends {
		if e <= k {
			n++
		}
	}
	return n
}

// lastEnd is the end of the last complete message within k bytes (0 if none).
func (r *hfRecording) lastEnd(k int) int {
	last := 0
	for _, e := range r.ends {
		if e <= k {
			last = e
		}
	}
	return last
}

// replies counts the messages from index first on that the binding hands to a waiting
// caller (command/reply, api/response, or no Content-Type).
func (r *hfRecording) replies(first int) int {
	n := 0
	for _, ct := range r.cts[first:] {
		if isReply(ct) {
			n++
		}
	}
	return n
}

func (r *hfRecording) nearBoundary(k, d int) bool {
	if k <= d {
		return true
	}
	for _, e := range r.ends {
		if k >= e-d && k <= e+d {
			return true
		}
	}
	return false
}

// cuts lists the k to test for r.
func (r *hfRecording) cuts(full bool) []int {
	var ks []int
	for k := 0; k <= len(r.data); k++ {
		if full || len(r.data) < hfSmall || k <= r.ends[min(1, len(r.ends)-1)] || k%hfStride == 0 ||
			k == len(r.data) || r.nearBoundary(k, 1) {
			ks = append(ks, k)
		}
	}
	return ks
}

// hfCounts are the figures that go into HARDENING.md.
type hfCounts struct {
	cuts, calls, errCalls, okCalls, delivered, mismatches, hangs atomic.Int64
	maxCall                                                      atomic.Int64 // nanoseconds
	// every goroutine's stack when the first hang was seen: the stuck login or read, and the
	// test's peer, are still where they stopped then
	hangStacks atomic.Pointer[string]
}

func (c *hfCounts) hang() {
	c.hangs.Add(1)
	if c.hangStacks.Load() == nil {
		buf := make([]byte, 8<<20)
		stacks := string(buf[:runtime.Stack(buf, true)])
		c.hangStacks.CompareAndSwap(nil, &stacks)
	}
}

func (c *hfCounts) call(start time.Time, err error) {
	d := time.Since(start)
	c.calls.Add(1)
	for {
		m := c.maxCall.Load()
		if int64(d) <= m || c.maxCall.CompareAndSwap(m, int64(d)) {
			break
		}
	}
	if d > hfCallMax {
		c.hang()
	}
	if err != nil {
		c.errCalls.Add(1)
		if errors.Is(err, context.DeadlineExceeded) {
			c.hang()
		}
	} else {
		c.okCalls.Add(1)
	}
}

func (c *hfCounts) String() string {
	return fmt.Sprintf("connections cut %d, calls %d, calls that returned errors %d, successful calls %d, "+
		"messages delivered %d, count mismatches %d, hangs %d, slowest call %v",
		c.cuts.Load(), c.calls.Load(), c.errCalls.Load(), c.okCalls.Load(), c.delivered.Load(),
		c.mismatches.Load(), c.hangs.Load(), time.Duration(c.maxCall.Load()).Round(time.Millisecond))
}

// hfPeer plays the server on one connection: writes head, and if more is to come, reads
// `want` command blocks first, then writes tail. It then shuts its sending side down and
// reads until the client closes, so no reset destroys data in flight.
func hfPeer(conn io.ReadWriter, closeWrite func() error, head []byte, want int, tail []byte) {
	r := bufio.NewReader(conn)
	if len(head) > 0 {
		if _, err := conn.Write(head); err != nil {
			_ = closeWrite()
			return
		}
	}
	if tail != nil {
		for i := 0; i < want; i++ {
			if hfReadBlock(r) == "" {
				break
			}
		}
		if len(tail) > 0 {
			_, _ = conn.Write(tail)
		}
	}
	_ = closeWrite()
	_, _ = io.Copy(io.Discard, r)
}

// hfFDConn is a socketpair end as a ReadWriter for hfPeer.
type hfFDConn struct{ fd int }

func (c hfFDConn) Read(b []byte) (int, error) {
	for {
		n, err := syscall.Read(c.fd, b)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return 0, err
		}
		if n == 0 {
			return 0, io.EOF
		}
		return n, nil
	}
}

func (c hfFDConn) Write(b []byte) (int, error) {
	if err := writeAll(c.fd, b); err != nil {
		return 0, err
	}
	return len(b), nil
}

// hfExercise drives a connected c whose server will deliver the messages of r from index
// first up to byte k: one caller per reply (ApiContext, SendRecvContext, ExecuteContext, or
// the twins Api, SendRecv, Execute), one consumer of the event stream, then calls after the
// end. It returns the messages delivered.
func hfExercise(c *Connection, r *hfRecording, first int, twins bool, cnt *hfCounts) (int, error) {
	n := r.replies(first)
	var delivered atomic.Int64
	var problems []string
	var pmu sync.Mutex
	problem := func(format string, args ...any) {
		pmu.Lock()
		problems = append(problems, fmt.Sprintf(format, args...))
		pmu.Unlock()
	}
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), hfCallMax)
			defer cancel()
			start := time.Now()
			var ev *Event
			var err error
			switch {
			case twins && i%3 == 0:
				ev = c.Api("status")
			case twins && i%3 == 1:
				ev = c.SendRecv("myevents")
			case twins:
				ev = c.Execute("answer")
			case i%3 == 0:
				ev, err = c.ApiContext(ctx, "status", "")
			case i%3 == 1:
				ev, err = c.SendRecvContext(ctx, "myevents")
			default:
				ev, err = c.ExecuteContext(ctx, "answer", "", "")
			}
			if twins && ev == nil {
				err = c.Err()
				if err == nil {
					err = errors.New("twin returned nil without an error")
				}
			}
			cnt.call(start, err)
			if ev != nil {
				delivered.Add(1)
				return
			}
			if !errors.Is(err, ErrDisconnected) {
				problem("request %d: %v", i, err)
			}
		}(i)
	}
	// The event stream ends with ErrDisconnected (twins: SERVER_DISCONNECTED).
	for {
		start := time.Now()
		if twins {
			ev := c.RecvEvent()
			if ev.GetType() == "SERVER_DISCONNECTED" {
				cnt.call(start, ErrDisconnected)
				break
			}
			cnt.call(start, nil)
			delivered.Add(1)
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), hfCallMax)
		_, err := c.RecvEventContext(ctx)
		cancel()
		cnt.call(start, err)
		if err != nil {
			if !errors.Is(err, ErrDisconnected) {
				problem("event stream ended with %v", err)
			}
			break
		}
		delivered.Add(1)
	}
	wg.Wait()
	// Every call after the end fails at once.
	ctx, cancel := context.WithTimeout(context.Background(), hfCallMax)
	defer cancel()
	for _, f := range []func() error{
		func() error { _, err := c.ApiContext(ctx, "status", ""); return err },
		func() error { _, err := c.RecvEventContext(ctx); return err },
		func() error { return c.Send("api status") },
		func() error {
			if c.Api("status") != nil {
				return nil
			}
			return c.Err()
		},
		func() error {
			if c.RecvEventTimed(1) != nil {
				return nil
			}
			return ErrDisconnected
		},
	} {
		start := time.Now()
		err := f()
		cnt.call(start, err)
		if !errors.Is(err, ErrDisconnected) {
			problem("call after the end: %v", err)
		}
	}
	if c.Connected() {
		problem("still connected after the end")
	}
	if len(problems) > 0 {
		return int(delivered.Load()), errors.New(strings.Join(problems, "; "))
	}
	return int(delivered.Load()), nil
}

// hfEndText checks the reason the reader gave for the end against where the cut was: the
// goodbye notice, EOF between messages, or EOF in the middle of one. (Err may name a later
// failure of a twin; the reader's own error is what ended the connection.)
func hfEndText(c *Connection, r *hfRecording, k int) error {
	err := c.state().endErr()
	if !errors.Is(err, ErrDisconnected) {
		return fmt.Errorf("end error %v, want ErrDisconnected", err)
	}
	msg := err.Error()
	last := r.complete(k)
	switch {
	case last > 0 && r.cts[last-1] == "text/disconnect-notice" && strings.Contains(msg, "Disconnected by the server"):
	case k == r.lastEnd(k) && strings.Contains(msg, "Connection closed by peer") && !strings.Contains(msg, "middle"):
	case k != r.lastEnd(k) && strings.Contains(msg, "closed by peer in the middle of a message"):
	default:
		return fmt.Errorf("cut at %d (last complete message ends at %d): end error %q", k, r.lastEnd(k), msg)
	}
	return nil
}

// hfCutDial runs one inbound cut through Dial (or NewConnection for twins).
func hfCutDial(l net.Listener, r *hfRecording, k int, twins bool, cnt *hfCounts) error {
	login := r.ends[1]
	done := make(chan struct{})
	go func() {
		defer close(done)
		nc, err := l.Accept()
		if err != nil {
			return
		}
		defer nc.Close()
		tc := nc.(*net.TCPConn)
		if k <= login {
			hfPeer(tc, tc.CloseWrite, r.data[:k], 0, nil)
			return
		}
		hfPeer(tc, tc.CloseWrite, r.data[:login], 1+r.replies(2), r.data[login:k])
	}()
	defer func() { <-done }()
	cnt.cuts.Add(1)
	addr := l.Addr().(*net.TCPAddr)
	start := time.Now()
	var c *Connection
	var err error
	if twins {
		c = NewConnection(addr.IP.String(), addr.Port, "ClueCon")
		if !c.Connected() {
			err = c.Err()
			if err == nil {
				err = errors.New("not connected, and no error")
			}
			c = nil
		}
	} else {
		ctx, cancel := context.WithTimeout(context.Background(), hfCallMax)
		c, err = Dial(ctx, addr.String(), WithTimeout(hfCallMax))
		cancel()
	}
	cnt.call(start, err)
	if err != nil {
		cnt.delivered.Add(int64(min(r.complete(k), 2)))
		switch {
		case k < r.ends[0]:
			if !errors.Is(err, ErrConnect) || !strings.Contains(err.Error(), "Connection Error") {
				return fmt.Errorf("greeting cut at %d: %v", k, err)
			}
		case k < login:
			if !errors.Is(err, ErrConnect) || !strings.Contains(err.Error(), "Connection closed by peer") {
				return fmt.Errorf("auth reply cut at %d: %v", k, err)
			}
		case r.loginOK:
			return fmt.Errorf("login failed at %d: %v", k, err)
		default:
			if !errors.Is(err, ErrAuth) {
				return fmt.Errorf("refused login at %d: %v, want ErrAuth", k, err)
			}
		}
		return nil
	}
	defer c.Close()
	if k < login || !r.loginOK {
		return fmt.Errorf("login succeeded with a cut at %d", k)
	}
	got, err := hfExercise(c, r, 2, twins, cnt)
	got += 2
	cnt.delivered.Add(int64(got))
	if err != nil {
		return fmt.Errorf("cut at %d: %v", k, err)
	}
	if want := r.complete(k); got != want {
		cnt.mismatches.Add(1)
		return fmt.Errorf("cut at %d: %d messages delivered, want %d", k, got, want)
	}
	return hfEndText(c, r, k)
}

// hfCutFD runs one outbound cut through NewConnectionFD on a socketpair.
func hfCutFD(r *hfRecording, k int, twins bool, cnt *hfCounts) error {
	sp, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	peer := hfFDConn{sp[1]}
	connectReply := r.ends[0]
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer syscall.Close(sp[1])
		shut := func() error { return syscall.Shutdown(sp[1], syscall.SHUT_WR) }
		br := bufio.NewReader(peer)
		if hfReadBlock(br) == "" { // connect
			return
		}
		if k <= connectReply {
			hfPeer(peer, shut, r.data[:k], 0, nil)
			return
		}
		hfPeer(peer, shut, r.data[:connectReply], r.replies(1), r.data[connectReply:k])
	}()
	defer func() { <-done }()
	cnt.cuts.Add(1)
	start := time.Now()
	c := NewConnectionFD(sp[0])
	defer c.Close()
	// (A stream that ends right after the connect reply may already be over: only an error
	// of the attach itself means the attach failed.)
	if e := (*Error)(nil); errors.As(c.Err(), &e) && e.Op == "attach" {
		err := c.Err()
		cnt.call(start, err)
		if k >= connectReply {
			return fmt.Errorf("attach failed with the whole connect reply (cut at %d): %v", k, err)
		}
		if !errors.Is(err, ErrDisconnected) || !strings.Contains(err.Error(), "Connection closed by peer") {
			return fmt.Errorf("connect reply cut at %d: %v", k, err)
		}
		if c.GetInfo() != nil {
			return fmt.Errorf("cut at %d: channel data without a complete reply", k)
		}
		return nil
	}
	cnt.call(start, nil)
	if k < connectReply {
		return fmt.Errorf("attach succeeded with the connect reply cut at %d", k)
	}
	if info := c.state().info; info == nil || info.GetHeader("Unique-ID") == "" {
		return fmt.Errorf("cut at %d: no channel data", k)
	}
	got, err := hfExercise(c, r, 1, twins, cnt)
	got++ // the connect reply
	cnt.delivered.Add(int64(got))
	if err != nil {
		return fmt.Errorf("cut at %d: %v", k, err)
	}
	if want := r.complete(k); got != want {
		cnt.mismatches.Add(1)
		return fmt.Errorf("cut at %d: %d messages delivered, want %d", k, got, want)
	}
	return hfEndText(c, r, k)
}

func hfCountFDs(t testing.TB) int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip("no /proc/self/fd")
	}
	return len(ents)
}

func TestHardeningFaultsEveryByte(t *testing.T) {
	if testing.Short() {
		t.Skip("long")
	}
	if Backend() != "csrc" {
		t.Skipf("the end texts checked here are csrc's; %s has none of them", Backend())
	}
	full := os.Getenv("ESL_FAULTS_FULL") != "" && os.Getenv("ESL_FAULTS_FULL") != "0"
	recs := hfLoad(t)
	ignore := goleak.IgnoreCurrent()
	fdsBefore := hfCountFDs(t)
	workers := max(2, min(4, runtime.GOMAXPROCS(0)))
	// One listener per worker: each accept serves the connection its own worker dials.
	ls := make([]net.Listener, workers)
	for w := range ls {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ls[w] = l
	}
	var inbound, outbound hfCounts
	start := time.Now()
	for _, r := range recs {
		r := r
		ks := r.cuts(full)
		t0 := time.Now()
		var failures atomic.Int64
		report := func(err error) {
			if err != nil && failures.Add(1) <= 5 {
				t.Errorf("%s: %v", r.name, err)
			}
		}
		next := make(chan int)
		var wg sync.WaitGroup
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func(l net.Listener) {
				defer wg.Done()
				for i := range next {
					if r.inbound {
						report(hfCutDial(l, &r, ks[i], i%2 == 1, &inbound))
					} else {
						report(hfCutFD(&r, ks[i], i%2 == 1, &outbound))
					}
				}
			}(ls[w])
		}
		for i := range ks {
			next <- i
		}
		close(next)
		wg.Wait()
		t.Logf("%-28s %7d bytes %4d messages: %6d cuts in %v", r.name, len(r.data), len(r.ends), len(ks),
			time.Since(t0).Round(time.Millisecond))
	}
	for _, l := range ls {
		l.Close()
	}
	mode := "CI selection"
	if full {
		mode = "every k (ESL_FAULTS_FULL)"
	}
	t.Logf("inbound (Dial / NewConnection): %v", &inbound)
	t.Logf("outbound (NewConnectionFD):     %v", &outbound)
	t.Logf("mode %s, %v in all, crashes 0", mode, time.Since(start).Round(time.Second))
	if h := inbound.hangs.Load() + outbound.hangs.Load(); h != 0 {
		t.Errorf("%d hangs", h)
		for _, c := range []*hfCounts{&inbound, &outbound} {
			if stacks := c.hangStacks.Load(); stacks != nil {
				t.Logf("goroutines when the first hang was seen:\n%s", *stacks)
			}
		}
	}
	goleak.VerifyNone(t, ignore)
	deadline := time.Now().Add(10 * time.Second)
	for hfCountFDs(t) > fdsBefore && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := hfCountFDs(t); n > fdsBefore {
		t.Errorf("descriptors: %d before, %d after", fdsBefore, n)
	} else {
		t.Logf("leaks: goroutines 0, descriptors 0 (%d before, %d after)", fdsBefore, n)
	}
}

// hfReadBlock reads one command block: lines up to an empty line ("" at EOF).
func hfReadBlock(r *bufio.Reader) string {
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

// The outbound server with FreeSWITCH going away mid channel-data: every cut of
// outbound-full.s2c inside the CHANNEL_DATA reply (every 53rd byte and the last 3 bytes)
// fails that session before the handler, and every cut from the end of the reply on runs
// the handler, which sees the complete messages and then ErrDisconnected; the exact end
// of the reply is tried many times, since that connection may be over by the time the
// handler would start. Nothing is left behind: sessions, threads, goroutines, descriptors.
func TestHardeningFaultsOutboundServer(t *testing.T) {
	if Backend() != "csrc" {
		t.Skipf("OutboundServer needs csrc; %s has no stoppable listener", Backend())
	}
	var r hfRecording
	for _, rec := range hfLoad(t) {
		if rec.name == "outbound-full" {
			r = rec
		}
	}
	if r.data == nil {
		t.Fatal("no outbound-full recording")
	}
	ignore := goleak.IgnoreCurrent()
	fdsBefore := hfCountFDs(t)
	reply := r.ends[0]
	var ks []int
	for k := 0; k < reply-3; k += 53 {
		ks = append(ks, k)
	}
	ks = append(ks, reply-3, reply-2, reply-1)
	for i := 0; i < 50; i++ {
		ks = append(ks, reply)
	}
	for _, e := range r.ends[1:] {
		ks = append(ks, e-1, e, e+1)
	}
	var handled, wrong atomic.Int64
	srv, err := NewOutboundServer("127.0.0.1:0", func(ctx context.Context, c *Connection) {
		handled.Add(1)
		if c.state().info == nil {
			wrong.Add(1)
		}
		for {
			if _, err := c.RecvEventContext(ctx); err != nil {
				if !errors.Is(err, ErrDisconnected) {
					wrong.Add(1)
				}
				return
			}
		}
	}, WithConnectTimeout(10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve() }()
	wantFailed, wantHandled := 0, 0
	for _, k := range ks {
		k = min(k, len(r.data))
		if k < reply {
			wantFailed++
		} else {
			wantHandled++
		}
		nc, err := net.Dial("tcp", srv.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		tc := nc.(*net.TCPConn)
		br := bufio.NewReader(tc)
		if hfReadBlock(br) != "connect\n" {
			t.Fatal("no connect")
		}
		tc.Write(r.data[:k])
		tc.CloseWrite()
		io.Copy(io.Discard, br)
		tc.Close()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	<-served
	st := srv.Stats()
	t.Logf("outbound server: %d connections cut, %d failed before the handler, %d handled, stats %+v",
		len(ks), st.Failed, handled.Load(), st)
	if int(st.Failed) != wantFailed || int(handled.Load()) != wantHandled || int(st.Completed) != wantHandled ||
		wrong.Load() != 0 || st.Active != 0 {
		t.Errorf("want %d failed and %d handled; %d handlers saw something wrong", wantFailed, wantHandled, wrong.Load())
	}
	goleak.VerifyNone(t, ignore)
	deadline := time.Now().Add(10 * time.Second)
	for hfCountFDs(t) > fdsBefore && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := hfCountFDs(t); n > fdsBefore {
		t.Errorf("descriptors: %d before, %d after", fdsBefore, n)
	}
}
