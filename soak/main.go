//go:build linux && cgo

// Command soak runs a long load through one process and watches its resources: events
// streamed from the fake FreeSWITCH (esltest) to an inbound connection, api round trips on
// a second connection, and outbound sessions served by an OutboundServer, all at once.
// Every second it samples RSS, the Go heap, goroutines, OS threads, open descriptors and the
// event connection's queue; at the end it prints start, peak, load end and end of each, the
// peaks of the three thirds of the load after warm-up, and fails (exit status 1) when
// anything was lost or left behind:
//
//   - an event, an api round trip or a session lost or failed, or a stall (no event for
//     -stall, an api reply later than 30 s);
//   - RSS, goroutines, threads or descriptors growing after warm-up: the peak of the last
//     third of the load more than 25% (plus a small constant) above the peak of the first;
//   - after everything was closed: goroutines or descriptors above their starting count, an
//     outbound session still active, or an OS thread still blocked in an I/O system call.
//
// Run it with
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
	"runtime/metrics"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/cgoesl/esl"
	"github.com/cgoesl/esl/esltest"
)

type sample struct {
	at                       time.Duration
	rssKiB, heapKiB          int64
	goroutines, threads, fds int
	queue                    int   // events waiting in the event connection's queue
	received                 int64 // events taken from it so far
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

// heapKiB is the memory of live and not yet swept Go heap objects.
func heapKiB() int64 {
	m := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(m)
	if m[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return int64(m[0].Value.Uint64() / 1024)
}

// ioSyscalls are the x86-64 and arm64 system calls a thread blocks in on a socket. After
// everything was closed no thread may still be in one: Go's idle threads wait in futex,
// the poller in epoll_pwait, sysmon in nanosleep.
var ioSyscalls = map[string]map[int]string{
	"amd64": {0: "read", 1: "write", 7: "poll", 19: "readv", 20: "writev", 23: "select",
		42: "connect", 43: "accept", 44: "sendto", 45: "recvfrom", 46: "sendmsg", 47: "recvmsg",
		270: "pselect6", 271: "ppoll", 288: "accept4"},
	"arm64": {63: "read", 64: "write", 65: "readv", 66: "writev", 72: "pselect6", 73: "ppoll",
		202: "accept", 203: "connect", 206: "sendto", 207: "recvfrom", 211: "sendmsg",
		212: "recvmsg", 242: "accept4"},
}

// threadsInIO returns the system calls of the threads blocked in socket I/O (by name and
// count), and the number of threads. The calling thread, which is in read while it looks,
// is left out.
func threadsInIO() (map[string]int, int) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	self := strconv.Itoa(syscall.Gettid())
	io := map[string]int{}
	ents, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return io, 0
	}
	names := ioSyscalls[runtime.GOARCH]
	for _, e := range ents {
		if e.Name() == self {
			continue
		}
		b, err := os.ReadFile("/proc/self/task/" + e.Name() + "/syscall")
		if err != nil {
			continue
		}
		f := strings.Fields(string(b))
		if len(f) == 0 {
			continue
		}
		if nr, err := strconv.Atoi(f[0]); err == nil {
			if name, ok := names[nr]; ok {
				io[name]++
			}
		}
	}
	return io, len(ents)
}

func (s sample) String() string {
	return fmt.Sprintf("t=%6.1fs rss=%7.1f MiB heap=%7.1f MiB goroutines=%6d threads=%4d fds=%5d queue=%8d",
		s.at.Seconds(), float64(s.rssKiB)/1024, float64(s.heapKiB)/1024, s.goroutines, s.threads, s.fds, s.queue)
}

