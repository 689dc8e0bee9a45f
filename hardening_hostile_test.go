//go:build cgo

package esl

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// The hostile-input catalogue: bad input of every kind through the Go binding, with a raw
// net.Listener playing FreeSWITCH. Each case gets a clear error (a sentinel and a text), or
// intact delivery; never a crash, a hang or a leak. Sending side: CR, LF and NUL inside every
// argument of both layers are refused before anything reaches the wire.

const hsGoodbye = "Content-Type: text/disconnect-notice\nContent-Length: 67\n\n" +
	"Disconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n"

// hsServer accepts connections until the test ends. Each one is greeted and logged in
// (any auth is accepted) unless greet is given, which then replaces the whole login
// exchange; serve runs afterwards. Every command block received after login is recorded.
type hsServer struct {
	addr     string
	accepted atomic.Int64
	mu       sync.Mutex
	blocks   []string
}

func (s *hsServer) received() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.blocks...)
}

func newHSServer(t *testing.T, greet func(nc net.Conn, r *bufio.Reader) bool, serve func(s *hsServer, nc net.Conn, r *bufio.Reader)) *hsServer {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &hsServer{addr: l.Addr().String()}
	var wg sync.WaitGroup
	var conns sync.Map
	t.Cleanup(func() {
		l.Close()
		conns.Range(func(k, _ any) bool { k.(net.Conn).Close(); return true })
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			nc, err := l.Accept()
			if err != nil {
				return
			}
			s.accepted.Add(1)
			conns.Store(nc, true)
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer nc.Close()
				r := bufio.NewReader(nc)
				if greet != nil {
					if !greet(nc, r) {
						return
					}
				} else {
					nc.Write([]byte("Content-Type: auth/request\n\n"))
					if hfReadBlock(r) == "" {
						return
					}
					nc.Write([]byte("Content-Type: command/reply\nReply-Text: +OK accepted\n\n"))
				}
				serve(s, nc, r)
			}()
		}
	}()
	return s
}

// hsAnswer answers commands until EOF: "api echo X" with an api/response of body X,
// anything else with +OK; every block is recorded.
func hsAnswer(s *hsServer, nc net.Conn, r *bufio.Reader) {
	for {
		blk := hfReadBlock(r)
		if blk == "" {
			return
		}
		s.mu.Lock()
		s.blocks = append(s.blocks, blk)
		s.mu.Unlock()
		line, _, _ := strings.Cut(blk, "\n")
		if arg, ok := strings.CutPrefix(line, "api echo "); ok {
			fmt.Fprintf(nc, "Content-Type: api/response\nContent-Length: %d\n\n%s", len(arg), arg)
			continue
		}
		nc.Write([]byte("Content-Type: command/reply\nReply-Text: +OK\n\n"))
	}
}

type hsCase struct {
	name    string
	payload func() []byte // what the server sends right after login
	hold    bool          // keep the connection open afterwards (and answer commands)
	limits  [2]int        // WithLimits(header block, body); zero: the defaults
	msgs    int           // messages RecvEventContext must deliver first
	endErr  error         // how the stream must end; nil: it stays up (an echo round trip follows)
	endText string        // a substring of the end error
	check   func(t *testing.T, evs []*Event)
	within  time.Duration // bound for the whole case (default 20 s)
}

func hsText(s string) func() []byte { return func() []byte { return []byte(s) } }

func hsRepeat(head, unit string, n int, tail string) func() []byte {
	return func() []byte {
		var b strings.Builder
		b.Grow(len(head) + len(unit)*n + len(tail))
		b.WriteString(head)
		for i := 0; i < n; i++ {
			b.WriteString(unit)
		}
		b.WriteString(tail)
		return []byte(b.String())
	}
}

// hsFramed wraps body in an outer message of the given Content-Type.
func hsFramed(ct string, body func() []byte) func() []byte {
	return func() []byte {
		b := body()
		return append([]byte("Content-Length: "+strconv.Itoa(len(b))+"\nContent-Type: "+ct+"\n\n"), b...)
	}
}

func hsManyHeaders(n int) func() []byte {
	return func() []byte {
		var b strings.Builder
		b.WriteString("Content-Type: test/many\n")
		for i := 0; i < n; i++ {
			fmt.Fprintf(&b, "H%06d: v%d\n", i, i)
		}
		b.WriteString("\n")
		return []byte(b.String())
	}
}

func hsArray(n int, sep, first string) string {
	var b strings.Builder
	b.WriteString(first)
	for i := 1; i < n; i++ {
		b.WriteString(sep)
		b.WriteString("e")
	}
	return b.String()
}

