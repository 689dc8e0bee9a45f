package esltest

import (
	"bufio"
	"errors"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

const (
	maxHeaderBlock = 10 << 20 // S2: a larger block is parsed as it stands
	maxBody        = 16 << 20 // S2: a larger Content-Length drops the connection
	maxQueue       = 100000   // S14
	maxLost        = 500      // S14
	maxReplyText   = 511      // S1
)

const goodbyeBody = "Disconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n"

var errBodyTooLarge = errors.New("esltest: command Content-Length out of range")

// block is one command as the server parses it.
type block struct {
	line    string
	headers []Header
	body    string
}

func (b *block) header(name string) (string, bool) {
	for _, h := range b.headers {
		if strings.EqualFold(h.Name, name) {
			return h.Value, true
		}
	}
	return "", false
}

type readResult struct {
	blk *block
	err error
}

// streamJob is a Server.Stream request for one listener: each piece is
// written repeat times, in order.
type streamJob struct {
	pieces []streamPiece
	done   chan error
}

type streamPiece struct {
	data   []byte
	repeat int
}

// conn is one event socket listener, inbound or outbound. Its serve
// goroutine is the only writer, as in FreeSWITCH, so replies, events and
// log lines never interleave.
type conn struct {
	s        *Server
	nc       net.Conn
	w        *faultWriter
	outbound bool

	cmds     chan readResult
	stopRead chan struct{} // closed when the serve loop no longer takes commands
	readDone chan struct{} // closed when readLoop returned
	wake     chan struct{}
	streams  chan *streamJob
	aborted  chan struct{}
	abortMu  sync.Once

	jobs sync.WaitGroup // bgapi jobs started by this listener

	mu        sync.Mutex
	authed    bool
	closing   bool
	sub       subscription
	logLevel  atomic.Int32 // -2: not logging; atomic, so the log fan-out can skip a listener without its lock
	queue     [][]byte
	queued    int
	lost      int
	killed    bool
	session   *Channel
	myevents  bool
	divert    bool
	linger    bool
	lingerFor int // seconds; -1 forever
	full      bool
	async     bool
	connected bool
	received  []string
}

func newConn(s *Server, nc net.Conn, outbound bool) *conn {
	c := &conn{
		s:        s,
		nc:       nc,
		outbound: outbound,
		cmds:     make(chan readResult),
		stopRead: make(chan struct{}),
		readDone: make(chan struct{}),
		wake:     make(chan struct{}, 1),
		streams:  make(chan *streamJob),
		aborted:  make(chan struct{}),
	}
	c.logLevel.Store(-2)
	var f Faults
	if s.cfg.faults != nil && !outbound {
		f = *s.cfg.faults
	}
	c.w = newFaultWriter(nc, f, c.aborted)
	return c
}

// abort ends the connection from outside (server Close).
func (c *conn) abort() {
	c.abortMu.Do(func() {
		close(c.aborted)
		c.nc.Close()
	})
}

func (c *conn) signal() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// offerEvent queues e if this listener's subscription wants it.
func (c *conn) offerEvent(e *Event) {
	c.mu.Lock()
	if !c.authed || c.closing || c.killed || !c.sub.wants(e) {
		c.mu.Unlock()
		return
	}
	if c.queued >= maxQueue {
		c.lost++
		kill := c.lost > maxLost
		if kill {
			c.killed = true
		}
		c.mu.Unlock()
		c.signal()
		return
	}
	c.lost = 0
	c.queue = append(c.queue, e.frame(c.sub.format))
	c.queued++
	c.mu.Unlock()
	c.signal()
}

// offerRaw queues bytes to be written between messages.
func (c *conn) offerRaw(b []byte) {
	c.mu.Lock()
	if !c.authed || c.closing || c.outbound {
		c.mu.Unlock()
		return
	}
	c.queue = append(c.queue, b)
	c.mu.Unlock()
	c.signal()
}

// logsAt reports whether this listener asked for log lines of that level (offerLog checks
// the rest under the lock).
func (c *conn) logsAt(level int) bool { return int(c.logLevel.Load()) >= level }

// offerLog queues a log/data message if this listener logs at that level.
func (c *conn) offerLog(l *logLine) {
	c.mu.Lock()
	if !c.authed || c.closing || !c.logsAt(l.level) {
		c.mu.Unlock()
		return
	}
	c.queue = append(c.queue, l.frame())
	c.mu.Unlock()
	c.signal()
}

// flush writes everything queued. It reports a write error.
func (c *conn) flush() error {
	c.mu.Lock()
	q := c.queue
	c.queue = nil
	c.queued = 0
	killed := c.killed
	c.mu.Unlock()
	if len(q) > 0 {
		if err := c.w.writeFrames(q); err != nil {
			return err
		}
	}
	if killed {
		c.writeNotice("killed listener because of lost events\n")
		return io.EOF
	}
	return nil
}

func (c *conn) reply(text string) error {
	if text == "" {
		text = "-ERR command not found"
	}
	if len(text) > maxReplyText {
		text = text[:maxReplyText]
	}
	return c.w.write([]byte("Content-Type: command/reply\nReply-Text: " + text + "\n\n"))
}

// replyRaw writes a command/reply whose header block was built by the caller.
func (c *conn) replyRaw(hdrs string) error {
	return c.w.write([]byte("Content-Type: command/reply\n" + hdrs + "\n"))
}

func (c *conn) sessionUUID() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.session != nil {
		return c.session.uuid
	}
	return ""
}

