//go:build linux && cgo

// Command soak runs a long load through one process and watches its resources: events
// streamed from the fake FreeSWITCH (esltest) to an inbound connection, api round trips on
// a second connection, and outbound sessions served by an OutboundServer, all at once.
// Every second it samples RSS, goroutines, OS threads and open descriptors; at the end it
// prints start, peak and end of each, and fails (exit status 1) when anything was lost or
// left behind: events not delivered, sessions that failed, goroutines or descriptors above
// their starting count after everything was closed.
//
//	go run ./soak -events 10000000 -sessions 10000
//
// ./build.sh soak runs it with these defaults.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cgoesl/esl"
	"github.com/cgoesl/esl/esltest"
)

type sample struct {
	at                       time.Duration
	rssKiB                   int64
	goroutines, threads, fds int
}

func procStatus() (rssKiB int64, threads int) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		switch f[0] {
		case "VmRSS:":
			rssKiB, _ = strconv.ParseInt(f[1], 10, 64)
		case "Threads:":
			threads, _ = strconv.Atoi(f[1])
		}
	}
	return rssKiB, threads
}

func countFDs() int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return -1
	}
	return len(ents) - 1 // the directory being read
}

func take(start time.Time) sample {
	rss, th := procStatus()
	return sample{at: time.Since(start), rssKiB: rss, goroutines: runtime.NumGoroutine(), threads: th, fds: countFDs()}
}

func (s sample) String() string {
	return fmt.Sprintf("t=%6.1fs rss=%7.1f MiB goroutines=%6d threads=%4d fds=%5d", s.at.Seconds(),
		float64(s.rssKiB)/1024, s.goroutines, s.threads, s.fds)
}

// template returns the events to stream: the inner events of a recorded call, or one
// synthetic event when the recordings are not at hand.
func template(dir string) esltest.StreamTemplate {
	if b, err := os.ReadFile(filepath.Join(dir, "events-plain-call.s2c")); err == nil {
		if t, err := esltest.LoadTemplates(b); err == nil && t.Len() > 0 {
			return t
		}
	}
	return esltest.NewStreamTemplate(esltest.TemplateEvent{Headers: []esltest.Header{
		{Name: "Event-Name", Value: "CUSTOM"}, {Name: "Event-Subclass", Value: "soak::test"},
		{Name: "Unique-ID", Value: "5e5e5e5e-aaaa-4bbb-8ccc-0123456789ab"},
	}, Body: "soak"})
}

// session is an outbound call as an IVR drives it.
func session(ctx context.Context, c *esl.Connection) error {
	info := c.GetInfo()
	if info == nil || info.GetHeader("Unique-ID") == "" {
		return fmt.Errorf("no channel data: %v", c.Err())
	}
	for _, cmd := range []string{"myevents", "linger"} {
		if _, err := c.SendRecvContext(ctx, cmd); err != nil {
			return err
		}
	}
	for _, app := range [][2]string{{"answer", ""}, {"playback", "silence_stream://5"}, {"hangup", ""}} {
		if _, err := c.ExecuteContext(ctx, app[0], app[1], ""); err != nil {
			return fmt.Errorf("execute %s: %w", app[0], err)
		}
	}
	for {
		ev, err := c.RecvEventContext(ctx)
		if err != nil {
			return fmt.Errorf("waiting for the linger notice: %w", err)
		}
		if ev.ContentType() == "text/disconnect-notice" {
			break
		}
	}
	if _, err := c.SendRecvContext(ctx, "exit"); err != nil {
		return err
	}
	for {
		if _, err := c.RecvEventContext(ctx); err != nil {
			if errors.Is(err, esl.ErrDisconnected) {
				return nil
			}
			return err
		}
	}
}