func hsOne(t *testing.T, evs []*Event) *Event {
	t.Helper()
	if len(evs) != 1 {
		t.Fatalf("%d messages, want 1", len(evs))
	}
	return evs[0]
}

func hsCases() []hsCase {
	plainEvent := func(extra string) func() []byte {
		return hsFramed("text/event-plain", hsText("Event-Name: CUSTOM\nEvent-Subclass: hs%3A%3Atest\n"+extra+"\n"))
	}
	return []hsCase{
		// Content-Length
		{name: "negative Content-Length", payload: hsText("Content-Type: x\nContent-Length: -1\n\n"), hold: true,
			endErr: ErrDisconnected, endText: "negative"},
		{name: "negative Content-Length -2 with body", payload: hsText("Content-Type: x\nContent-Length: -2\n\nab"), hold: true,
			endErr: ErrDisconnected, endText: "negative"},
		{name: "huge Content-Length", payload: hsText("Content-Length: 99999999999\n\n"), hold: true,
			endErr: ErrDisconnected, endText: "exceeds the limit"},
		{name: "Content-Length of 30 digits", payload: hsText("Content-Length: 123456789012345678901234567890\n\n"), hold: true,
			endErr: ErrDisconnected, endText: "exceeds"},
		{name: "Content-Length 16 MiB + 1", payload: hsText("Content-Length: 16777217\n\n"), hold: true,
			endErr: ErrDisconnected, endText: "exceeds the limit"},
		{name: "non-numeric Content-Length", payload: hsText("Content-Length: abc\n\nabc"), hold: true,
			endErr: ErrDisconnected, endText: "invalid Content-Length"},
		{name: "Content-Length with trailing junk", payload: hsText("Content-Length: 12abc\n\n"), hold: true,
			endErr: ErrDisconnected, endText: "invalid Content-Length"},
		{name: "hex Content-Length", payload: hsText("Content-Length: 0x10\n\n"), hold: true,
			endErr: ErrDisconnected, endText: "invalid Content-Length"},
		{name: "empty Content-Length", payload: hsText("Content-Type: x\nContent-Length: \n\n"), hold: true,
			endErr: ErrDisconnected, endText: "empty Content-Length"},
		{name: "conflicting Content-Length", payload: hsText("Content-Length: 5\ncontent-length: 6\n\nhello!"), hold: true,
			endErr: ErrDisconnected, endText: "conflicting"},
		{name: "duplicated equal Content-Length", payload: hsText("Content-Type: x\nContent-Length: 5\nContent-Length: 5\n\nhello"),
			hold: true, msgs: 1, check: func(t *testing.T, evs []*Event) {
				if b := hsOne(t, evs).GetBody(); b != "hello" {
					t.Errorf("body %q", b)
				}
			}},
		{name: "Content-Length with trailing CR", payload: hsText("Content-Type: x\r\nContent-Length: 3\r\n\r\nabc"), hold: true, msgs: 1,
			check: func(t *testing.T, evs []*Event) {
				if b := hsOne(t, evs).GetBody(); b != "abc" {
					t.Errorf("body %q", b)
				}
			}},
		{name: "body of exactly 16 MiB", payload: func() []byte {
			b := []byte("Content-Type: big\nContent-Length: 16777216\n\n")
			body := make([]byte, 16<<20)
			for i := range body {
				body[i] = 'b'
			}
			body[len(body)-1] = '!'
			return append(b, body...)
		}, hold: true, msgs: 1, within: 60 * time.Second, check: func(t *testing.T, evs []*Event) {
			b := hsOne(t, evs).GetBody()
			if len(b) != 16<<20 || b[len(b)-1] != '!' {
				t.Errorf("body of %d bytes", len(b))
			}
		}},
		{name: "body over a lowered limit", payload: hsText("Content-Type: x\nContent-Length: 101\n\n"), hold: true,
			limits: [2]int{0, 100}, endErr: ErrDisconnected, endText: "exceeds the limit of 100"},
		// header blocks
		{name: "header block over the limit", payload: hsRepeat("Content-Type: x\n", "X-Filler: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n", 40000, "\n"),
			hold: true, endErr: ErrDisconnected, endText: "header block"},
		{name: "one 1 MiB header line", payload: hsRepeat("X: ", "a", 1<<20, "\n\n"), hold: true,
			endErr: ErrDisconnected, endText: "header block"},
		{name: "100,000 headers over the default limit", payload: hsManyHeaders(100000), hold: true,
			endErr: ErrDisconnected, endText: "header block"},
		{name: "100,000 headers within a raised limit", payload: hsManyHeaders(100000), hold: true, limits: [2]int{8 << 20, 0},
			msgs: 1, check: func(t *testing.T, evs []*Event) {
				ev := hsOne(t, evs)
				if ev.Len() != 100002 || ev.GetHeader("H099999") != "v99999" || ev.GetHeader("h000000") != "v0" {
					t.Errorf("%d headers, H099999=%q", ev.Len(), ev.GetHeader("H099999"))
				}
			}},
		{name: "header line without a colon", payload: hsText("Content-Type: x\ngarbage line\nContent-Length: 3\n\nabc"), hold: true,
			msgs: 1, check: func(t *testing.T, evs []*Event) {
				ev := hsOne(t, evs)
				if ev.GetBody() != "abc" || ev.GetHeader("Content-Type") != "x" {
					t.Errorf("got %q", ev.Serialize())
				}
			}},
		{name: "block ended by LF CR LF", payload: hsText("Content-Type: x\nA: b\n\r\n"), hold: true, msgs: 1,
			check: func(t *testing.T, evs []*Event) {
				if v := hsOne(t, evs).GetHeader("A"); v != "b" {
					t.Errorf("A=%q", v)
				}
			}},
		{name: "100,000 empty messages", payload: hsRepeat("", "\n\n", 100000, ""), hold: true, msgs: 100000, within: 60 * time.Second,
			check: func(t *testing.T, evs []*Event) {
				if evs[99999].Len() != 1 || evs[99999].HasBody() {
					t.Errorf("last: %q", evs[99999].Serialize())
				}
			}},
		// NUL bytes and escapes
		{name: "NUL byte in a header value", payload: hsText("Content-Type: x\nA: b\x00c\n\n"), hold: true,
			endErr: ErrDisconnected, endText: "NUL byte"},
		{name: "NUL byte in a header name", payload: hsText("A\x00: b\n\n"), hold: true, endErr: ErrDisconnected, endText: "NUL byte"},
		{name: "NUL bytes in a body", payload: hsText("Content-Type: x\nContent-Length: 7\n\na\x00b\x00\x00c\x00"), hold: true, msgs: 1,
			check: func(t *testing.T, evs []*Event) {
				if b := hsOne(t, evs).GetBody(); b != "a\x00b\x00\x00c\x00" {
					t.Errorf("body %q", b)
				}
			}},
		{name: "NUL byte in an inner plain event", payload: plainEvent("A: b\x00c\n"), hold: true, msgs: 1,
			check: func(t *testing.T, evs []*Event) {
				ev := hsOne(t, evs)
				// The inner event cannot be decoded: the outer message comes intact.
				if ev.GetType() != "SOCKET_DATA" || !strings.Contains(ev.GetBody(), "A: b\x00c") {
					t.Errorf("type %s body %q", ev.GetType(), ev.GetBody())
				}
			}},
		{name: "NUL bytes in the body of an inner plain event", payload: hsFramed("text/event-plain",
			hsText("Event-Name: CUSTOM\nContent-Length: 5\n\na\x00b\x00c")), hold: true, msgs: 1,
			check: func(t *testing.T, evs []*Event) {
				// Delivered whole: the Go side used to take the inner body as a C string.
				if ev := hsOne(t, evs); ev.GetType() != "CUSTOM" || ev.GetBody() != "a\x00b\x00c" {
					t.Errorf("type %s body %q", ev.GetType(), ev.GetBody())
				}
			}},
		{name: "invalid and truncated %-escapes", payload: hsText("Content-Type: x\nA: %zz%4\nB: x%00y\nC: %\nD: %%41%41\n\n"), hold: true,
			msgs: 1, check: func(t *testing.T, evs []*Event) {
				ev := hsOne(t, evs)
				for h, want := range map[string]string{"A": "%zz%4", "B": "x%00y", "C": "%", "D": "%AA"} {
					if got := ev.GetHeader(h); got != want {
						t.Errorf("%s=%q, want %q", h, got, want)
					}
				}
			}},
		{name: "%-escapes in an inner plain event", payload: plainEvent("A: %zz%4\nB: %E2%82%AC\nC: %\n"), hold: true, msgs: 1,
			check: func(t *testing.T, evs []*Event) {
				ev := hsOne(t, evs)
				if ev.GetType() != "CUSTOM" || ev.GetHeader("A") != "%zz%4" || ev.GetHeader("B") != "€" || ev.GetHeader("C") != "%" {
					t.Errorf("got %q", ev.Serialize())
				}
			}},
		// a peer that goes away
		{name: "body shorter than announced, then EOF", payload: hsText("Content-Type: x\nContent-Length: 10\n\nabc"),
			endErr: ErrDisconnected, endText: "in the middle of a message"},
		{name: "EOF in the middle of a header", payload: hsText("Content-Type: x\nReply-Te"),
			endErr: ErrDisconnected, endText: "in the middle of a message"},
		{name: "EOF between messages", payload: hsText("Content-Type: x\n\n"), msgs: 1,
			endErr: ErrDisconnected, endText: "Connection closed by peer"},
		// notices and odd messages
		{name: "text/rude-rejection, then goodbye", payload: hsText("Content-Type: text/rude-rejection\nContent-Length: 24\n\nAccess Denied, go away.\n" + hsGoodbye),
			hold: true, msgs: 2, endErr: ErrDisconnected, endText: "Disconnected by the server",
			check: func(t *testing.T, evs []*Event) {
				if evs[0].ContentType() != "text/rude-rejection" || evs[0].GetBody() != "Access Denied, go away.\n" {
					t.Errorf("first: %q", evs[0].Serialize())
				}
			}},
		{name: "unknown Content-Type", payload: hsText("Content-Type: foo/bar\nContent-Length: 3\n\nxyz"), hold: true, msgs: 1,
			check: func(t *testing.T, evs []*Event) {
				ev := hsOne(t, evs)
				if ev.ContentType() != "foo/bar" || ev.GetBody() != "xyz" || ev.GetType() != "SOCKET_DATA" {
					t.Errorf("got %q", ev.Serialize())
				}
			}},
		{name: "disconnect notice without linger", payload: hsText("Content-Type: text/disconnect-notice\nControlled-Session-UUID: u\n" +
			"Content-Disposition: disconnect\nContent-Length: 3\n\nbye"), hold: true, msgs: 1,
			endErr: ErrDisconnected, endText: "Disconnected by the server"},
		{name: "disconnect notice with linger", payload: hsText("Content-Type: text/disconnect-notice\nControlled-Session-UUID: u\n" +
			"Content-Disposition: linger\nChannel-Name: x\nLinger-Time: -1\nContent-Length: 0\n\n"), hold: true, msgs: 1,
			check: func(t *testing.T, evs []*Event) {
				if d := hsOne(t, evs).GetHeader("Content-Disposition"); d != "linger" {
					t.Errorf("disposition %q", d)
				}
			}},
		{name: "disconnect notice without a body", payload: hsText("Content-Type: text/disconnect-notice\n\n"), hold: true, msgs: 1},
		{name: "a reply to a command nobody sent", payload: hsText("Content-Type: command/reply\nReply-Text: +OK stray\n\n" +
			"Content-Type: api/response\nContent-Length: 5\n\nstray"), hold: true, msgs: 2,
			check: func(t *testing.T, evs []*Event) {
				if evs[0].ReplyText() != "+OK stray" || evs[1].GetBody() != "stray" {
					t.Errorf("got %q / %q", evs[0].ReplyText(), evs[1].GetBody())
				}
			}},
		// arrays and events
		{name: "outer header of 10,000 ARRAY elements", payload: hsText("Content-Type: test/array\nX: " + hsArray(10000, "|:", "ARRAY::e") + "\n\n"),
			hold: true, msgs: 1, check: func(t *testing.T, evs []*Event) {
				if n := len(hsOne(t, evs).HeaderValues("X")); n != 10000 {
					t.Errorf("%d elements", n)
				}
			}},
		{name: "plain event with 10,000 ARRAY elements", payload: plainEvent("Y: " + hsArray(10000, "%7C%3A", "ARRAY%3A%3Ae") + "\n"),
			hold: true, msgs: 1, check: func(t *testing.T, evs []*Event) {
				ev := hsOne(t, evs)
				if vs := ev.HeaderValues("Y"); ev.GetType() != "CUSTOM" || len(vs) != 10000 || vs[9999] != "e" {
					t.Errorf("type %s, %d elements", ev.GetType(), len(vs))
				}
			}},
		{name: "JSON event with 10,000 array elements", payload: hsFramed("text/event-json", func() []byte {
			return []byte(`{"Event-Name":"CUSTOM","Y":["e"` + strings.Repeat(`,"e"`, 9999) + `]}`)
		}), hold: true, msgs: 1, check: func(t *testing.T, evs []*Event) {
			ev := hsOne(t, evs)
			if vs := ev.HeaderValues("Y"); ev.GetType() != "CUSTOM" || len(vs) != 10000 {
				t.Errorf("type %s, %d elements", ev.GetType(), len(vs))
			}
		}},
		{name: "JSON event nested 100,000 deep", payload: hsFramed("text/event-json", hsRepeat(`{"Event-Name":"CUSTOM","x":`, "[", 100000, strings.Repeat("]", 100000)+"}")),
			hold: true, msgs: 1, check: func(t *testing.T, evs []*Event) {
				// Too deep to decode: the message itself comes, its JSON the body.
				ev := hsOne(t, evs)
				if ev.GetType() != "SOCKET_DATA" || len(ev.GetBody()) != 200028 {
					t.Errorf("type %s, body %d bytes", ev.GetType(), len(ev.GetBody()))
				}
			}},
		{name: "malformed JSON event", payload: hsFramed("text/event-json", hsText(`{"Event-Name":"CUSTOM","A":"unterminated}`)), hold: true, msgs: 1,
			check: func(t *testing.T, evs []*Event) {
				if ev := hsOne(t, evs); ev.GetType() != "SOCKET_DATA" || ev.ContentType() != "text/event-json" {
					t.Errorf("type %s", ev.GetType())
				}
			}},
		{name: "JSON event with a NUL byte", payload: hsFramed("text/event-json", hsText("{\"Event-Name\":\"CUSTOM\",\"A\":\"x\x00y\"}")), hold: true, msgs: 1,
			check: func(t *testing.T, evs []*Event) {
				if ev := hsOne(t, evs); ev.GetType() != "SOCKET_DATA" || !strings.Contains(ev.GetBody(), "x\x00y") {
					t.Errorf("type %s body %q", ev.GetType(), ev.GetBody())
				}
			}},
		{name: "JSON event with odd values", payload: hsFramed("text/event-json", hsText(`{"Event-Name":"CUSTOM","n":1e999,"b":true,"z":null,"o":{"k":"v"},"s":"\u00e9\ud83d\ude00","_body":"%n%s%x"}`)),
			hold: true, msgs: 1, check: func(t *testing.T, evs []*Event) {
				ev := hsOne(t, evs)
				if ev.GetType() != "CUSTOM" || ev.GetHeader("s") != "é😀" || ev.GetBody() != "%n%s%x" {
					t.Errorf("got %q", ev.Serialize())
				}
			}},
		{name: "unknown inner Event-Name", payload: hsFramed("text/event-plain", hsText("Event-Name: NO_SUCH_EVENT\nA: b\n\n")), hold: true, msgs: 1,
			check: func(t *testing.T, evs []*Event) {
				if ev := hsOne(t, evs); ev.GetType() != "CUSTOM" || ev.GetHeader("A") != "b" {
					t.Errorf("type %s", ev.GetType())
				}
			}},
		{name: "noise", payload: func() []byte {
			const alphabet = "\n\n\n:: %%0aA-Content-Length\r\x00xyz|ARRAY"
			b := make([]byte, 1<<20)
			x := uint32(12345)
			for i := range b {
				x = x*1103515245 + 12345
				b[i] = alphabet[(x>>16)%uint32(len(alphabet))]
			}
			return b
		}, msgs: -1, endErr: ErrDisconnected},
	}
}

