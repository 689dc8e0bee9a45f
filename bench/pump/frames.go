// Package pump is a small, fast stand-in for FreeSWITCH's event socket, made for
// benchmarks and for counting tests: it logs clients in, answers "api" with a short
// api/response, and streams a fixed number of events from pre-encoded frames.
//
// The events are the ones of a recorded FreeSWITCH stream (testdata/freeswitch/
// events-plain-call.s2c): plain frames are the recorded bytes, JSON frames are the same
// events re-encoded as compact JSON (ESL spec 14.7).
package pump

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Format is the event encoding a client subscribed with.
type Format int

// Event encodings the pump can stream.
const (
	Plain Format = iota
	JSON
)

func (f Format) String() string {
	if f == JSON {
		return "json"
	}
	return "plain"
}

// Header is one decoded header of an event.
type Header struct{ Name, Value string }

// Event is one decoded event of the recording.
type Event struct {
	Headers []Header
	Body    string
	HasBody bool
}

// Get returns the first value of the header name (exact case), or "".
func (e *Event) Get(name string) string {
	for _, h := range e.Headers {
		if h.Name == name {
			return h.Value
		}
	}
	return ""
}

// Set is the recorded events with their plain and JSON frames.
type Set struct {
	Events []Event
	frames [2][][]byte
	cycle  [2][]byte // every frame of the format, in order
	offs   [2][]int  // offset of each frame in cycle, and len(cycle) last
}

// Frames returns the encoded frames (outer header block and body) of format f.
func (s *Set) Frames(f Format) [][]byte { return s.frames[f] }

// CycleLen returns the byte length of one pass over all frames of format f.
func (s *Set) CycleLen(f Format) int { return len(s.cycle[f]) }

// StreamBytes returns the byte count of n events of format f.
func (s *Set) StreamBytes(f Format, n int) int64 {
	k := len(s.Events)
	return int64(n/k)*int64(len(s.cycle[f])) + int64(s.offs[f][n%k])
}

// Recording is the path of the recorded plain stream, relative to the repository root.
const Recording = "testdata/freeswitch/events-plain-call.s2c"

// FindRecording looks for Recording in dir and its parents.
func FindRecording(dir string) (string, error) {
	for d := dir; ; d = filepath.Dir(d) {
		p := filepath.Join(d, Recording)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("pump: %s not found in %s or its parents", Recording, dir)
		}
	}
}

// LoadFile reads a recorded plain stream (.s2c) and builds the frames.
func LoadFile(path string) (*Set, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Load(b)
}

// Load keeps every text/event-plain message of a recorded server stream: the recorded
// bytes as the plain frame, and the decoded event re-encoded as the JSON frame.
func Load(s2c []byte) (*Set, error) {
	s := &Set{}
	for len(s2c) > 0 {
		end := bytes.Index(s2c, []byte("\n\n"))
		if end < 0 {
			break
		}
		head := string(s2c[:end])
		ct, n := "", 0
		for _, ln := range strings.Split(head, "\n") {
			k, v, _ := strings.Cut(ln, ": ")
			switch k {
			case "Content-Type":
				ct = v
			case "Content-Length":
				n, _ = strconv.Atoi(v)
			}
		}
		if end+2+n > len(s2c) {
			return nil, errors.New("pump: truncated message in the recording")
		}
		msg, body := s2c[:end+2+n], s2c[end+2:end+2+n]
		s2c = s2c[end+2+n:]
		if ct != "text/event-plain" {
			continue
		}
		ev := parsePlain(string(body))
		s.Events = append(s.Events, ev)
		s.frames[Plain] = append(s.frames[Plain], append([]byte(nil), msg...))
		s.frames[JSON] = append(s.frames[JSON], frame("text/event-json", encodeJSON(&ev)))
	}
	if len(s.Events) == 0 {
		return nil, errors.New("pump: no text/event-plain messages in the recording")
	}
	for f := range s.frames {
		for _, fr := range s.frames[f] {
			s.offs[f] = append(s.offs[f], len(s.cycle[f]))
			s.cycle[f] = append(s.cycle[f], fr...)
		}
		s.offs[f] = append(s.offs[f], len(s.cycle[f]))
	}
	return s, nil
}