// template returns the events to stream: the inner events of a recorded call, or one
// synthetic event when the recordings are not at hand; and the Core-UUID they all carry,
// which tells them from the events the fake server fires for the sessions and api calls.
func template(dir string) (esltest.StreamTemplate, string) {
	if b, err := os.ReadFile(filepath.Join(dir, "events-plain-call.s2c")); err == nil {
		if t, err := esltest.LoadTemplates(b); err == nil && t.Len() > 0 {
			if i := strings.Index(string(b), "\nCore-UUID: "); i >= 0 {
				v := string(b[i+len("\nCore-UUID: "):])
				if j := strings.IndexByte(v, '\n'); j > 0 {
					return t, v[:j]
				}
			}
		}
	}
	const core = "5e5e5e5e-aaaa-4bbb-8ccc-0123456789ab"
	return esltest.NewStreamTemplate(esltest.TemplateEvent{Headers: []esltest.Header{
		{Name: "Event-Name", Value: "CUSTOM"}, {Name: "Event-Subclass", Value: "soak::test"},
		{Name: "Core-UUID", Value: core}, {Name: "Unique-ID", Value: core},
	}, Body: "soak"}), core
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

// peaks is the largest value of each metric over some samples.
type peaks struct {
	rssKiB, heapKiB          int64
	goroutines, threads, fds int
	n                        int
}

func peakOf(ss []sample) peaks {
	var p peaks
	for _, s := range ss {
		p.rssKiB = max(p.rssKiB, s.rssKiB)
		p.heapKiB = max(p.heapKiB, s.heapKiB)
		p.goroutines = max(p.goroutines, s.goroutines)
		p.threads = max(p.threads, s.threads)
		p.fds = max(p.fds, s.fds)
		p.n++
	}
	return p
}

// grew reports whether last is more than 25% plus slack above first.
func grew(first, last, slack int64) bool { return last > first+first/4+slack }

func mib(kib int64) float64 { return float64(kib) / 1024 }

func main() {
	events := flag.Int("events", 10000000, "events to stream to the inbound connection")
	sessions := flag.Int("sessions", 10000, "outbound sessions to serve")
	parallel := flag.Int("parallel", 32, "outbound calls placed at once")
	apis := flag.Int("api", 100000, "api round trips on a second inbound connection")
	chunk := flag.Int("chunk", 100000, "events per Stream call")
	format := flag.String("format", "plain", "event format: plain or json")
	every := flag.Duration("print", 10*time.Second, "print a sample this often (all are taken every second)")
	warmup := flag.Float64("warmup", 0.1, "share of the load's duration that counts as warm-up")
	stall := flag.Duration("stall", 60*time.Second, "fail when no event arrives for this long")
	testdata := flag.String("testdata", "testdata/freeswitch", "directory of the recordings (event template)")
	csvPath := flag.String("csv", "", "write every sample to this file (CSV)")
	heapPath := flag.String("heapprofile", "", "write a heap profile to this file whenever the Go heap reaches a new peak")
	flag.Parse()

	start := time.Now()
	var received, others atomic.Int64 // streamed events taken; other events taken
	var evConn atomic.Pointer[esl.Connection]
	var mu sync.Mutex
	var samples []sample
	take := func() sample {
		rss, th := procStatus()
		s := sample{at: time.Since(start), rssKiB: rss, heapKiB: heapKiB(), goroutines: runtime.NumGoroutine(),
			threads: th, fds: countFDs(), received: received.Load()}
		if c := evConn.Load(); c != nil {
			s.queue = c.Stats().QueueDepth
		}
		return s
	}
	var heapPeakKiB int64
	record := func() sample {
		s := take()
		mu.Lock()
		samples = append(samples, s)
		newPeak := s.heapKiB > heapPeakKiB*11/10
		if newPeak {
			heapPeakKiB = s.heapKiB
		}
		mu.Unlock()
		if newPeak && *heapPath != "" {
			writeHeapProfile(*heapPath)
		}
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
				if time.Since(last) >= *every-time.Second/2 {
					fmt.Println("sample ", s)
					last = time.Now()
				}
			}
		}
	}()

	var failMu sync.Mutex
	failed := false
	fail := func(format string, args ...any) {
		failMu.Lock()
		defer failMu.Unlock()
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

	// Api round trips on their own connection; a reply later than 30 s counts as lost.
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
			actx, cancel := context.WithTimeout(ctx, 30*time.Second)
			ev, err := c.ApiContext(actx, "echo", strconv.Itoa(i))
			cancel()
			if err != nil || ev.GetBody() != strconv.Itoa(i) {
				if apiFailed.Add(1) <= 5 {
					fmt.Printf("api %d: %v\n", i, err)
				}
				continue
			}
			apiDone.Add(1)
		}
	}()

	// Events: one inbound connection, the stream in chunks.
	evStart := time.Now()
	var evDur time.Duration
	func() {
		c, err := esl.Dial(ctx, fs.Addr(), esl.WithEvents(*format, "ALL"))
		if err != nil {
			fail("event connection: %v", err)
			return
		}
		defer c.Close()
		evConn.Store(c)
		tmpl, streamCore := template(*testdata)
		if streamCore == fs.CoreUUID() {
			fail("the streamed events cannot be told from the server's own")
			return
		}
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
		// A lost event shows as a stall: nothing arrives for -stall.
		rctx, cancel := context.WithCancelCause(ctx)
		defer cancel(nil)
		watchDone := make(chan struct{})
		defer close(watchDone)
		go func() {
			tick := time.NewTicker(time.Second)
			defer tick.Stop()
			last, since := received.Load(), time.Now()
			for {
				select {
				case <-watchDone:
					return
				case <-tick.C:
					if n := received.Load(); n != last {
						last, since = n, time.Now()
					} else if time.Since(since) > *stall {
						cancel(fmt.Errorf("stalled: no event for %v", *stall))
						return
					}
				}
			}
		}()
		for received.Load() < int64(*events) {
			ev, err := c.RecvEventContext(rctx)
			if err != nil {
				if cause := context.Cause(rctx); cause != nil {
					err = cause
				}
				fail("after %d events: %v", received.Load(), err)
				c.Close() // ends a Stream still writing
				break
			}
			if ev.GetHeader("Event-Name") == "" {
				fail("event %d without Event-Name", received.Load())
				c.Close()
				break
			}
			// The subscription (ALL) also gets the events of the sessions and api calls.
			if ev.GetHeader("Core-UUID") != streamCore {
				others.Add(1)
				continue
			}
			received.Add(1)
		}
		evDur = time.Since(evStart)
		if err := <-streamErr; err != nil && !failed {
			fail("stream: %v", err)
		}
		st := c.Stats()
		fmt.Printf("events: %d streamed events received in %v (%.0f/s), %d events of the sessions and api calls, max queue depth %d, %d left in the queue\n",
			received.Load(), evDur.Round(time.Millisecond), float64(received.Load())/evDur.Seconds(), others.Load(),
			st.MaxQueueDepth, st.QueueDepth)
		evConn.Store(nil)
	}()

	wg.Wait()
	loadEnd := time.Since(start)
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

	// Let everything that was closed go (up to 10 s), then take the end sample. Two
	// collections: memory held by a Connection's cleanup goes in the second.
	time.Sleep(time.Second)
	close(stopSampling)
	<-sampled
	var end sample
	var inIO map[string]int
	var tasks int
	for deadline := time.Now().Add(10 * time.Second); ; {
		runtime.GC()
		debug.FreeOSMemory()
		end = take()
		inIO, tasks = threadsInIO()
		if (end.goroutines <= first.goroutines && end.fds <= first.fds && len(inIO) == 0) || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	mu.Lock()
	samples = append(samples, end)
	all := samples
	mu.Unlock()
	fmt.Println("end    ", end)

	if *csvPath != "" {
		var b strings.Builder
		b.WriteString("t_s,rss_kib,heap_kib,goroutines,threads,fds,queue,received\n")
		for _, s := range all {
			fmt.Fprintf(&b, "%.1f,%d,%d,%d,%d,%d,%d,%d\n", s.at.Seconds(), s.rssKiB, s.heapKiB, s.goroutines, s.threads,
				s.fds, s.queue, s.received)
		}
		if err := os.WriteFile(*csvPath, []byte(b.String()), 0o644); err != nil {
			fail("csv: %v", err)
		}
	}

	// The load after warm-up, in thirds.
	var atLoadEnd sample
	var steady []sample
	warm := time.Duration(float64(loadEnd) * *warmup)
	for _, s := range all {
		if s.at <= loadEnd {
			atLoadEnd = s
			if s.at >= warm {
				steady = append(steady, s)
			}
		}
	}
	n := len(steady)
	thirds := [3]peaks{peakOf(steady[:n/3]), peakOf(steady[n/3 : 2*n/3]), peakOf(steady[2*n/3:])}
	peak := peakOf(all)

	fmt.Printf("\nsummary after %v, %d samples (one a second); load %v, warm-up %v\n",
		time.Since(start).Round(time.Second), len(all), loadEnd.Round(time.Second), warm.Round(time.Second))
	fmt.Printf("  %-12s %9s %9s %9s %9s | after warm-up, peak of each third of the load\n", "", "start", "peak", "load end", "closed")
	row := func(name string, a, b, c, d int64, t [3]int64, f func(int64) string) {
		fmt.Printf("  %-12s %9s %9s %9s %9s | %9s %9s %9s\n", name, f(a), f(b), f(c), f(d), f(t[0]), f(t[1]), f(t[2]))
	}
	fm := func(v int64) string { return fmt.Sprintf("%.1f", mib(v)) }
	fi := func(v int64) string { return strconv.FormatInt(v, 10) }
	row("RSS MiB", first.rssKiB, peak.rssKiB, atLoadEnd.rssKiB, end.rssKiB,
		[3]int64{thirds[0].rssKiB, thirds[1].rssKiB, thirds[2].rssKiB}, fm)
	row("Go heap MiB", first.heapKiB, peak.heapKiB, atLoadEnd.heapKiB, end.heapKiB,
		[3]int64{thirds[0].heapKiB, thirds[1].heapKiB, thirds[2].heapKiB}, fm)
	row("goroutines", int64(first.goroutines), int64(peak.goroutines), int64(atLoadEnd.goroutines), int64(end.goroutines),
		[3]int64{int64(thirds[0].goroutines), int64(thirds[1].goroutines), int64(thirds[2].goroutines)}, fi)
	row("threads", int64(first.threads), int64(peak.threads), int64(atLoadEnd.threads), int64(end.threads),
		[3]int64{int64(thirds[0].threads), int64(thirds[1].threads), int64(thirds[2].threads)}, fi)
	row("fds", int64(first.fds), int64(peak.fds), int64(atLoadEnd.fds), int64(end.fds),
		[3]int64{int64(thirds[0].fds), int64(thirds[1].fds), int64(thirds[2].fds)}, fi)
	var io []string
	for name, k := range inIO {
		io = append(io, fmt.Sprintf("%s %d", name, k))
	}
	sort.Strings(io)
	fmt.Printf("  after close: %d threads, %d of them blocked in socket I/O %v; outbound sessions active %d\n",
		tasks, len(io), io, ost.Active)
	fmt.Printf("  events %d/%d in %v, lost %d; api %d/%d ok, lost or failed %d; sessions %d/%d ok, failed %d (server: accepted %d, completed %d, failed %d, panics %d); calls placed %d, failed %d\n",
		received.Load(), *events, evDur.Round(time.Millisecond), int64(*events)-received.Load(), apiDone.Load(), *apis,
		int64(*apis)-apiDone.Load(), sessOK.Load(), *sessions, sessFailed.Load(), ost.Accepted, ost.Completed, ost.Failed,
		ost.Panics, callsPlaced.Load(), callsFailed.Load())

	if received.Load() != int64(*events) {
		fail("%d of %d events received", received.Load(), *events)
	}
	if sessOK.Load() != int64(*sessions) || callsFailed.Load() != 0 || ost.Failed != 0 || ost.Panics != 0 {
		fail("sessions: %d ok of %d, %d calls failed, %d failed and %d panicked in the server", sessOK.Load(), *sessions,
			callsFailed.Load(), ost.Failed, ost.Panics)
	}
	if apiDone.Load() != int64(*apis) {
		fail("%d of %d api round trips came back right", apiDone.Load(), *apis)
	}
	if n < 6 {
		fmt.Printf("  (too few samples after warm-up to judge growth: %d)\n", n)
	} else {
		if grew(thirds[0].rssKiB, thirds[2].rssKiB, 16*1024) {
			fail("RSS grew after warm-up: peak %.1f MiB in the first third, %.1f MiB in the last", mib(thirds[0].rssKiB), mib(thirds[2].rssKiB))
		}
		if grew(int64(thirds[0].goroutines), int64(thirds[2].goroutines), 16) {
			fail("goroutines grew after warm-up: peak %d in the first third, %d in the last", thirds[0].goroutines, thirds[2].goroutines)
		}
		if grew(int64(thirds[0].threads), int64(thirds[2].threads), 16) {
			fail("threads grew after warm-up: peak %d in the first third, %d in the last", thirds[0].threads, thirds[2].threads)
		}
		if grew(int64(thirds[0].fds), int64(thirds[2].fds), 16) {
			fail("descriptors grew after warm-up: peak %d in the first third, %d in the last", thirds[0].fds, thirds[2].fds)
		}
	}
	if end.goroutines > first.goroutines {
		fail("goroutines: %d at the start, %d after close", first.goroutines, end.goroutines)
	}
	if end.fds > first.fds {
		fail("descriptors: %d at the start, %d after close", first.fds, end.fds)
	}
	if len(inIO) > 0 {
		fail("threads still blocked in socket I/O after close: %v", io)
	}
	if ost.Active != 0 {
		fail("%d outbound sessions still active after Shutdown", ost.Active)
	}
	if failed {
		os.Exit(1)
	}
	fmt.Println("soak: PASS")
}

// writeHeapProfile writes the heap profile (of the last GC) to path; a failure is printed,
// not fatal, since the profile is only a diagnostic.
func writeHeapProfile(path string) {
	f, err := os.Create(path)
	if err == nil {
		err = pprof.WriteHeapProfile(f)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "soak: heap profile:", err)
	}
}
