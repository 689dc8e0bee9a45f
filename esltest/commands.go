package esltest

import (
	"strconv"
	"strings"
	"time"
)

// command runs one authenticated command block and writes its reply. It
// reports false when the listener must end (exit).
func (c *conn) command(b *block) bool {
	line := b.line
	lower := strings.ToLower(line)
	args := ""
	if i := strings.IndexByte(line, ' '); i >= 0 {
		args = strings.TrimLeft(line[i+1:], " ")
	}

	c.mu.Lock()
	if c.outbound {
		c.received = append(c.received, line)
	}
	// S7: before `connect`, an outbound socket runs the first command but
	// never sends its reply.
	silent := c.outbound && !c.connected && !strings.HasPrefix(lower, "connect")
	session := c.session
	full := !c.outbound || c.full
	c.mu.Unlock()

	w := c.w
	if silent {
		w = newFaultWriter(discardConn{}, Faults{}, nil)
	}
	reply := func(text string) bool {
		if text == "" {
			text = "-ERR command not found"
		}
		if len(text) > maxReplyText {
			text = text[:maxReplyText]
		}
		return w.write([]byte("Content-Type: command/reply\nReply-Text: "+text+"\n\n")) == nil
	}
	has := func(kw string) bool { return strings.HasPrefix(lower, kw) }
	needFull := func() bool { return !full }

	switch {
	case has("exit") || has("..."):
		reply("+OK bye")
		return false
	case has("filter"):
		return reply(c.filterCommand(args))
	case has("resume"):
		if session == nil {
			return reply("")
		}
		session.setVar("socket_resume", "true")
		return reply("+OK")
	case has("connect"):
		if !c.outbound || session == nil {
			return reply("")
		}
		c.mu.Lock()
		c.connected = true
		async, isFull := c.async, c.full
		c.mu.Unlock()
		ok := w.write(session.channelData(async, isFull)) == nil
		if async {
			// The channel thread reaches its park loop a moment after connect.
			delay := c.s.cfg.parkDelay
			c.s.goRun(func() {
				t := time.NewTimer(delay)
				defer t.Stop()
				select {
				case <-t.C:
					session.call.send(callMsg{kind: msgSendmsg, ch: session, msg: &sendMsg{command: "socket-park"}})
				case <-c.s.ctx.Done():
				}
			})
		}
		return ok
	case has("getvar"):
		if session == nil {
			return reply("")
		}
		return reply(session.Var(strings.TrimSpace(args)))
	case has("myevents"):
		return reply(c.myeventsCommand(lower, args, session))
	case has("divert_events"):
		if session == nil {
			return reply("-ERR not controlling a session.")
		}
		switch {
		case args == "":
			return reply("-ERR missing value.")
		case strings.HasPrefix(strings.ToLower(args), "on"):
			c.mu.Lock()
			c.divert = true
			c.mu.Unlock()
			return reply("+OK events diverted")
		default:
			c.mu.Lock()
			c.divert = false
			c.mu.Unlock()
			return reply("+OK events not diverted")
		}
	case has("sendmsg"):
		return reply(c.sendmsgCommand(b, args, session))
	case has("sendevent"):
		if needFull() {
			return reply("")
		}
		return reply(c.sendeventCommand(b, args))
	case has("api"):
		if needFull() || args == "" {
			return reply("")
		}
		out, ack := c.s.runAPI(args, "", c)
		if ack != nil {
			close(ack)
		}
		return w.write([]byte("Content-Type: api/response\nContent-Length: "+strconv.Itoa(len(out))+"\n\n"+out)) == nil
	case has("bgapi"):
		if needFull() || args == "" {
			return reply("")
		}
		jobUUID, _ := b.header("Job-UUID")
		if jobUUID == "" {
			jobUUID = newUUID()
		}
		owner := ""
		if session != nil {
			owner = session.UUID()
		}
		c.startJob(args, jobUUID, owner)
		return w.write([]byte("Content-Type: command/reply\nReply-Text: +OK Job-UUID: "+jobUUID+"\nJob-UUID: "+jobUUID+"\n\n")) == nil
	case has("log"):
		if needFull() {
			return reply("")
		}
		return reply(c.logCommand(args))
	case has("linger"):
		if needFull() {
			return reply("")
		}
		if session == nil {
			return reply("-ERR not controlling a session")
		}
		secs, _ := strconv.Atoi(strings.TrimSpace(args))
		c.mu.Lock()
		c.linger = true
		c.lingerFor = -1
		if secs > 0 {
			c.lingerFor = secs
		}
		c.mu.Unlock()
		if secs > 0 {
			return reply("+OK will linger " + strconv.Itoa(secs) + " seconds")
		}
		return reply("+OK will linger")
	case has("nolinger"):
		if needFull() {
			return reply("")
		}
		if session == nil {
			return reply("-ERR not controlling a session")
		}
		c.mu.Lock()
		c.linger = false
		c.mu.Unlock()
		return reply("+OK will not linger")
	case has("nolog"):
		if needFull() {
			return reply("")
		}
		if c.logLevel.Swap(-2) > -2 {
			return reply("+OK no longer logging")
		}
		return reply("-ERR not loging")
	case has("event"):
		if needFull() {
			return reply("")
		}
		tokens := splitTokens(args)
		c.mu.Lock()
		n := c.sub.subscribe(tokens)
		f := c.sub.format
		c.mu.Unlock()
		if n == 0 {
			return reply("-ERR no keywords supplied")
		}
		return reply("+OK event listener enabled " + f.String())
	case has("nixevent"):
		if needFull() {
			return reply("")
		}
		tokens := splitTokens(args)
		if len(tokens) == 0 {
			return reply("-ERR no keywords supplied")
		}
		c.mu.Lock()
		c.sub.unsubscribe(tokens)
		c.mu.Unlock()
		return reply("+OK events nixed")
	case has("noevents"):
		if needFull() {
			return reply("")
		}
		c.mu.Lock()
		was := c.sub.enabled
		c.sub.clear()
		c.queue = nil
		c.mu.Unlock()
		if was {
			return reply("+OK no longer listening for events")
		}
		return reply("-ERR not listening for events")
	}
	return reply("-ERR command not found")
}