func TestHardeningHostileInput(t *testing.T) {
	if Backend() != "csrc" {
		t.Skipf("the catalogue checks the behaviour of csrc; %s has the quirks of spec 16.1", Backend())
	}
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ignore) }) // after the servers' cleanups
	passed := 0
	cases := hsCases()
	for _, tc := range cases {
		ok := t.Run(tc.name, func(t *testing.T) {
			within := tc.within
			if within == 0 {
				within = 20 * time.Second
			}
			srv := newHSServer(t, nil, func(s *hsServer, nc net.Conn, r *bufio.Reader) {
				nc.Write(tc.payload())
				if !tc.hold {
					nc.(*net.TCPConn).CloseWrite()
				}
				hsAnswer(s, nc, r)
			})
			ctx, cancel := context.WithTimeout(context.Background(), within)
			defer cancel()
			opts := []DialOption{WithTimeout(10 * time.Second)}
			if tc.limits != [2]int{} {
				opts = append(opts, WithLimits(tc.limits[0], tc.limits[1]))
			}
			start := time.Now()
			c, err := Dial(ctx, srv.addr, opts...)
			if err != nil {
				t.Fatalf("dial: %v", err)
			}
			defer c.Close()
			var evs []*Event
			var endErr error
			for tc.msgs < 0 || len(evs) < tc.msgs || tc.endErr != nil {
				ev, err := c.RecvEventContext(ctx)
				if err != nil {
					endErr = err
					break
				}
				evs = append(evs, ev)
			}
			if errors.Is(endErr, context.DeadlineExceeded) {
				t.Fatalf("hang: no end within %v (%d messages)", within, len(evs))
			}
			if tc.msgs >= 0 && len(evs) != tc.msgs {
				t.Fatalf("%d messages, want %d (end: %v)", len(evs), tc.msgs, endErr)
			}
			if tc.check != nil {
				tc.check(t, evs)
			}
			if tc.endErr == nil {
				// Still up, and still in step: a round trip gets its own reply.
				ev, err := c.ApiContext(ctx, "echo", "alive")
				if err != nil || ev.GetBody() != "alive" {
					t.Fatalf("after the case: %v %q", err, ev.GetBody())
				}
				t.Logf("delivered %d, connection still up (%v)", len(evs), time.Since(start).Round(time.Millisecond))
				return
			}
			if !errors.Is(endErr, tc.endErr) || !errors.Is(c.Err(), tc.endErr) {
				t.Fatalf("ended with %v (Err %v), want %v", endErr, c.Err(), tc.endErr)
			}
			if !strings.Contains(c.Err().Error(), tc.endText) {
				t.Fatalf("error %q does not say %q", c.Err(), tc.endText)
			}
			// Every later call fails at once with the same sentinel.
			if _, err := c.ApiContext(ctx, "echo", "x"); !errors.Is(err, tc.endErr) {
				t.Fatalf("api after the end: %v", err)
			}
			if c.Api("echo", "x") != nil || c.RecvEvent().GetType() != "SERVER_DISCONNECTED" {
				t.Fatal("twins after the end")
			}
			t.Logf("delivered %d, then %v (%v)", len(evs), c.Err(), time.Since(start).Round(time.Millisecond))
		})
		if ok {
			passed++
		}
	}
	t.Logf("hostile input: %d of %d cases passed", passed, len(cases))
}