func (c *conn) goodbye() {
	if uuid := c.sessionUUID(); uuid != "" {
		_ = c.w.write([]byte("Content-Type: text/disconnect-notice\nControlled-Session-UUID: " + uuid +
			"\nContent-Disposition: disconnect\nContent-Length: 67\n\n" + goodbyeBody))
		return
	}
	_ = c.w.write([]byte("Content-Type: text/disconnect-notice\nContent-Length: 67\n\n" + goodbyeBody))
}

func (c *conn) writeNotice(body string) {
	_ = c.w.write([]byte("Content-Type: text/disconnect-notice\nContent-Length: " +
		strconv.Itoa(len(body)) + "\n\n" + body))
}

// readLoop parses command blocks and hands them to the serve goroutine.
// Once that stops taking commands, it drains the input so that closing
// the socket sends a FIN rather than a reset, which could destroy data the
// client has not read yet.
func (c *conn) readLoop() {
	defer close(c.readDone)
	// Commands are small and readBlock takes a byte at a time (a body is read straight into
	// its own slice), so a small buffer does: a test may hold thousands of connections.
	br := bufio.NewReaderSize(c.nc, 4<<10)
	for {
		blk, err := readBlock(br)
		select {
		case c.cmds <- readResult{blk, err}:
		case <-c.aborted:
			return
		case <-c.stopRead:
			if err == nil {
				_, _ = io.Copy(io.Discard, br)
			}
			return
		}
		if err != nil {
			return
		}
	}
}

// closeGracefully ends a connection the server chose to end: FIN first,
// then a short drain of what the client still sends, then close.
func (c *conn) closeGracefully(readStarted bool) {
	close(c.stopRead)
	if cw, ok := c.nc.(interface{ CloseWrite() error }); ok {
		_ = cw.CloseWrite()
	}
	_ = c.nc.SetReadDeadline(time.Now().Add(250 * time.Millisecond))
	if readStarted {
		select {
		case <-c.readDone:
		case <-c.aborted:
		}
	} else {
		_, _ = io.Copy(io.Discard, c.nc)
	}
	c.abort()
}

