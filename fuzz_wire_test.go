//go:build cgo

package esl

import (
	"bufio"
	"context"
	"errors"
	"io"
	"syscall"
	"testing"
	"time"
)

// FuzzWireThroughBinding sends arbitrary bytes as the server side of an outbound connection
// (after a well-formed reply to connect) and closes. Whatever the bytes, the binding must
// hand out events that can be used, end with ErrDisconnected in bounded time, and close
// cleanly: the C parser frames, and the Go side unpacks its tables into events, which is
// the Go code that parses what comes off the wire. Seeds are the recorded streams.
func FuzzWireThroughBinding(f *testing.F) {
	blocks, bodies := fzMessages(f, "")
	for i := 0; i+3 < len(blocks); i += 3 {
		var seed []byte
		for j := i; j < i+3; j++ {
			seed = append(seed, blocks[j]...)
			seed = append(seed, bodies[j]...)
		}
		if len(seed) < 1<<14 {
			f.Add(seed)
		}
	}
	f.Add([]byte("Content-Type: x\nContent-Length: 3\n\na\x00bContent-Type: text/disconnect-notice\nContent-Length: 0\n\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		sp, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
		if err != nil {
			t.Skip(err)
		}
		done := make(chan struct{})
		go func() {
			defer close(done)
			defer syscall.Close(sp[1])
			peer := hfFDConn{sp[1]}
			r := bufio.NewReader(peer)
			if hfReadBlock(r) == "" {
				return
			}
			_, _ = peer.Write([]byte("Content-Type: command/reply\nReply-Text: +OK\nUnique-ID: fz\n\n"))
			_, _ = peer.Write(data)
			_ = syscall.Shutdown(sp[1], syscall.SHUT_WR)
			_, _ = io.Copy(io.Discard, r)
		}()
		c := NewConnectionFD(sp[0])
		defer func() {
			c.Close()
			<-done
		}()
		// (The stream may already have ended by now; only a failed attach is wrong.)
		if e := (*Error)(nil); errors.As(c.Err(), &e) && e.Op == "attach" {
			t.Fatalf("attach: %v", c.Err())
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		for n := 0; ; n++ {
			ev, err := c.RecvEventContext(ctx)
			if err != nil {
				if !errors.Is(err, ErrDisconnected) {
					t.Fatalf("after %d messages: %v", n, err)
				}
				break
			}
			// Everything an application does with an event works on what came in.
			_ = ev.Serialize()
			_ = ev.Serialize("json")
			for name := range ev.Headers() {
				_ = ev.GetHeader(name)
				_ = ev.HeaderValues(name)
				_ = ev.GetHeader(name, 1)
			}
			_ = ev.Clone().GetBody()
			if _, err := NewEventJSON(ev.Serialize("json")); err != nil {
				t.Fatalf("a received event does not survive its own JSON: %v", err)
			}
		}
		if c.Connected() {
			t.Fatal("still connected")
		}
	})
}
