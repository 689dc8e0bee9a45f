//go:build cgo

package esl

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cgoesl/esl/esltest"
)

// apiLoop makes back-to-back twin round trips (the callers that read their own replies)
// until stop is closed, checking that every reply is the answer to its own command.
func apiLoop(t *testing.T, c *Connection, tag string, stop <-chan struct{}) int {
	n := 0
	for {
		select {
		case <-stop:
			return n
		default:
		}
		want := tag + "-" + strconv.Itoa(n)
		r := c.Api("echo", want)
		if r == nil {
			t.Errorf("%s: Api gave nil after %d round trips: %v", tag, n, c.Err())
			return n
		}
		if got := r.GetBody(); got != want {
			t.Errorf("%s: reply %q to command %q", tag, got, want)
			return n
		}
		n++
	}
}

// dutyConn is a connection to a fake server, subscribed to the CUSTOM my::duty events that
// fireSeq sends, with a leak check at the end of the test.
func dutyConn(t *testing.T) (*esltest.Server, *Connection) {
	checkLeaks(t)
	srv := fakeFS(t)
	c := inbound(t, srv)
	require.NoError(t, c.Events("plain", "CUSTOM my::duty"))
	return srv, c
}

// callersRead reports whether anyone but the reader goroutine ever reads, logging why not:
// with the original libesl (-tags libesl) the reader goroutine sits in a blocking
// esl_recv_event and keeps the socket to itself, so there is no read duty to hand over.
// The tests of what callers see still run there.
func callersRead(t *testing.T) bool {
	t.Helper()
	if !canRecvBatch {
		t.Logf("not checking who read: the %s library has no batched receive, only the reader goroutine reads", Backend())
	}
	return canRecvBatch
}

// fireSeq fires event number i (its X-Seq header).
func fireSeq(srv *esltest.Server, i int) {
	srv.FireEvent("CUSTOM", map[string]string{"Event-Subclass": "my::duty", "X-Seq": strconv.Itoa(i)}, "")
}

// While one goroutine makes round trips back to back, the callers read the socket; events
// fired meanwhile still reach a goroutine that waits for them, in order and promptly.
func TestReadDutyEventsDuringRoundTrips(t *testing.T) {
	srv, c := dutyConn(t)

	stop := make(chan struct{})
	var wg sync.WaitGroup
	var trips int
	wg.Add(1)
	go func() { defer wg.Done(); trips = apiLoop(t, c, "a", stop) }()

	const events = 50
	for i := 0; i < events; i++ {
		fireSeq(srv, i)
		ev := c.RecvEventTimed(5000)
		require.NotNil(t, ev, "event %d not received while round trips run", i)
		require.Equal(t, strconv.Itoa(i), ev.GetHeader("X-Seq"))
		time.Sleep(time.Millisecond)
	}
	close(stop)
	wg.Wait()
	assert.Greater(t, trips, 0)
}

// Back-to-back round trips from one goroutine are the pattern the read duty is for: the
// callers read their own replies.
func TestReadDutyTaken(t *testing.T) {
	if !callersRead(t) {
		t.SkipNow()
	}
	srv := fakeFS(t)
	c := inbound(t, srv)
	// Whether the reader goroutine stepped out before the next command depends on the
	// scheduler; on a loaded machine it may take many round trips.
	deadline := time.Now().Add(10 * time.Second)
	for c.state().duty.turns.Load() == 0 && time.Now().Before(deadline) {
		require.NotNil(t, c.Api("echo", "x"))
	}
	assert.Greater(t, c.state().duty.turns.Load(), uint64(0), "no caller ever read its own reply")
}

