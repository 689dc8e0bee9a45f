//go:build linux

package pump

import (
	"bufio"
	"encoding/binary"
	"io"
	"math/rand"
	"net"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"unsafe"
)

// Split chooses how the stream is cut into write calls.
type Split int

const (
	// SplitNone writes large chunks (Options.Chunk bytes), for throughput.
	SplitNone Split = iota
	// SplitRandom cuts the stream at random lengths, from 1 byte to 256 KiB.
	SplitRandom
	// SplitAdversarial cuts every frame next to each of its "\n\n" terminators: before,
	// between and after the two newlines, cycling through the three per event and
	// terminator, so the pieces run from one frame's cut into the next frame's.
	SplitAdversarial
)

func (s Split) String() string {
	switch s {
	case SplitRandom:
		return "random"
	case SplitAdversarial:
		return "adversarial"
	}
	return "none"
}

// Options configure the streams of connections that subscribe from now on.
type Options struct {
	// Events is the number of events written after a subscription (event plain|json ...).
	Events int
	Split  Split
	// Seed seeds SplitRandom (0: 1).
	Seed int64
	// Chunk is the write size of SplitNone (0: 256 KiB).
	Chunk int
	// CloseAfter shuts the write side down once the events are written, so a counting
	// client sees the end of the stream.
	CloseAfter bool
	// Drained, when set, makes split writes lockstep: after each piece the pump calls
	// Drained with the number of bytes written on the connection so far (greeting and
	// replies included), and Drained returns once the client has received and read them
	// all (WaitConsumed on the client's socket does that). Each piece then reaches the
	// client's read call on its own.
	Drained func(written int64)
	// LockstepEvery applies Drained to one piece in this many under SplitRandom
	// (0 or 1: every piece). SplitAdversarial applies it to every piece.
	LockstepEvery int
	// OnDone is called after each stream with its counters.
	OnDone func(StreamStats)
}

// StreamStats counts one stream.
type StreamStats struct {
	Format    Format
	Events    int
	Bytes     int64
	Writes    int64 // write calls
	Lockstep  int64 // pieces written in lockstep
	Err       error
	Connected int // connections served so far
}

// Server is the pump: a TCP listener speaking enough of the event socket for clients.
type Server struct {
	set *Set
	ln  *net.TCPListener
	big [2][]byte // whole cycles of frames, at least 4 MiB

	mu    sync.Mutex
	opt   Options
	conns map[*net.TCPConn]struct{}
	count int
	wg    sync.WaitGroup
}

// Start listens on addr ("127.0.0.1:0" picks a free port) and serves until Close.
func Start(addr string, set *Set, opt Options) (*Server, error) {
	a, err := net.ResolveTCPAddr("tcp", addr)
	if err != nil {
		return nil, err
	}
	ln, err := net.ListenTCP("tcp", a)
	if err != nil {
		return nil, err
	}
	s := &Server{set: set, ln: ln, opt: opt, conns: map[*net.TCPConn]struct{}{}}
	for f := range s.big {
		c := set.cycle[f]
		reps := (4<<20)/len(c) + 1
		s.big[f] = make([]byte, 0, reps*len(c))
		for i := 0; i < reps; i++ {
			s.big[f] = append(s.big[f], c...)
		}
	}
	s.wg.Add(1)
	go s.accept()
	return s, nil
}

// Addr is the listening address, host:port.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Port is the listening port.
func (s *Server) Port() int { return s.ln.Addr().(*net.TCPAddr).Port }

// SetOptions replaces the options for subscriptions from now on.
func (s *Server) SetOptions(o Options) {
	s.mu.Lock()
	s.opt = o
	s.mu.Unlock()
}

// Close stops listening, closes every connection and waits for their goroutines.
func (s *Server) Close() error {
	err := s.ln.Close()
	s.mu.Lock()
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
	return err
}

func (s *Server) accept() {
	defer s.wg.Done()
	for {
		c, err := s.ln.AcceptTCP()
		if err != nil {
			return
		}
		s.mu.Lock()
		s.conns[c] = struct{}{}
		s.count++
		s.mu.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.serve(c)
			s.mu.Lock()
			delete(s.conns, c)
			s.mu.Unlock()
			c.Close()
		}()
	}
}

