//go:build linux

// Command benchrun runs the client benchmarks of ./build.sh bench in one session: it
// serves the pump (bench/pump) itself and runs the client programs one after the other,
// interleaved round by round (raw reader, C, C reading events in place, original C, Go;
// plain, then json), checks that every client received exactly N events with the expected
// checksum, and prints the tables with medians over the rounds. Ratios compare with the raw reader (events) or the
// raw ping-pong (api) measured in the same session.
package main

import (
	"bufio"
	"bytes"
	"context"
	"flag"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cgoesl/esl/bench/pump"
)

type client struct {
	key, label string
	argv       func(addr, mode string, n int) []string
	modes      []string // plain, json, api, apipar
}

type result struct {
	events   int
	secs     float64
	sum      string
	got      uint64
	cpuUS    float64
	allocs   float64 // -1: unknown
	hwmKiB   float64
	rssKiB   float64
	ok       bool
	failText string
	partial  bool // a stalled client's rate up to its stall (cbench prints it)
}

func main() {
	bin := flag.String("bin", "build/bench", "directory with rawreader, cbench, pingpong and gobench")
	orig := flag.String("orig", "", "cbench built against the original libesl (optional)")
	events := flag.Int("events", envInt("BENCH_EVENTS", 1000000), "events per run (BENCH_EVENTS)")
	rounds := flag.Int("rounds", envInt("BENCH_ROUNDS", 3), "interleaved rounds (BENCH_ROUNDS)")
	apiN := flag.Int("api", envInt("BENCH_API", 100000), "api round trips per run (BENCH_API)")
	rssRun := flag.Bool("rss", os.Getenv("BENCH_RSS") == "1", "also the 10M-event RSS run of the Go binding (BENCH_RSS=1; BENCH_RSS_C=1 adds C over csrc)")
	rssEvents := flag.Int("rss-events", envInt("BENCH_RSS_EVENTS", 10000000), "events of the RSS runs")
	only := flag.String("only", os.Getenv("BENCH_ONLY"), "comma-separated tables to run: events,api (default both)")
	flag.Parse()

	wd, _ := os.Getwd()
	recPath, err := pump.FindRecording(wd)
	if err != nil {
		fail(err)
	}
	set, err := pump.LoadFile(recPath)
	if err != nil {
		fail(err)
	}
	srv, err := pump.Start("127.0.0.1:0", set, pump.Options{})
	if err != nil {
		fail(err)
	}
	defer srv.Close()
	addr := srv.Addr()

	b := func(name string) string { return filepath.Join(*bin, name) }
	clients := []client{
		{key: "raw", label: "raw reader (C, no library)", modes: []string{"plain", "json"},
			argv: func(a, m string, n int) []string { return []string{b("rawreader"), a, m, strconv.Itoa(n)} }},
		{key: "rawpp", label: "raw socket ping-pong (C)", modes: []string{"api"},
			argv: func(a, m string, n int) []string { return []string{b("pingpong"), a, strconv.Itoa(n)} }},
		{key: "c", label: "C over csrc (libesl.a)", modes: []string{"plain", "json", "api"},
			argv: func(a, m string, n int) []string {
				return []string{b("cbench"), a, m, strconv.Itoa(n), "ClueCon", "c"}
			}},
		{key: "cview", label: "C over csrc, events read in place (esl_recv_event_view)", modes: []string{"plain", "json"},
			argv: func(a, m string, n int) []string {
				return []string{b("cbench"), a, m + "-view", strconv.Itoa(n), "ClueCon", "cview"}
			}},
	}
	if *orig != "" {
		clients = append(clients, client{key: "orig", label: "C over original libesl", modes: []string{"plain", "json", "api"},
			argv: func(a, m string, n int) []string {
				return []string{*orig, a, m, strconv.Itoa(n), "ClueCon", "orig"}
			}})
	}
	clients = append(clients, client{key: "go", label: "Go binding", modes: []string{"plain", "json", "api", "apipar"},
		argv: func(a, m string, n int) []string {
			return []string{b("gobench"), "-addr", a, "-mode", m, "-n", strconv.Itoa(n)}
		}},
		client{key: "golent", label: "Go binding, lent events (ReceiveEvents)", modes: []string{"plain", "json"},
			argv: func(a, m string, n int) []string {
				return []string{b("gobench"), "-lend", "-addr", a, "-mode", m, "-n", strconv.Itoa(n)}
			}})

	printHeader(len(set.Events), *events, *rounds, *apiN)
	want := map[int]pump.Sum{}
	expect := func(n int) pump.Sum {
		if s, ok := want[n]; ok {
			return s
		}
		want[n] = set.Expected(n)
		return want[n]
	}

	runTables := map[string]bool{"events": true, "api": true}
	if *only != "" {
		runTables = map[string]bool{}
		for _, t := range strings.Split(*only, ",") {
			runTables[strings.TrimSpace(t)] = true
		}
	}

	results := map[string][]result{} // key "client/mode"
	failed := 0
	run := func(c client, mode string, n int) result {
		srv.SetOptions(pump.Options{Events: n})
		r := runClient(c.argv(addr, mode, n), time.Duration(n/2000+120)*time.Second)
		if r.ok && (mode == "plain" || mode == "json") {
			w := expect(n)
			if r.got != uint64(n) || r.sum != fmt.Sprintf("%016x", w.H) {
				r.ok = false
				r.failText = fmt.Sprintf("got %d events, checksum %s, want %d and %016x", r.got, r.sum, n, w.H)
			}
		}
		status := "ok"
		if !r.ok {
			status = "FAILED: " + r.failText
			failed++
		}
		rate, count := 0.0, float64(n)
		if r.partial {
			count = float64(r.got)
		}
		if r.secs > 0 {
			rate = count / r.secs
		}
		fmt.Printf("  %-6s %-6s n=%-9d %8.3fs %12.0f/s  cpu %7.2f us  hwm %6.1f MiB  %s\n",
			c.key, mode, n, r.secs, rate, r.cpuUS/count, max(r.hwmKiB, 0)/1024, status)
		return r
	}

	for round := 1; round <= *rounds; round++ {
		fmt.Printf("\nround %d of %d (load average %s)\n", round, *rounds, loadAvg())
		if runTables["events"] {
			for _, mode := range []string{"plain", "json"} {
				for _, c := range clients {
					if slices.Contains(c.modes, mode) {
						results[c.key+"/"+mode] = append(results[c.key+"/"+mode], run(c, mode, *events))
					}
				}
			}
		}
		if runTables["api"] {
			for _, mode := range []string{"api", "apipar"} {
				for _, c := range clients {
					if slices.Contains(c.modes, mode) {
						results[c.key+"/"+mode] = append(results[c.key+"/"+mode], run(c, mode, *apiN))
					}
				}
			}
		}
	}

	if runTables["events"] {
		fmt.Printf("\nEvents: %d events per run, median of %d interleaved rounds; ratio = events/s over the raw reader's on the same format\n\n", *events, *rounds)
		fmt.Println("| client | format | events/s | ratio to raw reader | CPU µs/event | RSS MiB (VmHWM) | allocs/event |")
		fmt.Println("|---|---|---:|---:|---:|---:|---:|")
		for _, mode := range []string{"plain", "json"} {
			base := medianRate(results["raw/"+mode])
			for _, c := range clients {
				rs := results[c.key+"/"+mode]
				if len(rs) == 0 {
					continue
				}
				printRow(c.label, mode, rs, base)
			}
		}
	}
	if runTables["api"] {
		fmt.Printf("\nApi round trips (api ping -> 4-byte api/response): %d per run, median of %d rounds; ratio = round trips/s over the raw ping-pong's\n\n", *apiN, *rounds)
		fmt.Println("| client | mode | round trips/s | ratio to raw ping-pong | CPU µs/round trip | RSS MiB (VmHWM) | allocs/round trip |")
		fmt.Println("|---|---|---:|---:|---:|---:|---:|")
		base := medianRate(results["rawpp/api"])
		for _, mode := range []string{"api", "apipar"} {
			for _, c := range clients {
				rs := results[c.key+"/"+mode]
				if len(rs) == 0 {
					continue
				}
				m := "sequential"
				if mode == "apipar" {
					m = "16 goroutines, one connection"
				}
				printRow(c.label, m, rs, base)
			}
		}
	}

	if *rssRun {
		fmt.Printf("\nRSS: %d plain events received, nothing freed explicitly (load average %s)\n\n", *rssEvents, loadAvg())
		var rows [][]string
		for _, c := range clients {
			if c.key != "go" && c.key != "golent" && !(c.key == "c" && os.Getenv("BENCH_RSS_C") == "1") {
				continue
			}
			r := run(c, "plain", *rssEvents)
			allocs := "-"
			if r.allocs >= 0 {
				allocs = fmt.Sprintf("%.2f", r.allocs/float64(r.events))
			}
			rows = append(rows, []string{c.label, fmt.Sprintf("%.0f", float64(r.events)/r.secs),
				fmt.Sprintf("%.1f", r.hwmKiB/1024), fmt.Sprintf("%.1f", r.rssKiB/1024), allocs, okText(r)})
		}
		fmt.Println("| client | events/s | VmHWM MiB | VmRSS MiB at the end | allocs/event | count and checksum |")
		fmt.Println("|---|---:|---:|---:|---:|---|")
		for _, r := range rows {
			fmt.Println("| " + strings.Join(r, " | ") + " |")
		}
	}
	fmt.Printf("\nfinished %s, load average %s\n", time.Now().Format(time.RFC1123), loadAvg())
	if failed > 0 {
		fmt.Printf("%d runs FAILED\n", failed)
		os.Exit(1)
	}
}

