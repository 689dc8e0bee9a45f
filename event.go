package esl

import (
	"iter"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"unsafe"

	"github.com/cgoesl/esl/internal/ascii"
)

// Priority is the priority of an event (esl_priority_t).
type Priority int

// Event priorities; SetPriority also adds a "priority" header with the name.
const (
	PriorityNormal Priority = 0
	PriorityLow    Priority = 1
	PriorityHigh   Priority = 2
)

// String returns NORMAL, LOW, HIGH or INVALID, as esl_priority_name does.
func (p Priority) String() string {
	switch p {
	case PriorityNormal:
		return "NORMAL"
	case PriorityLow:
		return "LOW"
	case PriorityHigh:
		return "HIGH"
	}
	return "INVALID"
}

// Insertion modes of esl_event_add_header (esl_stack_t). The original tests these
// consecutive values as bit flags, which gives the documented quirks (spec section 5).
const (
	stackBottom  = 0
	stackTop     = 1
	stackPush    = 2
	stackUnshift = 3
)

type header struct {
	name  string
	value string   // the scalar value, or the rendered form of an array
	array []string // elements of an array header; nil for a scalar header
}

// Event is one FreeSWITCH event or reply: an ordered list of headers (names compare
// case-insensitively, duplicates allowed) and an optional body. It is a plain Go value:
// received events hold no C memory and need no freeing. An Event is not safe for
// concurrent mutation; reading it from several goroutines is fine.
//
// Methods on a nil *Event behave like the SWIG methods on an empty ESLevent: getters
// return "" (or "invalid" for GetType), setters return false.
type Event struct {
	id       int
	priority Priority
	headers  []header // formHeaders
	form     uint8    // how the headers are held (formHeaders, ...)
	textLen  uint32
	memberAt []uint16       // text forms, when C gave the table: where each header's member (JSON) or line (plain) starts in data; plain: then each one's name length
	table    unsafe.Pointer // text forms: *[]header once built (atomic: readers may build it at once)
	data     string
	recs     []rec
	spans    []span
	body     string
	hasBody  bool
	cursor   int
	lease    *[]byte // the pooled buffer data points into, while the event is lent (event_lend.go)
}

// How an Event holds its headers.
const (
	formHeaders   = iota // a slice of headers (built, or changed after receipt)
	formPacked           // recs and spans into data (see event_packed.go)
	formPlainText        // the lines of data[:textLen], a plain event's header section (see event_text.go)
	formJSONText         // the members of data, a JSON object of string members (see event_text.go)
)

// ESLevent is the name of the type in the SWIG bindings.
type ESLevent = Event

// NewEvent is the twin of new ESLevent(type, subclass). The type is an event name
// ("CUSTOM", "CHANNEL_ANSWER", "SWITCH_EVENT_CUSTOM"...; unknown names give MESSAGE). A
// non-empty subclass forces the type to CUSTOM and adds Event-Subclass. With type "json",
// the subclass argument is JSON text to parse instead; invalid JSON gives nil (the SWIG
// constructor crashes there).
func NewEvent(eventType string, subclass ...string) *Event {
	sub := ""
	if len(subclass) > 0 {
		sub = subclass[0]
	}
	if ascii.EqualFold(eventType, "json") && sub != "" {
		e, err := NewEventJSON(sub)
		if err != nil {
			logGo(LogLevelError, "esl: invalid JSON for a new event", slog.String("error", err.Error()))
			return nil
		}
		return e
	}
	id, ok := nameEvent(eventType)
	if !ok {
		id = evMessage
	}
	if sub != "" && id != evCustom {
		logGo(LogLevelWarning, "esl: an event with a subclass must be CUSTOM; changing the type",
			slog.String("type", eventType), slog.String("subclass", sub))
		id = evCustom
	}
	return newEventID(id, sub)
}

// newEventID is esl_event_create_subclass: CLONE keeps id 0 and gets no Event-Name.
func newEventID(id int, subclass string) *Event {
	e := &Event{}
	if id != evClone {
		e.id = id
		e.addHeader(stackBottom, "Event-Name", eventName(id))
	}
	if subclass != "" {
		e.addHeader(stackBottom, "Event-Subclass", subclass)
	}
	return e
}

