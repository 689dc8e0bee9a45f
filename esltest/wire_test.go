package esltest

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// wireMsg is one message as a client reads it: a header block and the
// body its Content-Length announces.
type wireMsg struct {
	headers []Header
	body    []byte
	raw     []byte
}

func (m wireMsg) get(name string) string {
	for _, h := range m.headers {
		if h.Name == name {
			return h.Value
		}
	}
	return ""
}

func (m wireMsg) contentType() string { return m.get("Content-Type") }

func (m wireMsg) names() []string {
	out := make([]string, len(m.headers))
	for i, h := range m.headers {
		out[i] = h.Name
	}
	return out
}

func parseHeaderBlock(b []byte) []Header {
	var hs []Header
	for _, ln := range strings.Split(string(b), "\n") {
		if ln == "" {
			continue
		}
		k, v, _ := strings.Cut(ln, ": ")
		hs = append(hs, Header{k, v})
	}
	return hs
}

// readWireMsg reads one message the way libesl frames them.
func readWireMsg(br *bufio.Reader) (wireMsg, error) {
	var head []byte
	for {
		line, err := br.ReadBytes('\n')
		head = append(head, line...)
		if err != nil {
			if len(head) > 0 && err == io.EOF {
				return wireMsg{}, io.ErrUnexpectedEOF
			}
			return wireMsg{}, err
		}
		if len(line) == 1 {
			if len(head) == 1 { // stray empty line
				head = head[:0]
				continue
			}
			break
		}
	}
	m := wireMsg{headers: parseHeaderBlock(head[:len(head)-1]), raw: head}
	if v := m.get("Content-Length"); v != "" {
		n, _ := strconv.Atoi(v)
		m.body = make([]byte, n)
		if _, err := io.ReadFull(br, m.body); err != nil {
			return m, err
		}
		m.raw = append(m.raw, m.body...)
	}
	return m, nil
}

// splitWireMsgs splits a recorded .s2c stream.
func splitWireMsgs(b []byte) []wireMsg {
	br := bufio.NewReader(bytes.NewReader(b))
	var out []wireMsg
	for {
		m, err := readWireMsg(br)
		if err != nil {
			return out
		}
		out = append(out, m)
	}
}

// splitBlocks splits a recorded .c2s stream into command blocks.
func splitBlocks(b []byte) [][]byte {
	var out [][]byte
	for len(b) > 0 {
		i := bytes.Index(b, []byte("\n\n"))
		if i < 0 {
			out = append(out, b)
			break
		}
		blk := b[:i+2]
		b = b[i+2:]
		for _, h := range parseHeaderBlock(blk[bytes.IndexByte(blk, '\n')+1:]) {
			if strings.EqualFold(h.Name, "Content-Length") {
				n, _ := strconv.Atoi(h.Value)
				blk = append(append([]byte(nil), blk...), b[:n]...)
				b = b[n:]
			}
		}
		out = append(out, blk)
	}
	return out
}

// client is a raw test client that collects everything the server sends.
type client struct {
	t    testing.TB
	nc   net.Conn
	mu   sync.Mutex
	msgs []wireMsg
	err  error
	more chan struct{}
	done chan struct{}
}

func newClient(t testing.TB, nc net.Conn) *client {
	c := &client{t: t, nc: nc, more: make(chan struct{}, 1), done: make(chan struct{})}
	go func() {
		defer close(c.done)
		br := bufio.NewReader(nc)
		for {
			m, err := readWireMsg(br)
			c.mu.Lock()
			if err != nil {
				c.err = err
				c.mu.Unlock()
				c.notify()
				return
			}
			c.msgs = append(c.msgs, m)
			c.mu.Unlock()
			c.notify()
		}
	}()
	return c
}

func dialClient(t testing.TB, addr string) *client {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	c := newClient(t, nc)
	t.Cleanup(func() { nc.Close(); <-c.done })
	return c
}

