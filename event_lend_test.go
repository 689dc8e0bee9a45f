//go:build cgo

package esl

import (
	"context"
	"errors"
	"io"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cgoesl/esl/esltest"
)

// lendPipe returns a connection (NewConnectionFD on a socket pair) that receives the
// recorded event frames of file, cycled `cycles` times, and then the end of the stream.
func lendPipe(t *testing.T, file string, cycles int) *Connection {
	t.Helper()
	return streamPipe(t, file, cycles, false)
}

// lendingPipe is lendPipe whose stream starts only once a ReceiveEvents caller runs, so
// that its events are lent whatever the scheduling: otherwise the reader goroutine may have
// queued them all, unlent, before the caller starts (seen under -race on a busy machine).
func lendingPipe(t *testing.T, file string, cycles int) *Connection {
	t.Helper()
	return streamPipe(t, file, cycles, true)
}

// streamPipe is lendPipe, and with waitLender lendingPipe.
func streamPipe(t *testing.T, file string, cycles int, waitLender bool) *Connection {
	t.Helper()
	frames := recordedFrames(t, file)
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	peer := os.NewFile(uintptr(fds[1]), "peer")
	t.Cleanup(func() { peer.Close() })
	if _, err := peer.Write([]byte("Content-Type: command/reply\nReply-Text: +OK\n\n")); err != nil {
		t.Fatal(err)
	}
	attached := make(chan struct{})
	var c *Connection
	go func() {
		// once the connection is checked: the events, then the end of the stream (what the
		// connection writes stays unread in the socket buffer)
		defer syscall.Shutdown(fds[1], syscall.SHUT_WR)
		<-attached
		for waitLender && c.state().lenders.Load() == 0 && !c.state().closing.Load() {
			time.Sleep(time.Millisecond)
		}
		for i := 0; i < cycles; i++ {
			for _, f := range frames {
				if _, err := peer.Write(f); err != nil {
					return
				}
			}
		}
	}()
	c = NewConnectionFD(fds[0])
	connected := c.Connected()
	close(attached)
	if !connected {
		t.Fatal(c.Err())
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// ownedEvents reads every event of a lendPipe stream with RecvEvent.
func ownedEvents(t *testing.T, file string, cycles int) []*Event {
	c := lendPipe(t, file, cycles)
	var evs []*Event
	for {
		ev, err := c.RecvEventContext(context.Background())
		if err != nil {
			if !errors.Is(err, ErrDisconnected) {
				t.Fatal(err)
			}
			return evs
		}
		evs = append(evs, ev)
	}
}

// keptView is what a callback took out of a lent event: strings only, plus a clone.
type keptView struct {
	values    []string // GetHeader of every header name of the owned twin, in order
	lower     []string // the same names in lower case
	arrays    [][]string
	body      string
	typ       string
	serialize string
	json      string
	headers   [][2]string // from Headers()
	clone     *Event
	changed   string // GetHeader of a header added in the callback
}

func viewOf(ev, twin *Event) keptView {
	var k keptView
	for n := range twin.Headers() {
		k.values = append(k.values, ev.GetHeader(n))
		k.lower = append(k.lower, ev.GetHeader(strings.ToLower(n)))
		k.arrays = append(k.arrays, ev.HeaderValues(n))
	}
	k.body, k.typ = ev.GetBody(), ev.GetType()
	k.clone = ev.Clone()
	k.serialize, k.json = ev.Serialize(), ev.Serialize("json")
	for n, v := range ev.Headers() {
		k.headers = append(k.headers, [2]string{n, v})
	}
	ev.AddHeader("X-Lent-Test", "added")
	k.changed = ev.GetHeader("X-Lent-Test")
	return k
}

// TestReceiveEventsKeptStrings checks that everything a callback takes out of a lent event
// stays as it was after the buffer was reused for later events: a string pointing into
// the buffer would show a later event's bytes by the end of the stream.
func TestReceiveEventsKeptStrings(t *testing.T) {
	for _, tc := range []struct{ name, file string }{
		{"plain", "testdata/freeswitch/events-plain-call.s2c"},
		{"json", "testdata/freeswitch/events-json-call.s2c"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const cycles = 4
			want := ownedEvents(t, tc.file, cycles)
			c := lendingPipe(t, tc.file, cycles)
			var views []keptView
			var held []*Event
			lent := 0
			err := c.ReceiveEvents(context.Background(), func(ev *Event) error {
				if len(views) >= len(want) {
					t.Fatalf("more events than RecvEvent got (%d)", len(want))
				}
				if ev.lent() {
					lent++
				}
				// the events lent before read as empty while this one is lent: none shares
				// its Event with a later one (lent Events come from slabs, never reused)
				for i, e := range held {
					if e == ev || e.Len() != 0 {
						t.Fatalf("event %d: event %d's Event is reused (same: %v, %d headers)", len(held), i, e == ev, e.Len())
					}
				}
				views = append(views, viewOf(ev, want[len(views)]))
				held = append(held, ev)
				return nil
			})
			if !errors.Is(err, ErrDisconnected) {
				t.Fatalf("ReceiveEvents ended with %v, want ErrDisconnected", err)
			}
			if len(views) != len(want) {
				t.Fatalf("got %d events, RecvEvent got %d", len(views), len(want))
			}
			// only csrc keeps events as text; an original libesl gives packed events, never lent
			if haveExtensions && lent < len(want)/2 {
				t.Fatalf("only %d of %d events were lent: the pooled path was not taken", lent, len(want))
			}
			for i, w := range want {
				k := views[i]
				j := 0
				for n, v := range w.Headers() {
					if k.values[j] != v || k.lower[j] != v {
						t.Fatalf("event %d, %s: kept %q / %q, want %q", i, n, k.values[j], k.lower[j], v)
					}
					if a := w.HeaderValues(n); strings.Join(k.arrays[j], "|") != strings.Join(a, "|") {
						t.Fatalf("event %d, %s: HeaderValues kept %q, want %q", i, n, k.arrays[j], a)
					}
					if k.headers[j] != [2]string{n, v} {
						t.Fatalf("event %d: Headers kept %q, want %q: %q", i, k.headers[j], n, v)
					}
					j++
				}
				if k.body != w.GetBody() || k.typ != w.GetType() {
					t.Fatalf("event %d: body/type kept %q/%q, want %q/%q", i, k.body, k.typ, w.GetBody(), w.GetType())
				}
				if k.serialize != w.Serialize() || k.json != w.Serialize("json") {
					t.Fatalf("event %d: serialization kept\n%s\nwant\n%s", i, k.serialize, w.Serialize())
				}
				if got := k.clone.Serialize(); got != w.Serialize() {
					t.Fatalf("event %d: clone reads\n%s\nwant\n%s", i, got, w.Serialize())
				}
				if k.changed != "added" {
					t.Fatalf("event %d: a header added in the callback read %q", i, k.changed)
				}
				// after the callback, the lent event itself reads as empty
				if e := held[i]; e.Len() != 0 || e.GetHeader("Event-Name") != "" || e.HasBody() || e.lent() {
					t.Fatalf("event %d still reads after its callback: %d headers, Event-Name %q", i, e.Len(), e.GetHeader("Event-Name"))
				}
			}
		})
	}
}

// TestReceiveEventsTypeName checks that reading Event-Name from a lent event, which nearly
// every consumer does, allocates nothing: its value is the event's type name, whose string
// in the table of names outlives the loan. Other values are copied.
func TestReceiveEventsTypeName(t *testing.T) {
	c := lendingPipe(t, "testdata/freeswitch/events-plain-call.s2c", 1)
	checked := 0
	err := c.ReceiveEvents(context.Background(), func(ev *Event) error {
		if !ev.lent() || !ev.isText() {
			return nil
		}
		checked++
		var name string
		if n := testing.AllocsPerRun(5, func() { name = ev.GetHeader("Event-Name") }); n != 0 {
			t.Errorf("GetHeader(Event-Name) of a lent event made %v allocations, want 0", n)
		}
		if name == "" || name != ev.GetType() {
			t.Errorf("Event-Name %q, type %q", name, ev.GetType())
		}
		if n := testing.AllocsPerRun(5, func() { _ = ev.GetHeader("Event-Calling-Function") }); n != 1 {
			t.Errorf("GetHeader(Event-Calling-Function) of a lent event made %v allocations, want 1 (its copy)", n)
		}
		return nil
	})
	if !errors.Is(err, ErrDisconnected) {
		t.Fatalf("ReceiveEvents ended with %v, want ErrDisconnected", err)
	}
	if haveExtensions && checked == 0 {
		t.Fatal("no event was lent as text")
	}
}

// TestReceiveEventsSharedWithRecvEvent runs ReceiveEvents and RecvEvent on one connection
// at once: an event that goes to RecvEvent is the caller's for good, even when it was
// copied into a pooled buffer, so it must still read right after the stream.
func TestReceiveEventsSharedWithRecvEvent(t *testing.T) {
	const file, cycles = "testdata/freeswitch/events-plain-call.s2c", 8
	valid := map[string]bool{}
	for _, w := range ownedEvents(t, file, 1) {
		valid[w.Serialize()] = true
	}
	c := lendPipe(t, file, cycles)
	var mu sync.Mutex
	var owned []*Event
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			ev, err := c.RecvEventContext(context.Background())
			if err != nil {
				return
			}
			mu.Lock()
			owned = append(owned, ev)
			mu.Unlock()
		}
	}()
	lentCount := 0
	err := c.ReceiveEvents(context.Background(), func(ev *Event) error {
		if !valid[ev.Serialize()] {
			t.Errorf("a lent event reads\n%s", ev.Serialize())
		}
		lentCount++
		return nil
	})
	wg.Wait()
	if !errors.Is(err, ErrDisconnected) {
		t.Fatalf("ReceiveEvents ended with %v", err)
	}
	if total := lentCount + len(owned); total != len(valid)*cycles {
		t.Fatalf("%d + %d events, want %d", lentCount, len(owned), len(valid)*cycles)
	}
	for i, ev := range owned {
		if ev.lent() || !valid[ev.Serialize()] {
			t.Fatalf("event %d of RecvEvent was changed after it was handed out:\n%s", i, ev.Serialize())
		}
	}
}

