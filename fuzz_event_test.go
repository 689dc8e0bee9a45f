//go:build cgo

package esl

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Fuzz targets for building events: from JSON (NewEventJSON, NewEvent("json", ...)) and by
// header operations (AddHeader, PushHeader, UnshiftHeader, DelHeader, AddBody,
// SetPriority). Where the linked library is csrc, the C implementation is the oracle: both
// must build the same event. Seeds come from testdata/freeswitch.

// fzMessages returns the messages of every recorded stream whose Content-Type is ct (any
// when ct is ""): the header block and the body.
func fzMessages(tb testing.TB, ct string) (blocks, bodies [][]byte) {
	files, _ := filepath.Glob(filepath.Join("testdata", "freeswitch", "*.s2c"))
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			tb.Fatal(err)
		}
		r, err := hfSplit(filepath.Base(f), data)
		if err != nil {
			tb.Fatal(err)
		}
		start := 0
		for i, end := range r.ends {
			msg := data[start:end]
			start = end
			if ct != "" && r.cts[i] != ct {
				continue
			}
			h := bytes.Index(msg, []byte("\n\n")) + 2
			blocks = append(blocks, msg[:h])
			bodies = append(bodies, msg[h:])
		}
	}
	return blocks, bodies
}

func fzJSONSeeds(tb testing.TB) []string {
	_, bodies := fzMessages(tb, "text/event-json")
	seeds := []string{
		`{}`,
		`{"Event-Name":"CUSTOM","Event-Subclass":"a::b","_body":"hello"}`,
		`{"A":["x","y",1,null,"z"],"B":[],"C":{"x":["y"]},"D":-12.5e3,"E":false}`,
		`{"A":"ARRAY::p|:q","A":"r","a[3]":"s","_BODY":"","Content-Length":"3"}`,
		`{"s":"\u00e9\ud83d\ude00\u0000\/\b\f\n\r\t","Event-Name":"HEARTBEAT","event-name":"DTMF"}`,
		`{"A":"ARRAY::ARRAY::x|:","B":["","ARRAY::y|:z",""],"priority":"HIGH"}`,
	}
	for i, b := range bodies {
		if i%4 == 0 { // a selection is enough; the fuzzer mutates them
			seeds = append(seeds, string(b))
		}
	}
	return seeds
}

func FuzzEventJSON(f *testing.F) {
	for _, s := range fzJSONSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		e, err := NewEventJSON(text)
		if text != "" {
			if twin := NewEvent("json", text); (twin != nil) != (err == nil) {
				t.Fatalf("NewEvent(json) and NewEventJSON disagree: %v", err)
			}
		}
		if err != nil {
			if !errors.Is(err, ErrBadArgument) {
				t.Fatalf("error %v does not wrap ErrBadArgument", err)
			}
			fzCompareJSONWithC(t, text, nil)
			return
		}
		js, plain := e.Serialize("json"), e.Serialize()
		if body := cstr(e.GetBody()); body != "" && !strings.HasSuffix(plain, "\n\n"+body) ||
			body == "" && !strings.HasSuffix(plain, "\n") {
			t.Fatalf("plain serialization %q", plain)
		}
		// What the serializer writes must parse again, with the same type.
		back, err := NewEventJSON(js)
		if err != nil {
			t.Fatalf("serialized JSON does not parse: %v\n%s", err, js)
		}
		// The type survives through its Event-Name header (an event whose last Event-Name
		// was deleted, or named an unknown type, keeps an id that its JSON cannot carry).
		if id, ok := nameEvent(e.GetHeader("Event-Name")); ok && back.GetType() != eventName(id) {
			t.Fatalf("Event-Name %q: type %s after the round trip", e.GetHeader("Event-Name"), back.GetType())
		}
		if c := e.Clone(); c.Serialize("json") != js {
			t.Fatal("clone differs")
		}
		n := 0
		for range e.Headers() {
			n++
		}
		if n != e.Len() {
			t.Fatalf("Headers yields %d, Len %d", n, e.Len())
		}
		fzCompareJSONWithC(t, text, e)
	})
}

// fzCompareJSONWithC checks e (nil: NewEventJSON refused text) against
// esl_event_create_json of csrc. The C parser is strict RFC 8259 where the Go one follows
// cJSON, so only events that both build are compared.
func fzCompareJSONWithC(t *testing.T, text string, e *Event) {
	if Backend() != "csrc" || strings.IndexByte(text, 0) >= 0 {
		return
	}
	c := cEventJSON(text)
	if c == nil {
		return
	}
	defer c.free()
	if e == nil {
		t.Fatalf("C builds an event from JSON that NewEventJSON refuses:\n%s", c.serialize(true))
	}
	if cj, gj := c.serialize(true), e.Serialize("json"); cj != gj {
		t.Fatalf("JSON serializations differ\nC:  %q\nGo: %q", cj, gj)
	}
	if cp, gp := c.serialize(false), e.Serialize(); cp != gp {
		t.Fatalf("plain serializations differ\nC:  %q\nGo: %q", cp, gp)
	}
	if back := c.toGo(); back.GetType() != e.GetType() {
		t.Fatalf("type: C %s, Go %s", back.GetType(), e.GetType())
	}
}

