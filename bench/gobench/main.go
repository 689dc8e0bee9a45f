//go:build linux

// Command gobench measures the Go binding against a pump (bench/pump) or any event
// socket: receiving events (reading Event-Name, Unique-ID and Event-Date-Timestamp of
// each) and api round trips, sequential or from several goroutines on one connection.
//
// It prints one line, "RESULT key=value ...", which ./build.sh bench reads:
// events (or round trips), secs, sum (the checksum of bench/pump.Sum), cpu_us (user and
// system time of the measured part), allocs and bytes (Go heap allocations in it),
// gcs, hwm_kib and rss_kib (VmHWM and VmRSS at the end).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/cgoesl/esl"
	"github.com/cgoesl/esl/bench/pump"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8021", "event socket address")
	password := flag.String("password", "ClueCon", "password")
	mode := flag.String("mode", "plain", "plain, json (receive events), api (sequential round trips) or apipar (parallel)")
	lend := flag.Bool("lend", false, "receive events with ReceiveEvents (lent events) instead of RecvEventContext")
	n := flag.Int("n", 1000000, "events to receive, or api round trips")
	par := flag.Int("par", 16, "goroutines for -mode apipar")
	flag.Parse()

	ctx := context.Background()
	conn, err := esl.Dial(ctx, *addr, esl.WithPassword(*password))
	if err != nil {
		fail(err)
	}
	defer conn.Close()

	m0 := measure()
	var sum pump.Sum
	switch *mode {
	case "plain", "json":
		if *lend {
			sum, err = receiveLent(ctx, conn, *mode, *n)
		} else {
			sum, err = receive(ctx, conn, *mode, *n)
		}
	case "api":
		err = apiLoop(ctx, conn, *n)
	case "apipar":
		var wg sync.WaitGroup
		errs := make(chan error, *par)
		for g := 0; g < *par; g++ {
			k := *n / *par
			if g < *n%*par {
				k++
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := apiLoop(ctx, conn, k); err != nil {
					errs <- err
				}
			}()
		}
		wg.Wait()
		close(errs)
		err = <-errs
	default:
		fail(fmt.Errorf("unknown mode %q", *mode))
	}
	m1 := measure()
	if err != nil {
		fail(err)
	}
	hwm, rss := procStatus()
	count := uint64(*n)
	if strings.HasPrefix(*mode, "api") {
		sum = pump.NewSum()
	}
	fmt.Printf("RESULT client=go mode=%s events=%d secs=%.6f sum=%016x got=%d cpu_us=%.0f allocs=%d bytes=%d gcs=%d hwm_kib=%d rss_kib=%d\n",
		*mode, count, m1.wall.Sub(m0.wall).Seconds(), sum.H, sum.N,
		float64(m1.cpu-m0.cpu)/1e3, m1.mallocs-m0.mallocs, m1.bytes-m0.bytes, m1.gcs-m0.gcs, hwm, rss)
}

// receive subscribes and reads n events, three headers each. The clock starts before
// the subscription is sent.
func receive(ctx context.Context, conn *esl.Connection, format string, n int) (pump.Sum, error) {
	sum := pump.NewSum()
	if err := conn.Events(format, "ALL"); err != nil {
		return sum, err
	}
	for i := 0; i < n; i++ {
		ev, err := conn.RecvEventContext(ctx)
		if err != nil {
			return sum, fmt.Errorf("after %d events: %w", i, err)
		}
		sum.Add(ev.GetHeader("Event-Name"), ev.GetHeader("Unique-ID"), ev.GetHeader("Event-Date-Timestamp"))
	}
	return sum, nil
}

// receiveLent is receive through ReceiveEvents.
func receiveLent(ctx context.Context, conn *esl.Connection, format string, n int) (pump.Sum, error) {
	sum := pump.NewSum()
	if err := conn.Events(format, "ALL"); err != nil {
		return sum, err
	}
	i := 0
	err := conn.ReceiveEvents(ctx, func(ev *esl.Event) error {
		sum.Add(ev.GetHeader("Event-Name"), ev.GetHeader("Unique-ID"), ev.GetHeader("Event-Date-Timestamp"))
		if i++; i == n {
			return errEnough
		}
		return nil
	})
	if err != errEnough {
		return sum, fmt.Errorf("after %d events: %w", i, err)
	}
	return sum, nil
}

var errEnough = errors.New("enough events")

func apiLoop(ctx context.Context, conn *esl.Connection, n int) error {
	for i := 0; i < n; i++ {
		ev, err := conn.ApiContext(ctx, "ping", "")
		if err != nil {
			return err
		}
		if ev.GetBody() == "" {
			return fmt.Errorf("empty api/response")
		}
	}
	return nil
}

type sample struct {
	wall                time.Time
	cpu                 int64 // ns of user and system time
	mallocs, bytes, gcs uint64
}

func measure() sample {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return sample{
		wall:    time.Now(),
		cpu:     ru.Utime.Nano() + ru.Stime.Nano(),
		mallocs: ms.Mallocs,
		bytes:   ms.TotalAlloc,
		gcs:     uint64(ms.NumGC),
	}
}

// procStatus returns VmHWM and VmRSS in KiB.
func procStatus() (hwm, rss int64) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1, -1
	}
	for _, ln := range strings.Split(string(b), "\n") {
		var v int64
		if _, err := fmt.Sscanf(ln, "VmHWM: %d kB", &v); err == nil {
			hwm = v
		}
		if _, err := fmt.Sscanf(ln, "VmRSS: %d kB", &v); err == nil {
			rss = v
		}
	}
	return hwm, rss
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "gobench:", err)
	os.Exit(1)
}