func main() {
	events := flag.Int("events", 10000000, "events to stream to the inbound connection")
	sessions := flag.Int("sessions", 10000, "outbound sessions to serve")
	parallel := flag.Int("parallel", 32, "outbound calls placed at once")
	apis := flag.Int("api", 100000, "api round trips on a second inbound connection")
	chunk := flag.Int("chunk", 100000, "events per Stream call")
	format := flag.String("format", "plain", "event format: plain or json")
	every := flag.Duration("print", 10*time.Second, "print a sample this often (all are taken every second)")
	testdata := flag.String("testdata", "testdata/freeswitch", "directory of the recordings (event template)")
	flag.Parse()

	start := time.Now()
	var mu sync.Mutex
	var samples []sample
	record := func() sample {
		s := take(start)
		mu.Lock()
		samples = append(samples, s)
		mu.Unlock()
		return s
	}
	first := record()
	fmt.Printf("soak: %d events (%s), %d outbound sessions (%d at a time), %d api round trips\n",
		*events, *format, *sessions, *parallel, *apis)
	fmt.Println("start  ", first)

	stopSampling := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		last := time.Now()
		for {
			select {
			case <-stopSampling:
				return
			case <-tick.C:
				s := record()
				if time.Since(last) >= *every {
					fmt.Println("sample ", s)
					last = time.Now()
				}
			}
		}
	}()

	failed := false
	fail := func(format string, args ...any) {
		fmt.Printf("FAIL: "+format+"\n", args...)
		failed = true
	}

	fs := esltest.NewServer(esltest.WithPlaybackDuration(5 * time.Millisecond))
	ctx := context.Background()

	// Outbound sessions.
	var sessOK, sessFailed atomic.Int64
	srv, err := esl.NewOutboundServer("127.0.0.1:0", func(ctx context.Context, c *esl.Connection) {
		if err := session(ctx, c); err != nil {
			if sessFailed.Add(1) <= 5 {
				fmt.Println("session:", err)
			}
			return
		}
		sessOK.Add(1)
	})
	if err != nil {
		fmt.Println("soak:", err)
		os.Exit(1)
	}
	serveDone := make(chan error, 1)
	go func() { serveDone <- srv.Serve() }()

	var wg sync.WaitGroup
	var callsPlaced, callsFailed atomic.Int64
	var next atomic.Int64
	for w := 0; w < *parallel; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(*sessions) {
				cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
				call, err := fs.DialOutbound(cctx, srv.Addr().String(), esltest.OutboundOptions{Async: true, Full: true})
				if err == nil {
					select {
					case <-call.Done():
						err = call.Wait()
					case <-cctx.Done():
						err = cctx.Err()
					}
				}
				cancel()
				callsPlaced.Add(1)
				if err != nil && callsFailed.Add(1) <= 5 {
					fmt.Println("call:", err)
				}
			}
		}()
	}

	// Api round trips on their own connection.
	var apiDone, apiFailed atomic.Int64
	wg.Add(1)
	go func() {
		defer wg.Done()
		c, err := esl.Dial(ctx, fs.Addr())
		if err != nil {
			fail("api connection: %v", err)
			return
		}
		defer c.Close()
		for i := 0; i < *apis; i++ {
			ev, err := c.ApiContext(ctx, "echo", strconv.Itoa(i))
			if err != nil || ev.GetBody() != strconv.Itoa(i) {
				apiFailed.Add(1)
				continue
			}
			apiDone.Add(1)
		}
	}()

	// Events: one inbound connection, the stream in chunks.
	var received atomic.Int64
	evStart := time.Now()
	var evDur time.Duration
	func() {
		c, err := esl.Dial(ctx, fs.Addr(), esl.WithEvents(*format, "ALL"))
		if err != nil {
			fail("event connection: %v", err)
			return
		}
		defer c.Close()
		tmpl := template(*testdata)
		streamErr := make(chan error, 1)
		go func() {
			for sent := 0; sent < *events; sent += *chunk {
				if err := fs.Stream(min(*chunk, *events-sent), tmpl); err != nil {
					streamErr <- err
					return
				}
			}
			streamErr <- nil
		}()
		rctx, cancel := context.WithTimeout(ctx, 2*time.Hour)
		defer cancel()
		for received.Load() < int64(*events) {
			ev, err := c.RecvEventContext(rctx)
			if err != nil {
				fail("after %d events: %v", received.Load(), err)
				break
			}
			if ev.GetHeader("Event-Name") == "" {
				fail("event %d without Event-Name", received.Load())
				break
			}
			received.Add(1)
		}
		evDur = time.Since(evStart)
		if err := <-streamErr; err != nil {
			fail("stream: %v", err)
		}
		st := c.Stats()
		fmt.Printf("events: %d received in %v (%.0f/s), max queue depth %d\n", received.Load(),
			evDur.Round(time.Millisecond), float64(received.Load())/evDur.Seconds(), st.MaxQueueDepth)
	}()

	wg.Wait()
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	if err := srv.Shutdown(sctx); err != nil {
		fail("shutdown: %v", err)
	}
	cancel()
	if err := <-serveDone; !errors.Is(err, esl.ErrServerClosed) {
		fail("serve: %v", err)
	}
	ost := srv.Stats()
	fs.Close()

	// Let everything that was closed go, then take the end sample.
	time.Sleep(2 * time.Second)
	runtime.GC()
	debug.FreeOSMemory()
	time.Sleep(time.Second)
	close(stopSampling)
	<-sampled
	end := record()
	fmt.Println("end    ", end)

	peak := first
	for _, s := range samples {
		peak.rssKiB = max(peak.rssKiB, s.rssKiB)
		peak.goroutines = max(peak.goroutines, s.goroutines)
		peak.threads = max(peak.threads, s.threads)
		peak.fds = max(peak.fds, s.fds)
	}
	fmt.Printf("\nsummary after %v, %d samples (one a second)\n", time.Since(start).Round(time.Second), len(samples))
	fmt.Printf("  %-12s %10s %10s %10s\n", "", "start", "peak", "end")
	fmt.Printf("  %-12s %10.1f %10.1f %10.1f\n", "RSS MiB", float64(first.rssKiB)/1024, float64(peak.rssKiB)/1024, float64(end.rssKiB)/1024)
	fmt.Printf("  %-12s %10d %10d %10d\n", "goroutines", first.goroutines, peak.goroutines, end.goroutines)
	fmt.Printf("  %-12s %10d %10d %10d\n", "threads", first.threads, peak.threads, end.threads)
	fmt.Printf("  %-12s %10d %10d %10d\n", "fds", first.fds, peak.fds, end.fds)
	fmt.Printf("  events %d/%d in %v; api %d ok, %d failed; sessions %d ok, %d failed (server: accepted %d, completed %d, failed %d, panics %d); calls placed %d, failed %d\n",
		received.Load(), *events, evDur.Round(time.Millisecond), apiDone.Load(), apiFailed.Load(), sessOK.Load(),
		sessFailed.Load(), ost.Accepted, ost.Completed, ost.Failed, ost.Panics, callsPlaced.Load(), callsFailed.Load())

	if received.Load() != int64(*events) {
		fail("%d of %d events received", received.Load(), *events)
	}
	if sessOK.Load() != int64(*sessions) || callsFailed.Load() != 0 {
		fail("sessions: %d ok of %d, %d calls failed", sessOK.Load(), *sessions, callsFailed.Load())
	}
	if apiFailed.Load() != 0 {
		fail("%d api round trips failed", apiFailed.Load())
	}
	if end.goroutines > first.goroutines+2 {
		fail("goroutines: %d at the start, %d at the end", first.goroutines, end.goroutines)
	}
	if end.fds > first.fds {
		fail("descriptors: %d at the start, %d at the end", first.fds, end.fds)
	}
	if failed {
		os.Exit(1)
	}
	fmt.Println("soak: PASS")
}
