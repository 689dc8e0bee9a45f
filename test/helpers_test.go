//go:build integration

package test

import (
	"context"
	"crypto/rand"
	"encoding/xml"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cgoesl/esl"
)

// testEnv is what the environment says about the FreeSWITCH under test.
type testEnv struct {
	addr         string
	host         string
	port         int
	password     string
	user         string // ESL_TEST_USER, name@domain, for userauth
	userPassword string // ESL_TEST_USER_PASSWORD
	outboundHost string // where FreeSWITCH can reach this process (ESL_TEST_OUTBOUND_HOST)
	fake         bool   // the server is fakefs / esltest, not FreeSWITCH
}

var (
	fakeOnce sync.Once
	fakeSeen bool
)

// setup skips the test, saying why, when the environment names no server.
func setup(t *testing.T) testEnv {
	t.Helper()
	addr := os.Getenv("ESL_TEST_ADDR")
	if addr == "" {
		t.Skip("skipping: ESL_TEST_ADDR is not set; set ESL_TEST_ADDR=host:port and ESL_TEST_PASSWORD " +
			"to test against a FreeSWITCH, or run ./build.sh integration, which starts fakefs")
	}
	password := os.Getenv("ESL_TEST_PASSWORD")
	if password == "" {
		t.Skip("skipping: ESL_TEST_PASSWORD is not set (the event socket password; ClueCon in a vanilla FreeSWITCH)")
	}
	host, portText, err := net.SplitHostPort(addr)
	require.NoError(t, err, "ESL_TEST_ADDR must be host:port")
	port, err := strconv.Atoi(portText)
	require.NoError(t, err, "ESL_TEST_ADDR must be host:port")
	e := testEnv{
		addr:         addr,
		host:         host,
		port:         port,
		password:     password,
		user:         os.Getenv("ESL_TEST_USER"),
		userPassword: os.Getenv("ESL_TEST_USER_PASSWORD"),
		outboundHost: os.Getenv("ESL_TEST_OUTBOUND_HOST"),
	}
	if e.outboundHost == "" {
		e.outboundHost = "127.0.0.1"
	}
	fakeOnce.Do(func() {
		if v := os.Getenv("ESL_TEST_FAKE"); v != "" {
			fakeSeen = v == "1" || strings.EqualFold(v, "true")
			return
		}
		// fakefs calls itself "fakefs" unless told otherwise.
		c := esl.NewConnection(host, port, password)
		defer c.Disconnect()
		if ev := c.Api("hostname"); ev != nil {
			fakeSeen = strings.TrimSpace(ev.GetBody()) == "fakefs"
		}
	})
	e.fake = fakeSeen
	return e
}

// dial logs in with the idiomatic layer; the connection is closed when the test ends.
func dial(t *testing.T, e testEnv) *esl.Connection {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := esl.Dial(ctx, e.addr, esl.WithPassword(e.password), esl.WithTimeout(10*time.Second))
	require.NoError(t, err, "login to %s", e.addr)
	t.Cleanup(func() { c.Close() })
	return c
}

// apiBody runs an api command and returns its output.
func apiBody(t *testing.T, c *esl.Connection, cmd, arg string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ev, err := c.ApiContext(ctx, cmd, arg)
	if ev != nil && errors.Is(err, esl.ErrCommand) {
		return ev.GetBody() // a -ERR output is still an output
	}
	require.NoError(t, err, "api %s %s", cmd, arg)
	return ev.GetBody()
}

// waitFor receives until match accepts an event, for at most d. Every event seen goes to
// seen, when not nil. It is safe to call from any goroutine.
func waitFor(c *esl.Connection, d time.Duration, what string, match func(*esl.Event) bool, seen func(*esl.Event)) (*esl.Event, error) {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		ev := c.RecvEventTimed(100)
		if ev == nil {
			if !c.Connected() {
				return nil, fmt.Errorf("connection lost while waiting for %s: %v", what, c.Err())
			}
			continue
		}
		if seen != nil {
			seen(ev)
		}
		if match(ev) {
			return ev, nil
		}
	}
	return nil, fmt.Errorf("no %s within %s", what, d)
}

// recvUntil is waitFor that fails the test when nothing matches.
func recvUntil(t *testing.T, c *esl.Connection, d time.Duration, what string, match func(*esl.Event) bool, seen func(*esl.Event)) *esl.Event {
	t.Helper()
	ev, err := waitFor(c, d, what, match, seen)
	require.NoError(t, err)
	return ev
}

// field reads a header of an event in any of the three formats. Plain and json events
// arrive decoded; an xml event arrives as the outer message with the XML in its body.
func field(ev *esl.Event, name string) string {
	if !strings.EqualFold(ev.GetHeader("Content-Type"), "text/event-xml") {
		return ev.GetHeader(name)
	}
	var doc struct {
		Headers struct {
			Items []struct {
				XMLName xml.Name
				Value   string `xml:",chardata"`
			} `xml:",any"`
		} `xml:"headers"`
		Body string `xml:"body"`
	}
	if err := xml.Unmarshal([]byte(ev.GetBody()), &doc); err != nil {
		return ""
	}
	for _, h := range doc.Headers.Items {
		if strings.EqualFold(h.XMLName.Local, name) {
			v, err := url.PathUnescape(h.Value) // header values are URL-encoded, then XML-escaped
			if err != nil {
				return h.Value
			}
			return v
		}
	}
	return ""
}

func eventName(ev *esl.Event) string { return field(ev, "Event-Name") }

// newUUID returns a random version 4 UUID.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// loopbackCall is the originate argument for a call to the vanilla echo extension 9196
// over mod_loopback, with our own call UUID, parked on our side.
func loopbackCall(uuid string) string {
	return fmt.Sprintf("{origination_uuid=%s}loopback/9196/default &park", uuid)
}

// killAtEnd hangs the call up when the test ends, on a connection of its own.
func killAtEnd(t *testing.T, e testEnv, uuid string) {
	t.Cleanup(func() {
		c := esl.NewConnection(e.host, e.port, e.password)
		defer c.Disconnect()
		if c.Connected() {
			c.Api("uuid_kill", uuid)
		}
	})
}

// originatePark places a loopback call with api originate (which returns once the call is
// answered) and hangs it up when the test ends.
func originatePark(t *testing.T, e testEnv, c *esl.Connection, uuid string) {
	t.Helper()
	killAtEnd(t, e, uuid)
	body := apiBody(t, c, "originate", loopbackCall(uuid))
	require.Equal(t, "+OK "+uuid, strings.TrimSpace(body), "originate")
}