func nilEvent(op string) {
	logGo(LogLevelError, "esl: object is not initialized", slog.String("op", op))
}

// Serialize is the twin of ESLevent::serialize. "json" (any case) gives the pretty-printed
// JSON of esl_event_serialize_json; anything else, including "", "plain" and "xml", gives
// the plain text form with URL-encoded values, as the SWIG method does (there is no XML
// serializer).
func (e *Event) Serialize(format ...string) string {
	if e == nil {
		return ""
	}
	if len(format) > 0 && ascii.EqualFold(format[0], "json") {
		return e.serializeJSON()
	}
	return e.serializePlain(true)
}

// String returns the plain serialization.
func (e *Event) String() string { return e.Serialize() }

// SetPriority is the twin of ESLevent::setPriority: it stores the priority and sets the
// "priority" header (TOP insertion, as esl_event_set_priority does).
func (e *Event) SetPriority(p Priority) bool {
	if e == nil {
		nilEvent("setPriority")
		return false
	}
	e.priority = p
	e.addHeader(stackTop, "priority", p.String())
	return true
}

// Priority returns the priority stored by SetPriority (or received from the library).
func (e *Event) Priority() Priority {
	if e == nil {
		return PriorityNormal
	}
	return e.priority
}

// GetHeader is the twin of ESLevent::getHeader: the value of the first header with that
// name (case-insensitive), or with idx >= 0 element idx of an array header. "" when
// missing (SWIG returns NULL). The name "_body" falls back to the body.
func (e *Event) GetHeader(name string, idx ...int) string {
	v, _ := e.header(name, idx...)
	return v
}

// Header returns the value of the first header with that name and whether it exists.
func (e *Event) Header(name string) (string, bool) { return e.header(name) }

func (e *Event) header(name string, idx ...int) (string, bool) {
	if e == nil {
		return "", false
	}
	if e.isText() {
		v, ok := e.textHeader(name)
		switch {
		case !ok && name == "_body" && e.hasBody:
			return e.body, true
		case !ok || len(idx) > 0 && idx[0] > -1:
			// a text event has no array headers
			return "", false
		}
		return v, true
	}
	i := e.find(name)
	if i < 0 {
		if name == "_body" && e.hasBody {
			return e.body, true
		}
		return "", false
	}
	if len(idx) > 0 && idx[0] > -1 {
		if idx[0] < e.nelemAt(i) {
			return e.elemAt(i, idx[0]), true
		}
		return "", false
	}
	return e.valueAt(i), true
}

// HeaderValues returns the elements of an array header, or the value of a scalar header
// as a one-element slice; nil when missing.
func (e *Event) HeaderValues(name string) []string {
	if e == nil {
		return nil
	}
	if e.isText() {
		if v, ok := e.textHeader(name); ok {
			return []string{v}
		}
		return nil
	}
	i := e.find(name)
	if i < 0 {
		return nil
	}
	if a := e.arrayAt(i); a != nil {
		return append([]string(nil), a...)
	}
	return []string{e.valueAt(i)}
}

// GetBody is the twin of ESLevent::getBody ("" when there is no body).
func (e *Event) GetBody() string {
	if e == nil {
		return ""
	}
	return e.body
}

// Body returns the body ("" when there is none).
func (e *Event) Body() string { return e.GetBody() }

// HasBody reports whether the event has a body (possibly empty).
func (e *Event) HasBody() bool { return e != nil && e.hasBody }

// GetType is the twin of ESLevent::getType: the name of the event id ("invalid" for a nil
// event). Received messages that are not events (replies) are SOCKET_DATA.
func (e *Event) GetType() string {
	if e == nil {
		return "invalid"
	}
	return eventName(e.id)
}

// Type is GetType.
func (e *Event) Type() string { return e.GetType() }

// ContentType returns the Content-Type header (command/reply, api/response, ...).
func (e *Event) ContentType() string { return e.GetHeader("Content-Type") }

