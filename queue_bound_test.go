//go:build cgo

package esl

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/cgoesl/esl/esltest"
)

// heldBackStream dials srv, subscribes to every event and starts streaming n recorded
// events that nobody consumes yet; it returns once the reader goroutine held back with a
// full queue: the depth stopped growing at the bound, with messages still unread.
func heldBackStream(t *testing.T, ctx context.Context, n int) (*Connection, *esltest.Server, esltest.StreamTemplate) {
	t.Helper()
	srv, tmpl := recordedCallServer(t)
	c, err := Dial(ctx, srv.Addr(), WithPassword(srv.Password()), WithEvents("plain", "ALL"))
	if err != nil {
		t.Fatal(err)
	}
	go srv.Stream(n, tmpl)
	last, since := -1, time.Now()
	for {
		st := c.Stats()
		if st.QueueDepth != last {
			last, since = st.QueueDepth, time.Now()
		}
		if st.QueueDepth >= queueHigh && time.Since(since) > 300*time.Millisecond {
			// the reader checks the bound before each batch it takes
			if st.QueueDepth > queueHigh+batchMessages || st.MaxQueueDepth > queueHigh+batchMessages {
				t.Fatalf("queue depth %d (at most %d), over the bound %d", st.QueueDepth, st.MaxQueueDepth, queueHigh)
			}
			if st.Messages >= uint64(n) {
				t.Fatalf("all %d events were read: nothing held back", st.Messages)
			}
			return c, srv, tmpl
		}
		if ctx.Err() != nil {
			t.Fatalf("the queue never settled at the bound: depth %d, %d messages", st.QueueDepth, st.Messages)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestQueueBound: a stream nobody consumes fills the queue to its bound and the reader
// stops reading; an api call and a background job still get their answers (the reader
// reads on for them, queueing the events that come first beyond the bound), and then
// every event arrives, in order, none lost.
func TestQueueBound(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	const n = 3 * queueHigh
	c, _, tmpl := heldBackStream(t, ctx, n)
	defer c.Close()

	r, err := c.ApiContext(ctx, "status", "")
	if err != nil || !strings.Contains(r.GetBody(), "UP") {
		t.Fatalf("api while the reader is held back: %v", err)
	}
	job, err := c.BackgroundJob(ctx, "status", "")
	if err != nil {
		t.Fatalf("bgapi while the reader is held back: %v", err)
	}
	if res, err := job.Wait(ctx); err != nil || !strings.Contains(res.GetBody(), "UP") {
		t.Fatalf("job result while the reader is held back: %v", err)
	}

	events := tmpl.Events()
	got := 0
	err = c.ReceiveEvents(ctx, func(ev *Event) error {
		want := ""
		for _, h := range events[got%len(events)].Headers {
			if h.Name == "Event-Name" {
				want = h.Value
			}
		}
		if name := ev.GetHeader("Event-Name"); name != want {
			t.Errorf("event %d is %s, want %s", got, name, want)
		}
		if got++; got == n {
			return errStopTest
		}
		return nil
	})
	if err != errStopTest {
		t.Fatalf("ReceiveEvents: %v after %d of %d events", err, got, n)
	}
}

// TestCloseWhileHeldBack: Close ends a connection whose reader is held back by a full
// queue, at once.
func TestCloseWhileHeldBack(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c, _, _ := heldBackStream(t, ctx, 2*queueHigh)
	closed := make(chan error, 1)
	go func() { closed <- c.Close() }()
	select {
	case err := <-closed:
		if err != nil {
			t.Fatalf("Close: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not return while the reader was held back")
	}
	if c.Connected() {
		t.Error("still connected after Close")
	}
}