// Events that arrive while only callers read are queued by them: nothing is lost when no
// goroutine waits for events.
func TestReadDutyQueuesEvents(t *testing.T) {
	srv, c := dutyConn(t)

	const events = 200
	for i := 0; i < events; i++ {
		r := c.Api("echo", strconv.Itoa(i))
		require.NotNil(t, r)
		require.Equal(t, strconv.Itoa(i), r.GetBody())
		fireSeq(srv, i)
	}
	for i := 0; i < events; i++ {
		ev := c.RecvEventTimed(5000)
		require.NotNil(t, ev, "event %d lost", i)
		require.Equal(t, strconv.Itoa(i), ev.GetHeader("X-Seq"))
	}
}

// Several goroutines making round trips, background jobs and an event consumer share one
// connection: every reply reaches its own caller whoever reads.
func TestReadDutyMixedCallers(t *testing.T) {
	srv, c := dutyConn(t)

	stop := make(chan struct{})
	var wg sync.WaitGroup
	for g := 0; g < 3; g++ {
		wg.Add(1)
		go func(g int) { defer wg.Done(); apiLoop(t, c, "g"+strconv.Itoa(g), stop) }(g)
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			arg := fmt.Sprintf("job-%d", i)
			j, err := c.BackgroundJob(context.Background(), "echo", arg)
			if !assert.NoError(t, err) {
				return
			}
			ev, err := j.Wait(context.Background())
			if !assert.NoError(t, err) || !assert.Equal(t, arg, ev.GetBody()) {
				return
			}
		}
	}()
	for i := 0; i < 30; i++ {
		fireSeq(srv, i)
		ev := recvWhere(t, c, 5*time.Second, named("CUSTOM"))
		require.Equal(t, strconv.Itoa(i), ev.GetHeader("X-Seq"))
		time.Sleep(2 * time.Millisecond)
	}
	close(stop)
	wg.Wait()
}

// A caller reading for itself meets the end of the connection: it and every other waiter
// get ErrDisconnected, and the event stream ends with the notice.
func TestReadDutyCallerSeesEnd(t *testing.T) {
	checkLeaks(t)
	addr := rawFS(t, func(nc net.Conn, r *bufio.Reader) {
		for i := 0; ; i++ {
			cmd := readBlock(r)
			switch {
			case cmd == "":
				return
			case strings.HasPrefix(cmd, "api ") && i == 100:
				nc.Write([]byte("Content-Type: text/disconnect-notice\nContent-Length: 3\n\nbye"))
				return
			case strings.HasPrefix(cmd, "api "):
				nc.Write([]byte("Content-Type: api/response\nContent-Length: 2\n\nok"))
			default:
				nc.Write([]byte("Content-Type: command/reply\nReply-Text: +OK\n\n"))
			}
		}
	})
	c, err := Dial(context.Background(), addr)
	require.NoError(t, err)
	defer c.Close()
	n := 0
	for ; n < 200; n++ {
		if c.Api("status") == nil {
			break
		}
	}
	assert.Equal(t, 100, n)
	assert.ErrorIs(t, c.Err(), ErrDisconnected)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ev, err := c.RecvEventContext(ctx)
	require.NoError(t, err)
	assert.Equal(t, "text/disconnect-notice", ev.ContentType())
	_, err = c.RecvEventContext(ctx)
	assert.ErrorIs(t, err, ErrDisconnected)
}

// Close while goroutines make round trips back to back: they stop with ErrClosed, and the
// reader goroutine (whether in the poller or stepped out) ends.
func TestReadDutyClose(t *testing.T) {
	checkLeaks(t)
	srv := fakeFS(t)
	c := inbound(t, srv)
	var wg sync.WaitGroup
	for g := 0; g < 2; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c.Api("echo", "x") != nil {
			}
			assert.ErrorIs(t, c.Err(), ErrClosed)
		}()
	}
	time.Sleep(50 * time.Millisecond)
	require.NoError(t, c.Close())
	wg.Wait()
}