// TestReceiveEventsEnds checks how ReceiveEvents stops: with fn's error as it is, with
// ctx's, and with ErrClosed after Close.
func TestReceiveEventsEnds(t *testing.T) {
	const file = "testdata/freeswitch/events-plain-call.s2c"
	stop := errors.New("stop here")
	c := lendPipe(t, file, 1)
	n := 0
	err := c.ReceiveEvents(context.Background(), func(ev *Event) error {
		if n++; n == 3 {
			return stop
		}
		return nil
	})
	if err != stop || n != 3 {
		t.Fatalf("fn's error: got %v after %d events", err, n)
	}
	// the rest is still there for the next reader
	ev, err := c.RecvEventContext(context.Background())
	if err != nil || ev.GetHeader("Event-Name") == "" {
		t.Fatalf("the event after the stop: %v, %v", ev, err)
	}

	// ctx: a connection with no events
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	peer := os.NewFile(uintptr(fds[1]), "peer")
	defer peer.Close()
	go io.Copy(io.Discard, peer)
	if _, err := peer.Write([]byte("Content-Type: command/reply\nReply-Text: +OK\n\n")); err != nil {
		t.Fatal(err)
	}
	idle := NewConnectionFD(fds[0])
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := idle.ReceiveEvents(ctx, func(*Event) error { return nil }); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("ctx: got %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- idle.ReceiveEvents(context.Background(), func(*Event) error { return nil }) }()
	time.Sleep(20 * time.Millisecond)
	idle.Close()
	if err := <-done; !errors.Is(err, ErrClosed) {
		t.Fatalf("after Close: got %v", err)
	}
}

// TestReceiveEventsCallsConnection makes api calls from inside the callback, as a
// handler that reacts to an event does: the reader goes on reading meanwhile, so the
// replies come while the callback waits.
func TestReceiveEventsCallsConnection(t *testing.T) {
	srv, tmpl := recordedCallServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := Dial(ctx, srv.Addr(), WithPassword(srv.Password()), WithEvents("plain", "ALL"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	const n = 200
	go srv.Stream(n, tmpl)
	got := 0
	err = c.ReceiveEvents(ctx, func(ev *Event) error {
		name := ev.GetHeader("Event-Name")
		if got%20 == 0 {
			r, err := c.ApiContext(ctx, "status", "")
			if err != nil || !strings.Contains(r.GetBody(), "UP") {
				t.Errorf("api inside the callback: %v, %q", err, r.GetBody())
			}
		}
		if name == "" || ev.GetHeader("Event-Name") != name {
			t.Errorf("event %d lost its Event-Name across an api call: %q", got, ev.GetHeader("Event-Name"))
		}
		if got++; got == n {
			return errStopTest
		}
		return nil
	})
	if err != errStopTest {
		t.Fatalf("ReceiveEvents: %v after %d events", err, got)
	}
}

var errStopTest = errors.New("test done")

// recordedCallServer starts an esltest server (closed with the test) and loads the recorded
// plain call as the template of its streams.
func recordedCallServer(t *testing.T) (*esltest.Server, esltest.StreamTemplate) {
	t.Helper()
	raw, err := os.ReadFile("testdata/freeswitch/events-plain-call.s2c")
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := esltest.LoadTemplates(raw)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := esltest.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv, tmpl
}

func TestLendClass(t *testing.T) {
	for _, tc := range []struct{ n, class int }{
		{1, 0}, {1024, 0}, {1025, 1}, {1536, 1}, {1537, 2}, {2048, 2}, {2049, 3}, {3072, 3}, {3073, 4},
		{4096, 4}, {4097, 5}, {49152, 11}, {49153, 12}, {65536, 12}, {65537, -1},
	} {
		if got := lendClass(tc.n); got != tc.class {
			t.Errorf("lendClass(%d) = %d, want %d", tc.n, got, tc.class)
		}
		p := lendBuffer(tc.n)
		if (p == nil) != (tc.class < 0) {
			t.Fatalf("lendBuffer(%d) = %v", tc.n, p)
		}
		if p != nil {
			if size := lendSize(tc.class); len(*p) != tc.n || cap(*p) != size || size < tc.n || 2*size > 3*max(tc.n, 1024) {
				t.Fatalf("lendBuffer(%d): len %d cap %d", tc.n, len(*p), cap(*p))
			}
			returnBuffer(p)
		}
	}
}
