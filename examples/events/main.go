// Command events is the Go twin of the Java example of the Event Socket Library
// documentation: it connects, turns on every event and prints each one serialized.
//
//	go run ./examples/events                      # 127.0.0.1:8021, password ClueCon
//	go run ./examples/events -H pbx -p secret -format json
//	go run ./examples/events -events "CHANNEL_CREATE CHANNEL_HANGUP_COMPLETE" -n 10
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/cgoesl/esl"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "events:", err)
		}
		os.Exit(1)
	}
}

func run(args []string, out, stderr io.Writer) error {
	fs := flag.NewFlagSet("events", flag.ContinueOnError)
	fs.SetOutput(stderr)
	host := fs.String("H", "127.0.0.1", "FreeSWITCH host")
	port := fs.Int("P", 8021, "event socket port")
	password := fs.String("p", "ClueCon", "event socket password")
	names := fs.String("events", "all", "events to subscribe to (\"event plain <this>\")")
	format := fs.String("format", "plain", "how to print each event: plain or json")
	max := fs.Int("n", 0, "stop after this many events (0: until the connection ends)")
	if err := fs.Parse(args); err != nil {
		return err
	}

	con := esl.NewConnection(*host, *port, *password)
	if !con.Connected() {
		return fmt.Errorf("cannot connect to %s:%d: %w", *host, *port, con.Err())
	}
	defer con.Disconnect()
	fmt.Fprintln(out, "connected")

	if err := con.Events("plain", *names); err != nil {
		return err
	}

	// Loop while connected to the socket. RecvEvent blocks until an event arrives; when
	// the connection ends it returns a SERVER_DISCONNECTED event and Connected turns false.
	for n := 0; con.Connected() && (*max == 0 || n < *max); n++ {
		evt := con.RecvEvent()
		fmt.Fprintln(out, evt.Serialize(*format))
	}
	return nil
}
