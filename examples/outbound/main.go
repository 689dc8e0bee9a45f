// Command outbound is the "async full" outbound example of the ESL documentation (written
// there in Ruby, forking a process per call) in Go, with a thread per call instead.
// FreeSWITCH connects to it once per call:
//
//	<action application="socket" data="127.0.0.1:8040 async full"/>
//
// For each call it subscribes to the call's events, logs a line on FreeSWITCH, answers,
// plays a file, prints every event and DTMF digit, transfers the call when the caller
// presses 9, and ends when FreeSWITCH disconnects.
//
//	go run ./examples/outbound -listen 127.0.0.1:8040
//
// Ctrl-C stops accepting and waits for the running calls (at most -grace, then they are cut).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/cgoesl/esl"
)

// The file and the extension of the original example.
const (
	musicFile  = "/usr/local/freeswitch/sounds/music/8000/suite-espanola-op-47-leyenda.wav"
	transferTo = "99355151"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, nil); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "outbound:", err)
		}
		os.Exit(1)
	}
}

// run serves until ctx ends. ready, when not nil, receives the bound address.
func run(ctx context.Context, args []string, out io.Writer, ready chan<- net.Addr) error {
	fs := flag.NewFlagSet("outbound", flag.ContinueOnError)
	fs.SetOutput(out)
	listen := fs.String("listen", "127.0.0.1:8040", "host:port to listen on")
	maxSessions := fs.Int("max-sessions", 0, "calls served at once; more are refused (0: no limit)")
	grace := fs.Duration("grace", 30*time.Second, "on Ctrl-C, how long running calls may go on before they are cut")
	if err := fs.Parse(args); err != nil {
		return err
	}
	logger := log.New(out, "", log.LstdFlags)

	handler := callHandler(logger)
	srv, err := esl.NewOutboundServer(*listen, handler, esl.WithMaxSessions(*maxSessions))
	if errors.Is(err, esl.ErrUnsupported) {
		// Linked to the original libesl (-tags libesl): only esl_listen_threaded, which binds
		// every IPv4 address, serves without limit and cannot be stopped.
		return listenThreaded(ctx, *listen, handler, logger, ready)
	}
	if err != nil {
		return err
	}
	logger.Printf("Listening for connections on %s", srv.Addr())
	if ready != nil {
		ready <- srv.Addr()
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve() }()
	select {
	case err := <-served:
		srv.Close()
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), *grace)
	defer cancel()
	err = srv.Shutdown(shutdownCtx)
	if serr := <-served; serr != nil && !errors.Is(serr, esl.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	st := srv.Stats()
	logger.Printf("Stopped: %d calls served, %d refused, %d panics", st.Completed, st.Refused, st.Panics)
	return err
}

// listenThreaded serves with esl.ListenThreaded, the twin of esl_listen_threaded. It returns
// only when listening fails; Ctrl-C ends the process.
func listenThreaded(ctx context.Context, listen string, handler esl.OutboundHandler, logger *log.Logger, ready chan<- net.Addr) error {
	host, portText, err := net.SplitHostPort(listen)
	if err != nil {
		return err
	}
	port, err := strconv.Atoi(portText)
	if err != nil || port <= 0 {
		return fmt.Errorf("ListenThreaded needs a port number, not %q", portText)
	}
	logger.Printf("Listening for connections on %s (ListenThreaded: every IPv4 address, cannot be stopped)", listen)
	if ready != nil {
		ready <- &net.TCPAddr{IP: net.ParseIP(host), Port: port}
	}
	return esl.ListenThreaded(host, port, func(c *esl.Connection) { handler(ctx, c) }, 1000)
}

// callHandler returns the handler of one call: the body of the Ruby example's fork.
func callHandler(logger *log.Logger) esl.OutboundHandler {
	return func(ctx context.Context, con *esl.Connection) {
		info := con.GetInfo()
		uuid := info.GetHeader("UNIQUE-ID")
		con.SendRecv("myevents")
		con.SendRecv("divert_events on")

		logger.Printf("[%s] Call to [%s]", uuid, info.GetHeader("Caller-Destination-Number"))

		con.Execute("log", "1, Wee-wa-wee-wa")
		con.Execute("info", "")
		con.Execute("answer", "")
		con.Execute("playback", musicFile)

		for {
			// Ends once FreeSWITCH disconnected and every event received was handed out, or
			// when the server stops and cuts the call.
			e, err := con.RecvEventContext(ctx)
			if err != nil {
				break
			}
			name := e.GetHeader("Event-Name")
			logger.Printf("EVENT: %s", name)
			if name == "SERVER_DISCONNECTED" {
				break
			}
			if name == "DTMF" {
				digit := e.GetHeader("DTMF-DIGIT")
				duration := e.GetHeader("DTMF-DURATION")
				logger.Printf("DTMF DIGIT %s (%s)", digit, duration)
				switch digit {
				case "5":
					con.Execute("log", "1, WHA HA HA. User pressed 5")
				case "9":
					r := con.Execute("transfer", transferTo)
					logger.Printf("Transfer to %s: %s", transferTo, r.GetHeader("Reply-Text"))
				}
			}
		}
		logger.Printf("[%s] Connection closed", uuid)
	}
}
