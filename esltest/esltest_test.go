package esltest

import (
	"bufio"
	"context"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

const goodbye = "Content-Type: text/disconnect-notice\nContent-Length: 67\n\nDisconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n"

// rawSession writes the client bytes and returns everything the server sent until it closed.
func rawSession(t *testing.T, addr, send string) string {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer nc.Close()
	_, err = nc.Write([]byte(send))
	require.NoError(t, err)
	require.NoError(t, nc.SetReadDeadline(time.Now().Add(5*time.Second)))
	b, err := io.ReadAll(nc)
	require.NoError(t, err)
	return string(b)
}

func TestLoginBytes(t *testing.T) {
	srv := NewServer()
	defer srv.Close()
	got := rawSession(t, srv.Addr(), "auth ClueCon\n\nexit\n\n")
	assert.Equal(t, "Content-Type: auth/request\n\n"+
		"Content-Type: command/reply\nReply-Text: +OK accepted\n\n"+
		"Content-Type: command/reply\nReply-Text: +OK bye\n\n"+goodbye, got)

	got = rawSession(t, srv.Addr(), "auth wrong\n\n")
	assert.Equal(t, "Content-Type: auth/request\n\nContent-Type: command/reply\nReply-Text: -ERR invalid\n\n"+goodbye, got)
}

func TestAuthPhaseQuirks(t *testing.T) {
	srv := NewServer(WithPassword("secret"))
	defer srv.Close()
	assert.Equal(t, "secret", srv.Password())
	// S6: a command before auth is refused but the socket stays open and auth still works.
	got := rawSession(t, srv.Addr(), "api status\n\n\r\n\nauth secret\n\n...\n\n")
	assert.Equal(t, "Content-Type: auth/request\n\n"+
		"Content-Type: command/reply\nReply-Text: -ERR command not found\n\n"+
		"Content-Type: command/reply\nReply-Text: +OK accepted\n\n"+
		"Content-Type: command/reply\nReply-Text: +OK bye\n\n"+goodbye, got)
}

func TestAuthTimeout(t *testing.T) {
	srv := NewServer(WithAuthTimeout(100 * time.Millisecond))
	defer srv.Close()
	start := time.Now()
	got := rawSession(t, srv.Addr(), "")
	assert.Equal(t, "Content-Type: auth/request\n\n", got)
	assert.Less(t, time.Since(start), 3*time.Second)
}

func TestUserauth(t *testing.T) {
	srv := NewServer(WithUser("1000@example.com", "pw"))
	defer srv.Close()
	raw := "Content-Type: command/reply\nReply-Text: +OK accepted\nAllowed-Events: all\nAllowed-API: all\nAllowed-LOG: true\n\n"
	for _, form := range []string{"1000@example.com:pw", "1000:pw@example.com"} {
		got := rawSession(t, srv.Addr(), "userauth "+form+"\n\nexit\n\n")
		assert.Equal(t, "Content-Type: auth/request\n\n"+raw+"Content-Type: command/reply\nReply-Text: +OK bye\n\n"+goodbye, got, form)
	}
	for _, bad := range []string{"1000@example.com:nope", "2000@example.com:pw", "nodomain:pw"} {
		got := rawSession(t, srv.Addr(), "userauth "+bad+"\n\n")
		assert.Equal(t, "Content-Type: auth/request\n\nContent-Type: command/reply\nReply-Text: -ERR invalid\n\n"+goodbye, got, bad)
	}
}

func TestACLReject(t *testing.T) {
	srv := NewServer(WithACLReject())
	defer srv.Close()
	got := rawSession(t, srv.Addr(), "")
	assert.Equal(t, "Content-Type: text/rude-rejection\nContent-Length: 24\n\nAccess Denied, go away.\n"+goodbye, got)
}

func TestCommandReplies(t *testing.T) {
	srv := NewServer()
	defer srv.Close()
	c := login(t, srv)
	for _, tc := range []struct{ cmd, want string }{
		{"events plain CHANNEL_CREATE", "+OK event listener enabled plain"}, // S13 prefix match
		{"event json", "-ERR no keywords supplied"},
		{"event DTMF", "+OK event listener enabled json"}, // the format stays for the connection
		{"event xml ALL", "+OK event listener enabled xml"},
		{"nixevent", "-ERR no keywords supplied"},
		{"nixevent ALL", "+OK events nixed"},
		{"noevents", "+OK no longer listening for events"},
		{"noevents", "-ERR not listening for events"},
		{"filter Event-Name CHANNEL_ANSWER", "+OK filter added. [Event-Name]=[CHANNEL_ANSWER]"},
		{"filter add Unique-ID a b c", "+OK filter added. [Unique-ID]=[a b c]"},
		{"filter Event-Name", "-ERR invalid syntax"},
		{"filter delete Event-Name CHANNEL_ANSWER", "+OK filter deleted. [Event-Name][CHANNEL_ANSWER]"},
		{"filter delete all", "+OK filter deleted. [all][]"},
		{"log 7", "+OK log level 7 [7]"},
		{"log", "+OK log level  [7]"},
		{"log debug", "+OK log level debug [7]"},
		{"log 100", "+OK log level 100 [63]"},
		{"log -3", "+OK log level -3 [0]"},
		{"log 64", "-ERR invalid log level"},
		{"logfoo", "+OK log level  [7]"},
		{"log nosuchlevel", "-ERR invalid log level"},
		{"nolog", "+OK no longer logging"},
		{"nolog", "-ERR not loging"},
		{"myevents", "-ERR command not found"},
		{"myevents 00000000-0000-0000-0000-000000000000 plain", "-ERR invalid uuid"},
		{"divert_events on", "-ERR not controlling a session."},
		{"linger", "-ERR not controlling a session"},
		{"nolinger", "-ERR not controlling a session"},
		{"resume", "-ERR command not found"},
		{"getvar hostname", "-ERR command not found"},
		{"connect", "-ERR command not found"},
		{"auth ClueCon", "-ERR command not found"},
		{"api", "-ERR command not found"},
		{"bgapi", "-ERR command not found"},
		{"sendmsg 00000000-0000-0000-0000-000000000000\ncall-command: hangup", "-ERR invalid session id [00000000-0000-0000-0000-000000000000]"},
		{"sendmsg", "-ERR invalid session id []"},
		{"nosuchcommand", "-ERR command not found"},
		{"event plain CUSTOM\rjunk after cr", "+OK event listener enabled plain"}, // S4
	} {
		got := c.cmd(tc.cmd)
		assert.Equal(t, "command/reply", got.contentType(), tc.cmd)
		assert.Equal(t, tc.want, got.get("Reply-Text"), tc.cmd)
	}
	// S13: anything starting with exit exits.
	c.send("exitnow")
	assert.Equal(t, "+OK bye", c.nextReply().get("Reply-Text"))
	assert.True(t, c.waitEOF(3*time.Second))
}

func TestReplyTruncation(t *testing.T) {
	srv := NewServer()
	defer srv.Close()
	c := login(t, srv)
	long := strings.Repeat("x", 600)
	got := c.cmd("filter H " + long).get("Reply-Text")
	assert.Len(t, got, maxReplyText) // S1
}

func TestBodyLimits(t *testing.T) {
	srv := NewServer()
	defer srv.Close()
	for _, cl := range []string{"-1", "16777217"} {
		got := rawSession(t, srv.Addr(), "auth ClueCon\n\nsendevent CUSTOM\nContent-Length: "+cl+"\n\n")
		assert.Equal(t, "Content-Type: auth/request\n\nContent-Type: command/reply\nReply-Text: +OK accepted\n\n", got, cl)
	}
}

func TestAPI(t *testing.T) {
	srv := NewServer(WithHostname("pbx1"))
	defer srv.Close()
	srv.HandleAPI("greet", func(args string) string { return "hi " + args + "\n" })
	srv.HandleAPI("version", func(string) string { return "custom\n" })
	srv.HandleAPI("silent", func(string) string { return "" })
	c := login(t, srv)
	api := func(cmd string) string {
		m := c.cmd("api " + cmd)
		require.Equal(t, "api/response", m.contentType(), cmd)
		require.Equal(t, []string{"Content-Type", "Content-Length"}, m.names())
		return string(m.body)
	}
	assert.Regexp(t, `^UP 0 years, 0 days, 0 hours, 0 minutes, \d+ seconds, \d+ milliseconds, \d+ microseconds\nFreeSWITCH \(Version 1\.11\.3-dev  64bit\) is ready\n`, api("status"))
	assert.Equal(t, "custom\n", api("version"))
	assert.Equal(t, "hi there\n", api("greet there"))
	assert.Equal(t, "-ERR no reply\n", api("silent"))
	assert.Equal(t, "-ERR nosuchcommand Command not found!\n", api("nosuchcommand"))
	assert.Equal(t, "7", api("expr 1+2*3"))
	assert.Equal(t, "7", api("expr 1 + 2 * 3"))
	assert.Equal(t, "hello   world  with spaces", api("echo hello   world  with spaces"))
	assert.Equal(t, "pbx1", api("global_getvar hostname"))
	assert.Equal(t, "pbx1", api("hostname"))
	assert.Equal(t, "-ERR no reply\n", api("global_getvar no_such_variable_xyz"))
	assert.Equal(t, "+OK", api("global_setvar x=y"))
	assert.Equal(t, "a y b", api("eval a ${x} b"))
	assert.Regexp(t, `^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`, api("create_uuid"))
	assert.Equal(t, "-ERR No such channel!\n", api("uuid_kill 00000000-0000-0000-0000-000000000000"))
	assert.Equal(t, "-ERR USER_BUSY\n", api("originate error/user_busy &park"))
	assert.True(t, strings.HasPrefix(api("originate"), "-USAGE: "))
	assert.Equal(t, "\n0 total.\n", api("show channels count"))
}

func TestBgapi(t *testing.T) {
	srv := NewServer()
	defer srv.Close()
	c := login(t, srv)
	require.Equal(t, "+OK event listener enabled plain", c.cmd("event plain BACKGROUND_JOB").get("Reply-Text"))
	c.send("bgapi status\nJob-UUID: 0f0f0f0f-1111-2222-3333-444455556666")
	r := c.next()
	assert.Equal(t, "+OK Job-UUID: 0f0f0f0f-1111-2222-3333-444455556666", r.get("Reply-Text"))
	assert.Equal(t, []string{"Content-Type", "Reply-Text", "Job-UUID"}, r.names())
	ev, ok := c.waitEvent("BACKGROUND_JOB", 5*time.Second)
	require.True(t, ok)
	assert.Equal(t, "0f0f0f0f-1111-2222-3333-444455556666", evGet(ev, "Job-UUID"))
	assert.Equal(t, "", evGet(ev, "Job-Owner-UUID")) // S15
	assert.Equal(t, "status", evGet(ev, "Job-Command"))
	assert.True(t, strings.HasPrefix(ev.Body, "UP "))

	// The reply always precedes the event, even for an instant command.
	for i := 0; i < 20; i++ {
		c.send("bgapi nosuchcommand arg")
		r := c.next()
		require.Equal(t, "command/reply", r.contentType())
		ev, ok := c.waitEvent("BACKGROUND_JOB", 5*time.Second)
		require.True(t, ok)
		assert.Equal(t, "-ERR nosuchcommand Command not found!\n", ev.Body)
		assert.Equal(t, "arg", evGet(ev, "Job-Command-Arg"))
	}
}

func TestExitWaitsForJobs(t *testing.T) {
	srv := NewServer()
	defer srv.Close()
	c := login(t, srv)
	c.cmd("event plain BACKGROUND_JOB")
	c.cmd("bgapi msleep 300")
	start := time.Now()
	assert.Equal(t, "+OK bye", c.cmd("exit").get("Reply-Text"))
	m := c.next()
	assert.Equal(t, "text/disconnect-notice", m.contentType())
	assert.GreaterOrEqual(t, time.Since(start), 250*time.Millisecond)
	assert.True(t, c.waitEOF(3*time.Second))
}

func TestEncodePlain(t *testing.T) {
	e := &Event{headers: []Header{
		{"Event-Name", "CUSTOM"}, {"Space", "a b"}, {"Valid", "50%25 off %zz"},
		{"Empty", ""}, {"Unsafe", "\"#&+:;<=>?@[\\]^`{|}\x01\x7f\xc3\xa9"}, {"Safe", "a/b,c(d)e!*'~-_."},
	}}
	assert.Equal(t, "Event-Name: CUSTOM\nSpace: a%20b\nValid: 50%25%20off%20%25zz\nEmpty: _undef_\n"+
		"Unsafe: %22%23%26%2B%3A%3B%3C%3D%3E%3F%40%5B%5C%5D%5E%60%7B%7C%7D%01%7F%C3%A9\n"+
		"Safe: a/b,c(d)e!*'~-_.\n\n", string(encodePlain(e)))
	e.setBody("hi\n")
	assert.True(t, strings.HasSuffix(string(encodePlain(e)), "Safe: a/b,c(d)e!*'~-_.\nContent-Length: 3\n\nhi\n"))
}

func TestEncodeJSON(t *testing.T) {
	e := &Event{headers: []Header{
		{"Event-Name", "CUSTOM"}, {"Q", "say \"hi\"\\ \n\r\t\b\f\x01 é /"}, {"Arr", "ARRAY::a|:b"},
	}}
	assert.Equal(t, `{"Event-Name":"CUSTOM","Q":"say \"hi\"\\ \n\r\t\b\f\u0001 é /","Arr":["a","b"]}`, string(encodeJSON(e)))
	e.setBody("")
	assert.True(t, strings.HasSuffix(string(encodeJSON(e)), `"Content-Length":"0","_body":""}`))
	// An empty body gives no Content-Length line in plain.
	assert.True(t, strings.HasSuffix(string(encodePlain(e)), "Arr: ARRAY%3A%3Aa%7C%3Ab\n\n"))
}

func TestEncodeXML(t *testing.T) {
	// The 216-byte example of the spec.
	e := &Event{headers: []Header{{"Event-Name", "CUSTOM"}, {"Event-Subclass", "example::test"}}}
	e.setBody("hello <world> & you")
	want := "<event>\n  <headers>\n    <Event-Name>CUSTOM</Event-Name>\n    <Event-Subclass>example%3A%3Atest</Event-Subclass>\n" +
		"  </headers>\n  <Content-Length>19</Content-Length>\n  <body>hello &lt;world&gt; &amp; you</body>\n</event>\n"
	assert.Equal(t, want, string(encodeXML(e)))
	assert.Len(t, want, 216)

	e = &Event{headers: []Header{{"A", "x&y"}, {"Arr", "ARRAY::1|:2"}}}
	e.setBody("l1\r\n\"q\" é\n")
	assert.Equal(t, "<event>\n  <headers>\n    <A>x%26y</A>\n    <Arr>1</Arr>\n    <Arr>2</Arr>\n  </headers>\n"+
		"  <Content-Length>11</Content-Length>\n  <body>l1&#xD;\n\"q\" &#xE9;\n  </body>\n</event>\n", string(encodeXML(e)))
}

func TestFilters(t *testing.T) {
	ev := func(hs ...string) *Event {
		e := &Event{typ: 2}
		for i := 0; i+1 < len(hs); i += 2 {
			e.add(hs[i], hs[i+1])
		}
		return e
	}
	var sub subscription
	sub.subscribe([]string{"ALL"})
	create := ev("Event-Name", "CHANNEL_CREATE", "Caller-Destination-Number", "9664")
	assert.True(t, sub.wants(create))
	sub.addFilter("Event-Name", "channel_create") // case-insensitive
	assert.True(t, sub.wants(create))
	assert.False(t, sub.wants(ev("Event-Name", "CHANNEL_ANSWER")))
	sub.addFilter("Caller-Destination-Number", "-9664") // exclude wins
	assert.False(t, sub.wants(create))
	sub.deleteFilter("all", "")
	sub.addFilter("Caller-Destination-Number", "/^96[0-9]+$/")
	assert.True(t, sub.wants(create))
	assert.False(t, sub.wants(ev("Caller-Destination-Number", "1000")))
	sub.deleteFilter("Caller-Destination-Number", "")
	sub.addFilter("Event-Name", "/channel_.*/i")
	assert.True(t, sub.wants(create))
	// S12: an exclude regex is compared literally.
	sub.deleteFilter("all", "")
	sub.addFilter("Event-Name", "CHANNEL_CREATE")
	sub.addFilter("Event-Name", "-/CHANNEL_.*/")
	assert.True(t, sub.wants(create))
	assert.False(t, sub.wants(ev("Event-Name", "/CHANNEL_.*/")))
	// Filters only look at events that have the header.
	sub.deleteFilter("all", "")
	sub.addFilter("Nope", "x")
	assert.False(t, sub.wants(create))

	// CUSTOM: subclasses must be subscribed, a CUSTOM event without one passes.
	var cs subscription
	cs.subscribe([]string{"plain", "CUSTOM"})
	assert.False(t, cs.wants(&Event{typ: 0, subclass: "test::fixture"}))
	assert.True(t, cs.wants(&Event{typ: 0}))
	cs.subscribe([]string{"CUSTOM", "test::fixture"})
	assert.True(t, cs.wants(&Event{typ: 0, subclass: "test::fixture"}))
	assert.False(t, cs.wants(create))
}

func TestFireEventFormats(t *testing.T) {
	srv := NewServer(WithHostname("pbx1"), WithCoreUUID("8b192020-7368-4498-9b11-cbe10f48a784"))
	defer srv.Close()
	for _, f := range []string{"plain", "json", "xml"} {
		c := login(t, srv)
		require.Equal(t, "+OK event listener enabled "+f, c.cmd("event "+f+" CUSTOM my::sub").get("Reply-Text"))
		srv.FireEventHeaders("CUSTOM", []Header{{"Event-Subclass", "my::sub"}, {"X-Value", "a b&c"}}, "body <1>\n")
		m := c.next()
		assert.Equal(t, []string{"Content-Length", "Content-Type"}, m.names())
		assert.Equal(t, "text/event-"+f, m.contentType())
		ev, ok := decodeEvent(m)
		require.True(t, ok)
		assert.Equal(t, "my::sub", ev.Headers[0].Value)
		assert.Equal(t, "CUSTOM", evGet(ev, "Event-Name"))
		assert.Equal(t, "pbx1", evGet(ev, "FreeSWITCH-Hostname"))
		assert.Equal(t, "8b192020-7368-4498-9b11-cbe10f48a784", evGet(ev, "Core-UUID"))
		assert.Equal(t, "a b&c", evGet(ev, "X-Value"))
		assert.Equal(t, "body <1>\n", ev.Body)
		names := make([]string, 0, 14)
		for _, h := range ev.Headers[1:14] {
			names = append(names, h.Name)
		}
		assert.Equal(t, []string{"Event-Name", "Core-UUID", "FreeSWITCH-Hostname", "FreeSWITCH-Switchname", "FreeSWITCH-IPv4",
			"FreeSWITCH-IPv6", "Event-Date-Local", "Event-Date-GMT", "Event-Date-Timestamp", "Event-Calling-File",
			"Event-Calling-Function", "Event-Calling-Line-Number", "Event-Sequence"}, names)
		// Other subclasses are not delivered.
		srv.FireEvent("CUSTOM", map[string]string{"Event-Subclass": "other"}, "")
		srv.FireEvent("CUSTOM", map[string]string{"Event-Subclass": "my::sub"}, "")
		m = c.next()
		ev, _ = decodeEvent(m)
		assert.Equal(t, "", ev.Body)
	}
}

func TestSendevent(t *testing.T) {
	srv := NewServer()
	defer srv.Close()
	c := login(t, srv)
	c.cmd("event plain CUSTOM test::fixture")
	c.send("sendevent CUSTOM\nEvent-Subclass: test::fixture\nX-Hello: world\nContent-Length: 5\n\nhello")
	r := c.next()
	assert.Regexp(t, `^\+OK [0-9a-f-]{36}$`, r.get("Reply-Text"))
	m := c.next()
	ev, ok := decodeEvent(m)
	require.True(t, ok)
	var names []string
	for _, h := range ev.Headers[:6] {
		names = append(names, h.Name)
	}
	assert.Equal(t, []string{"Event-Subclass", "Command", "X-Hello", "Content-Length", "Event-UUID", "Event-Name"}, names)
	assert.Equal(t, "sendevent CUSTOM", evGet(ev, "Command"))
	assert.Equal(t, strings.TrimPrefix(r.get("Reply-Text"), "+OK "), evGet(ev, "Event-UUID"))
	assert.Equal(t, "hello", ev.Body)
	// The plain form carries the client's Content-Length and the body's (S19).
	assert.Equal(t, 2, strings.Count(string(m.body), "Content-Length: 5\n"))
}

// originate starts a call and returns the A-leg uuid.
func originate(t *testing.T, c *client, args string) string {
	t.Helper()
	m := c.cmd("api originate " + args)
	body := string(m.body)
	require.True(t, strings.HasPrefix(body, "+OK "), body)
	return strings.TrimSpace(strings.TrimPrefix(body, "+OK "))
}

func eventNames(t *testing.T, c *client, until string, uuid string) []string {
	t.Helper()
	var out []string
	for {
		m, err := c.nextTimeout(10 * time.Second)
		require.NoError(t, err, "waiting for %s, got %v", until, out)
		ev, ok := decodeEvent(m)
		if !ok {
			continue
		}
		if uuid != "" && evGet(ev, "Unique-ID") != uuid {
			continue
		}
		n := evGet(ev, "Event-Name")
		out = append(out, n)
		if n == until {
			return out
		}
	}
}

func TestOriginateLifecycle(t *testing.T) {
	srv := NewServer()
	defer srv.Close()
	c := login(t, srv)
	c.cmd("event plain ALL")
	uuid := originate(t, c, "{origination_uuid=5e5e5e5e-aaaa-4bbb-8ccc-0123456789ab}loopback/9999/default &park")
	assert.Equal(t, "5e5e5e5e-aaaa-4bbb-8ccc-0123456789ab", uuid)
	// The CODEC events carry the uuid the channel had before origination_uuid applied.
	assert.Equal(t, []string{"CHANNEL_UUID", "CHANNEL_OUTGOING", "CHANNEL_STATE", "CHANNEL_CREATE",
		"CHANNEL_ORIGINATE", "CHANNEL_STATE", "CHANNEL_STATE", "CHANNEL_ANSWER", "CHANNEL_CALLSTATE", "CALL_UPDATE",
		"CHANNEL_STATE", "CHANNEL_EXECUTE", "CHANNEL_PARK"}, eventNames(t, c, "CHANNEL_PARK", uuid))
	ch := srv.Channel(uuid)
	require.NotNil(t, ch)
	assert.Equal(t, "loopback/9999-a", ch.Name())
	assert.True(t, ch.Answered())
	assert.Len(t, srv.Channels(), 2)
	assert.Equal(t, "true", string(c.cmd("api uuid_exists "+uuid).body))

	assert.Equal(t, "+OK\n", string(c.cmd("api uuid_kill "+uuid+" USER_BUSY").body))
	assert.Equal(t, []string{"CHANNEL_HANGUP", "CHANNEL_UNPARK", "CHANNEL_EXECUTE_COMPLETE", "CHANNEL_STATE",
		"CHANNEL_CALLSTATE", "CHANNEL_STATE", "CHANNEL_HANGUP_COMPLETE", "CHANNEL_DESTROY"}, eventNames(t, c, "CHANNEL_DESTROY", uuid))
	select {
	case <-ch.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("channel not destroyed")
	}
	require.Eventually(t, func() bool { return len(srv.Channels()) == 0 }, 5*time.Second, 10*time.Millisecond)
	assert.EqualValues(t, 2, srv.Stats().SessionsTotal)
}

func TestOriginateVariants(t *testing.T) {
	srv := NewServer()
	defer srv.Close()
	srv.HandleExtension("5000", "answer", "playback silence_stream://100", "hangup CALL_REJECTED")
	c := login(t, srv)
	c.cmd("event json CHANNEL_HANGUP_COMPLETE")
	assert.Equal(t, "-ERR USER_BUSY\n", string(c.cmd("api originate loopback/9486/default &park").body))
	ev, ok := c.waitEvent("CHANNEL_HANGUP_COMPLETE", 5*time.Second)
	require.True(t, ok)
	assert.Equal(t, "USER_BUSY", evGet(ev, "Hangup-Cause"))

	// A loopback call has two legs, each with its own CHANNEL_HANGUP_COMPLETE; wait for
	// the one of the leg that ran the extension, and for both, so that none is left over
	// for the next call below.
	uuid := originate(t, c, "loopback/5000 &park")
	var rejected TemplateEvent
	found := false
	for range 2 {
		ev, ok = c.waitEvent("CHANNEL_HANGUP_COMPLETE", 5*time.Second)
		require.True(t, ok)
		if evGet(ev, "variable_hangup_cause") == "CALL_REJECTED" {
			rejected, found = ev, true
		}
	}
	require.True(t, found, "no leg hung up with CALL_REJECTED")
	assert.Equal(t, "21", evGet(rejected, "variable_hangup_cause_q850"))
	_ = uuid

	// A non-loopback endpoint is one answered leg that runs the app.
	uuid = originate(t, c, "{origination_caller_id_number=555}sofia/gateway/gw/123 &playback(silence_stream://50)")
	ev, ok = c.waitEvent("CHANNEL_HANGUP_COMPLETE", 5*time.Second)
	require.True(t, ok)
	assert.Equal(t, uuid, evGet(ev, "Unique-ID"))
	assert.Equal(t, "sofia/gateway/gw/123", evGet(ev, "Channel-Name"))
	assert.Equal(t, "555", evGet(ev, "Caller-Orig-Caller-ID-Number"))
}

func TestSendmsgExecute(t *testing.T) {
	srv := NewServer()
	defer srv.Close()
	c := login(t, srv)
	uuid := originate(t, c, "loopback/9999/default &park")
	ch := srv.Channel(uuid)
	require.NotNil(t, ch)
	c.cmd("event plain CHANNEL_EXECUTE CHANNEL_EXECUTE_COMPLETE PLAYBACK_STOP DTMF PRIVATE_COMMAND CHANNEL_PARK")
	// The A-leg parks right after originate returned; wait for it.
	for ch.Var("current_application") != "park" {
		time.Sleep(5 * time.Millisecond)
	}
	c.cmd("filter Unique-ID " + uuid)
	r := c.cmd("sendmsg " + uuid + "\ncall-command: execute\nexecute-app-name: playback\nexecute-app-arg: tone_stream://%(100,0,440)\nevent-lock: true\nEvent-UUID: 11111111-2222-4333-8444-555555555555")
	assert.Equal(t, "+OK", r.get("Reply-Text"))
	var ev TemplateEvent
	ok := false
	for !ok || evGet(ev, "Application") != "playback" {
		ev, ok = c.waitEvent("CHANNEL_EXECUTE", 5*time.Second)
		require.True(t, ok)
	}
	require.True(t, ok)
	assert.Equal(t, "playback", evGet(ev, "Application"))
	assert.Equal(t, "tone_stream://%(100,0,440)", evGet(ev, "Application-Data"))
	assert.Equal(t, "11111111-2222-4333-8444-555555555555", evGet(ev, "Application-UUID"))
	ev, ok = c.waitEvent("CHANNEL_EXECUTE_COMPLETE", 5*time.Second)
	require.True(t, ok)
	assert.Equal(t, "FILE PLAYED", evGet(ev, "Application-Response"))
	assert.Equal(t, "11111111-2222-4333-8444-555555555555", evGet(ev, "Application-UUID"))
	ev, ok = c.waitEvent("PRIVATE_COMMAND", 5*time.Second)
	require.True(t, ok)
	assert.Equal(t, "sendmsg "+uuid, ev.Headers[0].Value)

	// set, log and an unknown app complete at once, in order.
	for _, app := range []string{"set\nexecute-app-arg: foo=bar", "log\nexecute-app-arg: INFO hello", "no_such_app"} {
		c.cmd("sendmsg " + uuid + "\ncall-command: execute\nexecute-app-name: " + app)
		ev, ok = c.waitEvent("CHANNEL_EXECUTE_COMPLETE", 5*time.Second)
		require.True(t, ok)
		assert.Equal(t, "_none_", evGet(ev, "Application-Response"))
	}
	assert.Equal(t, "bar", ch.Var("foo"))

	ch.SendDTMF("12")
	for _, d := range []string{"1", "2"} {
		ev, ok = c.waitEvent("DTMF", 5*time.Second)
		require.True(t, ok)
		assert.Equal(t, d, evGet(ev, "DTMF-Digit"))
		assert.Equal(t, "2000", evGet(ev, "DTMF-Duration"))
	}

	// Event-lock: the second message waits for the first.
	c.send("sendmsg " + uuid + "\ncall-command: execute\nexecute-app-name: sleep\nexecute-app-arg: 200\nevent-lock: true")
	c.send("sendmsg " + uuid + "\ncall-command: execute\nexecute-app-name: answer")
	var order []string
	for len(order) < 4 {
		m := c.next()
		if ev, ok := decodeEvent(m); ok && strings.HasPrefix(evGet(ev, "Event-Name"), "CHANNEL_EXECUTE") {
			order = append(order, evGet(ev, "Event-Name")+":"+evGet(ev, "Application"))
		}
	}
	assert.Equal(t, []string{"CHANNEL_EXECUTE:sleep", "CHANNEL_EXECUTE_COMPLETE:sleep", "CHANNEL_EXECUTE:answer", "CHANNEL_EXECUTE_COMPLETE:answer"}, order)

	c.cmd("sendmsg " + uuid + "\ncall-command: hangup\nhangup-cause: NORMAL_CLEARING")
	select {
	case <-ch.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("no hangup")
	}
}

func TestLogData(t *testing.T) {
	srv := NewServer()
	defer srv.Close()
	c := login(t, srv)
	c.cmd("log 6")
	srv.Log(7, "too detailed")
	srv.Log(3, "an error")
	m := c.next()
	assert.Equal(t, []string{"Content-Type", "Content-Length", "Log-Level", "Text-Channel", "Log-File", "Log-Func", "Log-Line", "User-Data"}, m.names())
	assert.Equal(t, "3", m.get("Log-Level"))
	assert.Regexp(t, `^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6} [\d.]+% \[ERR\] esltest\.go:1 an error\n$`, string(m.body))
	c.cmd("log 7")
	originate(t, c, "loopback/9665/default &park")
	m = c.next()
	assert.Equal(t, "log/data", m.contentType())
	assert.Equal(t, "+OK no longer logging", c.cmd("nolog").get("Reply-Text"))
}

// outboundApp is the application side of an outbound socket in tests.
type outboundApp struct {
	*client
	oc *OutboundCall
}

func dialOutbound(t *testing.T, srv *Server, opts OutboundOptions) *outboundApp {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	oc, err := srv.DialOutbound(context.Background(), ln.Addr().String(), opts)
	require.NoError(t, err)
	nc, err := ln.Accept()
	require.NoError(t, err)
	c := newClient(t, nc)
	t.Cleanup(func() { nc.Close(); <-c.done })
	return &outboundApp{c, oc}
}

func TestOutboundFlow(t *testing.T) {
	srv := NewServer()
	defer srv.Close()
	app := dialOutbound(t, srv, OutboundOptions{Async: true, Full: true, Destination: "1234", CallerIDNumber: "5551234", DTMF: "9"})
	data := app.cmd("connect")
	assert.Equal(t, "CHANNEL_DATA", data.get("Event-Name"))
	assert.Equal(t, "%2BOK%0A", data.get("Reply-Text"))
	assert.Equal(t, "async", data.get("Socket-Mode"))
	assert.Equal(t, "full", data.get("Control"))
	assert.Equal(t, "1234", data.get("Channel-Destination-Number"))
	assert.Equal(t, "5551234", data.get("Caller-Caller-ID-Number"))
	assert.Equal(t, app.oc.UUID(), data.get("Unique-ID"))
	names := data.names()
	assert.Equal(t, []string{"Content-Type", "Reply-Text", "Socket-Mode", "Control"}, names[len(names)-4:])
	assert.Equal(t, "Event-Name", names[0])
	assert.Equal(t, "loopback/1234-b", app.cmd("getvar channel_name").get("Reply-Text"))
	assert.Equal(t, "-ERR command not found", app.cmd("getvar no_such_var").get("Reply-Text"))
	assert.Equal(t, "+OK Events Enabled", app.cmd("myevents").get("Reply-Text"))
	assert.Equal(t, "-ERR aready enabled.", app.cmd("myevents").get("Reply-Text"))
	assert.Equal(t, "+OK will linger", app.cmd("linger").get("Reply-Text"))
	assert.Equal(t, "+OK events diverted", app.cmd("divert_events on").get("Reply-Text"))
	assert.Equal(t, "+OK", app.cmd("sendmsg\ncall-command: execute\nexecute-app-name: answer").get("Reply-Text"))
	_, ok := app.waitEvent("CHANNEL_ANSWER", 5*time.Second)
	require.True(t, ok)
	ev, ok := app.waitEvent("DTMF", 5*time.Second)
	require.True(t, ok)
	assert.Equal(t, "9", evGet(ev, "DTMF-Digit"))
	assert.Equal(t, "+OK", app.cmd("sendmsg\ncall-command: execute\nexecute-app-name: transfer\nexecute-app-arg: 9999").get("Reply-Text"))
	assert.Equal(t, "+OK", app.cmd("sendmsg\ncall-command: hangup\nhangup-cause: NORMAL_CLEARING").get("Reply-Text"))
	var linger wireMsg
	for {
		m := app.next()
		if m.contentType() == "text/disconnect-notice" {
			linger = m
			break
		}
	}
	assert.Equal(t, []string{"Content-Type", "Controlled-Session-UUID", "Content-Disposition", "Channel-Name", "Linger-Time", "Content-Length"}, linger.names())
	assert.Equal(t, "-1", linger.get("Linger-Time"))
	assert.Equal(t, "linger", linger.get("Content-Disposition"))
	assert.Equal(t, "+OK bye", app.cmd("exit").get("Reply-Text"))
	bye := app.next()
	assert.Equal(t, "disconnect", bye.get("Content-Disposition"))
	assert.Equal(t, app.oc.UUID(), bye.get("Controlled-Session-UUID"))
	require.NoError(t, app.oc.Wait())
	assert.Equal(t, []string{"connect", "getvar channel_name", "getvar no_such_var", "myevents", "myevents", "linger",
		"divert_events on", "sendmsg", "sendmsg", "sendmsg", "exit"}, app.oc.Received())
	assert.EqualValues(t, 1, srv.Stats().OutboundDone)
}

func TestOutboundRestrictedAndStatic(t *testing.T) {
	srv := NewServer()
	defer srv.Close()
	app := dialOutbound(t, srv, OutboundOptions{Answered: true})
	data := app.cmd("connect")
	assert.Equal(t, "static", data.get("Socket-Mode"))
	assert.Equal(t, "single-channel", data.get("Control"))
	assert.Equal(t, "answered", data.get("Answer-State"))
	for _, cmd := range []string{"linger", "nolinger", "api status", "bgapi status", "event plain ALL", "log 7", "nolog", "sendevent CUSTOM", "nixevent ALL", "noevents"} {
		assert.Equal(t, "-ERR command not found", app.cmd(cmd).get("Reply-Text"), cmd) // S8
	}
	app.cmd("myevents")
	// Static mode: +OK comes only once the app finished.
	start := time.Now()
	app.send("sendmsg\ncall-command: execute\nexecute-app-name: playback\nexecute-app-arg: silence_stream://300")
	for {
		m := app.next()
		if m.contentType() == "command/reply" {
			break
		}
	}
	assert.GreaterOrEqual(t, time.Since(start), 250*time.Millisecond)
	app.oc.Hangup("")
	m := app.nextReply()
	assert.Equal(t, "disconnect", m.get("Content-Disposition"))
	assert.True(t, app.waitEOF(5*time.Second))
	require.NoError(t, app.oc.Wait())
}

func TestOutboundLingerSecondsAndHangupAfter(t *testing.T) {
	srv := NewServer()
	defer srv.Close()
	app := dialOutbound(t, srv, OutboundOptions{Async: true, Full: true, HangupAfter: 200 * time.Millisecond})
	app.cmd("connect")
	assert.Equal(t, "+OK will linger 1 seconds", app.cmd("linger 1").get("Reply-Text"))
	m := app.nextReply()
	assert.Equal(t, "1", m.get("Linger-Time"))
	start := time.Now()
	m = app.nextReply()
	assert.Equal(t, "disconnect", m.get("Content-Disposition"))
	assert.GreaterOrEqual(t, time.Since(start), 900*time.Millisecond)
	assert.True(t, app.waitEOF(3*time.Second))
}

func TestOutboundNoConnect(t *testing.T) {
	srv := NewServer(WithAuthTimeout(100 * time.Millisecond))
	defer srv.Close()
	app := dialOutbound(t, srv, OutboundOptions{})
	assert.ErrorIs(t, app.oc.Wait(), ErrNoConnect)
	assert.True(t, app.waitEOF(3*time.Second))
	assert.EqualValues(t, 1, srv.Stats().OutboundFailed)

	// S7: a first command other than connect runs but gets no reply.
	srv2 := NewServer()
	defer srv2.Close()
	app = dialOutbound(t, srv2, OutboundOptions{Async: true})
	app.send("myevents")
	data := app.cmd("connect")
	assert.Equal(t, "CHANNEL_DATA", data.get("Event-Name"))
	_, ok := app.waitEvent("CHANNEL_PARK", 5*time.Second)
	assert.True(t, ok)
	app.cmd("exit")
	require.NoError(t, app.oc.Wait())
}

func TestInboundMyeventsSession(t *testing.T) {
	srv := NewServer()
	defer srv.Close()
	c := login(t, srv)
	uuid := originate(t, c, "loopback/9999 &park")
	assert.Equal(t, "+OK Events Enabled", c.cmd("myevents "+uuid+" json").get("Reply-Text"))
	assert.Equal(t, "+OK will linger", c.cmd("linger").get("Reply-Text"))
	assert.Equal(t, "+OK events diverted", c.cmd("divert_events on").get("Reply-Text"))
	// An event sent to the session is diverted to this socket.
	c2 := login(t, srv)
	c2.cmd("sendevent CUSTOM\nUnique-ID: " + uuid + "\nX-Diverted: yes")
	_, ok := c.waitEvent("CUSTOM", 5*time.Second)
	assert.True(t, ok)
	c.cmd("api uuid_kill " + uuid)
	m := c.nextReply()
	assert.Equal(t, "linger", m.get("Content-Disposition"))
}

func TestFaultsDropAfterEveryByte(t *testing.T) {
	full := "Content-Type: auth/request\n\nContent-Type: command/reply\nReply-Text: +OK accepted\n\n"
	for k := 1; k <= len(full); k++ {
		srv := NewServer(WithFaults(Faults{DropAfter: int64(k)}))
		got := rawSession(t, srv.Addr(), "auth ClueCon\n\n")
		assert.Equal(t, full[:k], got, "k=%d", k)
		srv.Close()
	}
}

func TestFaultsSplitChunkDelay(t *testing.T) {
	srv := NewServer(WithFaults(Faults{SplitAt: []int{5, 30}, ChunkSize: 7, Delay: 20 * time.Millisecond}))
	defer srv.Close()
	nc, err := net.Dial("tcp", srv.Addr())
	require.NoError(t, err)
	defer nc.Close()
	_, err = nc.Write([]byte("auth ClueCon\n\nexit\n\n"))
	require.NoError(t, err)
	var pieces []int
	buf := make([]byte, 4096)
	var all []byte
	require.NoError(t, nc.SetReadDeadline(time.Now().Add(10*time.Second)))
	for {
		n, err := nc.Read(buf)
		if n > 0 {
			pieces = append(pieces, n)
			all = append(all, buf[:n]...)
		}
		if err != nil {
			break
		}
	}
	assert.Equal(t, "Content-Type: auth/request\n\nContent-Type: command/reply\nReply-Text: +OK accepted\n\n"+
		"Content-Type: command/reply\nReply-Text: +OK bye\n\n"+goodbye, string(all))
	for _, p := range pieces {
		assert.LessOrEqual(t, p, 7)
	}
	// With a delay between pieces each read sees at most one piece, so the
	// first cut (5) and the one at 30 show up as piece boundaries.
	assert.Equal(t, 5, pieces[0])
	sum := 0
	cuts := map[int]bool{}
	for _, p := range pieces {
		sum += p
		cuts[sum] = true
	}
	assert.True(t, cuts[30], "no cut at 30: %v", pieces)
}

func TestInjectRaw(t *testing.T) {
	srv := NewServer()
	defer srv.Close()
	c := login(t, srv)
	other := dialClient(t, srv.Addr()) // not authenticated: gets nothing
	other.next()
	srv.InjectRaw([]byte("Content-Type: bogus/type\nX: y\n\n"))
	m := c.next()
	assert.Equal(t, "bogus/type", m.contentType())
	assert.Equal(t, "+OK bye", c.cmd("exit").get("Reply-Text"))
	_, err := other.nextTimeout(200 * time.Millisecond)
	assert.Error(t, err)
}

func TestStream(t *testing.T) {
	rec, err := os.ReadFile(filepath.Join(recordingsDir, "events-plain-call.s2c"))
	require.NoError(t, err)
	tmpl, err := LoadTemplates(rec)
	require.NoError(t, err)
	assert.Equal(t, 49, tmpl.Len())
	for _, f := range []string{"events-json-call.s2c", "events-xml-call.s2c"} {
		b, err := os.ReadFile(filepath.Join(recordingsDir, f))
		require.NoError(t, err)
		tj, err := LoadTemplates(b)
		require.NoError(t, err, f)
		assert.GreaterOrEqual(t, tj.Len(), 49, f)
	}
	// The decoded templates re-encode to the recorded bytes.
	first := splitWireMsgs(rec)[4]
	assert.Equal(t, string(first.body), string(encodePlain(tmpl.events[0])))

	srv := NewServer()
	defer srv.Close()
	all := login(t, srv)
	all.cmd("event json ALL")
	answers := login(t, srv)
	answers.cmd("event plain ALL")
	answers.cmd("filter Event-Name CHANNEL_ANSWER")
	idle := login(t, srv)
	_ = idle

	const n = 5000
	require.NoError(t, srv.Stream(n, tmpl))
	require.True(t, all.waitCount(3+n, 10*time.Second))
	require.True(t, answers.waitCount(4+n, 10*time.Second))
	msgs := answers.all()[4:]
	for _, m := range msgs {
		ev, ok := decodeEvent(m)
		require.True(t, ok)
		require.Equal(t, "CHANNEL_ANSWER", evGet(ev, "Event-Name"))
	}
	jm := all.all()[3:]
	ev, ok := decodeEvent(jm[0])
	require.True(t, ok)
	assert.Equal(t, "CODEC", evGet(ev, "Event-Name"))
	ev, _ = decodeEvent(jm[49])
	assert.Equal(t, "CODEC", evGet(ev, "Event-Name")) // cycled
	assert.Equal(t, 2, idle.count())                  // greeting and auth reply only
	assert.Equal(t, "+OK bye", all.cmd("exit").get("Reply-Text"))
	require.True(t, all.waitCount(n+5, 5*time.Second))
	assert.Equal(t, n+5, all.count())
}

func TestNewStreamTemplate(t *testing.T) {
	tmpl := NewStreamTemplate(TemplateEvent{Headers: []Header{{"Event-Name", "HEARTBEAT"}, {"X", "1"}}, Body: "b"})
	assert.Equal(t, 1, tmpl.Len())
	assert.Equal(t, "b", tmpl.Events()[0].Body)
	_, err := LoadTemplates([]byte("Content-Type: auth/request\n\n"))
	assert.Error(t, err)
}

func TestListenAddrAndAccessors(t *testing.T) {
	srv := NewServer(WithListenAddr("127.0.0.1:0"))
	defer srv.Close()
	assert.Equal(t, "127.0.0.1", srv.Host())
	assert.Greater(t, srv.Port(), 0)
	assert.Regexp(t, regexp.MustCompile(`^127\.0\.0\.1:\d+$`), srv.Addr())
	_, err := Start(WithListenAddr(srv.Addr()))
	assert.Error(t, err)
	assert.Panics(t, func() { NewServer(WithListenAddr(srv.Addr())) })
}

func openFDs(t *testing.T) int {
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("cannot count file descriptors: %v", err)
	}
	return len(entries)
}

