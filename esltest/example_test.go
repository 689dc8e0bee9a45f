package esltest_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"

	"github.com/cgoesl/esl/esltest"
)

// readMessage reads one event socket message: headers up to an empty
// line, then Content-Length bytes of body.
func readMessage(r *bufio.Reader) (map[string]string, string) {
	h := map[string]string{}
	for {
		line, err := r.ReadString('\n')
		if err != nil || line == "\n" {
			break
		}
		k, v, _ := strings.Cut(strings.TrimSuffix(line, "\n"), ": ")
		h[k] = v
	}
	body := ""
	if n, _ := strconv.Atoi(h["Content-Length"]); n > 0 {
		b := make([]byte, n)
		io.ReadFull(r, b)
		body = string(b)
	}
	return h, body
}

func Example() {
	srv := esltest.NewServer()
	defer srv.Close()

	conn, err := net.Dial("tcp", srv.Addr())
	if err != nil {
		panic(err)
	}
	defer conn.Close()
	r := bufio.NewReader(conn)

	h, _ := readMessage(r)
	fmt.Println(h["Content-Type"])
	fmt.Fprintf(conn, "auth %s\n\n", srv.Password())
	h, _ = readMessage(r)
	fmt.Println(h["Reply-Text"])
	fmt.Fprint(conn, "api version\n\n")
	h, body := readMessage(r)
	fmt.Print(h["Content-Type"], ": ", body)
	// Output:
	// auth/request
	// +OK accepted
	// api/response: FreeSWITCH Version 1.11.3-dev~64bit ( 64bit)
}

func ExampleServer_HandleAPI() {
	srv := esltest.NewServer()
	defer srv.Close()
	srv.HandleAPI("sofia", func(args string) string { return "status of " + args + "\n" })

	conn, _ := net.Dial("tcp", srv.Addr())
	defer conn.Close()
	r := bufio.NewReader(conn)
	readMessage(r)
	fmt.Fprint(conn, "auth ClueCon\n\n")
	readMessage(r)
	fmt.Fprint(conn, "api sofia status\n\n")
	_, body := readMessage(r)
	fmt.Print(body)
	// Output: status of status
}

func ExampleServer_FireEvent() {
	srv := esltest.NewServer()
	defer srv.Close()

	conn, _ := net.Dial("tcp", srv.Addr())
	defer conn.Close()
	r := bufio.NewReader(conn)
	readMessage(r)
	fmt.Fprint(conn, "auth ClueCon\n\nevent plain CUSTOM my::event\n\n")
	readMessage(r)
	readMessage(r)

	srv.FireEvent("CUSTOM", map[string]string{"Event-Subclass": "my::event", "X-Greeting": "hello world"}, "")
	h, body := readMessage(r)
	fmt.Println(h["Content-Type"])
	for _, line := range strings.Split(body, "\n") {
		if strings.HasPrefix(line, "Event-") && !strings.HasPrefix(line, "Event-Date") && !strings.HasPrefix(line, "Event-Calling") && !strings.HasPrefix(line, "Event-Sequence") || strings.HasPrefix(line, "X-") {
			fmt.Println(line)
		}
	}
	// Output:
	// text/event-plain
	// Event-Subclass: my%3A%3Aevent
	// Event-Name: CUSTOM
	// X-Greeting: hello%20world
}

func ExampleServer_DialOutbound() {
	srv := esltest.NewServer()
	defer srv.Close()

	// The application under test listens; the fake dials it like the
	// dialplan `socket` application would.
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	defer ln.Close()
	call, err := srv.DialOutbound(context.Background(), ln.Addr().String(),
		esltest.OutboundOptions{Async: true, Full: true, Destination: "1000"})
	if err != nil {
		panic(err)
	}
	conn, _ := ln.Accept()
	defer conn.Close()
	r := bufio.NewReader(conn)

	fmt.Fprint(conn, "connect\n\n")
	h, _ := readMessage(r)
	fmt.Println(h["Event-Name"], h["Caller-Destination-Number"], h["Socket-Mode"], h["Control"])
	fmt.Fprint(conn, "exit\n\n")
	h, _ = readMessage(r)
	fmt.Println(h["Reply-Text"])
	h, _ = readMessage(r)
	fmt.Println(h["Content-Disposition"])
	fmt.Println(call.Wait(), call.Received())
	// Output:
	// CHANNEL_DATA 1000 async full
	// +OK bye
	// disconnect
	// <nil> [connect exit]
}