// ReplyText returns the Reply-Text header of a command/reply.
func (e *Event) ReplyText() string { return e.GetHeader("Reply-Text") }

// AddBody is the twin of ESLevent::addBody. Like the original it replaces the body.
func (e *Event) AddBody(v string) bool {
	if e == nil {
		nilEvent("addBody")
		return false
	}
	e.body, e.hasBody = v, true
	return true
}

// AddHeader is the twin of ESLevent::addHeader: appends a header (BOTTOM insertion), with
// libesl's rules: an empty value deletes every header of that name, a value containing
// "ARRAY::" becomes an array header, and "name[N]" sets element N of an array.
func (e *Event) AddHeader(name, v string) bool {
	if e == nil {
		nilEvent("addHeader")
		return false
	}
	e.addHeader(stackBottom, name, v)
	return true
}

// PushHeader is the twin of ESLevent::pushHeader: appends v to the array header name,
// creating it (at the end) when missing.
func (e *Event) PushHeader(name, v string) bool {
	if e == nil {
		nilEvent("pushHeader")
		return false
	}
	e.addHeader(stackPush, name, v)
	return true
}

// UnshiftHeader is the twin of ESLevent::unshiftHeader. As in libesl it appends v to an
// existing header's array; a new header goes to the front of the list.
func (e *Event) UnshiftHeader(name, v string) bool {
	if e == nil {
		nilEvent("unshiftHeader")
		return false
	}
	e.addHeader(stackUnshift, name, v)
	return true
}

// DelHeader is the twin of ESLevent::delHeader: removes every header of that name. Like
// the original it returns true whether or not anything was removed.
func (e *Event) DelHeader(name string) bool {
	if e == nil {
		nilEvent("delHeader")
		return false
	}
	e.delHeader(name, "")
	return true
}

// FirstHeader is the twin of ESLevent::firstHeader: rewinds the cursor and returns the
// first header name ("" for an event without headers). Read values with GetHeader.
func (e *Event) FirstHeader() string {
	if e == nil {
		return ""
	}
	e.cursor = 0
	return e.NextHeader()
}

// NextHeader is the twin of ESLevent::nextHeader: the next header name, "" at the end.
// An array header counts once.
func (e *Event) NextHeader() string {
	if e == nil || e.cursor >= e.count() {
		return ""
	}
	e.cursor++
	return e.nameAt(e.cursor - 1)
}

// Headers iterates over the headers in order: name and value (the rendered ARRAY::
// form for array headers).
func (e *Event) Headers() iter.Seq2[string, string] {
	return func(yield func(string, string) bool) {
		if e == nil {
			return
		}
		for i := 0; i < e.count(); i++ {
			if !yield(e.nameAt(i), e.valueAt(i)) {
				return
			}
		}
	}
}

// Len returns the number of headers.
func (e *Event) Len() int {
	if e == nil {
		return 0
	}
	return e.count()
}

// Clone returns a deep copy (strings are shared, being immutable).
func (e *Event) Clone() *Event {
	if e == nil {
		return nil
	}
	// Field by field: table may be written by another reader at the same time.
	c := Event{id: e.id, priority: e.priority, headers: e.headers, form: e.form, textLen: e.textLen,
		memberAt: e.memberAt, table: atomic.LoadPointer(&e.table), data: e.data, recs: e.recs, spans: e.spans,
		body: e.body, hasBody: e.hasBody}
	if e.lent() {
		// the copy must not point into a buffer that will be reused
		c.data = strings.Clone(e.data)
		c.memberAt = slices.Clone(e.memberAt)
	}
	if e.form != formHeaders {
		// The packed tables, the text and its header table are never written to: the copy
		// shares them.
		return &c
	}
	c.headers = make([]header, len(e.headers))
	copy(c.headers, e.headers)
	for i := range c.headers {
		if a := c.headers[i].array; a != nil {
			c.headers[i].array = append([]string(nil), a...)
		}
	}
	return &c
}