// login connects and authenticates with the default password.
func login(t testing.TB, s *Server) *client {
	t.Helper()
	c := dialClient(t, s.Addr())
	if got := c.next(); got.contentType() != "auth/request" {
		t.Fatalf("greeting: %q", got.raw)
	}
	c.send("auth " + s.Password())
	if got := c.next(); got.get("Reply-Text") != "+OK accepted" {
		t.Fatalf("auth: %q", got.raw)
	}
	return c
}

func (c *client) notify() {
	select {
	case c.more <- struct{}{}:
	default:
	}
}

func (c *client) send(cmd string) {
	c.t.Helper()
	if !strings.HasSuffix(cmd, "\n\n") {
		cmd += "\n\n"
	}
	if _, err := c.nc.Write([]byte(cmd)); err != nil {
		c.t.Fatalf("write %q: %v", cmd, err)
	}
}

func (c *client) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.msgs)
}

// waitCount waits until n messages arrived, EOF, or the timeout.
func (c *client) waitCount(n int, timeout time.Duration) bool {
	deadline := time.After(timeout)
	for {
		c.mu.Lock()
		have, err := len(c.msgs), c.err
		c.mu.Unlock()
		if have >= n {
			return true
		}
		if err != nil {
			return false
		}
		select {
		case <-c.more:
		case <-deadline:
			return false
		}
	}
}

var consumed sync.Map // *client -> int, for next()

// next returns the next message not yet returned by next.
func (c *client) next() wireMsg {
	c.t.Helper()
	m, err := c.nextTimeout(5 * time.Second)
	if err != nil {
		c.t.Fatalf("next message: %v", err)
	}
	return m
}

func (c *client) nextTimeout(d time.Duration) (wireMsg, error) {
	v, _ := consumed.LoadOrStore(c, 0)
	i := v.(int)
	if !c.waitCount(i+1, d) {
		c.mu.Lock()
		err := c.err
		c.mu.Unlock()
		if err == nil {
			err = errors.New("timeout")
		}
		return wireMsg{}, err
	}
	consumed.Store(c, i+1)
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.msgs[i], nil
}

// nextReply skips events and log lines and returns the next other message.
func (c *client) nextReply() wireMsg {
	c.t.Helper()
	for {
		m := c.next()
		ct := m.contentType()
		if strings.HasPrefix(ct, "text/event-") || ct == "log/data" {
			continue
		}
		return m
	}
}

// cmd sends a command and returns its reply, skipping events.
func (c *client) cmd(line string) wireMsg {
	c.t.Helper()
	c.send(line)
	return c.nextReply()
}

// waitEvent waits for the next event whose Event-Name is name (any
// encoding) and returns its decoded headers and body.
func (c *client) waitEvent(name string, d time.Duration) (TemplateEvent, bool) {
	c.t.Helper()
	deadline := time.Now().Add(d)
	for {
		left := time.Until(deadline)
		if left <= 0 {
			return TemplateEvent{}, false
		}
		m, err := c.nextTimeout(left)
		if err != nil {
			return TemplateEvent{}, false
		}
		if ev, ok := decodeEvent(m); ok {
			for _, h := range ev.Headers {
				if h.Name == "Event-Name" && h.Value == name {
					return ev, true
				}
			}
		}
	}
}

// decodeEvent decodes a text/event-* message with LoadTemplates' parsers.
func decodeEvent(m wireMsg) (TemplateEvent, bool) {
	var hs []Header
	var body string
	var err error
	switch m.contentType() {
	case "text/event-plain":
		hs, body, err = parsePlainEvent(m.body)
	case "text/event-json":
		hs, body, err = parseJSONEvent(m.body)
	case "text/event-xml":
		hs, body, err = parseXMLEvent(m.body)
	default:
		return TemplateEvent{}, false
	}
	return TemplateEvent{hs, body}, err == nil
}

func evGet(e TemplateEvent, name string) string {
	for _, h := range e.Headers {
		if h.Name == name {
			return h.Value
		}
	}
	return ""
}

func (c *client) all() []wireMsg {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]wireMsg(nil), c.msgs...)
}

func (c *client) waitEOF(d time.Duration) bool {
	select {
	case <-c.done:
		return true
	case <-time.After(d):
		return false
	}
}
