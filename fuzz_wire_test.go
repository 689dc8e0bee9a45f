//go:build cgo

package esl

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// FuzzWireThroughBinding sends arbitrary bytes as the server side of an outbound connection
// (after a well-formed reply to connect) and closes. Whatever the bytes, the binding must
// hand out events that can be used, end with ErrDisconnected in bounded time, and close
// cleanly: the C parser frames, and the Go side unpacks its tables into events, which is
// the Go code that parses what comes off the wire. Seeds are the recorded streams.
func FuzzWireThroughBinding(f *testing.F) {
	blocks, bodies := fzMessages(f, "")
	for i := 0; i+3 < len(blocks); i += 3 {
		var seed []byte
		for j := i; j < i+3; j++ {
			seed = append(seed, blocks[j]...)
			seed = append(seed, bodies[j]...)
		}
		if len(seed) < 1<<14 {
			f.Add(seed)
		}
	}
	f.Add([]byte("Content-Type: x\nContent-Length: 3\n\na\x00bContent-Type: text/disconnect-notice\nContent-Length: 0\n\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		sp, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
		if err != nil {
			t.Skip(err)
		}
		done := make(chan struct{})
		go func() {
			defer close(done)
			defer syscall.Close(sp[1])
			peer := hfFDConn{sp[1]}
			r := bufio.NewReader(peer)
			if hfReadBlock(r) == "" {
				return
			}
			_, _ = peer.Write([]byte("Content-Type: command/reply\nReply-Text: +OK\nUnique-ID: fz\n\n"))
			_, _ = peer.Write(data)
			_ = syscall.Shutdown(sp[1], syscall.SHUT_WR)
			_, _ = io.Copy(io.Discard, r)
		}()
		c := NewConnectionFD(sp[0])
		defer func() {
			c.Close()
			<-done
		}()
		// (The stream may already have ended by now; only a failed attach is wrong.)
		if e := (*Error)(nil); errors.As(c.Err(), &e) && e.Op == "attach" {
			t.Fatalf("attach: %v", c.Err())
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		for n := 0; ; n++ {
			ev, err := c.RecvEventContext(ctx)
			if err != nil {
				if !errors.Is(err, ErrDisconnected) {
					t.Fatalf("after %d messages: %v", n, err)
				}
				break
			}
			// Everything an application does with an event works on what came in.
			_ = ev.Serialize()
			_ = ev.Serialize("json")
			for name := range ev.Headers() {
				_ = ev.GetHeader(name)
				_ = ev.HeaderValues(name)
				_ = ev.GetHeader(name, 1)
			}
			_ = ev.Clone().GetBody()
			if _, err := NewEventJSON(ev.Serialize("json")); err != nil {
				t.Fatalf("a received event does not survive its own JSON: %v", err)
			}
		}
		if c.Connected() {
			t.Fatal("still connected")
		}
	})
}

// innerPathsDiff packs text (a plain or a JSON event body) both ways an event can take
// through the binding: straight from the text (the receive path) and through the full C
// event. When the first way takes it, both events must be the same. It returns whether the
// first way took it, and the first difference ("" when none).
func innerPathsDiff(tb testing.TB, text []byte, json bool) (taken bool, diff string) {
	fast, r := packInner(text, json, true)
	switch r {
	case -2:
		tb.Skip("events are packed from their text only with csrc (not under the libesl tag)")
	case -1:
		tb.Fatal("out of memory")
	case 0:
		return false, ""
	}
	full, r := packInner(text, json, false)
	if r != 1 {
		return true, fmt.Sprintf("the full parse gave no event (%d)", r)
	}
	switch {
	case fast.GetType() != full.GetType():
		return true, fmt.Sprintf("type %s, full parse %s", fast.GetType(), full.GetType())
	case fast.priority != full.priority:
		return true, fmt.Sprintf("priority %v, full parse %v", fast.priority, full.priority)
	case fast.HasBody() != full.HasBody() || fast.GetBody() != full.GetBody():
		return true, fmt.Sprintf("body %v %q, full parse %v %q", fast.HasBody(), fast.GetBody(), full.HasBody(), full.GetBody())
	}
	// Lookups first: an event kept as its text answers them from the text, before anything
	// builds its header table.
	names := []string{"", "_body", "Event-Name", "Content-Length", "no-such-header", "a:b"}
	for i := 0; i < full.count(); i++ {
		n := full.nameAt(i)
		names = append(names, n, strings.ToUpper(n), strings.ToLower(n), n+":", n+"x")
	}
	// a text read without C's table: the walk over its members or lines
	walk := &Event{id: fast.id, form: fast.form, textLen: fast.textLen, data: fast.data, body: fast.body, hasBody: fast.hasBody}
	perHeader := 1
	if fast.form == formPlainText {
		perHeader = 2 // a start and a name length
	}
	if fast.memberAt != nil && len(fast.memberAt) != perHeader*full.count() {
		return true, fmt.Sprintf("a table of %d entries for %d headers", len(fast.memberAt), full.count())
	}
	for _, n := range names {
		fv, fok := fast.Header(n)
		v, ok := full.Header(n)
		if fv != v || fok != ok {
			return true, fmt.Sprintf("Header(%q) = %q %v, full parse %q %v", n, fv, fok, v, ok)
		}
		if fast.memberAt != nil {
			if wv, wok := walk.Header(n); wv != v || wok != ok {
				return true, fmt.Sprintf("Header(%q) without the member table = %q %v, full parse %q %v", n, wv, wok, v, ok)
			}
		}
		if fv, v := fast.GetHeader(n, 0), full.GetHeader(n, 0); fv != v {
			return true, fmt.Sprintf("GetHeader(%q, 0) = %q, full parse %q", n, fv, v)
		}
		if fv, v := fast.HeaderValues(n), full.HeaderValues(n); !slices.Equal(fv, v) {
			return true, fmt.Sprintf("HeaderValues(%q) = %q, full parse %q", n, fv, v)
		}
	}
	if fast.count() != full.count() {
		return true, fmt.Sprintf("%d headers, full parse %d", fast.count(), full.count())
	}
	for i := 0; i < fast.count(); i++ {
		if fast.nameAt(i) != full.nameAt(i) || fast.valueAt(i) != full.valueAt(i) || fast.nelemAt(i) != full.nelemAt(i) {
			return true, fmt.Sprintf("header %d: %q: %q, full parse %q: %q", i, fast.nameAt(i), fast.valueAt(i), full.nameAt(i), full.valueAt(i))
		}
	}
	return true, ""
}

// TestEventsFromText: every recorded plain and JSON event is packed straight from its text,
// and equals what the full C event gives.
func TestEventsFromText(t *testing.T) {
	for _, ct := range []string{"text/event-plain", "text/event-json"} {
		_, bodies := fzMessages(t, ct)
		if len(bodies) < 49 {
			t.Fatalf("%d recorded %s events, want at least 49", len(bodies), ct)
		}
		for i, b := range bodies {
			taken, diff := innerPathsDiff(t, b, ct == "text/event-json")
			if !taken {
				t.Errorf("%s event %d: not packed from its text", ct, i)
			}
			ev, _ := packInner(b, ct == "text/event-json", true)
			if ev != nil && !ev.isText() {
				t.Errorf("%s event %d: kept as text %v", ct, i, ev.isText())
			}
			if ct == "text/event-json" && !bytes.Contains(b, []byte{'\\'}) && (ev == nil || len(ev.memberAt) != ev.Len()) {
				t.Errorf("JSON event %d without escapes: no member table for its headers", i)
			}
			if ct == "text/event-plain" && (ev == nil || len(ev.memberAt) != 2*ev.Len()) {
				t.Errorf("plain event %d: no table of its header lines", i)
			}
			if diff != "" {
				t.Errorf("%s event %d: %s", ct, i, diff)
			}
		}
	}
}

// FuzzPlainSpans: for any text that the receive path packs straight from the text, the event
// equals the one the full C event gives. Seeds are the recorded plain events and the shapes
// that need the full rules.
func FuzzPlainSpans(f *testing.F) {
	_, bodies := fzMessages(f, "text/event-plain")
	for i, b := range bodies {
		if i%3 == 0 {
			f.Add(b)
		}
	}
	for _, s := range []string{
		"Event-Name: CHANNEL_ANSWER\nA: %41%3a%20x%\nB: %4\nC: %zz%\nD: %00%41\nE: x%4",
		"A: 1:2:3\nT:\tv\nS:    s\nR: r\r\nno colon line\nZ: z",
		"Event-Name: CUSTOM\nContent-Length: 9\n\nbody\n\nmore",
		"Event-Name: CUSTOM\n\nbody without a length",
		"A: 1\nA:\n", "X: ARRAY::a|:b\n", "X: ARRAY%3A%3Aa\n", "A[1]: x\n", "_body: x\n",
		"Event-Name: CUSTOM\nevent-name: HEARTBEAT\n", "A: 1\x00\nB: 2\n", "Content-Length: 3\n\na\x00b",
		"A: x\na: y\nA-B: z\n: empty name\n_BODY: b\ncontent-length: 2\n\nhi", "X: ARRAY%3a%3Ay\n", "X: AR%52AY::y\n",
		"Event-Name: CHANNEL%5FANSWER\n", "X: ARRAY:y\n", "N%41me: ARRAY\nY: %59\n", "A:  \n", "A: %0\nB: %",
		"A: 1\nB[: 2\n", "Content-Length: 1\nEvent-Name: API\n\n\n", "Event-Name:  HEARTBEAT\nA: %2a%2A%00\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, text []byte) {
		if _, diff := innerPathsDiff(t, text, false); diff != "" {
			t.Fatal(diff)
		}
	})
}

// FuzzJSONSpans: the same for JSON event bodies. Seeds are the JSON targets' (recorded events
// and the shapes that need the full rules).
func FuzzJSONSpans(f *testing.F) {
	for _, s := range fzJSONSeeds(f) {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, text []byte) {
		if _, diff := innerPathsDiff(t, text, true); diff != "" {
			t.Fatal(diff)
		}
	})
}
