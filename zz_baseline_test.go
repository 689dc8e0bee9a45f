//go:build cgo

package esl

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"testing"
	"time"
)

func BenchmarkZZBaselineRaw(b *testing.B) {
	srv := fakeFS(b)
	nc, _ := net.Dial("tcp", srv.Addr())
	defer nc.Close()
	r := bufio.NewReaderSize(nc, 1<<20)
	readBlock(r)
	nc.Write([]byte("auth ClueCon\n\n"))
	readBlock(r)
	nc.Write([]byte("event plain ALL\n\n"))
	readBlock(r)
	tmpl := streamTemplate(b)
	b.ResetTimer()
	start := time.Now()
	go srv.Stream(b.N, tmpl)
	n := 0
	buf := make([]byte, 1<<20)
	needle := []byte("text/event-plain")
	for n < b.N {
		k, err := r.Read(buf)
		if err == io.EOF {
			break
		}
		n += bytes.Count(buf[:k], needle)
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
}
