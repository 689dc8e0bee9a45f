//go:build cgo

package esl

import (
	"runtime"
	"testing"
	"time"
)

// benchRecv receives b.N realistic events (the recorded call of
// testdata/freeswitch/events-plain-call.s2c, re-encoded by the server in format) and
// reads three headers of each, as a typical consumer does.
func benchRecv(b *testing.B, format string) {
	srv := fakeFS(b)
	c := inbound(b, srv)
	if err := c.Events(format, "ALL"); err != nil {
		b.Fatal(err)
	}
	tmpl := streamTemplate(b)
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	errc := make(chan error, 1)
	go func() { errc <- srv.Stream(b.N, tmpl) }()
	var sink int
	for i := 0; i < b.N; i++ {
		ev := c.RecvEvent()
		sink += len(ev.GetHeader("Event-Name")) + len(ev.GetHeader("Unique-ID")) + len(ev.GetHeader("Event-Date-Timestamp"))
	}
	el := time.Since(start)
	b.StopTimer()
	if err := <-errc; err != nil {
		b.Fatal(err)
	}
	if sink == 0 {
		b.Fatal("no headers read")
	}
	b.ReportMetric(float64(b.N)/el.Seconds(), "events/s")
}

func BenchmarkRecvEventPlain(b *testing.B) { benchRecv(b, "plain") }
func BenchmarkRecvEventJSON(b *testing.B)  { benchRecv(b, "json") }

func BenchmarkApiSequential(b *testing.B) {
	srv := fakeFS(b)
	c := inbound(b, srv)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if c.Api("echo", "x") == nil {
			b.Fatal(c.Err())
		}
	}
}

func BenchmarkApiParallel16(b *testing.B) {
	srv := fakeFS(b)
	c := inbound(b, srv)
	b.SetParallelism(max(1, 16/runtime.GOMAXPROCS(0)))
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if c.Api("echo", "x") == nil {
				b.Error(c.Err())
				return
			}
		}
	})
}

// BenchmarkUnpack measures copying one received C event into Go (no socket).
func BenchmarkUnpack(b *testing.B) {
	tmpl := streamTemplate(b)
	te := tmpl.Events()[5]
	ce := newCEvent(evCustom, "")
	for _, h := range te.Headers {
		ce.add(stackBottom, h.Name, h.Value)
	}
	defer ce.free()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if ce.toGo() == nil {
			b.Fatal("nil")
		}
	}
}