func okText(r result) string {
	if r.ok {
		return "exact"
	}
	return "FAILED: " + r.failText
}

func printRow(label, mode string, all []result, base float64) {
	var rs []result
	for _, r := range all {
		if r.ok && r.events > 0 && r.secs > 0 {
			rs = append(rs, r)
		}
	}
	bad := ""
	if n := len(all) - len(rs); n > 0 {
		bad = fmt.Sprintf(" (%d of %d runs FAILED)", n, len(all))
	}
	if len(rs) == 0 {
		// Every run failed; a client that stalled still tells its rate up to the stall.
		var part []result
		for _, r := range all {
			if r.partial {
				part = append(part, r)
			}
		}
		if len(part) == 0 {
			fmt.Printf("| %s%s | %s | - | - | - | - | - |\n", label, bad, mode)
			return
		}
		rate := median(part, func(r result) float64 { return float64(r.got) / r.secs })
		ratio := "-"
		if base > 0 {
			ratio = fmt.Sprintf("%.2f", rate/base)
		}
		cpu := median(part, func(r result) float64 { return r.cpuUS / float64(r.got) })
		fmt.Printf("| %s%s | %s | %.0f (until the stall) | %s | %.2f | - | - |\n", label, bad, mode, rate, ratio, cpu)
		return
	}
	rate := medianRate(rs)
	ratio := "-"
	if base > 0 {
		ratio = fmt.Sprintf("%.2f", rate/base)
	}
	cpu := median(rs, func(r result) float64 { return r.cpuUS / float64(r.events) })
	hwm := 0.0
	for _, r := range rs {
		hwm = math.Max(hwm, r.hwmKiB/1024)
	}
	allocs := "-"
	if rs[0].allocs >= 0 {
		allocs = fmt.Sprintf("%.2f", median(rs, func(r result) float64 { return r.allocs / float64(r.events) }))
	}
	fmt.Printf("| %s%s | %s | %.0f | %s | %.2f | %.1f | %s |\n", label, bad, mode, rate, ratio, cpu, hwm, allocs)
}

