package esltest

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Option configures a Server.
type Option func(*config)

type config struct {
	listenAddr    string
	password      string
	users         map[string]string // "name@domain" -> password
	aclReject     bool
	faults        *Faults
	hostname      string
	ipv4, ipv6    string
	coreUUID      string
	authTimeout   time.Duration
	connectWait   time.Duration
	heartbeat     time.Duration
	playbackDelay time.Duration
	parkDelay     time.Duration
}

// WithPassword sets the inbound password (default "ClueCon").
func WithPassword(pw string) Option { return func(c *config) { c.password = pw } }

// WithUser adds a userauth account. user is "name@domain". The account is
// allowed every event, every api command and logging.
func WithUser(user, password string) Option {
	return func(c *config) {
		if c.users == nil {
			c.users = map[string]string{}
		}
		c.users[user] = password
	}
}

// WithACLReject makes the server refuse every inbound connection the way an
// apply-inbound-acl miss does: text/rude-rejection, goodbye notice, close.
func WithACLReject() Option { return func(c *config) { c.aclReject = true } }

// WithFaults applies f to every accepted inbound connection.
func WithFaults(f Faults) Option { return func(c *config) { c.faults = &f } }

// WithListenAddr sets the address to listen on (default "127.0.0.1:0").
func WithListenAddr(addr string) Option { return func(c *config) { c.listenAddr = addr } }

// WithHostname sets FreeSWITCH-Hostname/-Switchname and `api hostname` (default "fakefs").
func WithHostname(name string) Option { return func(c *config) { c.hostname = name } }

// WithAddresses sets the FreeSWITCH-IPv4 and FreeSWITCH-IPv6 header values.
func WithAddresses(ipv4, ipv6 string) Option {
	return func(c *config) { c.ipv4, c.ipv6 = ipv4, ipv6 }
}

// WithCoreUUID fixes the Core-UUID (default: random per server).
func WithCoreUUID(uuid string) Option { return func(c *config) { c.coreUUID = uuid } }

// WithAuthTimeout sets how long a new inbound connection may take to send its
// first block, and an outbound application to send `connect` (default 25 s,
// as in FreeSWITCH).
func WithAuthTimeout(d time.Duration) Option {
	return func(c *config) { c.authTimeout, c.connectWait = d, d }
}

// WithHeartbeat fires a HEARTBEAT event (followed by RE_SCHEDULE, as the
// scheduler does) at this interval. FreeSWITCH uses 20 s; the default is off
// so that tests see only the events they cause.
func WithHeartbeat(every time.Duration) Option { return func(c *config) { c.heartbeat = every } }

// WithPlaybackDuration sets how long `playback` of a file lasts. Tone and
// silence streams last as long as their definition says (default 500 ms).
func WithPlaybackDuration(d time.Duration) Option {
	return func(c *config) { c.playbackDelay = d }
}

// Server is a fake FreeSWITCH event socket. It listens for inbound ESL
// connections, runs fake channels, and dials outbound sockets.
type Server struct {
	cfg      config
	ln       net.Listener
	addr     *net.TCPAddr
	hostname string
	ipv4     string
	ipv6     string
	coreUUID string
	started  time.Time

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	seq atomic.Uint64

	busMu sync.Mutex // serializes firing so that listeners see one global order

	mu        sync.Mutex
	closed    bool
	conns     map[*conn]struct{}
	connSnap  []*conn // conns as a slice, nil after a change (connList)
	channels  []*Channel
	apis      map[string]func(args string) string
	globals   map[string]string
	dialplan  map[string][]appSpec
	sessionID int

	stats struct {
		accepted, active                  atomic.Int64
		outboundDone, outboundFailed      atomic.Int64
		sessionsTotal, sessionsPeak, live atomic.Int64
	}
}

// NewServer starts a fake server on 127.0.0.1 at a free port, serving in the
// background. It panics if it cannot listen, like httptest.NewServer.
func NewServer(opts ...Option) *Server {
	s, err := Start(opts...)
	if err != nil {
		panic(fmt.Sprintf("esltest: %v", err))
	}
	return s
}