// discardConn swallows the replies that S7 says are never sent.
type discardConn struct{}

func (discardConn) Write(b []byte) (int, error) { return len(b), nil }
func (discardConn) Close() error                { return nil }

func splitTokens(s string) []string {
	var out []string
	for _, t := range strings.Split(s, " ") {
		if t != "" {
			out = append(out, t)
		}
	}
	return out
}

func (c *conn) filterCommand(args string) string {
	del := false
	lower := strings.ToLower(args)
	switch {
	case strings.HasPrefix(lower, "delete "):
		del = true
		args = strings.TrimLeft(args[len("delete "):], " ")
	case strings.HasPrefix(lower, "add "):
		args = strings.TrimLeft(args[len("add "):], " ")
	}
	header, value, _ := strings.Cut(args, " ")
	c.mu.Lock()
	defer c.mu.Unlock()
	if del {
		if header == "" {
			return "-ERR invalid syntax"
		}
		c.sub.deleteFilter(header, value)
		if strings.EqualFold(header, "all") {
			return "+OK filter deleted. [all][]"
		}
		return "+OK filter deleted. [" + header + "][" + value + "]"
	}
	if header == "" || value == "" {
		return "-ERR invalid syntax"
	}
	c.sub.addFilter(header, value)
	return "+OK filter added. [" + header + "]=[" + value + "]"
}

func (c *conn) myeventsCommand(lower, args string, session *Channel) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.outbound || session != nil {
		if c.myevents {
			return "-ERR aready enabled."
		}
		switch {
		case strings.Contains(lower, "xml"):
			c.sub.format = formatXML
		case strings.Contains(lower, "json"):
			c.sub.format = formatJSON
		}
		c.enableMyevents(session.UUID())
		return "+OK Events Enabled"
	}
	f := splitTokens(args)
	if len(f) == 0 {
		return ""
	}
	uuid := f[0]
	ch := c.s.Channel(uuid)
	if ch == nil && len(f) > 1 {
		return "-ERR invalid uuid"
	}
	if c.myevents {
		return "-ERR aready enabled."
	}
	// S10: the format word is ignored, and an unknown uuid without one is
	// accepted (the listener then waits for events that never come).
	if ch != nil {
		c.session = ch
		ch.mu.Lock()
		ch.controls = append(ch.controls, c)
		ch.mu.Unlock()
	}
	c.enableMyevents(uuid)
	return "+OK Events Enabled"
}

// enableMyevents subscribes the channel event set restricted to one session.
// c.mu must be held.
func (c *conn) enableMyevents(uuid string) {
	c.myevents = true
	c.sub.enabled = true
	for _, n := range myeventsTypes {
		id, _ := eventTypeID(n)
		c.sub.types[id] = true
	}
	c.sub.session = uuid
}

func (c *conn) logCommand(args string) string {
	tok := strings.TrimSpace(args)
	level := 7
	if tok != "" {
		if n, err := strconv.Atoi(tok); err == nil {
			switch {
			case n == 64:
				return "-ERR invalid log level"
			case n > 64:
				level = 63
			case n < 0:
				level = 0
			default:
				level = n
			}
		} else if l, ok := logLevels[strings.ToUpper(tok)]; ok {
			level = l
		} else {
			return "-ERR invalid log level"
		}
	}
	c.logLevel.Store(int32(level))
	return "+OK log level " + tok + " [" + strconv.Itoa(level) + "]"
}