// find returns the index of the first header named name (ASCII case-insensitive, as
// libesl compares), or -1. Not for the text forms: they answer lookups from their text
// (textHeader), and every change converts them first.
func (e *Event) find(name string) int {
	if e.form == formPacked {
		for i := range e.recs {
			r := &e.recs[i]
			if ascii.EqualFold(e.data[r.nameOff:r.nameOff+r.nameLen], name) {
				return i
			}
		}
		return -1
	}
	for i := range e.headers {
		if ascii.EqualFold(e.headers[i].name, name) {
			return i
		}
	}
	return -1
}

// delHeader is esl_event_del_header_val: removes every header named name whose value is
// val (any value when val is "").
func (e *Event) delHeader(name, val string) {
	e.unpack()
	out := e.headers[:0]
	for _, h := range e.headers {
		if ascii.EqualFold(h.name, name) && (val == "" || h.value == val) {
			continue
		}
		out = append(out, h)
	}
	clear(e.headers[len(out):])
	e.headers = out
	if e.cursor > len(e.headers) {
		e.cursor = len(e.headers)
	}
}

// render is the value of an array header: the element alone, or ARRAY::e0|:e1|:...
func render(a []string) string {
	switch len(a) {
	case 0:
		return ""
	case 1:
		return a[0]
	}
	return "ARRAY::" + strings.Join(a, "|:")
}

// addHeader reproduces esl_event_add_header_string with the original's enum values, whose
// bit tests decide the observable behaviour (spec section 5, quirk Q32).
func (e *Event) addHeader(stack int, name, data string) {
	e.unpack()
	if name == "_body" {
		e.body, e.hasBody = data, true
	}
	if i := strings.IndexByte(name, '['); i >= 0 {
		e.addIndexed(stack, name[:i], atoi(name[i+1:]), data)
		return
	}
	if stack&stackPush != 0 || stack&stackUnshift != 0 {
		// PUSH, UNSHIFT and (by the bit test) TOP act on an existing header in place.
		if i := e.find(name); i >= 0 {
			h := &e.headers[i]
			if stack&^stackTop == 0 {
				// TOP: overwrite the value; an array keeps its elements.
				h.value = data
				return
			}
			if h.array == nil {
				h.array = []string{h.value}
			}
			h.array = append(h.array, data)
			h.value = render(h.array)
			return
		}
	}
	// A brand-new header.
	if data == "" {
		e.delHeader(name, "")
		return
	}
	if strings.Contains(data, "ARRAY::") {
		e.addArray(name, data)
		return
	}
	h := header{name: name, value: data}
	if stack&stackPush != 0 || stack&stackUnshift != 0 {
		h.array = []string{data}
	}
	if stack&stackTop != 0 {
		e.headers = append(e.headers, header{})
		copy(e.headers[1:], e.headers)
		e.headers[0] = h
		if e.cursor > 0 {
			e.cursor++
		}
		return
	}
	e.headers = append(e.headers, h)
}

// addIndexed handles "name[N]": set element N of an array header, creating the header
// or growing the array with empty elements as needed. N outside 0..4000 does nothing.
func (e *Event) addIndexed(stack int, name string, n int, data string) {
	e.unpack()
	if n < 0 || n > 4000 {
		return
	}
	i := e.find(name)
	if i >= 0 && n < len(e.headers[i].array) {
		// Replaced in place; like the original, the rendered value is not rebuilt.
		e.headers[i].array[n] = data
		return
	}
	var h header
	if i >= 0 {
		h = e.headers[i]
	} else {
		h = header{name: name}
	}
	for len(h.array) < n {
		h.array = append(h.array, "")
	}
	if h.array == nil {
		h.array = make([]string, 0, 1)
	}
	h.array = append(h.array, data)
	h.value = render(h.array)
	switch {
	case i >= 0:
		e.headers[i] = h
	case stack&stackTop != 0:
		e.headers = append([]header{h}, e.headers...)
	default:
		e.headers = append(e.headers, h)
	}
}

