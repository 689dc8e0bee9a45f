package esl

import (
	"strconv"
	"strings"

	"github.com/cgoesl/esl/internal/ascii"
)

// Commands are built here, in Go, and written whole. The event socket frames a command as
// a header block that ends at the first blank line (and the server counts CR like LF), so
// a CR, LF or NUL inside an argument would end the command early and turn the rest into a
// second command: its reply would then be matched to the wrong caller. Such arguments
// are refused with ErrBadArgument.

func checkArg(op, what, s string) error {
	if i := strings.IndexAny(s, "\r\n\x00"); i >= 0 {
		return newError(op, what+" contains "+strconv.QuoteRune(rune(s[i])), ErrBadArgument)
	}
	return nil
}

// rawCommand turns the text given to Send or SendRecv into wire form: trailing line ends
// are normalised to one blank line. A body after the blank line is allowed only when a
// Content-Length header in the block announces exactly its length.
func rawCommand(op, cmd string) ([]byte, error) {
	if strings.IndexByte(cmd, 0) >= 0 {
		return nil, newError(op, "command contains NUL", ErrBadArgument)
	}
	cmd = strings.TrimLeft(cmd, "\r\n")
	head, body, hasBody := strings.Cut(cmd, "\n\n")
	if !hasBody {
		head = strings.TrimRight(head, "\r\n")
	}
	if head == "" {
		return nil, newError(op, "empty command", ErrBadArgument)
	}
	if strings.IndexByte(head, '\r') >= 0 {
		return nil, newError(op, "CR inside the command block", ErrBadArgument)
	}
	cl, ok, present := contentLength(head)
	switch {
	case present && !ok:
		// The server would read an unparsable length as 0, or drop the connection on a
		// negative one.
		return nil, newError(op, "invalid or repeated Content-Length", ErrBadArgument)
	case !hasBody && cl != 0:
		// The server would take the start of the next command as this one's body.
		return nil, newError(op, "Content-Length without a body", ErrBadArgument)
	}
	if hasBody {
		switch {
		case !ok:
			if strings.Trim(body, "\r\n") != "" {
				return nil, newError(op, "text after the blank line without Content-Length", ErrBadArgument)
			}
			body = ""
		case cl > len(body) || strings.Trim(body[cl:], "\r\n") != "":
			return nil, newError(op, "body length differs from Content-Length", ErrBadArgument)
		default:
			body = body[:cl]
		}
	}
	b := make([]byte, 0, len(head)+2+len(body))
	b = append(b, head...)
	b = append(b, "\n\n"...)
	b = append(b, body...)
	return b, nil
}

// contentLength finds the Content-Length header line of a command block: its value, whether
// that is a valid length, and whether the header is there at all. As the server reads it,
// the name is everything before the first ':' (so "Content-Length :" is another header). A
// second Content-Length line makes the length invalid: which one counts is not ours to guess.
func contentLength(head string) (n int, ok, present bool) {
	for _, line := range strings.Split(head, "\n")[1:] {
		name, val, found := strings.Cut(line, ":")
		if !found || !ascii.EqualFold(name, "content-length") {
			continue
		}
		if present {
			return 0, false, true
		}
		present = true
		v, err := strconv.Atoi(strings.TrimSpace(val))
		if ok = err == nil && v >= 0; ok {
			n = v
		}
	}
	if !ok {
		n = 0
	}
	return n, ok, present
}

// simpleCommand joins words with spaces and ends the block.
func simpleCommand(op string, words ...string) ([]byte, error) {
	n := 2
	for _, w := range words {
		if err := checkArg(op, "argument", w); err != nil {
			return nil, err
		}
		n += len(w) + 1
	}
	b := make([]byte, 0, n)
	for i, w := range words {
		if i > 0 {
			b = append(b, ' ')
		}
		b = append(b, w...)
	}
	return append(b, "\n\n"...), nil
}