// sendmsgCommand queues a message to a session (spec 14.12).
func (c *conn) sendmsgCommand(b *block, args string, session *Channel) string {
	uuid := strings.TrimSpace(args)
	if uuid == "" {
		uuid, _ = b.header("Session-ID")
	}
	var target *Channel
	if uuid != "" {
		target = c.s.Channel(uuid)
	} else if session != nil {
		target = session
		uuid = session.UUID()
	}
	if target == nil {
		return "-ERR invalid session id [" + uuid + "]"
	}
	m := &sendMsg{line: b.line, headers: b.headers, body: b.body, loops: 1, done: make(chan struct{})}
	m.command, _ = b.header("call-command")
	m.app, _ = b.header("execute-app-name")
	m.arg, _ = b.header("execute-app-arg")
	if m.arg == "" && b.body != "" {
		if ct, _ := b.header("content-type"); strings.EqualFold(ct, "text/plain") {
			m.arg = b.body
		}
	}
	if v, ok := b.header("loops"); ok {
		if n, err := strconv.Atoi(v); err == nil {
			m.loops = n
		}
	}
	if v, _ := b.header("event-lock"); strings.EqualFold(v, "true") {
		m.lock = true
	}
	m.eventUUID, _ = b.header("Event-UUID")
	m.cause, _ = b.header("hangup-cause")
	asyncHdr, _ := b.header("async")
	c.mu.Lock()
	inline := c.outbound && !c.async && target == session && !strings.EqualFold(asyncHdr, "true")
	c.mu.Unlock()
	if !target.call.send(callMsg{kind: msgSendmsg, ch: target, msg: m}) {
		return "-ERR invalid session id [" + uuid + "]"
	}
	if inline {
		// Static outbound socket: the app runs in the channel thread that
		// reads this socket, so +OK comes only when it is finished.
		select {
		case <-m.done:
		case <-target.Done():
		case <-c.aborted:
		}
	}
	return "+OK"
}

// sendeventCommand fires the client's event with its headers verbatim (14.13, S19).
func (c *conn) sendeventCommand(b *block, args string) string {
	name := strings.TrimSpace(args)
	typ, ok := eventTypeID(name)
	if !ok || typ == typeAll {
		typ = 0
	}
	e := newEvent(typ)
	eventUUID := newUUID()
	rest := b.headers
	if typ == 0 && ok {
		if sc, found := b.header("Event-Subclass"); found {
			e.subclass = sc
			e.add("Event-Subclass", sc)
			rest = nil
			for _, h := range b.headers {
				if !strings.EqualFold(h.Name, "Event-Subclass") {
					rest = append(rest, h)
				}
			}
		}
	}
	e.add("Command", b.line)
	e.headers = append(e.headers, rest...)
	e.add("Event-UUID", eventUUID)
	if b.body != "" {
		e.setBody(b.body)
	}
	if uid, found := b.header("Unique-ID"); found {
		if ch := c.s.Channel(uid); ch != nil {
			// Queued to that session instead of being broadcast.
			ch.call.send(callMsg{kind: msgEvent, ch: ch, ev: e})
			return "+OK " + eventUUID
		}
	}
	c.s.stdHeaders(e, "mod_event_socket.c", "parse_command", 2283, time.Now())
	c.s.fire(e)
	return "+OK " + eventUUID
}

// offerDiverted queues an event that was sent to the session this listener
// diverts; the subscription does not apply, as the event was meant for the session.
func (c *conn) offerDiverted(e *Event) {
	c.mu.Lock()
	if !c.divert || c.closing {
		c.mu.Unlock()
		return
	}
	if e.enc[0] == nil {
		loc := srcLoc{"mod_event_socket.c", "parse_command", 2283}
		c.s.stdHeaders(e, loc.file, loc.fn, loc.line, time.Now())
	}
	c.queue = append(c.queue, e.frame(c.sub.format))
	c.mu.Unlock()
	c.signal()
}

// startJob runs a bgapi command in the background; its BACKGROUND_JOB
// event always follows the reply, which the caller writes right away.
func (c *conn) startJob(cmdline, jobUUID, owner string) {
	c.jobs.Add(1)
	started := c.s.goRun(func() {
		defer c.jobs.Done()
		out, ack := c.s.runAPI(cmdline, jobUUID, c)
		cmd, arg, _ := strings.Cut(cmdline, " ")
		e := c.s.newStdEvent(46, "mod_event_socket.c", "api_exec", 1580)
		e.add("Job-UUID", jobUUID)
		if owner != "" {
			e.add("Job-Owner-UUID", owner)
		}
		e.add("Job-Command", cmd)
		if arg != "" {
			e.add("Job-Command-Arg", arg)
		}
		e.setBody(out)
		c.s.fire(e)
		if ack != nil {
			close(ack)
		}
	})
	if !started {
		c.jobs.Done()
	}
}