// addArray is esl_event_add_array: drops the first 7 bytes of the value (meant to be
// "ARRAY::"), splits the rest on "|:" and pushes each piece.
func (e *Event) addArray(name, val string) {
	if len(val) < 8 {
		return
	}
	e.pushAll(name, strings.Split(val[7:], "|:"))
}

// pushAll pushes each value onto the array header name, exactly as one
// addHeader(stackPush, name, v) per value would, in time linear in the values: the rendered
// value is built once at the end, not after every element.
func (e *Event) pushAll(name string, vals []string) {
	e.unpack()
	if name == "_body" || strings.IndexByte(name, '[') >= 0 {
		// These names have side effects per element; they are rare enough to go one by one.
		for _, v := range vals {
			e.addHeader(stackPush, name, v)
		}
		return
	}
	i := e.find(name)
	for len(vals) > 0 && i < 0 {
		// Until the header exists, each value follows the rules of a new header (an empty
		// one is dropped, one containing ARRAY:: is split again).
		e.addHeader(stackPush, name, vals[0])
		vals = vals[1:]
		i = e.find(name)
	}
	if len(vals) == 0 {
		return
	}
	// Pushed onto an existing header, every value is appended as it is.
	h := &e.headers[i]
	if h.array == nil {
		h.array = []string{h.value}
	}
	h.array = append(h.array, vals...)
	h.value = render(h.array)
}

// atoi parses like C's atoi: optional space and sign, then digits; anything else ends it.
func atoi(s string) int {
	i := 0
	for i < len(s) && (s[i] == ' ' || (s[i] >= '\t' && s[i] <= '\r')) {
		i++
	}
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	n := 0
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		n = n*10 + int(s[i]-'0')
		if n > 1<<31 {
			n = 1 << 31
		}
	}
	if neg {
		return -n
	}
	return n
}

// cstr cuts s at its first NUL, as the C serializers see it.
func cstr(s string) string {
	if i := strings.IndexByte(s, 0); i >= 0 {
		return s[:i]
	}
	return s
}

// serializePlain is esl_event_serialize: "Name: value\n" per header (values URL-encoded
// when encode is set, "_undef_" when empty), then Content-Length and the body, or one LF.
func (e *Event) serializePlain(encode bool) string {
	var b strings.Builder
	n := 16
	for i := 0; i < e.count(); i++ {
		n += len(e.nameAt(i)) + 3*len(e.valueAt(i)) + 4
	}
	b.Grow(n + len(e.body) + 32)
	for i := 0; i < e.count(); i++ {
		b.WriteString(cstr(e.nameAt(i)))
		b.WriteString(": ")
		v := cstr(e.valueAt(i))
		if v == "" {
			b.WriteString("_undef_")
		} else if encode {
			urlEncode(&b, v)
		} else {
			b.WriteString(v)
		}
		b.WriteByte('\n')
	}
	if body := cstr(e.body); e.hasBody && body != "" {
		b.WriteString("Content-Length: ")
		b.WriteString(strconv.Itoa(len(body)))
		b.WriteString("\n\n")
		b.WriteString(body)
	} else {
		b.WriteByte('\n')
	}
	return b.String()
}

const upperHex = "0123456789ABCDEF"

// urlUnsafe marks the bytes esl_url_encode escapes besides controls and non-ASCII.
var urlUnsafe = func() (t [256]bool) {
	for i := 0; i < 256; i++ {
		t[i] = i < 0x20 || i > 0x7e
	}
	for _, c := range "\r\n \"#%&+:;<=>?@[\\]^`{|}" {
		t[c] = true
	}
	return t
}()

func urlEncode(b *strings.Builder, s string) {
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !urlUnsafe[c] {
			continue
		}
		b.WriteString(s[start:i])
		b.WriteByte('%')
		b.WriteByte(upperHex[c>>4])
		b.WriteByte(upperHex[c&15])
		start = i + 1
	}
	b.WriteString(s[start:])
}

// urlEncodeString percent-encodes s as esl_url_encode does.
func urlEncodeString(s string) string {
	var b strings.Builder
	urlEncode(&b, s)
	return b.String()
}
