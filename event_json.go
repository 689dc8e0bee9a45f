package esl

import (
	"errors"
	"strconv"
	"strings"
	"unicode/utf16"

	"github.com/cgoesl/esl/internal/ascii"
)

// serializeJSON produces exactly what esl_event_serialize_json prints: cJSON's formatted
// style (one member per line, a tab of indentation, ":\t" after the key, arrays inline
// with ", "), strings cut at NUL as C sees them, and "Content-Length" and "_body" last
// when there is a body.
func (e *Event) serializeJSON() string {
	var b strings.Builder
	n := 8 + len(e.body)
	for i := 0; i < e.count(); i++ {
		n += len(e.nameAt(i)) + len(e.valueAt(i)) + 8
	}
	b.Grow(n)
	b.WriteByte('{')
	b.WriteByte('\n')
	members := e.count()
	if e.hasBody {
		members += 2
	}
	m := 0
	member := func(name string) {
		b.WriteByte('\t')
		jsonString(&b, name)
		b.WriteString(":\t")
	}
	end := func() {
		m++
		if m < members {
			b.WriteByte(',')
		}
		b.WriteByte('\n')
	}
	for i := 0; i < e.count(); i++ {
		member(e.nameAt(i))
		if k := e.nelemAt(i); k > 0 {
			b.WriteByte('[')
			for j := 0; j < k; j++ {
				if j > 0 {
					b.WriteString(", ")
				}
				jsonString(&b, e.elemAt(i, j))
			}
			b.WriteByte(']')
		} else {
			jsonString(&b, e.valueAt(i))
		}
		end()
	}
	if e.hasBody {
		body := cstr(e.body)
		member("Content-Length")
		jsonString(&b, strconv.Itoa(len(body)))
		end()
		member("_body")
		jsonString(&b, body)
		end()
	}
	b.WriteByte('}')
	return b.String()
}

// jsonString writes s as cJSON prints a string: the usual short escapes, \u00xx (lower
// case) for other control bytes, everything else raw.
func jsonString(b *strings.Builder, s string) {
	s = cstr(s)
	b.WriteByte('"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		b.WriteString(s[start:i])
		switch c {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			b.WriteString(`\u00`)
			b.WriteByte("0123456789abcdef"[c>>4])
			b.WriteByte("0123456789abcdef"[c&15])
		}
		start = i + 1
	}
	b.WriteString(s[start:])
	b.WriteByte('"')
}

var errJSON = errors.New("invalid JSON")

// NewEventJSON parses a JSON object into a new event, as esl_event_create_json does:
// members in order; "_body" (any case) becomes the body (literally: the original's use of
// it as a printf format is not reproduced); "Event-Name" (any case) replaces earlier
// Event-Name headers and sets the type; other strings are added as headers, arrays of
// strings as array headers; numbers, booleans, null and objects are ignored. Like the
// original, an event made from JSON starts as a CLONE (type CUSTOM, no Event-Name).
func NewEventJSON(text string) (*Event, error) {
	p := jsonParser{s: text}
	e := &Event{}
	if err := p.object(e); err != nil {
		return nil, newError("json", err.Error(), ErrBadArgument)
	}
	return e, nil
}

type jsonParser struct {
	s     string
	i     int
	depth int
}

func (p *jsonParser) fail(what string) error {
	return errors.New(what + " at offset " + strconv.Itoa(p.i))
}

func (p *jsonParser) ws() {
	// cJSON skips every byte up to and including space.
	for p.i < len(p.s) && p.s[p.i] <= ' ' {
		p.i++
	}
}

func (p *jsonParser) peek() byte {
	if p.i < len(p.s) {
		return p.s[p.i]
	}
	return 0
}

// object parses the top-level object into e. Text after it is ignored, as cJSON_Parse does.
func (p *jsonParser) object(e *Event) error {
	p.ws()
	if p.peek() != '{' {
		return p.fail("expected an object")
	}
	p.i++
	p.ws()
	if p.peek() == '}' {
		p.i++
		return nil
	}
	for {
		p.ws()
		if p.peek() != '"' {
			return p.fail("expected a member name")
		}
		name, err := p.str()
		if err != nil {
			return err
		}
		p.ws()
		if p.peek() != ':' {
			return p.fail("expected ':'")
		}
		p.i++
		p.ws()
		switch p.peek() {
		case '"':
			v, err := p.str()
			if err != nil {
				return err
			}
			switch {
			case ascii.EqualFold(name, "_body"):
				e.body, e.hasBody = v, true
			case ascii.EqualFold(name, "event-name"):
				e.delHeader("Event-Name", "")
				if id, ok := nameEvent(v); ok {
					e.id = id
				}
				e.addHeader(stackBottom, name, v)
			default:
				e.addHeader(stackBottom, name, v)
			}
		case '[':
			if err := p.array(e, name); err != nil {
				return err
			}
		default:
			if err := p.skip(); err != nil {
				return err
			}
		}
		p.ws()
		switch p.peek() {
		case ',':
			p.i++
		case '}':
			p.i++
			return nil
		default:
			return p.fail("expected ',' or '}'")
		}
	}
}