// burstFS is a server that answers "event" and starts writing n plain CUSTOM events with
// X-Seq 0..n-1 back to back, many per write (n < 0: until the connection closes); api
// commands are answered meanwhile with their argument.
func burstFS(t *testing.T, n int) string {
	return rawFS(t, func(nc net.Conn, r *bufio.Reader) {
		var wmu sync.Mutex
		var streaming sync.WaitGroup
		defer streaming.Wait()
		write := func(b []byte) error {
			wmu.Lock()
			defer wmu.Unlock()
			_, err := nc.Write(b)
			return err
		}
		stream := func() {
			defer streaming.Done()
			var b []byte
			for i := 0; n < 0 || i < n; i++ {
				body := "Event-Name: CUSTOM\nEvent-Subclass: my%3A%3Aduty\nX-Seq: " + strconv.Itoa(i) + "\n\n"
				b = append(b, "Content-Length: "+strconv.Itoa(len(body))+"\nContent-Type: text/event-plain\n\n"+body...)
				if len(b) > 16<<10 || i == n-1 {
					if write(b) != nil {
						return
					}
					b = b[:0]
				}
			}
		}
		for {
			cmd := readBlock(r)
			switch {
			case cmd == "":
				return
			case strings.HasPrefix(cmd, "api "):
				arg := strings.TrimSpace(strings.TrimPrefix(strings.TrimPrefix(cmd, "api "), "echo"))
				write([]byte("Content-Type: api/response\nContent-Length: " + strconv.Itoa(len(arg)) + "\n\n" + arg))
			case strings.HasPrefix(cmd, "event "):
				write([]byte("Content-Type: command/reply\nReply-Text: +OK event listener enabled plain\n\n"))
				streaming.Add(1)
				go stream()
			default:
				write([]byte("Content-Type: command/reply\nReply-Text: +OK\n\n"))
			}
		}
	})
}

// An event consumer that falls behind a fast stream receives the rest itself (the reader
// goroutine steps out for it, and takes the socket out of the poller meanwhile), with
// ReceiveEvents and with RecvEvent: every event arrives once and in order, and round trips
// made meanwhile get their own replies.
func TestReadDutyConsumerReads(t *testing.T) {
	for _, how := range []string{"ReceiveEvents", "RecvEvent"} {
		t.Run(how, func(t *testing.T) {
			checkLeaks(t)
			const events = 100000
			c, err := Dial(context.Background(), burstFS(t, events))
			require.NoError(t, err)
			defer c.Close()
			require.NoError(t, c.Events("plain", "CUSTOM my::duty"))
			next, turnsBefore := 0, uint64(0)
			errAll := errors.New("all events received")
			handle := func(ev *Event) error {
				if next == 0 {
					// behind the stream: the queue fills, and so does the socket
					time.Sleep(100 * time.Millisecond)
				}
				if got := ev.GetHeader("X-Seq"); got != strconv.Itoa(next) {
					return fmt.Errorf("event %d: X-Seq %q", next, got)
				}
				if next >= events*9/10 && next%5000 == 0 {
					// (a caller reading for its reply reads every event before it: not earlier)
					if turnsBefore == 0 {
						turnsBefore = c.state().duty.turns.Load()
					}
					want := "trip-" + strconv.Itoa(next)
					if r := c.Api("echo", want); r == nil || r.GetBody() != want {
						if r == nil {
							return fmt.Errorf("round trip at event %d: %v", next, c.Err())
						}
						return fmt.Errorf("round trip at event %d: %q", next, r.Serialize(""))
					}
				}
				if next++; next == events {
					return errAll
				}
				return nil
			}
			if how == "ReceiveEvents" {
				err = c.ReceiveEvents(context.Background(), handle)
			} else {
				for err == nil {
					ev := c.RecvEventTimed(10000)
					if ev == nil {
						err = fmt.Errorf("no event %d: %v", next, c.Err())
						break
					}
					err = handle(ev)
				}
			}
			assert.ErrorIs(t, err, errAll)
			assert.Equal(t, events, next)
			if callersRead(t) {
				assert.Greater(t, turnsBefore, uint64(10), "the consumer never received events itself")
				// and the socket left the poller while it did (the round trips above still got
				// their replies)
				assert.Greater(t, c.state().duty.unpolls.Load(), uint64(0), "the socket never left the poller")
			}
		})
	}
}

