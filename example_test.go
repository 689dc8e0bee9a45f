//go:build cgo

package esl_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cgoesl/esl"
	"github.com/cgoesl/esl/esltest"
)

// The SWIG-style twins: connect, run an api command, read its output.
func ExampleNewConnection() {
	srv := esltest.NewServer() // a fake FreeSWITCH; use your server's host and port
	defer srv.Close()

	conn := esl.NewConnection(srv.Host(), srv.Port(), "ClueCon")
	if !conn.Connected() {
		fmt.Println("cannot connect:", conn.Err())
		return
	}
	defer conn.Disconnect()

	fmt.Print(conn.Api("version").GetBody())
	fmt.Println(conn.Api("echo", "hello").GetBody())
	// Output:
	// FreeSWITCH Version 1.11.3-dev~64bit ( 64bit)
	// hello
}

// The idiomatic layer: Dial with a timeout, errors for -ERR replies.
func ExampleDial() {
	srv := esltest.NewServer()
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := esl.Dial(ctx, srv.Addr(), esl.WithPassword("ClueCon"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer conn.Close()

	ev, err := conn.ApiContext(ctx, "expr", "1+2*3")
	fmt.Println(ev.GetBody(), err)
	_, err = conn.ApiContext(ctx, "nosuchcommand", "")
	fmt.Println(err)
	// Output:
	// 7 <nil>
	// esl: api: -ERR nosuchcommand Command not found! (esl: command failed)
}

// Subscribe, then receive events with RecvEventTimed.
func ExampleConnection_RecvEventTimed() {
	srv := esltest.NewServer()
	defer srv.Close()
	conn := esl.NewConnection(srv.Host(), srv.Port(), "ClueCon")
	defer conn.Disconnect()

	conn.Events("plain", "CUSTOM example::hello")
	srv.FireEvent("CUSTOM", map[string]string{"Event-Subclass": "example::hello", "Greeting": "hi there"}, "")

	if ev := conn.RecvEventTimed(5000); ev != nil {
		fmt.Println(ev.GetType(), ev.GetHeader("Event-Subclass"), ev.GetHeader("Greeting"))
	}
	// Output:
	// CUSTOM example::hello hi there
}

// Range over events until the context ends.
func ExampleConnection_EventStream() {
	srv := esltest.NewServer()
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := esl.Dial(ctx, srv.Addr(), esl.WithEvents("json", "CUSTOM", "example::count"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer conn.Close()
	for i := 1; i <= 3; i++ {
		srv.FireEvent("CUSTOM", map[string]string{"Event-Subclass": "example::count", "N": fmt.Sprint(i)}, "")
	}

	n := 0
	for ev, err := range conn.EventStream(ctx) {
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println("event", ev.GetHeader("N"))
		if n++; n == 3 {
			break
		}
	}
	// Output:
	// event 1
	// event 2
	// event 3
}

// A busy stream through a callback: each event is lent to it, and the strings it returns
// may be kept after the callback (here in a map); the event itself may not.
func ExampleConnection_ReceiveEvents() {
	srv := esltest.NewServer()
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := esl.Dial(ctx, srv.Addr(), esl.WithEvents("plain", "CUSTOM", "example::queue"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer conn.Close()
	for _, agent := range []string{"1001", "1002", "1001"} {
		srv.FireEvent("CUSTOM", map[string]string{"Event-Subclass": "example::queue", "Agent": agent}, "")
	}

	calls := map[string]int{}
	seen := 0
	errEnough := errors.New("three events")
	err = conn.ReceiveEvents(ctx, func(ev *esl.Event) error {
		calls[ev.GetHeader("Agent")]++
		if seen++; seen == 3 {
			return errEnough
		}
		return nil
	})
	fmt.Println(err == errEnough, calls["1001"], calls["1002"])
	// Output:
	// true 2 1
}

// A background job whose result cannot be missed.
func ExampleConnection_BackgroundJob() {
	srv := esltest.NewServer()
	defer srv.Close()
	ctx := context.Background()
	conn, err := esl.Dial(ctx, srv.Addr())
	if err != nil {
		fmt.Println(err)
		return
	}
	defer conn.Close()

	job, err := conn.BackgroundJob(ctx, "echo", "done in the background")
	if err != nil {
		fmt.Println(err)
		return
	}
	result, err := job.Wait(ctx)
	fmt.Println(result.GetBody(), err)
	// Output:
	// done in the background <nil>
}

// Bgapi with a Job-UUID of one's choosing; the result is a BACKGROUND_JOB event.
func ExampleConnection_Bgapi() {
	srv := esltest.NewServer()
	defer srv.Close()
	conn := esl.NewConnection(srv.Host(), srv.Port(), "ClueCon")
	defer conn.Disconnect()

	conn.Events("plain", "BACKGROUND_JOB")
	reply := conn.Bgapi("echo", "42", "my-job-id")
	fmt.Println(reply.GetHeader("Reply-Text"))
	for {
		ev := conn.RecvEventTimed(5000)
		if ev == nil {
			return
		}
		if ev.GetHeader("Job-UUID") == "my-job-id" {
			fmt.Println(ev.GetType(), ev.GetBody())
			return
		}
	}
	// Output:
	// +OK Job-UUID: my-job-id
	// BACKGROUND_JOB 42
}

// Build an event, serialize it, and fire it with SendEvent.
func ExampleNewEvent() {
	ev := esl.NewEvent("CUSTOM", "example::fired")
	ev.AddHeader("Caller", "Alice Smith")
	ev.PushHeader("Tags", "a")
	ev.PushHeader("Tags", "b")
	ev.AddBody("hello")
	fmt.Print(ev.Serialize())
	fmt.Println()
	fmt.Println(ev.Serialize("json"))
	// Output:
	// Event-Name: CUSTOM
	// Event-Subclass: example%3A%3Afired
	// Caller: Alice%20Smith
	// Tags: ARRAY%3A%3Aa%7C%3Ab
	// Content-Length: 5
	//
	// hello
	// {
	// 	"Event-Name":	"CUSTOM",
	// 	"Event-Subclass":	"example::fired",
	// 	"Caller":	"Alice Smith",
	// 	"Tags":	["a", "b"],
	// 	"Content-Length":	"5",
	// 	"_body":	"hello"
	// }
}

// Fire an event on the server; the reply carries the new Event-UUID.
func ExampleConnection_SendEvent() {
	srv := esltest.NewServer()
	defer srv.Close()
	conn := esl.NewConnection(srv.Host(), srv.Port(), "ClueCon")
	defer conn.Disconnect()
	conn.Events("plain", "CUSTOM example::sent")

	ev := esl.NewEvent("CUSTOM", "example::sent")
	ev.AddHeader("X-Note", "from Go")
	reply := conn.SendEvent(ev)
	fmt.Println(reply.GetHeader("Reply-Text")[:3])
	got := conn.RecvEventTimed(5000)
	fmt.Println(got.GetHeader("X-Note"))
	// Output:
	// +OK
	// from Go
}
