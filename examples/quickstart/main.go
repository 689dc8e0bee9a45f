// Command quickstart is the Go twin of the "Simple Perl Example" of the Event Socket
// Library documentation: it connects to FreeSWITCH, subscribes to every event, originates
// a call in the background under a call UUID it picks itself, waits for the originate's
// BACKGROUND_JOB, prints the DTMF digits the call receives and hangs up.
//
//	go run ./examples/quickstart                          # embedded fake FreeSWITCH
//	go run ./examples/quickstart -addr 127.0.0.1:8021 -password ClueCon
//	ESL_ADDR=pbx:8021 ESL_PASSWORD=secret go run ./examples/quickstart -target user/1000 -dtmf=""
//
// With neither -addr nor -password (nor ESL_ADDR / ESL_PASSWORD in the environment) it
// starts an embedded fake FreeSWITCH from package esltest, so the example runs on any
// machine. Otherwise it talks to the FreeSWITCH given (default 127.0.0.1:8021, ClueCon).
//
// So that a run shows some digits without a person at a phone, the program asks
// FreeSWITCH to feed -dtmf (default "123#") into the answered call with the api command
// uuid_recv_dtmf; the call then reports them as DTMF events. The loop ends at the first
// digit that is not 0-9, as in the Perl original. With -dtmf="" it waits for a person
// to press keys instead (up to -timeout).
package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"time"

	"github.com/cgoesl/esl"
	"github.com/cgoesl/esl/esltest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "quickstart:", err)
		}
		os.Exit(1)
	}
}

type config struct {
	addr     string
	password string
	target   string
	dest     string
	dtmf     string
	timeout  time.Duration
	embedded bool
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("quickstart", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.addr, "addr", "", "FreeSWITCH event socket host:port (env ESL_ADDR; default 127.0.0.1:8021 when only a password is given)")
	fs.StringVar(&c.password, "password", "", "event socket password (env ESL_PASSWORD; default ClueCon)")
	fs.StringVar(&c.target, "target", "loopback/9196/default", "endpoint to call (the Perl example's argument)")
	fs.StringVar(&c.dest, "dest", "&park", "where the answered call goes: an extension or &app(args)")
	fs.StringVar(&c.dtmf, "dtmf", "123#", "digits to feed into the answered call with uuid_recv_dtmf; empty: wait for a person")
	fs.DurationVar(&c.timeout, "timeout", 30*time.Second, "give up waiting for digits after this long")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		c.target = fs.Arg(0) // like the Perl example: the target may be given as an argument
	}
	if c.addr == "" {
		c.addr = os.Getenv("ESL_ADDR")
	}
	if c.password == "" {
		c.password = os.Getenv("ESL_PASSWORD")
	}
	c.embedded = c.addr == "" && c.password == ""
	if c.addr == "" {
		c.addr = "127.0.0.1:8021"
	}
	if c.password == "" {
		c.password = "ClueCon"
	}
	return c, nil
}

func run(ctx context.Context, args []string, out, stderr io.Writer) error {
	cfg, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	if cfg.embedded {
		srv := esltest.NewServer()
		defer srv.Close()
		cfg.addr, cfg.password = srv.Addr(), srv.Password()
		fmt.Fprintf(out, "No -addr/-password (or ESL_ADDR/ESL_PASSWORD) given: started an embedded fake FreeSWITCH on %s\n", cfg.addr)
	}
	return call(ctx, cfg, out)
}

// call is the Perl example, line by line, with the SWIG-style methods.
func call(ctx context.Context, cfg config, out io.Writer) error {
	host, portText, err := net.SplitHostPort(cfg.addr)
	if err != nil {
		return fmt.Errorf("bad address %q: %w", cfg.addr, err)
	}
	port, err := strconv.Atoi(portText)
	if err != nil {
		return fmt.Errorf("bad port in %q", cfg.addr)
	}

	con := esl.NewConnection(host, port, cfg.password)
	if !con.Connected() {
		return fmt.Errorf("unable to establish connection to %s: %w", cfg.addr, con.Err())
	}
	defer con.Disconnect()
	fmt.Fprintf(out, "Connected to %s\n", cfg.addr)

	if err := con.Events("plain", "all"); err != nil {
		return fmt.Errorf("event plain all: %w", err)
	}

	uuid := newUUID()
	res := con.Bgapi("originate", fmt.Sprintf("{origination_uuid=%s}%s %s", uuid, cfg.target, cfg.dest))
	if res == nil {
		return fmt.Errorf("bgapi originate: %w", con.Err())
	}
	jobUUID := res.GetHeader("Job-UUID")
	fmt.Fprintf(out, "Call to %s has Job-UUID of %s and call uuid of %s\n", cfg.target, jobUUID, uuid)

	deadline := time.Now().Add(cfg.timeout)
	stayConnected := true
	for stayConnected {
		if ctx.Err() != nil {
			fmt.Fprintln(out, "Interrupted")
			break
		}
		if time.Now().After(deadline) {
			fmt.Fprintf(out, "No digit ended the call within %s\n", cfg.timeout)
			break
		}
		e := con.RecvEventTimed(20)
		if e == nil {
			if !con.Connected() {
				return fmt.Errorf("connection lost: %w", con.Err())
			}
			continue // do other things while waiting for events...
		}
		switch name := e.GetHeader("Event-Name"); name {
		case "BACKGROUND_JOB":
			if e.GetHeader("Job-UUID") != jobUUID {
				continue
			}
			result := strings.TrimSpace(e.GetBody())
			fmt.Fprintf(out, "Result of call to %s was %s\n", cfg.target, result)
			if !strings.HasPrefix(result, "+OK") {
				stayConnected = false
				continue
			}
			if cfg.dtmf != "" {
				r := con.Api("uuid_recv_dtmf", uuid+" "+cfg.dtmf)
				fmt.Fprintf(out, "Feeding DTMF %s into the call: %s\n", cfg.dtmf, strings.TrimSpace(r.GetBody()))
			} else {
				fmt.Fprintf(out, "Waiting up to %s for digits (a non-digit such as # ends)\n", cfg.timeout)
			}
		case "DTMF":
			if e.GetHeader("Unique-ID") != uuid {
				continue
			}
			digit := e.GetHeader("DTMF-Digit")
			fmt.Fprintf(out, "Received DTMF digit: %s\n", digit)
			if digit == "" || digit[0] < '0' || digit[0] > '9' {
				fmt.Fprintln(out, "Exiting...")
				stayConnected = false
			}
		case "CHANNEL_CREATE", "CHANNEL_ANSWER", "CHANNEL_PARK":
			if e.GetHeader("Unique-ID") == uuid {
				fmt.Fprintf(out, "Event %s on %s\n", name, e.GetHeader("Channel-Name"))
			}
		default:
			// some other event
		}
	}

	r := con.Api("uuid_kill", uuid)
	fmt.Fprintf(out, "Hangup of %s: %s\n", uuid, strings.TrimSpace(r.GetBody()))

	// Report how the call ended, if FreeSWITCH tells within two seconds.
	end := time.Now().Add(2 * time.Second)
	for time.Now().Before(end) && con.Connected() {
		e := con.RecvEventTimed(50)
		if e != nil && e.GetHeader("Event-Name") == "CHANNEL_HANGUP_COMPLETE" && e.GetHeader("Unique-ID") == uuid {
			fmt.Fprintf(out, "Call ended: %s\n", e.GetHeader("Hangup-Cause"))
			break
		}
	}
	return nil
}

// newUUID returns a random (version 4) UUID: the call's UUID is chosen by the client.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
