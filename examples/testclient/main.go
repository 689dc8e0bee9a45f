// Command testclient is the Go twin of libesl's testclient.c: it logs in, runs
// "api status" and prints the answer.
//
//	go run ./examples/testclient                  # localhost:8021, password ClueCon
//	go run ./examples/testclient -H pbx -p secret -cmd "api version"
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
			fmt.Fprintln(os.Stderr, "testclient:", err)
		}
		os.Exit(1)
	}
}

func run(args []string, out, stderr io.Writer) error {
	fs := flag.NewFlagSet("testclient", flag.ContinueOnError)
	fs.SetOutput(stderr)
	host := fs.String("H", "localhost", "FreeSWITCH host")
	port := fs.Int("P", 8021, "event socket port")
	password := fs.String("p", "ClueCon", "event socket password")
	cmd := fs.String("cmd", "api status", "command to send")
	if err := fs.Parse(args); err != nil {
		return err
	}

	handle := esl.NewConnection(*host, *port, *password)
	if !handle.Connected() {
		return fmt.Errorf("cannot connect to %s:%d: %w", *host, *port, handle.Err())
	}
	defer handle.Disconnect()

	reply := handle.SendRecv(*cmd)
	if reply == nil {
		return fmt.Errorf("%s: %w", *cmd, handle.Err())
	}
	if body := reply.GetBody(); body != "" {
		fmt.Fprintln(out, body)
	} else {
		// api and bgapi always have a body; other commands answer in Reply-Text.
		fmt.Fprintln(out, reply.GetHeader("Reply-Text"))
	}
	return nil
}
