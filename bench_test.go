//go:build cgo

package esl

import (
	"bytes"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
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

// recordedFrames returns the event messages (whole frames, outer headers included) of a
// recorded FreeSWITCH stream.
func recordedFrames(b testing.TB, file string) [][]byte {
	raw, err := os.ReadFile(file)
	if err != nil {
		b.Fatal(err)
	}
	var frames [][]byte
	for len(raw) > 0 {
		end := bytes.Index(raw, []byte("\n\n"))
		if end < 0 {
			break
		}
		head := string(raw[:end+2])
		n := 0
		if i := strings.Index(head, "Content-Length: "); i >= 0 {
			n, _ = strconv.Atoi(head[i+16 : i+16+strings.IndexByte(head[i+16:], '\n')])
		}
		frame := raw[:end+2+n]
		raw = raw[end+2+n:]
		if strings.Contains(head, "Content-Type: text/event-") {
			frames = append(frames, frame)
		}
	}
	if len(frames) == 0 {
		b.Fatal("no events in " + file)
	}
	return frames
}

// benchPipe feeds recorded event frames through a socket pair to a Connection made with
// NewConnectionFD: the library's parser, the copy into Go and the event queue, without a
// server in the same process competing for the CPUs.
func benchPipe(b *testing.B, file string) {
	frames := recordedFrames(b, file)
	var cycle []byte
	for _, f := range frames {
		cycle = append(cycle, f...)
	}
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	if err != nil {
		b.Fatal(err)
	}
	peer := os.NewFile(uintptr(fds[1]), "peer")
	defer peer.Close()
	go io.Copy(io.Discard, peer)
	// The reply to connect, then the events.
	if _, err := peer.Write([]byte("Content-Type: command/reply\nReply-Text: +OK\n\n")); err != nil {
		b.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		batch := bytes.Repeat(cycle, 256<<10/len(cycle)+1)
		for sent := 0; sent < b.N; sent += len(frames) * (256<<10/len(cycle) + 1) {
			if _, err := peer.Write(batch); err != nil {
				return
			}
		}
	}()
	c := NewConnectionFD(fds[0])
	if !c.Connected() {
		b.Fatal(c.Err())
	}
	defer c.Close()
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	var sink int
	for i := 0; i < b.N; i++ {
		ev := c.RecvEvent()
		sink += len(ev.GetHeader("Event-Name")) + len(ev.GetHeader("Unique-ID")) + len(ev.GetHeader("Event-Date-Timestamp"))
	}
	el := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/el.Seconds(), "events/s")
	c.Close()
	peer.Close()
	<-done
	if sink == 0 {
		b.Fatal("no headers read")
	}
}

func BenchmarkRecvPipePlain(b *testing.B) { benchPipe(b, "testdata/freeswitch/events-plain-call.s2c") }
func BenchmarkRecvPipeJSON(b *testing.B)  { benchPipe(b, "testdata/freeswitch/events-json-call.s2c") }

// pipeResponder is a minimal server on a socket pair: it answers every command block with
// a fixed api/response, so that benchmarks of the round trip measure this package and
// the library rather than a fake FreeSWITCH (allocs/op are the client's alone).
func pipeResponder(b *testing.B) *Connection {
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	if err != nil {
		b.Fatal(err)
	}
	peer := os.NewFile(uintptr(fds[1]), "peer")
	reply := []byte("Content-Type: api/response\nContent-Length: 2\n\nok")
	go func() {
		defer peer.Close()
		buf := make([]byte, 64<<10)
		out := make([]byte, 0, 64<<10)
		// The reply to connect first.
		out = append(out, "Content-Type: command/reply\nReply-Text: +OK\n\n"...)
		prevLF, first := false, true
		for {
			n, err := peer.Read(buf)
			if err != nil {
				return
			}
			blocks := 0
			for _, ch := range buf[:n] {
				if ch == '\n' {
					if prevLF {
						blocks++
					}
					prevLF = true
				} else {
					prevLF = false
				}
			}
			if first && blocks > 0 {
				blocks-- // the first block was connect, answered above
				first = false
			}
			for ; blocks > 0; blocks-- {
				out = append(out, reply...)
			}
			if _, err := peer.Write(out); err != nil {
				return
			}
			out = out[:0]
		}
	}()
	c := NewConnectionFD(fds[0])
	if !c.Connected() {
		b.Fatal(c.Err())
	}
	b.Cleanup(func() { c.Close() })
	return c
}

func BenchmarkApiPipeSequential(b *testing.B) {
	c := pipeResponder(b)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if c.Api("echo", "x") == nil {
			b.Fatal(c.Err())
		}
	}
}

func BenchmarkApiPipeParallel16(b *testing.B) {
	c := pipeResponder(b)
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