func medianRate(rs []result) float64 {
	return median(rs, func(r result) float64 {
		if !r.ok || r.secs <= 0 {
			return math.NaN()
		}
		return float64(r.events) / r.secs
	})
}

func median(rs []result, f func(result) float64) float64 {
	var v []float64
	for _, r := range rs {
		if x := f(r); !math.IsNaN(x) {
			v = append(v, x)
		}
	}
	if len(v) == 0 {
		return 0
	}
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

// runClient runs one client program and parses its RESULT line.
func runClient(argv []string, timeout time.Duration) result {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := result{allocs: -1}
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "RESULT ") {
			continue
		}
		kv := map[string]string{}
		for _, f := range strings.Fields(line)[1:] {
			k, v, _ := strings.Cut(f, "=")
			kv[k] = v
		}
		num := func(k string) float64 { x, _ := strconv.ParseFloat(kv[k], 64); return x }
		r.events = int(num("events"))
		r.secs = num("secs")
		r.sum = kv["sum"]
		r.got = uint64(num("got"))
		r.cpuUS = num("cpu_us")
		if v, ok := kv["allocs"]; ok {
			r.allocs, _ = strconv.ParseFloat(v, 64)
		}
		r.hwmKiB = num("hwm_kib")
		r.rssKiB = num("rss_kib")
		r.ok = true
	}
	if err != nil || !r.ok {
		r.partial = r.ok && r.got > 0 && r.secs > 0
		r.ok = false
		r.failText = strings.TrimSpace(fmt.Sprintf("%v %s", err, lastLine(errb.String())))
	}
	return r
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}

func printHeader(templates, events, rounds, api int) {
	fmt.Printf("esl benchmarks: %s\n", time.Now().Format(time.RFC1123))
	fmt.Printf("machine: %d CPUs (nproc), %s, %s\n", runtime.NumCPU(), cpuModel(), kernel())
	fmt.Printf("go: %s; load average at start: %s\n", runtime.Version(), loadAvg())
	fmt.Printf("stream: the %d events of %s, cycled; %d events per run, %d api round trips per run, %d rounds\n",
		templates, pump.Recording, events, api, rounds)
}

func cpuModel() string {
	b, _ := os.ReadFile("/proc/cpuinfo")
	for _, ln := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(ln, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}

func kernel() string {
	b, err := os.ReadFile("/proc/sys/kernel/osrelease")
	if err != nil {
		return "linux"
	}
	return "Linux " + strings.TrimSpace(string(b))
}

func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "benchrun:", err)
	os.Exit(1)
}
