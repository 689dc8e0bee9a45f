package esl

import (
	"strings"
	"sync/atomic"
	"unsafe"

	"github.com/cgoesl/esl/internal/ascii"
)

// A received plain or JSON event that none of libesl's header rules would change (the C
// side checks: esl_wire_plain_check, esl_wire_json_check) stays as the text it arrived in:
// every line of a plain event's header section with a ':' is one header, in order, and so
// is every member of a JSON event but "_body" (all of them strings, their names without
// escapes). GetHeader walks the text and decodes only the value it returns, so an event
// costs one copy of its text and nothing per header that is never asked for. The first
// call that needs every header (Len, Headers, Serialize, a change, ...) builds the header
// table once; it is published atomically, because an Event may be read from several
// goroutines at once.

// isText reports whether the event is held in one of the text forms.
func (e *Event) isText() bool { return e.form == formPlainText || e.form == formJSONText }

// textHeader finds the first header named name (ASCII case-insensitive) in a text event.
// The value may be kept by the caller, also from a lent event.
func (e *Event) textHeader(name string) (string, bool) {
	v, ok := e.findText(name)
	return e.keep(v), ok
}

// findText is textHeader's walk; its value may point into the event's text.
func (e *Event) findText(name string) (string, bool) {
	if e.form == formJSONText && e.memberAt != nil {
		// C's table of where the members start: each name is compared in place (it has no
		// escapes, C checked), and only the member found is read further. Such a name ends at
		// the first quote after it, so a name with a quote is none of them (compared in place,
		// it would run on into the member's value).
		if strings.IndexByte(name, '"') >= 0 {
			return "", false
		}
		d := e.data
		for _, at := range e.memberAt {
			if k := int(at) + 1; k+len(name) < len(d) && d[k+len(name)] == '"' && ascii.EqualFold(d[k:k+len(name)], name) {
				_, val, _, _ := jsonMember(d, int(at))
				return jsonValue(val), true
			}
		}
		return "", false
	}
	if e.form == formJSONText {
		for p, ok := jsonStart(e.data), true; ok; {
			var key, val string
			key, val, p, ok = jsonMember(e.data, p)
			if ok && ascii.EqualFold(key, name) && !isBodyKey(key) {
				return jsonValue(val), true
			}
		}
		return "", false
	}
	if strings.IndexByte(name, ':') >= 0 {
		// a plain header's name ends at the first ':' of its line, so it never holds one
		return "", false
	}
	h := e.data[:e.textLen]
	if n := len(e.memberAt) / 2; n > 0 {
		// C's table of the header lines: where each starts, then how long its name is (up to
		// the line's first ':'). Only the lines whose name is as long as the one asked for are
		// looked at; the text of the others is not touched.
		starts, lens := e.memberAt[:n], e.memberAt[n:2*n]
		for i, l := range lens {
			if int(l) != len(name) {
				continue
			}
			if at := int(starts[i]); at+len(name) < len(h) && ascii.EqualFold(h[at:at+len(name)], name) {
				v := h[at+len(name)+1:]
				if i := strings.IndexByte(v, '\n'); i >= 0 {
					v = v[:i]
				}
				return plainValue(v), true
			}
		}
		return "", false
	}
	for len(h) > len(name) {
		line := h
		if i := strings.IndexByte(h, '\n'); i >= 0 {
			line, h = h[:i], h[i+1:]
		} else {
			h = ""
		}
		if len(line) > len(name) && line[len(name)] == ':' && ascii.EqualFold(line[:len(name)], name) {
			return plainValue(line[len(name)+1:]), true
		}
	}
	return "", false
}