func frame(ct string, body []byte) []byte {
	b := make([]byte, 0, len(body)+64)
	b = append(b, "Content-Length: "...)
	b = strconv.AppendInt(b, int64(len(body)), 10)
	b = append(b, "\nContent-Type: "...)
	b = append(b, ct...)
	b = append(b, "\n\n"...)
	return append(b, body...)
}

// parsePlain decodes a text/event-plain body as libesl does (spec 13.4): URL-decoded
// values, _undef_ for empty ones, and everything after the blank line as the body when
// the event has a Content-Length header (which is framing, not kept as a header).
func parsePlain(s string) Event {
	head, body, _ := strings.Cut(s, "\n\n")
	var ev Event
	for _, ln := range strings.Split(head, "\n") {
		k, v, ok := strings.Cut(ln, ":")
		if !ok {
			continue
		}
		v = urlDecode(strings.TrimLeft(v, " "))
		if v == "_undef_" {
			v = ""
		}
		if k == "Content-Length" {
			ev.HasBody, ev.Body = true, body
			continue
		}
		ev.Headers = append(ev.Headers, Header{k, v})
	}
	return ev
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

func urlDecode(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) {
			hi, ok1 := unhex(s[i+1])
			lo, ok2 := unhex(s[i+2])
			if ok1 && ok2 {
				b = append(b, hi<<4|lo)
				i += 2
				continue
			}
		}
		b = append(b, s[i])
	}
	return string(b)
}

// encodeJSON writes the compact JSON form of spec 14.7: raw string values, ARRAY::
// values as JSON arrays, and Content-Length and _body last when there is a body.
func encodeJSON(e *Event) []byte {
	b := []byte{'{'}
	first := true
	field := func(name string) {
		if !first {
			b = append(b, ',')
		}
		first = false
		b = appendJSONString(b, name)
		b = append(b, ':')
	}
	for _, h := range e.Headers {
		field(h.Name)
		if items, ok := strings.CutPrefix(h.Value, "ARRAY::"); ok {
			b = append(b, '[')
			for i, it := range strings.Split(items, "|:") {
				if i > 0 {
					b = append(b, ',')
				}
				b = appendJSONString(b, it)
			}
			b = append(b, ']')
			continue
		}
		b = appendJSONString(b, h.Value)
	}
	if e.HasBody {
		field("Content-Length")
		b = appendJSONString(b, strconv.Itoa(len(e.Body)))
		field("_body")
		b = appendJSONString(b, e.Body)
	}
	return append(b, '}')
}

// appendJSONString escapes as cJSON does: quote, backslash and control bytes; other
// bytes (UTF-8 included) stay raw.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\b':
			b = append(b, '\\', 'b')
		case '\f':
			b = append(b, '\\', 'f')
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			if c < 0x20 {
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&15])
			} else {
				b = append(b, c)
			}
		}
	}
	return append(b, '"')
}

// Sum is the order-sensitive checksum every benchmark client computes over the values
// of Event-Name, Unique-ID and Event-Date-Timestamp (a missing header counts as ""):
// FNV-1a 64 over each value followed by a NUL byte, chained over all events.
type Sum struct {
	H uint64
	N uint64
}

// NewSum returns the checksum of no events.
func NewSum() Sum { return Sum{H: fnvOffset} }

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

// Add folds one event's three values into the checksum.
func (s *Sum) Add(name, uid, ts string) {
	h := s.H
	for _, v := range [3]string{name, uid, ts} {
		for i := 0; i < len(v); i++ {
			h ^= uint64(v[i])
			h *= fnvPrime
		}
		h *= fnvPrime // the NUL separator: h ^= 0 then multiply
	}
	s.H = h
	s.N++
}

// Expected returns the checksum of n events streamed from the set.
func (s *Set) Expected(n int) Sum {
	sum := NewSum()
	k := len(s.Events)
	for i := 0; i < n; i++ {
		e := &s.Events[i%k]
		sum.Add(e.Get("Event-Name"), e.Get("Unique-ID"), e.Get("Event-Date-Timestamp"))
	}
	return sum
}

// Terminators returns the offsets of every "\n\n" in frame (non-overlapping, in order).
func Terminators(frame []byte) []int {
	var out []int
	for i := 0; ; {
		j := bytes.Index(frame[i:], []byte("\n\n"))
		if j < 0 {
			return out
		}
		out = append(out, i+j)
		i += j + 2
	}
}