// TestCloseReleasesEverything checks that Close ends every goroutine and
// socket, with calls, outbound sessions, jobs and idle clients still alive.
func TestCloseReleasesEverything(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	// Warm up the runtime's poller so that its descriptor is not counted.
	warm := NewServer()
	c0 := login(t, warm)
	c0.cmd("exit")
	warm.Close()
	time.Sleep(50 * time.Millisecond)
	before := openFDs(t)

	srv := NewServer()
	c := login(t, srv)
	c.cmd("event plain ALL")
	originate(t, c, "loopback/9999 &park")
	c.cmd("bgapi msleep 10000")
	c.cmd("log 7")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	oc, err := srv.DialOutbound(context.Background(), ln.Addr().String(), OutboundOptions{Async: true, Full: true})
	require.NoError(t, err)
	app, err := ln.Accept()
	require.NoError(t, err)
	ln.Close()
	_, err = app.Write([]byte("connect\n\nmyevents\n\n"))
	require.NoError(t, err)
	idle, err := net.Dial("tcp", srv.Addr())
	require.NoError(t, err)
	go func() { _, _ = io.Copy(io.Discard, bufio.NewReader(app)) }()

	require.NoError(t, srv.Close())
	require.NoError(t, srv.Close()) // idempotent
	oc.Wait()
	assert.True(t, c.waitEOF(5*time.Second))
	app.Close()
	idle.Close()
	c.nc.Close()
	require.Eventually(t, func() bool { return openFDs(t) <= before }, 5*time.Second, 20*time.Millisecond,
		"descriptors: before %d, now %d", before, openFDs(t))
	<-c.done
	goleak.VerifyNone(t, leaks)
}
