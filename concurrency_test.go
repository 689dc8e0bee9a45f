//go:build cgo

package esl

import (
	"context"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cgoesl/esl/esltest"
)

// 16 goroutines x 1,000 Api calls on one connection while another goroutine receives a
// steady stream of events: every reply reaches its own caller, every event is received
// exactly once.
func TestConcurrentApiAndEvents(t *testing.T) {
	checkLeaks(t)
	const workers, calls, events = 16, 1000, 5000
	srv := fakeFS(t)
	c := inbound(t, srv)
	require.NoError(t, c.Events("plain", "CUSTOM conc::test"))

	seen := make([]int, events)
	recvDone := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		for n := 0; n < events; {
			ev, err := c.RecvEventContext(ctx)
			if err != nil {
				recvDone <- err
				return
			}
			if ev.GetHeader("Event-Subclass") != "conc::test" {
				continue
			}
			i, err := strconv.Atoi(ev.GetHeader("X-Seq"))
			if err != nil || i < 0 || i >= events {
				recvDone <- err
				return
			}
			seen[i]++
			n++
		}
		recvDone <- nil
	}()

	var fire sync.WaitGroup
	fire.Add(1)
	go func() {
		defer fire.Done()
		for i := 0; i < events; i++ {
			srv.FireEvent("CUSTOM", map[string]string{"Event-Subclass": "conc::test", "X-Seq": strconv.Itoa(i)}, "")
			if i%100 == 0 {
				time.Sleep(time.Millisecond)
			}
		}
	}()

	var wg sync.WaitGroup
	errs := make(chan string, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < calls; i++ {
				want := "w" + strconv.Itoa(w) + "-" + strconv.Itoa(i)
				var got string
				if i%2 == 0 {
					got = c.Api("echo", want).GetBody()
				} else {
					ev, err := c.ApiContext(context.Background(), "echo", want)
					if err != nil {
						errs <- err.Error()
						return
					}
					got = ev.GetBody()
				}
				if got != want {
					errs <- "reply " + strconv.Quote(got) + " for " + want
					return
				}
			}
		}()
	}
	wg.Wait()
	fire.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	require.NoError(t, <-recvDone)
	for i, n := range seen {
		if n != 1 {
			t.Fatalf("event %d received %d times", i, n)
		}
	}
	st := c.Stats()
	assert.Equal(t, 0, st.PendingReplies)
	assert.Zero(t, st.RepliesDropped)
	t.Logf("stats: %+v", st)
}

// Several consumers share one stream: each event goes to exactly one of them.
func TestSharedStream(t *testing.T) {
	const events = 20000
	srv := fakeFS(t)
	c := inbound(t, srv)
	require.NoError(t, c.Events("plain", "ALL"))
	tmpl := streamTemplate(t)
	var mu sync.Mutex
	total := 0
	deadline := time.Now().Add(2 * time.Minute)
	finished := func() bool {
		mu.Lock()
		defer mu.Unlock()
		return total >= events || time.Now().After(deadline)
	}
	var wg sync.WaitGroup
	for k := 0; k < 4; k++ {
		wg.Add(1)
		go func(k int) {
			defer wg.Done()
			for !finished() {
				var ev *Event
				if k%2 == 0 {
					ev = c.RecvEventTimed(100)
				} else {
					ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
					ev, _ = c.RecvEventContext(ctx)
					cancel()
				}
				if ev != nil {
					mu.Lock()
					total++
					mu.Unlock()
				}
			}
		}(k)
	}
	require.NoError(t, srv.Stream(events, tmpl))
	wg.Wait()
	assert.Equal(t, events, total)
	// Nothing more than the stream arrived (no duplicates).
	assert.Nil(t, c.RecvEventTimed(200))
	st := c.Stats()
	assert.Equal(t, st.EventsQueued, st.EventsDelivered)
	assert.Equal(t, 0, st.QueueDepth)
}

func streamTemplate(t testing.TB) esltest.StreamTemplate {
	t.Helper()
	b, err := os.ReadFile("testdata/freeswitch/events-plain-call.s2c")
	require.NoError(t, err)
	tmpl, err := esltest.LoadTemplates(b)
	require.NoError(t, err)
	require.Greater(t, tmpl.Len(), 10)
	return tmpl
}
