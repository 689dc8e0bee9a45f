package esltest

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// format is the event encoding a listener asked for with `event <fmt> ...`.
type format int

const (
	formatPlain format = iota
	formatJSON
	formatXML
)

func (f format) String() string {
	switch f {
	case formatJSON:
		return "json"
	case formatXML:
		return "xml"
	}
	return "plain"
}

const hexUpper = "0123456789ABCDEF"

// urlUnsafe marks the bytes the server percent-encodes (spec 7, esl_url_encode).
var urlUnsafe = func() (t [256]bool) {
	for i := 0; i < 256; i++ {
		t[i] = i < 0x20 || i > 0x7e
	}
	for _, c := range " \"#%&+:;<=>?@[\\]^`{|}" {
		t[c] = true
	}
	return
}()

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// appendURLEncoded percent-encodes v like the server's event serializer,
// which leaves an already valid %XX sequence untouched.
func appendURLEncoded(dst []byte, v string) []byte {
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c == '%' && i+2 < len(v) && isHex(v[i+1]) && isHex(v[i+2]) {
			dst = append(dst, c)
			continue
		}
		if urlUnsafe[c] {
			dst = append(dst, '%', hexUpper[c>>4], hexUpper[c&15])
			continue
		}
		dst = append(dst, c)
	}
	return dst
}

// URLEncode returns v encoded the way the server encodes plain and xml event
// values and the outbound connect reply.
func URLEncode(v string) string { return string(appendURLEncoded(nil, v)) }

func arrayItems(v string) ([]string, bool) {
	if !strings.HasPrefix(v, "ARRAY::") {
		return nil, false
	}
	return strings.Split(v[len("ARRAY::"):], "|:"), true
}

// encodePlain renders `Name: value` lines, then the body framed by its own
// Content-Length, or a lone LF when there is no body.
func encodePlain(e *Event) []byte {
	n := 16 + len(e.body)
	for _, h := range e.headers {
		n += len(h.Name) + len(h.Value) + 8
	}
	out := make([]byte, 0, n)
	for _, h := range e.headers {
		out = append(out, h.Name...)
		out = append(out, ": "...)
		if h.Value == "" {
			out = append(out, "_undef_"...)
		} else {
			out = appendURLEncoded(out, h.Value)
		}
		out = append(out, '\n')
	}
	if e.body != "" {
		out = append(out, "Content-Length: "...)
		out = strconv.AppendInt(out, int64(len(e.body)), 10)
		out = append(out, "\n\n"...)
		out = append(out, e.body...)
	} else {
		out = append(out, '\n')
	}
	return out
}

// appendJSONString writes s as a JSON string the way cJSON does: quotes,
// backslashes and control characters are escaped, everything else is raw.
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '"':
			dst = append(dst, '\\', '"')
		case '\\':
			dst = append(dst, '\\', '\\')
		case '\b':
			dst = append(dst, '\\', 'b')
		case '\f':
			dst = append(dst, '\\', 'f')
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		default:
			if c < 0x20 {
				dst = append(dst, '\\', 'u', '0', '0', "0123456789abcdef"[c>>4], "0123456789abcdef"[c&15])
			} else {
				dst = append(dst, c)
			}
		}
	}
	return append(dst, '"')
}

// encodeJSON renders the compact JSON object the server sends.
func encodeJSON(e *Event) []byte {
	out := make([]byte, 0, 32+len(e.body)+len(e.headers)*48)
	out = append(out, '{')
	for i, h := range e.headers {
		if i > 0 {
			out = append(out, ',')
		}
		out = appendJSONString(out, h.Name)
		out = append(out, ':')
		if items, ok := arrayItems(h.Value); ok {
			out = append(out, '[')
			for j, it := range items {
				if j > 0 {
					out = append(out, ',')
				}
				out = appendJSONString(out, it)
			}
			out = append(out, ']')
		} else {
			out = appendJSONString(out, h.Value)
		}
	}
	if e.hasBody {
		if len(e.headers) > 0 {
			out = append(out, ',')
		}
		out = append(out, `"Content-Length":"`...)
		out = strconv.AppendInt(out, int64(len(e.body)), 10)
		out = append(out, `","_body":`...)
		out = appendJSONString(out, e.body)
	}
	return append(out, '}')
}

// appendXMLEscaped escapes text like the server's XML writer: the three
// markup characters become entities, CR becomes &#xD;, multi-byte UTF-8
// sequences become numeric references, LF and quotes stay literal.
func appendXMLEscaped(dst []byte, s string) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '&':
			dst = append(dst, "&amp;"...)
		case c == '<':
			dst = append(dst, "&lt;"...)
		case c == '>':
			dst = append(dst, "&gt;"...)
		case c == '\r':
			dst = append(dst, "&#xD;"...)
		case c >= 0x80:
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size <= 1 {
				dst = append(dst, c)
				i++
				continue
			}
			dst = append(dst, "&#x"...)
			dst = append(dst, strings.ToUpper(strconv.FormatInt(int64(r), 16))...)
			dst = append(dst, ';')
			i += size
			continue
		default:
			dst = append(dst, c)
		}
		i++
	}
	return dst
}

func appendXMLElement(dst []byte, indent, name, text string) []byte {
	dst = append(dst, indent...)
	dst = append(dst, '<')
	dst = append(dst, name...)
	dst = append(dst, '>')
	dst = append(dst, text...)
	if strings.HasSuffix(text, "\n") {
		// Text ending in a line break puts the closing tag on an indented line.
		dst = append(dst, indent...)
	}
	dst = append(dst, "</"...)
	dst = append(dst, name...)
	return append(dst, ">\n"...)
}

// encodeXML renders the indented XML document the server sends. Header
// values are URL-encoded first, then XML-escaped.
func encodeXML(e *Event) []byte {
	out := make([]byte, 0, 64+len(e.body)+len(e.headers)*64)
	out = append(out, "<event>\n  <headers>\n"...)
	var tmp []byte
	for _, h := range e.headers {
		items, ok := arrayItems(h.Value)
		if !ok {
			items = []string{h.Value}
		}
		for _, it := range items {
			tmp = appendXMLEscaped(tmp[:0], string(appendURLEncoded(nil, it)))
			out = appendXMLElement(out, "    ", h.Name, string(tmp))
		}
	}
	out = append(out, "  </headers>\n"...)
	if e.body != "" {
		out = appendXMLElement(out, "  ", "Content-Length", strconv.Itoa(len(e.body)))
		out = appendXMLElement(out, "  ", "body", string(appendXMLEscaped(nil, e.body)))
	}
	return append(out, "</event>\n"...)
}
