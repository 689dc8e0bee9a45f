package esl

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// ring is a growable FIFO.
type ring[T any] struct {
	buf  []T
	head int
	n    int
}

func (r *ring[T]) push(v T) {
	if r.n == len(r.buf) {
		nb := make([]T, max(16, 2*len(r.buf)))
		for i := 0; i < r.n; i++ {
			nb[i] = r.buf[(r.head+i)%len(r.buf)]
		}
		r.buf, r.head = nb, 0
	}
	r.buf[(r.head+r.n)%len(r.buf)] = v
	r.n++
}

func (r *ring[T]) pop() (T, bool) {
	var zero T
	if r.n == 0 {
		return zero, false
	}
	v := r.buf[r.head]
	r.buf[r.head] = zero
	r.head = (r.head + 1) % len(r.buf)
	r.n--
	if r.n == 0 && len(r.buf) > 4096 {
		// Let a burst's buffer go once it drained.
		r.buf, r.head = nil, 0
	}
	return v, true
}

// any reports whether f holds for a queued value.
func (r *ring[T]) any(f func(T) bool) bool {
	for i := 0; i < r.n; i++ {
		if f(r.buf[(r.head+i)%len(r.buf)]) {
			return true
		}
	}
	return false
}

// notify puts a token in ch (capacity 1) unless one is there already: a wake-up that never
// blocks the sender and never gets lost.
func notify(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

func (r *ring[T]) drain() []T {
	out := make([]T, 0, r.n)
	for {
		v, ok := r.pop()
		if !ok {
			return out
		}
		out = append(out, v)
	}
}

// eventQueue is the queue between the reader and RecvEvent, RecvEventTimed,
// RecvEventContext and EventStream. Any number of consumers may wait; every event goes to
// exactly one of them.
type eventQueue struct {
	mu     sync.Mutex
	items  ring[*Event]
	ended  bool
	endErr error
	// signal holds a token while events may be waiting; a consumer that takes the last
	// token but leaves events behind puts one back for the next consumer.
	signal chan struct{}
	done   chan struct{} // closed once no more events will arrive

	queued, delivered uint64
	maxDepth          int

	duty *readDuty // of the connection: told when a consumer waits; nil in tests
	// receive lets a consumer that found the queue empty receive a batch itself, when the
	// reader goroutine left the socket to the consumers (stepOutToConsumers); it reports
	// whether messages came. nil in tests.
	receive func() bool
	// popped is set when an event is handed out: a consumer is at work and likely to come
	// back for more. The reader goroutine clears it (stepOutToConsumers).
	popped atomic.Bool
	// wake is the connection's: signalled when the queue drains to queueLow (see holdBack);
	// nil in tests
	wake chan struct{}
}

func newEventQueue() *eventQueue {
	return &eventQueue{signal: make(chan struct{}, 1), done: make(chan struct{})}
}

// pushBatch queues evs in order under one lock, with one wake-up for them all.
func (q *eventQueue) pushBatch(evs []*Event) {
	q.mu.Lock()
	for _, ev := range evs {
		q.items.push(ev)
	}
	q.queued += uint64(len(evs))
	if q.items.n > q.maxDepth {
		q.maxDepth = q.items.n
	}
	q.mu.Unlock()
	notify(q.signal)
}

// end marks the queue finished; queued events are still handed out first.
func (q *eventQueue) end(err error) {
	q.mu.Lock()
	if !q.ended {
		q.ended, q.endErr = true, err
		close(q.done)
	}
	q.mu.Unlock()
}

func (q *eventQueue) tryPop() (*Event, bool, error) {
	q.mu.Lock()
	ev, ok := q.items.pop()
	if ok {
		if !q.popped.Load() {
			q.popped.Store(true)
		}
		q.delivered++
		more := q.items.n > 0
		low := q.items.n == queueLow
		q.mu.Unlock()
		if low && q.wake != nil {
			notify(q.wake)
		}
		if more {
			notify(q.signal)
		}
		return ev, true, nil
	}
	ended, err := q.ended, q.endErr
	q.mu.Unlock()
	if ended {
		return nil, false, err
	}
	return nil, false, nil
}

// pop waits for an event. A nil ctx and timeout <= 0 wait until an event comes or the
// queue ends. It returns (nil, nil) on timeout, (nil, err) once the queue ended and is
// empty, and (nil, ctx.Err()) when ctx ends.
func (q *eventQueue) pop(ctx context.Context, timeout time.Duration) (*Event, error) {
	ev, err := q.popLent(ctx, timeout)
	if ev != nil {
		// it is the caller's now: its buffer, if pooled, is never reused
		ev.settle()
	}
	return ev, err
}

// popLent is pop for ReceiveEvents: the event may be lent (event_lend.go).
func (q *eventQueue) popLent(ctx context.Context, timeout time.Duration) (*Event, error) {
	var timer <-chan time.Time
	var done <-chan struct{}
	if ctx != nil {
		done = ctx.Done()
	}
	for waiting := false; ; {
		ev, ok, err := q.tryPop()
		if ok || err != nil {
			return ev, err
		}
		if q.receive != nil && (ctx == nil || ctx.Err() == nil) && q.receive() {
			continue
		}
		if !waiting {
			waiting = true
			if q.duty != nil {
				// So that somebody reads while a consumer waits (see readduty.go).
				q.duty.waitBegin()
				defer q.duty.waitEnd()
			}
			if timeout > 0 {
				t := time.NewTimer(timeout)
				defer t.Stop()
				timer = t.C
			}
		}
		select {
		case <-q.signal:
		case <-q.done:
			// Drain what is left, then report the end.
			ev, ok, err := q.tryPop()
			if ok {
				return ev, nil
			}
			return nil, err
		case <-done:
			return nil, ctx.Err()
		case <-timer:
			ev, ok, err := q.tryPop()
			if ok || err != nil {
				return ev, err
			}
			return nil, nil
		}
	}
}

// depth is the number of events waiting.
func (q *eventQueue) depth() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.items.n
}

func (q *eventQueue) stats() (queued, delivered uint64, depth, maxDepth int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.queued, q.delivered, q.items.n, q.maxDepth
}
