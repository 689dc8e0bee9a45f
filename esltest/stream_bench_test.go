package esltest

import (
	"bufio"
	"io"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkStream measures how fast the fake writes events to one client
// that only reads the bytes; a client benchmark needs this to be far above
// the client's own speed.
func BenchmarkStream(b *testing.B) {
	rec, err := os.ReadFile(filepath.Join(recordingsDir, "events-plain-call.s2c"))
	if err != nil {
		b.Skipf("recordings: %v", err)
	}
	tmpl, err := LoadTemplates(rec)
	if err != nil {
		b.Fatal(err)
	}
	srv := NewServer()
	defer srv.Close()
	nc, err := net.Dial("tcp", srv.Addr())
	if err != nil {
		b.Fatal(err)
	}
	defer nc.Close()
	br := bufio.NewReader(nc)
	if _, err := nc.Write([]byte("auth ClueCon\n\nevent plain ALL\n\n")); err != nil {
		b.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if _, err := readWireMsg(br); err != nil {
			b.Fatal(err)
		}
	}
	var cycle int64
	for _, e := range tmpl.events {
		cycle += int64(len(e.frame(formatPlain)))
	}
	want := cycle * int64(b.N) / int64(tmpl.Len()) // close enough for the byte count
	done := make(chan int64)
	go func() {
		n, _ := io.CopyN(io.Discard, br, want)
		done <- n
	}()
	b.ResetTimer()
	start := time.Now()
	if err := srv.Stream(b.N, tmpl); err != nil {
		b.Fatal(err)
	}
	<-done
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
	b.SetBytes(cycle / int64(tmpl.Len()))
}