// readBlock reads one command block: leading CR/LF bytes are skipped, and
// the block ends at the second consecutive line-end byte (CR or LF).
func readBlock(br *bufio.Reader) (*block, error) {
	var buf []byte
	ends := 0
	for {
		b, err := br.ReadByte()
		if err != nil {
			return nil, err
		}
		if len(buf) == 0 && (b == '\r' || b == '\n') {
			continue
		}
		buf = append(buf, b)
		if b == '\r' || b == '\n' {
			ends++
			if ends == 2 {
				break
			}
		} else {
			ends = 0
		}
		if len(buf) >= maxHeaderBlock {
			break
		}
	}
	blk := parseBlock(buf)
	if v, ok := blk.header("Content-Length"); ok {
		n, _ := strconv.Atoi(strings.TrimSpace(v))
		if n < 0 || n > maxBody {
			return nil, errBodyTooLarge
		}
		if n > 0 {
			body := make([]byte, n)
			if _, err := io.ReadFull(br, body); err != nil {
				return nil, err
			}
			if i := strings.IndexByte(string(body), 0); i >= 0 {
				body = body[:i] // S3: the body is a C string on the server
			}
			blk.body = string(body)
		}
	}
	return blk, nil
}

func parseBlock(buf []byte) *block {
	raw := string(buf)
	blk := &block{}
	cut := strings.IndexByte(raw, '\r')
	if cut < 0 {
		cut = strings.IndexByte(raw, '\n')
	}
	if cut < 0 {
		cut = len(raw)
	}
	blk.line = raw[:cut]
	lower := strings.ToLower(blk.line)
	if strings.Contains(lower, "mod_event_socket") {
		// S20: the module refuses to unload itself from its own thread.
		if strings.Contains(lower, "unload") {
			blk.line = "api bgapi unload mod_event_socket"
		} else if strings.Contains(lower, "reload") {
			blk.line = "api bgapi reload mod_event_socket"
		}
	}
	if nl := strings.IndexByte(raw, '\n'); nl >= 0 {
		for _, ln := range strings.Split(raw[nl+1:], "\n") {
			ln = strings.TrimRight(ln, "\r")
			colon := strings.IndexByte(ln, ':')
			if colon <= 0 {
				continue
			}
			blk.headers = append(blk.headers, Header{ln[:colon], strings.TrimLeft(ln[colon+1:], " ")})
		}
	}
	return blk
}

// serveInbound runs an inbound listener from greeting to close.
func (c *conn) serveInbound() {
	defer c.s.unregister(c)
	defer c.nc.Close()
	if c.s.cfg.aclReject {
		_ = c.w.write([]byte("Content-Type: text/rude-rejection\nContent-Length: 24\n\nAccess Denied, go away.\n"))
		c.goodbye()
		c.closeGracefully(false)
		return
	}
	if c.w.write([]byte("Content-Type: auth/request\n\n")) != nil {
		c.closeGracefully(false)
		return
	}
	if !c.s.goRun(c.readLoop) {
		return
	}
	defer c.closeGracefully(true)
	authTimer := time.NewTimer(c.s.cfg.authTimeout)
	defer authTimer.Stop()
	first := true
	for {
		c.mu.Lock()
		authed := c.authed
		c.mu.Unlock()
		if authed {
			break
		}
		select {
		case <-c.aborted:
			return
		case <-authTimer.C:
			if first {
				return
			}
		case r := <-c.cmds:
			if r.err != nil {
				return
			}
			first = false
			authTimer.Stop()
			if !c.authCommand(r.blk) {
				return
			}
		}
	}
	_ = c.commandLoop()
}

// authCommand handles a block before authentication (14.3, S6). It reports
// whether the connection stays open.
func (c *conn) authCommand(b *block) bool {
	line := b.line
	lower := strings.ToLower(line)
	switch {
	case strings.HasPrefix(lower, "exit") || strings.HasPrefix(lower, "..."):
		_ = c.reply("+OK bye")
		c.goodbye()
		return false
	case strings.HasPrefix(lower, "auth "):
		if line[5:] == c.s.cfg.password {
			c.mu.Lock()
			c.authed = true
			c.sub.format = formatPlain
			c.mu.Unlock()
			return c.reply("+OK accepted") == nil
		}
		_ = c.reply("-ERR invalid")
		c.goodbye()
		return false
	case strings.HasPrefix(lower, "userauth "):
		if c.checkUser(line[9:]) {
			c.mu.Lock()
			c.authed = true
			c.mu.Unlock()
			return c.replyRaw("Reply-Text: +OK accepted\nAllowed-Events: all\nAllowed-API: all\nAllowed-LOG: true\n") == nil
		}
		_ = c.reply("-ERR invalid")
		c.goodbye()
		return false
	}
	return c.reply("-ERR command not found") == nil
}

