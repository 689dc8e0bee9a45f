package main

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

type lineWriter struct{ lines chan string }

func (w lineWriter) Write(b []byte) (int, error) {
	w.lines <- strings.TrimSpace(string(b))
	return len(b), nil
}

func TestRun(t *testing.T) {
	out := lineWriter{make(chan string, 1)}
	stop := make(chan os.Signal, 1)
	status := make(chan int, 1)
	go func() {
		status <- run([]string{"-listen", "127.0.0.1:0", "-password", "pw", "-user", "1000@example.com:secret", "-heartbeat", "0"}, out, io.Discard, stop)
	}()
	var addr string
	select {
	case addr = <-out.lines:
	case <-time.After(5 * time.Second):
		t.Fatal("no address printed")
	}
	for _, login := range []string{"auth pw", "userauth 1000@example.com:secret"} {
		nc, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		nc.SetDeadline(time.Now().Add(5 * time.Second))
		nc.Write([]byte(login + "\n\nexit\n\n"))
		b, _ := io.ReadAll(bufio.NewReader(nc))
		nc.Close()
		if !bytes.Contains(b, []byte("Reply-Text: +OK accepted\n")) || !bytes.Contains(b, []byte("Reply-Text: +OK bye\n")) {
			t.Errorf("%s: unexpected session %q", login, b)
		}
	}
	stop <- syscall.SIGTERM
	select {
	case code := <-status:
		if code != 0 {
			t.Fatalf("exit status %d", code)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("did not stop")
	}
	if run([]string{"-user", "bad"}, io.Discard, io.Discard, stop) != 2 {
		t.Error("a malformed -user must be refused")
	}
}