// Start is NewServer returning the listen error instead of panicking.
func Start(opts ...Option) (*Server, error) {
	cfg := config{
		listenAddr:    "127.0.0.1:0",
		password:      "ClueCon",
		hostname:      "fakefs",
		ipv4:          "127.0.0.1",
		ipv6:          "::1",
		authTimeout:   25 * time.Second,
		connectWait:   25 * time.Second,
		playbackDelay: 500 * time.Millisecond,
		parkDelay:     20 * time.Millisecond,
	}
	for _, o := range opts {
		o(&cfg)
	}
	ln, err := net.Listen("tcp", cfg.listenAddr)
	if err != nil {
		return nil, err
	}
	s := &Server{
		cfg:      cfg,
		ln:       ln,
		addr:     ln.Addr().(*net.TCPAddr),
		hostname: cfg.hostname,
		ipv4:     cfg.ipv4,
		ipv6:     cfg.ipv6,
		coreUUID: cfg.coreUUID,
		started:  time.Now(),
		conns:    map[*conn]struct{}{},
		apis:     map[string]func(string) string{},
		globals:  map[string]string{},
	}
	if s.coreUUID == "" {
		s.coreUUID = newUUID()
	}
	s.seq.Store(1000)
	s.globals["hostname"] = s.hostname
	s.globals["switchname"] = s.hostname
	s.globals["local_ip_v4"] = s.ipv4
	s.globals["local_ip_v6"] = s.ipv6
	s.globals["domain"] = s.ipv4
	s.globals["core_uuid"] = s.coreUUID
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.wg.Add(1)
	go s.acceptLoop()
	if cfg.heartbeat > 0 {
		s.wg.Add(1)
		go s.heartbeatLoop(cfg.heartbeat)
	}
	return s, nil
}

// Addr returns "host:port" of the inbound listener.
func (s *Server) Addr() string { return s.addr.String() }

// Host returns the listening IP address, "127.0.0.1" by default.
func (s *Server) Host() string { return s.addr.IP.String() }

// Port returns the listening port.
func (s *Server) Port() int { return s.addr.Port }

// Password returns the inbound password.
func (s *Server) Password() string { return s.cfg.password }

// CoreUUID returns the Core-UUID header value of every event.
func (s *Server) CoreUUID() string { return s.coreUUID }

// Stats are counters for tests.
type Stats struct {
	Accepted         int64 // inbound connections accepted
	Active           int64 // connections (inbound and outbound) open now
	OutboundDone     int64 // outbound sessions that ended without protocol trouble
	OutboundFailed   int64 // outbound sessions that ended with an error
	SessionsTotal    int64 // fake channels created since start
	SessionsPeak     int64 // most fake channels alive at once
	SessionsLive     int64 // fake channels alive now
	EventSequenceNow uint64
}

// Stats returns a snapshot of the counters.
func (s *Server) Stats() Stats {
	return Stats{
		Accepted:         s.stats.accepted.Load(),
		Active:           s.stats.active.Load(),
		OutboundDone:     s.stats.outboundDone.Load(),
		OutboundFailed:   s.stats.outboundFailed.Load(),
		SessionsTotal:    s.stats.sessionsTotal.Load(),
		SessionsPeak:     s.stats.sessionsPeak.Load(),
		SessionsLive:     s.stats.live.Load(),
		EventSequenceNow: s.seq.Load(),
	}
}

// Close stops listening, ends every connection, channel and background job
// the server started (outbound sockets too), and waits for them to finish.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		s.wg.Wait()
		return nil
	}
	s.closed = true
	conns := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	s.cancel()
	err := s.ln.Close()
	for _, c := range conns {
		c.abort()
	}
	s.wg.Wait()
	if errors.Is(err, net.ErrClosed) {
		err = nil
	}
	return err
}

// goRun starts a goroutine that Close waits for. It reports false, without
// starting anything, once the server is closing.
func (s *Server) goRun(fn func()) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		fn()
	}()
	return true
}

func (s *Server) acceptLoop() {
	defer s.wg.Done()
	for {
		nc, err := s.ln.Accept()
		if err != nil {
			if s.ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return
		}
		s.stats.accepted.Add(1)
		c := newConn(s, nc, false)
		if !s.register(c) {
			nc.Close()
			return
		}
		if !s.goRun(c.serveInbound) {
			s.unregister(c)
			nc.Close()
			return
		}
	}
}

func (s *Server) register(c *conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.conns[c] = struct{}{}
	s.connSnap = nil
	s.stats.active.Add(1)
	return true
}

func (s *Server) unregister(c *conn) {
	s.mu.Lock()
	if _, ok := s.conns[c]; ok {
		delete(s.conns, c)
		s.connSnap = nil
		s.stats.active.Add(-1)
	}
	s.mu.Unlock()
}

// connList returns the connections, as a slice that the caller must not change: it is
// shared until a connection comes or goes, as every event and log line goes through it.
func (s *Server) connList() []*conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.connSnap == nil {
		s.connSnap = make([]*conn, 0, len(s.conns))
		for c := range s.conns {
			s.connSnap = append(s.connSnap, c)
		}
	}
	return s.connSnap
}

// fire delivers an event to every listener whose subscription wants it.
func (s *Server) fire(e *Event) {
	s.busMu.Lock()
	defer s.busMu.Unlock()
	for _, c := range s.connList() {
		c.offerEvent(e)
	}
}