// apiCommand builds "api <cmd>[ <arg>]". Unlike the SWIG method (quirk Q31), no trailing
// space is sent when there is no argument.
func apiCommand(verb, cmd, arg string) ([]byte, error) {
	if cmd == "" {
		return nil, newError(verb, "missing command", ErrBadArgument)
	}
	if arg == "" {
		return simpleCommand(verb, verb, cmd)
	}
	return simpleCommand(verb, verb, cmd, arg)
}

// bgapiCommand builds "bgapi <cmd>[ <arg>]" with an optional Job-UUID header.
func bgapiCommand(cmd, arg, jobUUID string) ([]byte, error) {
	b, err := apiCommand("bgapi", cmd, arg)
	if err != nil || jobUUID == "" {
		return b, err
	}
	if err := checkArg("bgapi", "job uuid", jobUUID); err != nil {
		return nil, err
	}
	b = b[:len(b)-2]
	b = append(b, "\nJob-UUID: "...)
	b = append(b, jobUUID...)
	return append(b, "\n\n"...), nil
}

// executeCommand builds the sendmsg block of esl_execute.
func executeCommand(app, arg, uuid string, eventLock, async bool) ([]byte, error) {
	const op = "execute"
	if app == "" {
		return nil, newError(op, "missing application", ErrBadArgument)
	}
	for _, a := range [][2]string{{"application", app}, {"argument", arg}, {"uuid", uuid}} {
		if err := checkArg(op, a[0], a[1]); err != nil {
			return nil, err
		}
	}
	var b strings.Builder
	b.Grow(80 + len(app) + len(arg) + len(uuid))
	b.WriteString("sendmsg")
	if uuid != "" {
		b.WriteByte(' ')
		b.WriteString(uuid)
	}
	b.WriteString("\ncall-command: execute\nexecute-app-name: ")
	b.WriteString(app)
	b.WriteByte('\n')
	if arg != "" {
		b.WriteString("execute-app-arg: ")
		b.WriteString(arg)
		b.WriteByte('\n')
	}
	if eventLock {
		b.WriteString("event-lock: true\n")
	}
	if async {
		b.WriteString("async: true\n")
	}
	b.WriteByte('\n')
	return []byte(b.String()), nil
}

// eventCommand builds "<first line>\n" followed by the event's headers, unencoded as
// esl_sendevent and esl_sendmsg send them, and its body. The event's own Content-Length
// headers are left out and one that matches the body is written: a stale one (every
// received event has one) would make the server read the wrong number of body bytes.
func eventCommand(op, first string, ev *Event) ([]byte, error) {
	if ev == nil {
		return nil, newError(op, "nil event", ErrBadArgument)
	}
	if err := checkArg(op, "command", first); err != nil {
		return nil, err
	}
	var b strings.Builder
	b.WriteString(first)
	b.WriteByte('\n')
	for i := 0; i < ev.count(); i++ {
		name, value := ev.nameAt(i), ev.valueAt(i)
		if ascii.EqualFold(name, "content-length") {
			continue
		}
		if name == "" || strings.IndexAny(name, ":\r\n\x00") >= 0 {
			return nil, newError(op, "bad header name "+strconv.Quote(name), ErrBadArgument)
		}
		if err := checkArg(op, "header "+name, value); err != nil {
			return nil, err
		}
		b.WriteString(name)
		b.WriteString(": ")
		if value == "" {
			b.WriteString("_undef_")
		} else {
			b.WriteString(value)
		}
		b.WriteByte('\n')
	}
	if ev.hasBody && ev.body != "" {
		if strings.IndexByte(ev.body, 0) >= 0 {
			return nil, newError(op, "body contains NUL", ErrBadArgument)
		}
		b.WriteString("Content-Length: ")
		b.WriteString(strconv.Itoa(len(ev.body)))
		b.WriteString("\n\n")
		b.WriteString(ev.body)
	} else {
		b.WriteByte('\n')
	}
	return []byte(b.String()), nil
}

// eslTrue is esl_true: yes, on, true, enabled, active, allow (any case) or a non-zero
// number.
func eslTrue(s string) bool {
	for _, w := range []string{"yes", "on", "true", "enabled", "active", "allow"} {
		if ascii.EqualFold(s, w) {
			return true
		}
	}
	return atoi(s) != 0
}
