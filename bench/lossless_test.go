//go:build linux

package bench

import (
	"context"
	"errors"
	"os"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cgoesl/esl"
	"github.com/cgoesl/esl/bench/pump"
)

// TestLossless streams N plain events (BENCH_LOSSLESS_EVENTS, default 200000; 20000 with
// -short) and N/4 JSON events through the Go binding, with the pump's writes cut at random
// lengths and at every split of the "\n\n" terminators, and checks that exactly that many
// events arrive, in order, with the expected checksum over Event-Name, Unique-ID and
// Event-Date-Timestamp. It counts; it does not time. (The framing is the same for both
// formats; the JSON runs are shorter to keep CI quick.) The random splits also run
// through ReceiveEvents ("/lent"), whose events are copied into reused buffers.
//
// Writes are lockstep: the pump writes one piece, waits until the client's socket has
// received it and has nothing left to read (TCP_INFO and FIONREAD on the client's socket,
// which this process owns), then writes the next, so each piece reaches the library's
// read call on its own instead of merging with its neighbours.
func TestLossless(t *testing.T) {
	n := 200000
	if v := os.Getenv("BENCH_LOSSLESS_EVENTS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n <= 0 {
			t.Fatalf("BENCH_LOSSLESS_EVENTS=%q: want a positive count", v)
		}
	} else if testing.Short() {
		n = 20000
	}
	set := loadSet(t)
	for _, format := range []string{"plain", "json"} {
		k := n
		if format == "json" {
			k = max(n/4, 1)
		}
		want := set.Expected(k)
		for _, split := range []pump.Split{pump.SplitRandom, pump.SplitAdversarial} {
			t.Run(format+"/"+split.String(), func(t *testing.T) {
				if split == pump.SplitAdversarial && esl.Backend() == "libesl" {
					// measured: 203,624 plain events out of 200,000 sent, checksums wrong
					t.Skip("linked to the original libesl (-tags libesl), which takes a header block " +
						"split between its two newlines as complete (it reads one byte past the data " +
						"it has) and misframes what follows")
				}
				losslessRun(t, set, format, split, k, want, false)
			})
			if split == pump.SplitRandom {
				t.Run(format+"/"+split.String()+"/lent", func(t *testing.T) {
					losslessRun(t, set, format, split, k, want, true)
				})
			}
		}
	}
}

func loadSet(t testing.TB) *pump.Set {
	t.Helper()
	wd, _ := os.Getwd()
	path, err := pump.FindRecording(wd)
	if err != nil {
		t.Skip(err)
	}
	set, err := pump.LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return set
}

func losslessRun(t *testing.T, set *pump.Set, format string, split pump.Split, n int, want pump.Sum, lend bool) {
	var clientFD atomic.Int64
	clientFD.Store(-1)
	done := make(chan pump.StreamStats, 1)
	srv, err := pump.Start("127.0.0.1:0", set, pump.Options{
		Events:     n,
		Split:      split,
		Seed:       int64(n) + int64(split),
		CloseAfter: true,
		Drained: func(written int64) {
			if fd := clientFD.Load(); fd >= 0 {
				pump.WaitConsumed(int(fd), written)
			}
		},
		OnDone: func(st pump.StreamStats) { done <- st },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), timeoutFor(n))
	defer cancel()
	conn, err := esl.Dial(ctx, srv.Addr(), esl.WithPassword("ClueCon"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	clientFD.Store(int64(conn.SocketDescriptor()))
	if err := conn.Events(format, "ALL"); err != nil {
		t.Fatal(err)
	}
	sum := pump.NewSum()
	var endErr error
	if lend {
		endErr = conn.ReceiveEvents(ctx, func(ev *esl.Event) error {
			sum.Add(ev.GetHeader("Event-Name"), ev.GetHeader("Unique-ID"), ev.GetHeader("Event-Date-Timestamp"))
			return nil
		})
	} else {
		for {
			ev, err := conn.RecvEventContext(ctx)
			if err != nil {
				endErr = err
				break
			}
			sum.Add(ev.GetHeader("Event-Name"), ev.GetHeader("Unique-ID"), ev.GetHeader("Event-Date-Timestamp"))
		}
	}
	var st pump.StreamStats
	select {
	case st = <-done:
	case <-time.After(10 * time.Second):
		t.Fatalf("the pump did not finish its stream; the client stopped after %d events with %v", sum.N, endErr)
	}
	if st.Err != nil {
		t.Fatalf("pump: %v", st.Err)
	}
	t.Logf("%s %s: %d events, %d bytes in %d writes (%d lockstep), received %d",
		format, split, n, st.Bytes, st.Writes, st.Lockstep, sum.N)
	if !errors.Is(endErr, esl.ErrDisconnected) {
		t.Errorf("the stream ended with %v, want an error wrapping ErrDisconnected", endErr)
	}
	if sum.N != uint64(n) || sum.H != want.H {
		t.Fatalf("received %d events with checksum %016x, want exactly %d with %016x", sum.N, sum.H, n, want.H)
	}
	if st.Lockstep == 0 || st.Writes < int64(n)/50 {
		t.Fatalf("the stream was not split as asked: %d writes, %d lockstep", st.Writes, st.Lockstep)
	}
}

// timeoutFor allows about 1 ms per event (race detector included), and at least 2 minutes.
func timeoutFor(n int) time.Duration {
	return max(2*time.Minute, time.Duration(n)*time.Millisecond)
}