// When the socket cannot be put back in the poller after it left it for a consumer (no
// descriptor free for a new duplicate), the reader goroutine goes on in blocking mode: the
// stream still arrives whole and in order, and round trips still get their replies.
func TestReadDutyRepollFails(t *testing.T) {
	checkLeaks(t)
	if !callersRead(t) {
		t.Skip("skipped: with the original libesl the reader never uses the poller, so there is nothing to put back")
	}
	var refused atomic.Int32
	repoll = func(int) *os.File { refused.Add(1); return nil }
	t.Cleanup(func() { repoll = pollable })
	const events = 100000
	c, err := Dial(context.Background(), burstFS(t, events))
	require.NoError(t, err)
	defer c.Close()
	require.NoError(t, c.Events("plain", "CUSTOM my::duty"))
	next := 0
	errAll := errors.New("all events received")
	err = c.ReceiveEvents(context.Background(), func(ev *Event) error {
		if next == 0 {
			time.Sleep(100 * time.Millisecond) // behind the stream: the consumer reads for itself
		}
		if got := ev.GetHeader("X-Seq"); got != strconv.Itoa(next) {
			return fmt.Errorf("event %d: X-Seq %q", next, got)
		}
		if next%10000 == 9999 {
			want := "trip-" + strconv.Itoa(next)
			if r := c.Api("echo", want); r == nil || r.GetBody() != want {
				return fmt.Errorf("round trip at event %d: %v", next, c.Err())
			}
		}
		if next++; next == events {
			return errAll
		}
		return nil
	})
	assert.ErrorIs(t, err, errAll)
	assert.Equal(t, events, next)
	assert.Greater(t, c.state().duty.unpolls.Load(), uint64(0), "the socket never left the poller")
	assert.Greater(t, refused.Load(), int32(0), "the reader goroutine never tried to put the socket back")
	// and the connection still answers after the stream
	r := c.Api("echo", "after")
	require.NotNil(t, r, "%v", c.Err())
	assert.Equal(t, "after", r.GetBody())
}

// A ReceiveEvents caller that receives a never-ending stream itself still stops when its
// context ends, and Close stops another one; neither leaves a goroutine behind.
func TestReadDutyLenderStops(t *testing.T) {
	checkLeaks(t)
	for _, how := range []string{"context", "close"} {
		t.Run(how, func(t *testing.T) {
			c, err := Dial(context.Background(), burstFS(t, -1))
			require.NoError(t, err)
			defer c.Close()
			require.NoError(t, c.Events("plain", "CUSTOM my::duty"))
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			got := 0
			done := make(chan error, 1)
			go func() {
				done <- c.ReceiveEvents(ctx, func(ev *Event) error {
					if got++; got == 1 {
						time.Sleep(100 * time.Millisecond)
					}
					return nil
				})
			}()
			time.Sleep(300 * time.Millisecond)
			turns := c.state().duty.turns.Load()
			// Close must not wait for the end of a stream that never ends
			closed := make(chan error, 1)
			if how == "context" {
				cancel()
			} else {
				go func() { closed <- c.Close() }()
			}
			select {
			case err := <-done:
				if how == "context" {
					assert.ErrorIs(t, err, context.Canceled)
				} else {
					assert.ErrorIs(t, err, ErrClosed)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("ReceiveEvents did not return")
			}
			if how == "context" {
				go func() { closed <- c.Close() }()
			}
			select {
			case err := <-closed:
				assert.NoError(t, err)
			case <-time.After(10 * time.Second):
				t.Fatal("Close did not return while the peer kept sending")
			}
			assert.Greater(t, got, 1000)
			if callersRead(t) {
				assert.Greater(t, turns, uint64(10), "the caller never received events itself")
			}
		})
	}
}
