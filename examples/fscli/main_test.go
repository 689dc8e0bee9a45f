package main

import (
	"bytes"
	"context"
	"io"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cgoesl/esl/esltest"
)

type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func connArgs(srv *esltest.Server) []string {
	return []string{"-H", srv.Host(), "-P", strconv.Itoa(srv.Port()), "-p", srv.Password()}
}

func runX(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, strings.NewReader(""), &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestExecute(t *testing.T) {
	srv := esltest.NewServer()
	defer srv.Close()

	code, out, errOut := runX(t, append(connArgs(srv), "-x", "status")...)
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "UP ")
	assert.Contains(t, out, "is ready")

	code, out, _ = runX(t, append(connArgs(srv), "-x", "echo hello  world", "-t", "5s")...)
	assert.Equal(t, 0, code)
	assert.Equal(t, "hello  world\n", out)

	// An -ERR answer is printed like any other, as fs_cli does.
	code, out, _ = runX(t, append(connArgs(srv), "-x", "nosuchcommand")...)
	assert.Equal(t, 0, code)
	assert.Equal(t, "-ERR nosuchcommand Command not found!\n", out)
}

func TestExecuteUserAuth(t *testing.T) {
	srv := esltest.NewServer(esltest.WithUser("1000@example.com", "pw1000"))
	defer srv.Close()
	code, out, errOut := runX(t, "-H", srv.Host(), "-P", strconv.Itoa(srv.Port()), "-u", "1000@example.com", "-p", "pw1000", "-x", "version")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "FreeSWITCH Version")
}

func TestConnectErrors(t *testing.T) {
	srv := esltest.NewServer()
	defer srv.Close()
	code, out, errOut := runX(t, "-H", srv.Host(), "-P", strconv.Itoa(srv.Port()), "-p", "wrong", "-x", "status")
	assert.Equal(t, 1, code)
	assert.Empty(t, out)
	assert.Contains(t, errOut, "Error Connecting")

	code, _, errOut = runX(t, "-nosuchflag")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "usage: fscli")
}

// pipeConsole runs fscli interactively with its input fed through a pipe.
type pipeConsole struct {
	t    *testing.T
	in   *io.PipeWriter
	out  syncBuffer
	done chan int
}

func startConsole(t *testing.T, args ...string) *pipeConsole {
	r, w := io.Pipe()
	c := &pipeConsole{t: t, in: w, done: make(chan int, 1)}
	go func() {
		c.done <- run(context.Background(), args, r, &c.out, &c.out)
		r.Close()
	}()
	return c
}

// send types a line and waits until the output contains want.
func (c *pipeConsole) send(line, want string) {
	c.t.Helper()
	_, err := io.WriteString(c.in, line+"\n")
	require.NoError(c.t, err)
	c.expect(want)
}

func (c *pipeConsole) expect(want string) {
	c.t.Helper()
	require.Eventually(c.t, func() bool { return strings.Contains(c.out.String(), want) }, 10*time.Second, 10*time.Millisecond,
		"waiting for %q in:\n%s", want, c.out.String())
}

func (c *pipeConsole) exitCode() int {
	c.t.Helper()
	select {
	case code := <-c.done:
		return code
	case <-time.After(10 * time.Second):
		c.t.Fatalf("fscli did not exit\n%s", c.out.String())
		return -1
	}
}

func TestInteractive(t *testing.T) {
	srv := esltest.NewServer()
	defer srv.Close()
	c := startConsole(t, append(connArgs(srv), "-l", "info")...)
	c.expect("+OK log level info [6]")

	c.send("status", "is ready")
	c.send("/help", "/exit, /quit, /bye")
	c.send("/nosuch", "Unknown command [nosuch]")

	c.send("/event plain CUSTOM fscli::test", "+OK event listener enabled plain")
	srv.FireEvent("CUSTOM", map[string]string{"Event-Subclass": "fscli::test", "X-Seen": "yes"}, "")
	c.expect("RECV EVENT")
	c.expect("Event-Subclass: fscli%3A%3Atest")

	srv.Log(6, "a log line for the console\n")
	c.expect("a log line for the console")
	srv.Log(7, "a debug line that level info hides\n")

	c.send("/filter Event-Name HEARTBEAT", "+OK filter added. [Event-Name]=[HEARTBEAT]")
	c.send("/filter delete all", "+OK filter deleted. [all][]")
	c.send("/nolog", "+OK no longer logging")
	c.send("/log", "+OK log level debug [7]")
	c.send("/noevents", "+OK no longer listening for events")
	c.send("/debug 9", "usage: /debug 0-7")
	c.send("/quit", "")
	assert.Equal(t, 0, c.exitCode())
	assert.NotContains(t, c.out.String(), "a debug line that level info hides")
}

func TestInteractiveEOF(t *testing.T) {
	srv := esltest.NewServer()
	defer srv.Close()
	c := startConsole(t, append(connArgs(srv), "-q")...)
	c.send("version", "FreeSWITCH Version")
	c.in.Close()
	assert.Equal(t, 0, c.exitCode())
	assert.NotContains(t, c.out.String(), "+OK log level")
}

func TestInteractiveServerGone(t *testing.T) {
	srv := esltest.NewServer()
	c := startConsole(t, connArgs(srv)...)
	c.expect("+OK log level debug [7]")
	srv.Close()
	assert.Equal(t, 1, c.exitCode())
	c.in.Close()
}
