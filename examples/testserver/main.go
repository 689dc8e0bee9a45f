// Command testserver is the Go twin of libesl's testserver.c: an outbound event socket
// server. FreeSWITCH connects to it once per call (dialplan application `socket`, e.g.
// <action application="socket" data="127.0.0.1:8040 async full"/>); for each call it
// filters the events to that call, subscribes to the call's events, asks FreeSWITCH to
// linger after hangup, answers, runs one application (conference 3000@default, as the C
// original) and logs what arrives until the call is over.
//
//	go run ./examples/testserver                        # listens on localhost:8040
//	go run ./examples/testserver -listen 127.0.0.1:8084 -app playback -arg tone_stream://%(1000,0,440)
//
// The C original hands each call to esl_listen_threaded; its exact Go twin is
// esl.ListenThreaded("localhost", 8040, handler, 100000), which never returns. This program
// uses esl.OutboundServer instead, so that Ctrl-C stops it cleanly; it falls back to
// ListenThreaded when OutboundServer is not available (-tags libesl, the original library).
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
	"strings"
	"time"

	"github.com/cgoesl/esl"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stderr, nil); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "testserver:", err)
		}
		os.Exit(1)
	}
}

type server struct {
	log   *log.Logger
	app   string
	arg   string
	grace time.Duration // how long to wait for late events after the linger notice
}

// run serves until ctx ends. ready, when not nil, receives the bound address.
func run(ctx context.Context, args []string, logOut io.Writer, ready chan<- net.Addr) error {
	fs := flag.NewFlagSet("testserver", flag.ContinueOnError)
	fs.SetOutput(logOut)
	listen := fs.String("listen", "localhost:8040", "host:port to listen on")
	app := fs.String("app", "conference", "application to execute after answer")
	arg := fs.String("arg", "3000@default", "its argument")
	grace := fs.Duration("grace", 5*time.Second, "wait this long for remaining events after the linger notice")
	level := fs.Int("loglevel", 7, "esl library log level (0-7), as esl_global_set_default_logger(7)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	esl.SetLogLevel(*level)
	s := &server{log: log.New(logOut, "", log.LstdFlags), app: *app, arg: *arg, grace: *grace}

	srv, err := esl.NewOutboundServer(*listen, func(_ context.Context, c *esl.Connection) { s.mycallback(c) })
	if err != nil {
		// The original libesl has no stoppable listener: serve the way testserver.c does.
		s.log.Printf("[INFO] %v; using ListenThreaded (stop with Ctrl-C)", err)
		host, portText, err := net.SplitHostPort(*listen)
		if err != nil {
			return err
		}
		port, err := strconv.Atoi(portText)
		if err != nil {
			return fmt.Errorf("bad port in %q", *listen)
		}
		return esl.ListenThreaded(host, port, s.mycallback, 100000)
	}
	s.log.Printf("[INFO] listening on %s", srv.Addr())
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
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return err
	}
	if err := <-served; err != nil && !errors.Is(err, esl.ErrServerClosed) {
		return err
	}
	return nil
}

// mycallback serves one call, statement by statement like the C callback.
func (s *server) mycallback(handle *esl.Connection) {
	if !handle.Connected() {
		s.log.Printf("[ERROR] connect failed: %v", handle.Err())
		return
	}
	s.log.Printf("[INFO] Connected! %d", handle.SocketDescriptor())

	info := handle.GetInfo()
	handle.Filter("unique-id", info.GetHeader("caller-unique-id"))
	handle.Events("plain", "SESSION_HEARTBEAT CHANNEL_ANSWER CHANNEL_ORIGINATE CHANNEL_PROGRESS CHANNEL_HANGUP "+
		"CHANNEL_BRIDGE CHANNEL_UNBRIDGE CHANNEL_OUTGOING CHANNEL_EXECUTE CHANNEL_EXECUTE_COMPLETE DTMF CUSTOM conference::maintenance")
	handle.SendRecv("linger")
	handle.Execute("answer")
	handle.Execute(s.app, s.arg)

	done := false
	var exp time.Time
	for {
		ev := handle.RecvEventTimed(1000)
		if ev == nil && !handle.Connected() {
			break // ESL_FAIL: the connection is gone
		}
		if done {
			if !time.Now().Before(exp) {
				break
			}
		} else if ev != nil {
			if name := ev.GetHeader("Event-Name"); name != "" && name != "SOCKET_DATA" {
				s.log.Printf("[INFO] event %s %s", name, strings.TrimSpace(ev.GetHeader("Application")))
			}
			if strings.EqualFold(ev.GetHeader("content-type"), "text/disconnect-notice") {
				dispo := ev.GetHeader("content-disposition")
				s.log.Printf("[INFO] Got a disconnection notice dispostion: [%s]", dispo)
				if dispo == "linger" {
					done = true
					s.log.Printf("[INFO] Waiting %s for any remaining events.", s.grace)
					exp = time.Now().Add(s.grace)
				}
			}
		}
	}
	s.log.Printf("[INFO] Disconnected! %d", handle.SocketDescriptor())
	handle.Disconnect()
}
