// Command fakefs runs the esltest fake FreeSWITCH event socket server
// until it receives SIGINT or SIGTERM.
//
//	go run github.com/cgoesl/esl/esltest/cmd/fakefs -listen 127.0.0.1:8021 -password ClueCon
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/cgoesl/esl/esltest"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:8021", "address to listen on")
	password := flag.String("password", "ClueCon", "inbound password")
	user := flag.String("user", "", "userauth account as name@domain:password")
	hostname := flag.String("hostname", "fakefs", "FreeSWITCH-Hostname of events")
	heartbeat := flag.Duration("heartbeat", 20*time.Second, "HEARTBEAT interval (0 disables)")
	flag.Parse()

	opts := []esltest.Option{
		esltest.WithListenAddr(*listen),
		esltest.WithPassword(*password),
		esltest.WithHostname(*hostname),
		esltest.WithHeartbeat(*heartbeat),
	}
	if *user != "" {
		i := strings.LastIndexByte(*user, ':')
		if i <= 0 || !strings.Contains((*user)[:i], "@") {
			fmt.Fprintln(os.Stderr, "fakefs: -user must be name@domain:password")
			os.Exit(2)
		}
		opts = append(opts, esltest.WithUser((*user)[:i], (*user)[i+1:]))
	}
	srv, err := esltest.Start(opts...)
	if err != nil {
		fmt.Fprintln(os.Stderr, "fakefs:", err)
		os.Exit(1)
	}
	fmt.Println(srv.Addr())
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	<-sig
	if err := srv.Close(); err != nil {
		fmt.Fprintln(os.Stderr, "fakefs:", err)
		os.Exit(1)
	}
}