// array pushes the string elements of a member's array and skips the others.
func (p *jsonParser) array(e *Event, name string) error {
	p.i++ // '['
	p.ws()
	if p.peek() == ']' {
		p.i++
		return nil
	}
	var vals []string
	for {
		p.ws()
		if p.peek() == '"' {
			v, err := p.str()
			if err != nil {
				return err
			}
			vals = append(vals, v)
		} else if err := p.skip(); err != nil {
			return err
		}
		p.ws()
		switch p.peek() {
		case ',':
			p.i++
		case ']':
			p.i++
			// One push per element, in linear time.
			e.pushAll(name, vals)
			return nil
		default:
			return p.fail("expected ',' or ']'")
		}
	}
}

// skip parses and discards one value.
func (p *jsonParser) skip() error {
	p.ws()
	switch c := p.peek(); {
	case c == '"':
		_, err := p.str()
		return err
	case c == '{' || c == '[':
		if p.depth++; p.depth > 1000 {
			return p.fail("nesting too deep")
		}
		defer func() { p.depth-- }()
		closeCh := byte('}')
		if c == '[' {
			closeCh = ']'
		}
		p.i++
		p.ws()
		if p.peek() == closeCh {
			p.i++
			return nil
		}
		for {
			p.ws()
			if c == '{' {
				if p.peek() != '"' {
					return p.fail("expected a member name")
				}
				if _, err := p.str(); err != nil {
					return err
				}
				p.ws()
				if p.peek() != ':' {
					return p.fail("expected ':'")
				}
				p.i++
			}
			if err := p.skip(); err != nil {
				return err
			}
			p.ws()
			switch p.peek() {
			case ',':
				p.i++
			case closeCh:
				p.i++
				return nil
			default:
				return p.fail("unterminated container")
			}
		}
	case c == '-' || (c >= '0' && c <= '9'):
		start := p.i
		for p.i < len(p.s) && strings.IndexByte("+-0123456789.eE", p.s[p.i]) >= 0 {
			p.i++
		}
		if _, err := strconv.ParseFloat(p.s[start:p.i], 64); err != nil {
			return p.fail("bad number")
		}
		return nil
	default:
		for _, lit := range []string{"true", "false", "null"} {
			if strings.HasPrefix(p.s[p.i:], lit) {
				p.i += len(lit)
				return nil
			}
		}
		return p.fail("unexpected character")
	}
}

// str parses a string; the bytes are kept as they are (no UTF-8 validation, like cJSON).
func (p *jsonParser) str() (string, error) {
	p.i++ // opening quote
	start := p.i
	for p.i < len(p.s) && p.s[p.i] != '"' && p.s[p.i] != '\\' {
		p.i++
	}
	if p.i < len(p.s) && p.s[p.i] == '"' {
		p.i++
		return p.s[start : p.i-1], nil
	}
	var b strings.Builder
	b.WriteString(p.s[start:p.i])
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch {
		case c == '"':
			p.i++
			return b.String(), nil
		case c != '\\':
			b.WriteByte(c)
			p.i++
			continue
		}
		if p.i+1 >= len(p.s) {
			break
		}
		esc := p.s[p.i+1]
		p.i += 2
		if d, ok := jsonEscape(esc); ok {
			b.WriteByte(d)
			continue
		}
		switch esc {
		case 'u':
			r, ok := p.hex4()
			if !ok {
				return "", p.fail("bad \\u escape")
			}
			if utf16.IsSurrogate(r) {
				if r >= 0xdc00 || !strings.HasPrefix(p.s[p.i:], `\u`) {
					return "", p.fail("bad surrogate")
				}
				p.i += 2
				r2, ok := p.hex4()
				if !ok || r2 < 0xdc00 || r2 > 0xdfff {
					return "", p.fail("bad surrogate")
				}
				r = utf16.DecodeRune(r, r2)
			}
			b.WriteRune(r)
		default:
			return "", p.fail("bad escape")
		}
	}
	return "", p.fail("unterminated string")
}

// jsonEscape is the byte a one-character JSON escape (the letter after the backslash)
// stands for; false for 'u' and for anything that is no escape.
func jsonEscape(c byte) (byte, bool) {
	switch c {
	case '"', '\\', '/':
		return c, true
	case 'b':
		return '\b', true
	case 'f':
		return '\f', true
	case 'n':
		return '\n', true
	case 'r':
		return '\r', true
	case 't':
		return '\t', true
	}
	return 0, false
}

func (p *jsonParser) hex4() (rune, bool) {
	if p.i+4 > len(p.s) {
		return 0, false
	}
	v, err := strconv.ParseUint(p.s[p.i:p.i+4], 16, 32)
	if err != nil {
		return 0, false
	}
	p.i += 4
	return rune(v), true
}