type conn struct {
	s       *Server
	c       *net.TCPConn
	wmu     sync.Mutex
	written int64 // under wmu
}

func (k *conn) write(b []byte) error {
	k.wmu.Lock()
	defer k.wmu.Unlock()
	n, err := k.c.Write(b)
	k.written += int64(n)
	return err
}

func reply(text string) []byte {
	return []byte("Content-Type: command/reply\nReply-Text: " + text + "\n\n")
}

var apiResponse = []byte("Content-Type: api/response\nContent-Length: 4\n\n+OK\n")

func (s *Server) serve(c *net.TCPConn) {
	c.SetNoDelay(true)
	k := &conn{s: s, c: c}
	if k.write([]byte("Content-Type: auth/request\n\n")) != nil {
		return
	}
	r := bufio.NewReaderSize(c, 64<<10)
	var out []byte
	var streams sync.WaitGroup
	defer streams.Wait()
	for {
		cmd, err := readCommand(r)
		if err != nil {
			return
		}
		word, rest, _ := strings.Cut(cmd, " ")
		switch strings.ToLower(word) {
		case "auth", "userauth":
			out = append(out, reply("+OK accepted")...)
		case "api":
			out = append(out, apiResponse...)
		case "event", "events":
			f := Plain
			if strings.HasPrefix(strings.ToLower(rest), "json") {
				f = JSON
			}
			if err := k.write(append(out, reply("+OK event listener enabled "+f.String())...)); err != nil {
				return
			}
			out = out[:0]
			s.mu.Lock()
			opt := s.opt
			s.mu.Unlock()
			streams.Add(1)
			go func() {
				defer streams.Done()
				k.stream(f, opt)
			}()
			continue
		case "exit":
			k.write(append(out, reply("+OK bye")...))
			return
		default:
			out = append(out, reply("-ERR command not found")...)
		}
		// Pipelined commands get their replies in one write.
		if r.Buffered() == 0 {
			if k.write(out) != nil {
				return
			}
			out = out[:0]
		}
	}
}

// readCommand reads one command block and returns its first line; headers are skipped
// and a Content-Length body is read and dropped.
func readCommand(r *bufio.Reader) (string, error) {
	first, n := "", 0
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return "", err
		}
		line = strings.TrimRight(line, "\r\n")
		if line == "" {
			if first == "" {
				continue
			}
			break
		}
		if first == "" {
			first = line
			continue
		}
		if k, v, ok := strings.Cut(line, ":"); ok && strings.EqualFold(k, "content-length") {
			n, _ = strconv.Atoi(strings.TrimSpace(v))
		}
	}
	if n > 0 {
		if _, err := io.CopyN(io.Discard, r, int64(n)); err != nil {
			return "", err
		}
	}
	return first, nil
}

func (k *conn) stream(f Format, opt Options) {
	st := StreamStats{Format: f, Events: opt.Events, Bytes: k.s.set.StreamBytes(f, opt.Events)}
	var err error
	switch opt.Split {
	case SplitRandom:
		err = k.writeRandom(f, opt, &st)
	case SplitAdversarial:
		err = k.writeAdversarial(f, opt, &st)
	default:
		err = k.writeChunks(f, opt, &st)
	}
	st.Err = err
	if err == nil && opt.CloseAfter {
		k.wmu.Lock()
		st.Err = k.c.CloseWrite()
		k.wmu.Unlock()
	}
	k.s.mu.Lock()
	st.Connected = k.s.count
	k.s.mu.Unlock()
	if opt.OnDone != nil {
		opt.OnDone(st)
	}
}

// writeRange writes stream bytes [pos, pos+n) from the repeated cycles, as one write
// call unless it wraps around the end of the buffer.
func (k *conn) writeRange(f Format, pos, n int64, st *StreamStats) error {
	big := k.s.big[f]
	for n > 0 {
		q := pos % int64(len(big))
		m := min(n, int64(len(big))-q)
		if err := k.write(big[q : q+m]); err != nil {
			return err
		}
		st.Writes++
		pos += m
		n -= m
	}
	return nil
}