// Hostile logins: the greeting or the auth reply is bad, or never comes.
func TestHardeningHostileLogin(t *testing.T) {
	if Backend() != "csrc" {
		t.Skipf("the catalogue checks the behaviour of csrc; %s has the quirks of spec 16.1", Backend())
	}
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ignore) }) // after the servers' cleanups
	cases := []struct {
		name    string
		greet   func(nc net.Conn, r *bufio.Reader) bool
		timeout time.Duration
		want    error
		text    string
	}{
		{"not an event socket", func(nc net.Conn, r *bufio.Reader) bool {
			nc.Write([]byte("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"))
			return false
		}, 0, ErrConnect, "Connection Error"},
		{"rude rejection instead of the greeting", func(nc net.Conn, r *bufio.Reader) bool {
			nc.Write([]byte("Content-Type: text/rude-rejection\nContent-Length: 24\n\nAccess Denied, go away.\n" + hsGoodbye))
			return false
		}, 0, ErrConnect, "Connection Error"},
		{"NUL in the greeting", func(nc net.Conn, r *bufio.Reader) bool {
			nc.Write([]byte("Content-Type: auth/re\x00quest\n\n"))
			return true
		}, 0, ErrConnect, "Connection Error"},
		{"negative Content-Length in the greeting", func(nc net.Conn, r *bufio.Reader) bool {
			nc.Write([]byte("Content-Type: auth/request\nContent-Length: -1\n\n"))
			return true
		}, 0, ErrConnect, "Connection Error"},
		{"password refused", func(nc net.Conn, r *bufio.Reader) bool {
			nc.Write([]byte("Content-Type: auth/request\n\n"))
			hfReadBlock(r)
			nc.Write([]byte("Content-Type: command/reply\nReply-Text: -ERR invalid\n\n" + hsGoodbye))
			return false
		}, 0, ErrAuth, "Authentication"},
		{"auth reply cut", func(nc net.Conn, r *bufio.Reader) bool {
			nc.Write([]byte("Content-Type: auth/request\n\n"))
			hfReadBlock(r)
			nc.Write([]byte("Content-Type: command/reply\nReply-Te"))
			return false
		}, 0, ErrConnect, "in the middle of a message"},
		{"silent server", func(nc net.Conn, r *bufio.Reader) bool {
			hfReadBlock(r)
			return false
		}, 500 * time.Millisecond, ErrTimeout, "timed out"},
		{"no auth reply", func(nc net.Conn, r *bufio.Reader) bool {
			nc.Write([]byte("Content-Type: auth/request\n\n"))
			hfReadBlock(r)
			hfReadBlock(r)
			return false
		}, 500 * time.Millisecond, ErrTimeout, "timed out"},
		{"endless greeting header", func(nc net.Conn, r *bufio.Reader) bool {
			nc.Write([]byte("Content-Type: auth/request\nX: "))
			chunk := []byte(strings.Repeat("a", 64<<10))
			for i := 0; i < 40; i++ {
				if _, err := nc.Write(chunk); err != nil {
					break
				}
			}
			return false
		}, 0, ErrConnect, "Connection Error"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := newHSServer(t, tc.greet, hsAnswer)
			timeout := tc.timeout
			if timeout == 0 {
				timeout = 10 * time.Second
			}
			start := time.Now()
			c, err := Dial(context.Background(), srv.addr, WithTimeout(timeout))
			if err == nil {
				c.Close()
				t.Fatal("login succeeded")
			}
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.text) {
				t.Fatalf("got %v, want %v saying %q", err, tc.want, tc.text)
			}
			if d := time.Since(start); d > timeout+5*time.Second {
				t.Fatalf("took %v", d)
			}
			t.Logf("%v (%v)", err, time.Since(start).Round(time.Millisecond))
		})
	}
}