// checkUser accepts "user@domain:pass" and "user:pass@domain".
func (c *conn) checkUser(arg string) bool {
	var user, domain, pass string
	at := strings.IndexByte(arg, '@')
	colon := strings.IndexByte(arg, ':')
	switch {
	case at < 0 || colon < 0:
		return false
	case at < colon:
		user, domain, pass = arg[:at], arg[at+1:colon], arg[colon+1:]
	default:
		user, pass, domain = arg[:colon], arg[colon+1:at], arg[at+1:]
	}
	if user == "" || domain == "" {
		return false
	}
	want, ok := c.s.cfg.users[user+"@"+domain]
	return ok && want == pass
}

// commandLoop is the authenticated phase shared by inbound and outbound
// listeners. It returns the read error that ended it, if any.
func (c *conn) commandLoop() error {
	var lingerTimer *time.Timer
	var lingerC <-chan time.Time
	defer func() {
		if lingerTimer != nil {
			lingerTimer.Stop()
		}
	}()
	var sessionDone <-chan struct{}
	for {
		c.mu.Lock()
		if c.session != nil && sessionDone == nil {
			sessionDone = c.session.reported
		}
		c.mu.Unlock()
		select {
		case <-c.aborted:
			return net.ErrClosed
		case r := <-c.cmds:
			if r.err != nil {
				return r.err
			}
			if !c.command(r.blk) {
				c.finish()
				return nil
			}
		case <-c.wake:
			if err := c.flush(); err != nil {
				return err
			}
		case job := <-c.streams:
			job.done <- c.runStream(job)
		case <-sessionDone:
			sessionDone = closedNever
			if err := c.flush(); err != nil {
				return err
			}
			c.mu.Lock()
			linger, secs := c.linger, c.lingerFor
			ch := c.session
			c.mu.Unlock()
			if !linger {
				c.goodbye()
				return nil
			}
			_ = c.w.write([]byte("Content-Type: text/disconnect-notice\nControlled-Session-UUID: " + ch.uuid +
				"\nContent-Disposition: linger\nChannel-Name: " + ch.Name() +
				"\nLinger-Time: " + strconv.Itoa(secs) + "\nContent-Length: 0\n\n"))
			if secs > 0 {
				lingerTimer = time.NewTimer(time.Duration(secs) * time.Second)
				lingerC = lingerTimer.C
			}
		case <-lingerC:
			_ = c.flush()
			c.goodbye()
			return nil
		}
	}
}

// closedNever is a channel that never fires, used once a one-shot signal was handled.
var closedNever = make(chan struct{})

// finish ends a listener after `exit`: queued events are dropped, but the
// close waits for this listener's background jobs, as FreeSWITCH does.
func (c *conn) finish() {
	c.mu.Lock()
	c.closing = true
	c.queue = nil
	c.mu.Unlock()
	jobsDone := make(chan struct{})
	if c.s.goRun(func() { c.jobs.Wait(); close(jobsDone) }) {
		select {
		case <-jobsDone:
		case <-c.aborted:
			return
		}
	}
	c.goodbye()
}

// runStream writes pre-encoded batches for Server.Stream.
func (c *conn) runStream(job *streamJob) error {
	if err := c.flush(); err != nil {
		return err
	}
	for _, p := range job.pieces {
		for i := 0; i < p.repeat; i++ {
			if err := c.w.write(p.data); err != nil {
				return err
			}
		}
	}
	return nil
}