func (k *conn) writeChunks(f Format, opt Options, st *StreamStats) error {
	chunk := int64(opt.Chunk)
	if chunk <= 0 {
		chunk = 256 << 10
	}
	for pos := int64(0); pos < st.Bytes; pos += chunk {
		if err := k.writeRange(f, pos, min(chunk, st.Bytes-pos), st); err != nil {
			return err
		}
	}
	return nil
}

// randomPiece draws a piece length: often tiny, sometimes medium, sometimes large.
func randomPiece(r *rand.Rand) int64 {
	switch x := r.Intn(10); {
	case x < 5:
		return 1 + r.Int63n(64)
	case x < 8:
		return 65 + r.Int63n(4096-64)
	default:
		return 4097 + r.Int63n(256<<10-4096)
	}
}

func (k *conn) writeRandom(f Format, opt Options, st *StreamStats) error {
	seed := opt.Seed
	if seed == 0 {
		seed = 1
	}
	r := rand.New(rand.NewSource(seed))
	every := int64(max(opt.LockstepEvery, 1))
	var piece int64
	for pos := int64(0); pos < st.Bytes; {
		n := min(randomPiece(r), st.Bytes-pos)
		if err := k.writeRange(f, pos, n, st); err != nil {
			return err
		}
		pos += n
		piece++
		if opt.Drained != nil && piece%every == 0 {
			k.drain(opt)
			st.Lockstep++
		}
	}
	return nil
}

func (k *conn) writeAdversarial(f Format, opt Options, st *StreamStats) error {
	set := k.s.set
	nf := len(set.Events)
	terms := make([][]int, nf)
	for i, fr := range set.frames[f] {
		terms[i] = Terminators(fr)
	}
	var last int64
	for i := 0; i < opt.Events; i++ {
		fi := i % nf
		start := int64(i/nf)*int64(len(set.cycle[f])) + int64(set.offs[f][fi])
		for j, t := range terms[fi] {
			cut := start + int64(t) + int64((i+j)%3)
			if cut <= last {
				continue
			}
			if err := k.writeRange(f, last, cut-last, st); err != nil {
				return err
			}
			last = cut
			if opt.Drained != nil {
				k.drain(opt)
				st.Lockstep++
			}
		}
	}
	if last < st.Bytes {
		return k.writeRange(f, last, st.Bytes-last, st)
	}
	return nil
}

// drain hands the byte count written so far on the connection to opt.Drained.
func (k *conn) drain(opt Options) {
	k.wmu.Lock()
	w := k.written
	k.wmu.Unlock()
	opt.Drained(w)
}

// OutQueue is SIOCOUTQ: bytes written on the socket fd that the peer has not acknowledged.
func OutQueue(fd int) int { return ioctlInt(fd, syscall.TIOCOUTQ) }

// InQueue is FIONREAD: bytes received on the socket fd that were not read yet.
func InQueue(fd int) int { return ioctlInt(fd, syscall.TIOCINQ) }

func ioctlInt(fd int, req uintptr) int {
	var v int32
	_, _, e := syscall.Syscall(syscall.SYS_IOCTL, uintptr(fd), req, uintptr(unsafe.Pointer(&v)))
	if e != 0 {
		return -1
	}
	return int(v)
}

// BytesReceived is tcpi_bytes_received of TCP_INFO: the bytes the socket fd has received
// (in order, whether read or not); -1 when unknown.
func BytesReceived(fd int) int64 {
	var info [232]byte
	n := uint32(len(info))
	_, _, e := syscall.Syscall6(syscall.SYS_GETSOCKOPT, uintptr(fd), syscall.IPPROTO_TCP, syscall.TCP_INFO,
		uintptr(unsafe.Pointer(&info[0])), uintptr(unsafe.Pointer(&n)), 0)
	if e != 0 || n < 136 {
		return -1
	}
	return int64(binary.NativeEndian.Uint64(info[128:136]))
}

// WaitConsumed returns once the socket fd has received written bytes in all and has
// nothing left to read, or when the socket is gone.
func WaitConsumed(fd int, written int64) {
	for spins := 0; ; spins++ {
		got := BytesReceived(fd)
		if got < 0 || got >= written && InQueue(fd) <= 0 {
			return
		}
		backoff(spins)
	}
}

func backoff(spins int) {
	if spins < 256 {
		return
	}
	syscall.Syscall(syscall.SYS_SCHED_YIELD, 0, 0, 0)
}
