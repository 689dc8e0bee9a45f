package esltest

import (
	"bufio"
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
	br := bufio.NewReaderSize(nc, 1<<20)
	if _, err := nc.Write([]byte("auth ClueCon\n\nevent plain ALL\n\n")); err != nil {
		b.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if _, err := readWireMsg(br); err != nil {
			b.Fatal(err)
		}
	}
	var cycle, want int64
	for i, e := range tmpl.events {
		n := int64(len(e.frame(formatPlain)))
		cycle += n
		if i < b.N%tmpl.Len() {
			want += n
		}
	}
	want += cycle * int64(b.N/tmpl.Len())
	done := make(chan int64)
	go func() {
		// A large buffer keeps the reading side cheap.
		buf := make([]byte, 1<<20)
		var n int64
		for n < want {
			m, err := br.Read(buf[:min(int64(len(buf)), want-n)])
			n += int64(m)
			if err != nil {
				break
			}
		}
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
