// Command fakefs runs the esltest fake FreeSWITCH event socket server
// until it receives SIGINT or SIGTERM. It prints the address it listens on.
//
//	go run github.com/cgoesl/esl/esltest/cmd/fakefs -listen 127.0.0.1:8021 -password ClueCon
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/cgoesl/esl/esltest"
)

func main() {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr, sig))
}

// run serves until stop delivers a value and returns the exit status.
func run(args []string, stdout, stderr io.Writer, stop <-chan os.Signal) int {
	fs := flag.NewFlagSet("fakefs", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:8021", "address to listen on")
	password := fs.String("password", "ClueCon", "inbound password")
	user := fs.String("user", "", "userauth account as name@domain:password")
	hostname := fs.String("hostname", "fakefs", "FreeSWITCH-Hostname of events")
	heartbeat := fs.Duration("heartbeat", 20*time.Second, "HEARTBEAT interval (0 disables)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	opts := []esltest.Option{
		esltest.WithListenAddr(*listen),
		esltest.WithPassword(*password),
		esltest.WithHostname(*hostname),
		esltest.WithHeartbeat(*heartbeat),
	}
	if *user != "" {
		i := strings.LastIndexByte(*user, ':')
		if i <= 0 || !strings.Contains((*user)[:i], "@") {
			fmt.Fprintln(stderr, "fakefs: -user must be name@domain:password")
			return 2
		}
		opts = append(opts, esltest.WithUser((*user)[:i], (*user)[i+1:]))
	}
	srv, err := esltest.Start(opts...)
	if err != nil {
		fmt.Fprintln(stderr, "fakefs:", err)
		return 1
	}
	fmt.Fprintln(stdout, srv.Addr())
	<-stop
	if err := srv.Close(); err != nil {
		fmt.Fprintln(stderr, "fakefs:", err)
		return 1
	}
	return 0
}
