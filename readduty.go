package esl

import (
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Who reads the socket, when the reader goroutine waits in the runtime's network poller.
//
// A reply handed from the reader goroutine to the goroutine waiting for it costs a
// goroutine wake-up, and the scheduler answers every wake-up by waking a second OS thread
// to look for work: about 2.4 context switches per round trip against 1 for a program that
// writes a command and reads its reply itself. So a goroutine that waits for its reply,
// with no other command outstanding, may take over the reading: it waits in the poller
// itself, reads and routes everything that comes (events to the queue, other replies to
// their callers, exactly as the reader goroutine would), and gives the duty up once its
// reply is in. Only one goroutine reads at a time; the duty moves under readDuty.mu.
//
// The reader goroutine steps out of the poller right after it handed a reply to a caller
// that may read and nothing else is outstanding: the pattern of back-to-back round trips.
// It takes the duty back when kicked (by a goroutine that starts waiting for an event or
// for a reply it may not read itself, by a caller that stopped with data left to read, by
// Close) or once readLease passes without a round trip. So while a goroutine makes round
// trips back to back, an event that arrives between two of them waits for the next one,
// or at most readLease.
const readLease = time.Millisecond

type readDuty struct {
	mu sync.Mutex
	// free: nobody holds the duty (the reader goroutine stepped out and no caller reads).
	// Written under mu; read without it to skip the lock.
	free atomic.Bool

	// Under mu. rc is the poller's handle on the socket while the reader goroutine serves it
	// in the poller, nil otherwise: callers, who wait in the poller, may take the duty only
	// with rc. The duty is free only while the reader goroutine serves the socket (it stops
	// holding the duty), so event consumers, who never wait in the poller, may take it also
	// while the socket is out of the poller (see unpoll). lastRelease is when the duty was
	// last left free; eventsTurn, that its holder is such a consumer.
	rc          syscall.RawConn
	lastRelease time.Time
	eventsTurn  bool

	// ended and endText: a caller met the end of the connection; the reader goroutine,
	// kicked, reports it (under mu).
	ended   bool
	endText string

	kick chan struct{} // capacity 1: the reader goroutine should take the duty back

	// waiting counts goroutines waiting for events (or for replies they do not read
	// themselves): a caller giving the duty up kicks the reader goroutine when there are any.
	waiting atomic.Int32

	turns   atomic.Uint64 // turns callers took, for tests
	unpolls atomic.Uint64 // times the socket was taken out of the poller, for tests
}

func (d *readDuty) init() { d.kick = make(chan struct{}, 1) }

// waitBegin is called by a goroutine about to wait for what only a reader produces (an
// event, a reply it does not read itself): the reader goroutine takes the duty back if
// nobody holds it. waitEnd is called when it stops waiting.
func (d *readDuty) waitBegin() {
	d.waiting.Add(1)
	if d.free.Load() {
		d.sendKick()
	}
}

func (d *readDuty) waitEnd() { d.waiting.Add(-1) }

func (d *readDuty) sendKick() { notify(d.kick) }

// take gives the duty to a caller if nobody holds it, with the poller's handle.
func (d *readDuty) take() (syscall.RawConn, bool) {
	if !d.free.Load() {
		return nil, false
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.free.Load() || d.rc == nil {
		return nil, false
	}
	d.free.Store(false)
	d.turns.Add(1)
	return d.rc, true
}

// takeForEvents gives the duty to an event consumer, which receives only what can be had
// without waiting (readForEvents), if nobody holds it: also while the socket is out of the
// poller.
func (d *readDuty) takeForEvents() bool {
	if !d.free.Load() {
		return false
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.free.Load() {
		return false
	}
	d.free.Store(false)
	d.eventsTurn = true
	d.turns.Add(1)
	return true
}

// release ends a caller's turn. kick hands the duty straight back to the reader goroutine
// (data left to read, other commands waiting for replies, the connection ended).
func (d *readDuty) release(kick bool, ended bool, endText string) {
	d.mu.Lock()
	if ended && !d.ended {
		d.ended, d.endText = true, endText
	}
	d.lastRelease = time.Now()
	d.eventsTurn = false
	d.free.Store(true)
	d.mu.Unlock()
	if kick || ended || d.waiting.Load() > 0 {
		d.sendKick()
	}
}

// serve is called by the reader goroutine when it starts waiting in the poller on rc.
func (d *readDuty) serve(rc syscall.RawConn) {
	d.mu.Lock()
	d.rc = rc
	d.free.Store(false)
	d.mu.Unlock()
}

// stop is called by the reader goroutine, holding the duty, when it stops using rc.
func (d *readDuty) stop() {
	d.mu.Lock()
	d.rc = nil
	d.free.Store(false)
	d.mu.Unlock()
}

// stepOut lets callers read: the reader goroutine leaves the poller, unless somebody waits
// for events. (free is stored before waiting is loaded, and waitBegin does the
// opposite, so one of the two always sees the other.)
func (d *readDuty) stepOut() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.free.Store(true)
	if d.waiting.Load() > 0 {
		d.free.Store(false)
		return false
	}
	d.lastRelease = time.Now()
	return true
}

// unpoll lets the reader goroutine take the socket out of the poller while it stays out
// for event consumers: it reports whether rc was given up, which it is only while nobody
// or a consumer holds the duty (a caller's turn waits in the poller on rc). The reader
// goroutine then closes its pollable duplicate, and serves a new one once it holds the
// duty again.
//
// A socket in the poller wakes a thread at every arrival of data whenever one of the
// runtime's threads sleeps in the poller, which one does while a processor is idle: the
// consumer that receives a busy stream itself finds the data there anyway, so each wake-up
// was a context switch on the other CPU for nothing, often the CPU the sender needs.
func (d *readDuty) unpoll() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.rc == nil || (!d.free.Load() && !d.eventsTurn) {
		return false
	}
	d.rc = nil
	d.unpolls.Add(1)
	return true
}

// reclaim waits until the reader goroutine holds the duty again: when kicked, or when
// nobody read for readLease and busy (if given) reports false. Each time readLease passes
// and it goes on waiting, it calls stillOut (if given). It returns the end a caller met, if
// one did.
func (d *readDuty) reclaim(t *time.Timer, busy func() bool, stillOut func()) (ended bool, endText string) {
	t.Reset(readLease)
	defer t.Stop()
	for {
		kicked := false
		select {
		case <-d.kick:
			kicked = true
		case <-t.C:
		}
		// While a caller reads, the reader waits a lease at a time: the caller kicks when the
		// duty must come back at once.
		wait := readLease
		d.mu.Lock()
		if d.free.Load() {
			idle := time.Since(d.lastRelease)
			if kicked || d.ended || (idle >= readLease && (busy == nil || !busy())) {
				d.free.Store(false)
				ended, endText = d.ended, d.endText
				d.mu.Unlock()
				return ended, endText
			}
			wait = max(readLease-idle, readLease/4)
		}
		d.mu.Unlock()
		if !kicked && stillOut != nil {
			stillOut()
		}
		t.Reset(wait)
	}
}

// dutyTurn is what a caller's turn at reading needs, kept on the connection (only the
// holder of the duty touches it) so that a turn allocates nothing.
type dutyTurn struct {
	req     *request
	step    func(uintptr) bool
	more    bool // stopped with data left to read
	ended   bool // met the end of the connection
	endText string
}