// FireEvent fires an event through the bus, as a module would: the
// standard headers come first, then the given headers sorted by name (a map
// has no order; use FireEventHeaders to choose it), then the body if not
// empty. For CUSTOM events an "Event-Subclass" header selects the subclass.
func (s *Server) FireEvent(name string, headers map[string]string, body string) {
	keys := make([]string, 0, len(headers))
	for k := range headers {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	hs := make([]Header, 0, len(keys))
	for _, k := range keys {
		hs = append(hs, Header{k, headers[k]})
	}
	s.FireEventHeaders(name, hs, body)
}

// FireEventHeaders is FireEvent with ordered headers. An Event-Subclass
// header of a CUSTOM event is placed first, as FreeSWITCH does.
func (s *Server) FireEventHeaders(name string, headers []Header, body string) {
	typ, ok := eventTypeID(name)
	if !ok || typ == typeAll {
		typ = 0
	}
	e := newEvent(typ)
	rest := headers
	if typ == 0 {
		rest = nil
		for _, h := range headers {
			if h.Name == "Event-Subclass" && e.subclass == "" {
				e.subclass = h.Value
				e.add(h.Name, h.Value)
				continue
			}
			rest = append(rest, h)
		}
	}
	s.stdHeaders(e, "esltest", "FireEvent", 1, time.Now())
	e.headers = append(e.headers, rest...)
	if body != "" {
		e.setBody(body)
	}
	s.fire(e)
}

// InjectRaw writes b unchanged to every authenticated inbound connection,
// between two messages. It is meant for malformed-frame tests.
func (s *Server) InjectRaw(b []byte) {
	cp := append([]byte(nil), b...)
	for _, c := range s.connList() {
		c.offerRaw(cp)
	}
}

// HandleAPI registers an api command. It overrides a built-in of the same
// name. An empty result is answered with "-ERR no reply\n", like FreeSWITCH.
func (s *Server) HandleAPI(cmd string, fn func(args string) string) {
	s.mu.Lock()
	s.apis[cmd] = fn
	s.mu.Unlock()
}

// SetGlobal sets a global variable (global_getvar, eval ${...}).
func (s *Server) SetGlobal(name, value string) {
	s.mu.Lock()
	s.globals[name] = value
	s.mu.Unlock()
}

func (s *Server) global(name string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.globals[name]
}

func (s *Server) heartbeatLoop(every time.Duration) {
	defer s.wg.Done()
	t := time.NewTicker(every)
	defer t.Stop()
	task := 0
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-t.C:
		}
		task++
		up := time.Since(s.started)
		e := s.newStdEvent(50, "switch_core.c", "send_heartbeat", 95)
		e.add("Event-Info", "System Ready")
		e.add("Up-Time", uptimeText(up))
		e.add("FreeSWITCH-Version", "1.11.3-dev~64bit")
		e.add("Uptime-msec", strconv.FormatInt(up.Milliseconds(), 10))
		live := s.stats.live.Load()
		e.add("Session-Count", strconv.FormatInt(live, 10))
		e.add("Max-Sessions", "1000")
		e.add("Session-Per-Sec", "30")
		e.add("Session-Per-Sec-Last", "0")
		e.add("Session-Per-Sec-Max", "2")
		e.add("Session-Per-Sec-FiveMin", "2")
		e.add("Session-Since-Startup", strconv.FormatInt(s.stats.sessionsTotal.Load(), 10))
		e.add("Session-Peak-Max", strconv.FormatInt(s.stats.sessionsPeak.Load(), 10))
		e.add("Session-Peak-FiveMin", strconv.FormatInt(s.stats.sessionsPeak.Load(), 10))
		e.add("Idle-CPU", "98.766667")
		s.fire(e)
		r := s.newStdEvent(55, "switch_scheduler.c", "switch_scheduler_execute", 73)
		r.add("Task-ID", "1")
		r.add("Task-Desc", "heartbeat")
		r.add("Task-Group", "core")
		r.add("Task-Runtime", strconv.FormatInt(time.Now().Add(every).Unix(), 10))
		s.fire(r)
	}
}

// newUUID returns a random version 4 UUID.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

func uptimeText(d time.Duration) string {
	us := d.Microseconds()
	const (
		usPerMs  = 1000
		usPerSec = 1000 * usPerMs
		usPerMin = 60 * usPerSec
		usPerH   = 60 * usPerMin
		usPerDay = 24 * usPerH
		usPerY   = 365 * usPerDay
	)
	y := us / usPerY
	us %= usPerY
	days := us / usPerDay
	us %= usPerDay
	h := us / usPerH
	us %= usPerH
	m := us / usPerMin
	us %= usPerMin
	sec := us / usPerSec
	us %= usPerSec
	ms := us / usPerMs
	us %= usPerMs
	return fmt.Sprintf("%d years, %d days, %d hours, %d minutes, %d seconds, %d milliseconds, %d microseconds",
		y, days, h, m, sec, ms, us)
}