// fzOps decodes a byte string into header operations. Each operation takes a kind byte, a
// name (one of a set meant to collide, or free text) and a value.
type fzOp struct {
	kind        int
	name, value string
}

var fzNames = []string{"A", "a", "B", "Event-Name", "priority", "_body", "Arr", "arr[0]", "Arr[2]", "Arr[4001]",
	"X[1]", "Content-Length", "Event-Subclass", "Unique-ID", "variable_x"}
var fzValues = []string{"v", "", "ARRAY::x|:y", "ARRAY::", "ARRAY::z", "pre ARRAY::a|:b", "ARRAY::|:q",
	"sp ace", "a&b=c%", "\"q\"\\", "tab\tnl\n", "ctl\x01\x7f\xff", "ARRAY::ARRAY::r|:s", "CHANNEL_ANSWER"}

func fzDecodeOps(data []byte) []fzOp {
	var ops []fzOp
	str := func(pool []string) string {
		if len(data) == 0 {
			return ""
		}
		b := data[0]
		data = data[1:]
		if int(b) < len(pool)*12 {
			return pool[int(b)%len(pool)]
		}
		// free text: the next (b % 16) bytes, NUL replaced (C strings end there)
		n := min(int(b%16), len(data))
		s := strings.ReplaceAll(string(data[:n]), "\x00", "\x01")
		data = data[n:]
		return s
	}
	for len(data) > 0 && len(ops) < 64 {
		k := int(data[0])
		data = data[1:]
		ops = append(ops, fzOp{kind: k % 10, name: str(fzNames), value: str(fzValues)})
	}
	return ops
}

func FuzzEventHeaders(f *testing.F) {
	_, bodies := fzMessages(f, "text/event-plain")
	for i := range bodies {
		if i%6 != 0 {
			continue
		}
		// Real header lines as free-text operations: kind 0 (BOTTOM add), name, value.
		var seed []byte
		for _, line := range strings.Split(string(bodies[i]), "\n")[:20] {
			name, value, ok := strings.Cut(line, ": ")
			if !ok || len(name) > 15 || len(value) > 15 {
				continue
			}
			seed = append(seed, 0, byte(240+len(name)))
			seed = append(seed, name...)
			seed = append(seed, byte(240+len(value)))
			seed = append(seed, value...)
		}
		f.Add(seed, uint8(i))
	}
	f.Add([]byte{0, 2, 2, 2, 6, 3, 8, 1, 1, 9, 2, 0, 4, 7, 8, 7, 5, 3, 3}, uint8(0))
	f.Fuzz(func(t *testing.T, data []byte, kind uint8) {
		ids := []int{evCustom, evClone, 2, evMessage}
		id := ids[int(kind)%len(ids)]
		sub := ""
		if (id == evCustom || id == evClone) && kind&4 != 0 {
			sub = "s::t"
		}
		g := newEventID(id, sub)
		c := newCEvent(id, sub)
		if c == nil {
			t.Fatal("C event")
		}
		defer c.free()
		for _, op := range fzDecodeOps(data) {
			switch {
			case op.kind < 6:
				g.addHeader(op.kind%4, op.name, op.value)
				c.add(op.kind%4, op.name, op.value)
			case op.kind == 6:
				p := Priority(len(op.value) % 3)
				g.SetPriority(p)
				c.setPriority(p)
			case op.kind == 7:
				g.AddBody(op.value)
				c.setBody(op.value)
			default:
				g.DelHeader(op.name)
				c.del(op.name)
			}
		}
		if cs, gs := c.serialize(false), g.Serialize(); cs != gs {
			t.Fatalf("plain differs\nC:  %q\nGo: %q", cs, gs)
		}
		if cs, gs := c.serialize(true), g.Serialize("json"); cs != gs {
			t.Fatalf("json differs\nC:  %q\nGo: %q", cs, gs)
		}
		for _, name := range append([]string{"Arr", "X"}, fzNames[:6]...) {
			for idx := -1; idx < 3; idx++ {
				cv, cok := c.header(name, idx)
				gv, gok := g.header(name, idx)
				if cv != gv || cok != gok {
					t.Fatalf("get %s[%d]: C %q %v, Go %q %v", name, idx, cv, cok, gv, gok)
				}
			}
		}
		if back := c.toGo(); back.Serialize("json") != g.Serialize("json") {
			t.Fatal("the receive path's copy of the C event differs")
		}
		// Walking the headers never runs off the end.
		n := 0
		for h := g.FirstHeader(); h != "" || n < g.Len(); h = g.NextHeader() {
			if n++; n > g.Len() {
				t.Fatalf("NextHeader went past %d headers", g.Len())
			}
		}
	})
}