// textTable returns the headers of a text event, building them on first use.
func (e *Event) textTable() []header {
	if p := (*[]header)(atomic.LoadPointer(&e.table)); p != nil {
		return *p
	}
	var hs []header
	data := e.data
	if e.lent() {
		// the table outlives the loan (Clone shares it): its strings point into a copy
		data = strings.Clone(data)
	}
	if e.form == formJSONText {
		for p, ok := jsonStart(data), true; ok; {
			var key, val string
			if key, val, p, ok = jsonMember(data, p); ok && !isBodyKey(key) {
				hs = append(hs, header{name: key, value: jsonValue(val)})
			}
		}
	} else {
		h := data[:e.textLen]
		hs = make([]header, 0, strings.Count(h, "\n")+1)
		for len(h) > 0 {
			line := h
			if i := strings.IndexByte(h, '\n'); i >= 0 {
				line, h = h[:i], h[i+1:]
			} else {
				h = ""
			}
			if i := strings.IndexByte(line, ':'); i >= 0 {
				hs = append(hs, header{name: line[:i], value: plainValue(line[i+1:])})
			}
		}
	}
	// Two goroutines may build it at once; both tables are the same, the first one stays.
	if !atomic.CompareAndSwapPointer(&e.table, nil, unsafe.Pointer(&hs)) {
		return *(*[]header)(atomic.LoadPointer(&e.table))
	}
	return hs
}

// isBodyKey reports whether a JSON member is the body ("_body", any case), not a header.
func isBodyKey(key string) bool {
	return ascii.EqualFold(key, "_body")
}

// jsonStart is where the first member of a JSON text event starts: after the '{'.
func jsonStart(d string) int {
	return strings.IndexByte(d, '{') + 1
}

// jsonMember reads the member at d[p:] of a JSON text event (checked by C: string members,
// names without escapes): its name and raw value, and where the next member starts. ok is
// false at the end of the object.
func jsonMember(d string, p int) (key, val string, next int, ok bool) {
	p = skipJSONSpace(d, p)
	if p >= len(d) || d[p] != '"' {
		return "", "", p, false
	}
	k := strings.IndexByte(d[p+1:], '"')
	key = d[p+1 : p+1+k]
	p = skipJSONSpace(d, p+k+2) // at ':'
	p = skipJSONSpace(d, p+1)   // at the value's opening quote
	start, end := p+1, p+1
	for {
		end += strings.IndexByte(d[end:], '"')
		// a quote after an odd run of backslashes belongs to the value
		b := end
		for b > start && d[b-1] == '\\' {
			b--
		}
		if (end-b)%2 == 0 {
			break
		}
		end++
	}
	p = skipJSONSpace(d, end+1)
	if p < len(d) && d[p] == ',' {
		p++
	}
	return key, d[start:end], p, true
}

func skipJSONSpace(d string, p int) int {
	for p < len(d) && (d[p] == ' ' || d[p] == '\t' || d[p] == '\n' || d[p] == '\r') {
		p++
	}
	return p
}

// jsonValue decodes a raw JSON string value that has no \u escapes (C declined those).
func jsonValue(v string) string {
	i := strings.IndexByte(v, '\\')
	if i < 0 {
		return v
	}
	b := make([]byte, 0, len(v))
	for i >= 0 && i+1 < len(v) {
		c, _ := jsonEscape(v[i+1]) // C checked the escapes, and let no \u through
		b = append(b, v[:i]...)
		b = append(b, c)
		v = v[i+2:]
		i = strings.IndexByte(v, '\\')
	}
	b = append(b, v...)
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// plainValue is a header value as the plain parser gives it: the rest of the line after the
// spaces that follow the colon, URL-decoded. Only '%' with two hex digits is an escape, and
// "%00" stays as it is (decoding it would cut the value in C).
func plainValue(v string) string {
	for len(v) > 0 && v[0] == ' ' {
		v = v[1:]
	}
	if strings.IndexByte(v, '%') < 0 {
		return v
	}
	b := make([]byte, 0, len(v))
	for {
		i := strings.IndexByte(v, '%')
		if i < 0 {
			b = append(b, v...)
			break
		}
		b = append(b, v[:i]...)
		if i+2 < len(v) {
			hi, lo := unhex(v[i+1]), unhex(v[i+2])
			if hi >= 0 && lo >= 0 && hi|lo != 0 {
				b = append(b, byte(hi<<4|lo))
				v = v[i+3:]
				continue
			}
		}
		b = append(b, '%')
		v = v[i+1:]
	}
	return unsafe.String(unsafe.SliceData(b), len(b))
}

func unhex(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c-'a') + 10
	case 'A' <= c && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}
