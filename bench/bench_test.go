//go:build linux

package bench

import (
	"context"
	"net"
	"sync"
	"testing"

	"github.com/cgoesl/esl"
	"github.com/cgoesl/esl/bench/pump"
)

// The benchmarks run the pump in the same process, which suits profiling the binding:
//
//	go test ./bench -run '^$' -bench RecvPlain -benchtime 200000x -cpuprofile cpu.out
//	go tool pprof -top -focus 'esl\.' bench.test cpu.out
//
// ./build.sh bench measures with the pump and each client in processes of their own.

func BenchmarkRecvPlain(b *testing.B) { benchRecv(b, "plain") }
func BenchmarkRecvJSON(b *testing.B)  { benchRecv(b, "json") }

func benchRecv(b *testing.B, format string) {
	set := loadSet(b)
	srv, err := pump.Start("127.0.0.1:0", set, pump.Options{Events: b.N})
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	ctx := context.Background()
	conn, err := esl.Dial(ctx, srv.Addr(), esl.WithPassword("ClueCon"))
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	b.ReportAllocs()
	b.SetBytes(set.StreamBytes(pump.Plain, len(set.Events)) / int64(len(set.Events)))
	b.ResetTimer()
	if err := conn.Events(format, "ALL"); err != nil {
		b.Fatal(err)
	}
	sum := pump.NewSum()
	for i := 0; i < b.N; i++ {
		ev, err := conn.RecvEventContext(ctx)
		if err != nil {
			b.Fatalf("after %d events: %v", i, err)
		}
		sum.Add(ev.GetHeader("Event-Name"), ev.GetHeader("Unique-ID"), ev.GetHeader("Event-Date-Timestamp"))
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	if want := set.Expected(b.N); sum != want {
		b.Fatalf("checksum %016x over %d events, want %016x over %d", sum.H, sum.N, want.H, want.N)
	}
}

func BenchmarkApi(b *testing.B) { benchApi(b, 1) }

func BenchmarkApiParallel16(b *testing.B) { benchApi(b, 16) }

func benchApi(b *testing.B, par int) {
	set := loadSet(b)
	srv, err := pump.Start("127.0.0.1:0", set, pump.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	ctx := context.Background()
	conn, err := esl.Dial(ctx, srv.Addr(), esl.WithPassword("ClueCon"))
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	b.ReportAllocs()
	b.ResetTimer()
	var wg sync.WaitGroup
	for g := 0; g < par; g++ {
		k := b.N / par
		if g < b.N%par {
			k++
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < k; i++ {
				if _, err := conn.ApiContext(ctx, "ping", ""); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "round-trips/s")
}

// BenchmarkPumpStream measures the pump alone: one connection subscribes and discards
// the bytes. Compare with esltest's BenchmarkStream (the fake FreeSWITCH's Stream); a
// client benchmark needs the pump far faster than any client.
func BenchmarkPumpStream(b *testing.B) {
	set := loadSet(b)
	srv, err := pump.Start("127.0.0.1:0", set, pump.Options{Events: b.N})
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	nc, err := net.Dial("tcp", srv.Addr())
	if err != nil {
		b.Fatal(err)
	}
	defer nc.Close()
	greeting := "Content-Type: auth/request\n\n"
	authOK := "Content-Type: command/reply\nReply-Text: +OK accepted\n\n"
	subOK := "Content-Type: command/reply\nReply-Text: +OK event listener enabled plain\n\n"
	if _, err := nc.Write([]byte("auth ClueCon\n\nevent plain ALL\n\n")); err != nil {
		b.Fatal(err)
	}
	total := int64(len(greeting)+len(authOK)+len(subOK)) + set.StreamBytes(pump.Plain, b.N)
	b.SetBytes(set.StreamBytes(pump.Plain, len(set.Events)) / int64(len(set.Events)))
	b.ResetTimer()
	buf := make([]byte, 256<<10)
	for got := int64(0); got < total; {
		n, err := nc.Read(buf[:min(int64(len(buf)), total-got)])
		if err != nil {
			b.Fatalf("read %d of %d bytes: %v", got, total, err)
		}
		got += int64(n)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