// CR, LF and NUL inside every argument of both layers: refused with ErrBadArgument before
// anything is written, so the connection stays in step.
func TestHardeningHostileArguments(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ignore) }) // after the servers' cleanups
	srv := newHSServer(t, nil, hsAnswer)
	host, portText, _ := net.SplitHostPort(srv.addr)
	port, _ := strconv.Atoi(portText)
	c, err := Dial(context.Background(), srv.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()

	twin := func(ev *Event) error {
		if ev != nil {
			return nil
		}
		return c.Err()
	}
	sendEvent := func(name, value, body string) error {
		ev := NewEvent("CUSTOM", "hs::test")
		ev.AddHeader(name, value)
		if body != "" {
			ev.AddBody(body)
		}
		r := c.SendEvent(ev)
		if r.GetType() == "SERVER_DISCONNECTED" {
			return c.Err()
		}
		return nil
	}
	sendMsg := func(name, value, uuid string) error {
		ev := NewEvent("CUSTOM")
		ev.AddHeader(name, value)
		return c.SendMSG(ev, uuid)
	}
	dial := func(addr string, opts ...DialOption) error {
		c, err := Dial(ctx, addr, opts...)
		if err == nil {
			c.Close()
		}
		return err
	}
	newConn := func(c *Connection) error {
		defer c.Close()
		return c.Err()
	}
	type argCase struct {
		name string
		call func(bad string) error
	}
	calls := []argCase{
		{"Api cmd", func(b string) error { return twin(c.Api("sta" + b + "tus")) }},
		{"Api arg", func(b string) error { return twin(c.Api("echo", "a"+b+"b")) }},
		{"Api second arg", func(b string) error { return twin(c.Api("echo", "a", "b"+b)) }},
		{"ApiContext cmd", func(b string) error { _, err := c.ApiContext(ctx, b+"status", ""); return err }},
		{"ApiContext arg", func(b string) error { _, err := c.ApiContext(ctx, "echo", b); return err }},
		{"Bgapi cmd", func(b string) error { return twin(c.Bgapi("status"+b, "")) }},
		{"Bgapi arg", func(b string) error { return twin(c.Bgapi("echo", "x"+b)) }},
		{"Bgapi job uuid", func(b string) error { return twin(c.Bgapi("status", "", "u"+b+"u")) }},
		{"BackgroundJob cmd", func(b string) error { _, err := c.BackgroundJob(ctx, "st"+b, ""); return err }},
		{"BackgroundJob arg", func(b string) error { _, err := c.BackgroundJob(ctx, "echo", b+"x"); return err }},
		{"Execute app", func(b string) error { return twin(c.Execute("play" + b + "back")) }},
		{"Execute arg", func(b string) error { return twin(c.Execute("playback", "/tmp/a"+b+".wav")) }},
		{"Execute uuid", func(b string) error { return twin(c.Execute("playback", "x", "uuid"+b)) }},
		{"ExecuteAsync arg", func(b string) error { return twin(c.ExecuteAsync("playback", b)) }},
		{"ExecuteContext app", func(b string) error { _, err := c.ExecuteContext(ctx, b, "", ""); return err }},
		{"ExecuteContext arg", func(b string) error { _, err := c.ExecuteContext(ctx, "playback", "a"+b, ""); return err }},
		{"ExecuteContext uuid", func(b string) error { _, err := c.ExecuteContext(ctx, "playback", "a", b); return err }},
		{"Filter header", func(b string) error { return twin(c.Filter("Event"+b+"Name", "x")) }},
		{"Filter value", func(b string) error { return twin(c.Filter("Event-Name", "CHANNEL"+b)) }},
		{"Events value", func(b string) error { return c.Events("plain", "ALL"+b) }},
		{"SendEvent header value", func(b string) error { return sendEvent("X-Hello", "a"+b+"b", "") }},
		{"SendEvent header name", func(b string) error { return sendEvent("X"+b+"Y", "v", "") }},
		{"SendMSG header value", func(b string) error { return sendMsg("call-command", "execute"+b, "") }},
		{"SendMSG header name", func(b string) error { return sendMsg("call"+b+"command", "execute", "") }},
		{"SendMSG uuid", func(b string) error { return sendMsg("call-command", "hangup", "u"+b) }},
		{"Dial host", func(b string) error { return dial(host + b + ":" + portText) }},
		{"Dial password", func(b string) error { return dial(srv.addr, WithPassword("Clue"+b+"Con")) }},
		{"Dial user", func(b string) error { return dial(srv.addr, WithUser("u"+b+"@d", "p")) }},
		{"Dial user password", func(b string) error { return dial(srv.addr, WithUser("u@d", "p"+b)) }},
		{"Dial event names", func(b string) error { return dial(srv.addr, WithEvents("plain", "CHANNEL_CREATE"+b+"CHANNEL_ANSWER")) }},
		{"Dial event format", func(b string) error { return dial(srv.addr, WithEvents("plain"+b, "ALL")) }},
		{"NewConnection host", func(b string) error { return newConn(NewConnection(host+b, port, "ClueCon")) }},
		{"NewConnection password", func(b string) error { return newConn(NewConnection(host, port, b)) }},
		{"NewConnectionUser user", func(b string) error { return newConn(NewConnectionUser(host, port, b, "p")) }},
	}
	// Raw commands may span lines (headers), so LF alone is fine there; these break framing.
	raw := []string{
		"api sta\rtus",
		"api status\x00",
		"api status\n\nexit",
		"api status\n\nexit\n\n",
		"api status\nContent-Length: 5",
		"api status\nContent-Length: 5\n\n",
		"sendevent CUSTOM\nContent-Length: 3\n\nabcdef",
		"sendevent CUSTOM\nContent-Length: -1\n\n",
		"sendevent CUSTOM\nContent-Length: 3\nContent-Length: 3\n\nabc",
		"sendevent CUSTOM\nContent-Length : 3\n\nabc", // not a length to the server: abc would be the next command
		"api status\ncontent-length: x",
		"\n\n",
		"",
	}
	rawCalls := []argCase{
		{"SendRecv", func(r string) error { return twin(c.SendRecv(r)) }},
		{"SendRecvContext", func(r string) error { _, err := c.SendRecvContext(ctx, r); return err }},
		{"Send", func(r string) error { return c.Send(r) }},
	}
	acceptedBefore := srv.accepted.Load()
	refused, total := 0, 0
	for _, tc := range calls {
		for _, bad := range []string{"\r", "\n", "\x00", "\r\n", "\n\n"} {
			total++
			err := tc.call(bad)
			if errors.Is(err, ErrBadArgument) {
				refused++
			} else {
				t.Errorf("%s with %q: %v, want ErrBadArgument", tc.name, bad, err)
			}
		}
	}
	for _, tc := range rawCalls {
		for _, r := range raw {
			total++
			err := tc.call(r)
			if errors.Is(err, ErrBadArgument) {
				refused++
			} else {
				t.Errorf("%s(%q): %v, want ErrBadArgument", tc.name, r, err)
			}
		}
	}
	// Nothing of it reached the server: no connection was opened, no block was written, and
	// the connection is still in step.
	if n := srv.accepted.Load() - acceptedBefore; n != 0 {
		t.Errorf("%d connections opened for refused logins", n)
	}
	ev, err := c.ApiContext(ctx, "echo", "in step")
	if err != nil || ev.GetBody() != "in step" {
		t.Fatalf("after the refused calls: %v %q", err, ev.GetBody())
	}
	got := srv.received()
	if len(got) != 1 || got[0] != "api echo in step\n" {
		t.Errorf("the server received %q", got)
	}
	if !c.Connected() {
		t.Error("connection lost")
	}
	t.Logf("bad arguments: %d of %d calls refused with ErrBadArgument; %d stray commands reached the server",
		refused, total, len(got)-1)
}
