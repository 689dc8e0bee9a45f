//go:build linux

// Command pump serves the benchmark event pump (bench/pump) on its own: every client that
// subscribes (event plain|json ...) gets -events events of the recorded call, and "api"
// gets a short api/response. It prints the address it listens on as its first line.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/cgoesl/esl/bench/pump"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:8021", "address to listen on (port 0: a free one)")
	events := flag.Int("events", 1000000, "events per subscription")
	split := flag.String("split", "none", "write boundaries: none (256 KiB chunks), random or adversarial")
	seed := flag.Int64("seed", 1, "seed of -split random")
	closeAfter := flag.Bool("close", false, "shut the connection's write side after the events")
	rec := flag.String("recording", "", "recorded plain stream (default: "+pump.Recording+" found from the working directory)")
	verbose := flag.Bool("v", false, "print a line per finished stream on stderr")
	flag.Parse()

	path := *rec
	if path == "" {
		wd, _ := os.Getwd()
		p, err := pump.FindRecording(wd)
		if err != nil {
			fail(err)
		}
		path = p
	}
	set, err := pump.LoadFile(path)
	if err != nil {
		fail(err)
	}
	opt := pump.Options{Events: *events, Seed: *seed, CloseAfter: *closeAfter}
	switch *split {
	case "none":
	case "random":
		opt.Split = pump.SplitRandom
	case "adversarial":
		opt.Split = pump.SplitAdversarial
	default:
		fail(fmt.Errorf("unknown -split %q", *split))
	}
	if *verbose {
		opt.OnDone = func(st pump.StreamStats) {
			fmt.Fprintf(os.Stderr, "pump: %s stream of %d events, %d bytes in %d writes, err=%v\n",
				st.Format, st.Events, st.Bytes, st.Writes, st.Err)
		}
	}
	srv, err := pump.Start(*listen, set, opt)
	if err != nil {
		fail(err)
	}
	fmt.Println(srv.Addr())
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	<-sig
	srv.Close()
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "pump:", err)
	os.Exit(1)
}
